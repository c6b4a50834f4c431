/* db: the parts that need no database: the connection string from the
 * config, libpq's first error line, and that every function taking
 * `struct err *err` accepts NULL. */
#include "db.h"

#include "harness.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
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

/* db_conninfo reads the DB group wherever the table puts it, quotes the
 * values, and names the option that would make the string too long. */
static void test_conninfo(void)
{
	enum { O_OWN, CONFIG_DB_OPTION_IDS(O_), O_N };
	static const struct config_option t[O_N] = {
	    [O_OWN] = {"TD_OWN", "own", NULL, CONFIG_STRING, "first"},
	    CONFIG_DB_OPTIONS(O_),
	};
	struct config cfg;
	struct err e;
	char longpw[3000];
	memset(longpw, 'p', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	char pwflag[3100];
	snprintf(pwflag, sizeof(pwflag), "--db-password=%s", longpw);
	for (size_t i = 0; i < O_N; i++)
		if (t[i].env)
			unsetenv(t[i].env);
	const char *argv[] = {"t", "--db-user=o'neil", "--db-name=orders", NULL};
	memset(&cfg, 0, sizeof(cfg));
	CHECK(config_load(&cfg, "t", "u", NULL, t, O_N, 3, (char **)argv, &e) == 0);
	char *ci = db_conninfo(&cfg, &e);
	CHECK_STR(ci, "host='localhost' port='5432' dbname='orders' user='o\\'neil' ");
	free(ci);
	config_release(&cfg);
	const char *argv2[] = {"t", "--database-url=postgres://x/y", "--db-host=ignored", NULL};
	memset(&cfg, 0, sizeof(cfg));
	CHECK(config_load(&cfg, "t", "u", NULL, t, O_N, 3, (char **)argv2, &e) == 0);
	ci = db_conninfo(&cfg, &e);
	CHECK_STR(ci, "postgres://x/y");
	free(ci);
	config_release(&cfg);
	const char *argv3[] = {"t", pwflag, NULL};
	memset(&cfg, 0, sizeof(cfg));
	CHECK(config_load(&cfg, "t", "u", NULL, t, O_N, 2, (char **)argv3, &e) == 0);
	err_clear(&e);
	CHECK(db_conninfo(&cfg, &e) == NULL);
	CHECK(e.kind == ERR_CONFIG && strcmp(e.field, "DB_PASSWORD") == 0 &&
	      strstr(e.msg, "too long") != NULL);
	config_release(&cfg);
}

int main(void)
{
	log_init("test_db", LOG_WARN); /* the retry warning reads err */
	test_error_line();
	test_conninfo();
	test_null_err();
	HARNESS_END();
}
