/* db: the parts that need no database: libpq's first error line, and
 * that every function taking `struct err *err` accepts NULL. */
#include "db.h"

#include "harness.h"
#include "log.h"

#include <string.h>

static void test_error_line(void)
{
	char line[16];
	CHECK_STR(db_error_line(line, sizeof(line), "ERROR:  boom\nDETAIL:  more\n"),
		  "ERROR:  boom");
	CHECK_STR(db_error_line(line, sizeof(line), NULL), "");
	CHECK_STR(db_error_line(line, sizeof(line), "no newline at all, and long"),
		  "no newline at a");
}

/* A port nothing listens on: every attempt fails at once. */
#define NOWHERE "host=127.0.0.1 port=1 connect_timeout=2"

static void test_null_err(void)
{
	struct err e;
	err_clear(&e);
	CHECK(db_connect(NOWHERE, "test", NULL) == NULL);
	CHECK(db_connect(NOWHERE, "test", &e) == NULL && e.kind == ERR_UNAVAILABLE &&
	      strstr(e.msg, "cannot connect") != NULL);
	/* the retry loop logs the reason of each failed attempt */
	CHECK(db_connect_retry(NOWHERE, "test", NULL, 150, NULL) == NULL);
	struct db_pool *p = db_pool_new(NOWHERE, "test", 1);
	CHECK(db_pool_get(p, NULL) == NULL);
	CHECK(!db_pool_healthy(p));
	db_pool_free(p);
}

int main(void)
{
	log_init("test_db", LOG_WARN); /* the retry warning reads err */
	test_error_line();
	test_null_err();
	HARNESS_END();
}
