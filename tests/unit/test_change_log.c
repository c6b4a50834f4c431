/* change_log: a notification on the private channel (schema/006) read as a
 * page of one row, which renders into the same event as the log's row of
 * the same change; anything else in a notification is refused. */
#include "change_log.h"

#include "buf.h"
#include "harness.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

/* One change as PostgreSQL wrote it (psql, schema/006): an UPDATE of a name
 * with a quote, backslashes, a non-ASCII letter and a control character. */
#define DATA                                                                                       \
	"{\"operation\":\"UPDATE\",\"id\":1,\"customer_name\":\"x\",\"product_name\":\"p\","       \
	"\"status\":\"shipped\",\"created_at\":\"2026-12-06T01:16:50.877112+00:00\","              \
	"\"updated_at\":\"2026-12-06T01:16:50.882337+00:00\"}"
#define OLD "{\"customer_name\":\"a\\\"b\\\\\\\\c \xc3\xa9\\u0001 {[\",\"status\":\"pending\"}"
static const char PAYLOAD[] =
    "{\"seq\":2,\"epoch\":\"64f4b86afebb49f1a1178fa917613ade\",\"changed_at\":1796519810.882442,"
    "\"operation\":\"UPDATE\",\"id\":1,\"status\":\"shipped\",\"old_status\":\"pending\","
    "\"old\":" OLD ",\"data\":" DATA "}";

/* The same change as change_log_read() returns it: a PGresult made by hand
 * with the page's columns (and the pruned, epoch and next columns). */
static PGresult *log_row(const char *const vals[CHANGE_COL_COUNT + 3])
{
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc attrs[CHANGE_COL_COUNT + 3];
	memset(attrs, 0, sizeof(attrs));
	static char name[] = "c";
	for (int i = 0; i < CHANGE_COL_COUNT + 3; i++) {
		attrs[i].name = name;
		attrs[i].typid = 25; /* text */
		attrs[i].typlen = -1;
		attrs[i].atttypmod = -1;
	}
	if (!PQsetResultAttrs(r, CHANGE_COL_COUNT + 3, attrs))
		abort();
	for (int i = 0; i < CHANGE_COL_COUNT + 3; i++)
		if (!PQsetvalue(r, 0, i, (char *)vals[i], vals[i] ? (int)strlen(vals[i]) : -1))
			abort();
	return r;
}

static void render(const struct change_log_page *p, struct buf *out)
{
	struct err err = {0};
	buf_reset(out);
	CHECK(change_log_render_array(p, 1, "2026-12-06T01:16:50.900Z", out, &err) == 0);
}

static void test_event_equals_log_row(void)
{
	char *payload = strdup(PAYLOAD);
	struct change_log_notice nt;
	struct change_log_page fast;
	CHECK(change_log_notice_parse(payload, &nt, &fast) == CHANGE_NOTICE_EVENT);
	CHECK(nt.seq == 2 && nt.changed_at == 1796519810.882442);
	CHECK_STR(nt.epoch, "64f4b86afebb49f1a1178fa917613ade");
	CHECK(fast.n == 1 && fast.res == NULL && change_log_seq(&fast, 0) == 2);
	CHECK_STR(change_log_col(&fast, 0, CHANGE_COL_OP), "UPDATE");
	CHECK_STR(change_log_col(&fast, 0, CHANGE_COL_ORDER_ID), "1");
	CHECK_STR(change_log_col(&fast, 0, CHANGE_COL_STATUS), "shipped");
	CHECK_STR(change_log_col(&fast, 0, CHANGE_COL_OLD_STATUS), "pending");
	CHECK_STR(change_log_col(&fast, 0, CHANGE_COL_DATA), DATA);
	CHECK_STR(change_log_col(&fast, 0, CHANGE_COL_OLD), OLD);
	CHECK_STR(change_log_col(&fast, 0, CHANGE_COL_CHANGED_AT), "1796519810.882442");

	const char *vals[CHANGE_COL_COUNT + 3] = {"2",	     "UPDATE",
						  "1",	     "shipped",
						  "pending", DATA,
						  OLD,	     "1796519810.882442",
						  "0",	     "64f4b86afebb49f1a1178fa917613ade",
						  "3"};
	struct change_log_page logp = {.res = log_row(vals), .n = 1};
	for (int c = 0; c < CHANGE_COL_COUNT; c++) {
		const char *a = change_log_col(&fast, 0, (enum change_log_col)c);
		const char *b = change_log_col(&logp, 0, (enum change_log_col)c);
		CHECK((a == NULL) == (b == NULL) && (!a || strcmp(a, b) == 0));
	}
	struct buf x, y;
	buf_init(&x, 0);
	buf_init(&y, 0);
	render(&fast, &x);
	render(&logp, &y);
	CHECK(x.len == y.len && memcmp(x.data, y.data, x.len) == 0);
	CHECK(strstr(x.data, "\"seq\":2,\"data\":" DATA ",\"old\":" OLD) != NULL);
	buf_release(&x);
	buf_release(&y);
	change_log_page_release(&fast);
	change_log_page_release(&logp);
	free(payload);
}

static enum change_notice_kind parse(const char *text, struct change_log_notice *nt,
				     struct change_log_page *p)
{
	static char copy[9000];
	snprintf(copy, sizeof(copy), "%s", text);
	return change_log_notice_parse(copy, nt, p);
}

static void test_forms(void)
{
	struct change_log_notice nt;
	struct change_log_page p;
	/* too large to carry the event: seq, epoch and time only */
	CHECK(parse("{\"seq\":77,\"epoch\":\"e1\",\"changed_at\":1796519810.5}", &nt, &p) ==
	      CHANGE_NOTICE_SEQ);
	CHECK(nt.seq == 77 && strcmp(nt.epoch, "e1") == 0 && nt.changed_at == 1796519810.5);
	CHECK(p.n == 0);
	/* TRUNCATE: no id, no status, no old */
	CHECK(parse("{\"seq\":5,\"epoch\":\"e1\",\"changed_at\":1.25,\"operation\":\"TRUNCATE\","
		    "\"id\":null,\"status\":null,\"old_status\":null,\"old\":null,"
		    "\"data\":{\"operation\":\"TRUNCATE\"}}",
		    &nt, &p) == CHANGE_NOTICE_EVENT);
	CHECK(change_log_col(&p, 0, CHANGE_COL_ORDER_ID) == NULL &&
	      change_log_col(&p, 0, CHANGE_COL_STATUS) == NULL &&
	      change_log_col(&p, 0, CHANGE_COL_OLD) == NULL);
	CHECK_STR(change_log_col(&p, 0, CHANGE_COL_DATA), "{\"operation\":\"TRUNCATE\"}");
	/* an UPDATE that changed nothing has old {} */
	CHECK(parse("{\"seq\":3,\"epoch\":\"e1\",\"changed_at\":1,\"operation\":\"UPDATE\","
		    "\"id\":1,\"status\":\"shipped\",\"old_status\":\"shipped\",\"old\":{},"
		    "\"data\":{\"a\":\"}\"}}",
		    &nt, &p) == CHANGE_NOTICE_EVENT);
	CHECK_STR(change_log_col(&p, 0, CHANGE_COL_OLD), "{}");
	CHECK_STR(change_log_col(&p, 0, CHANGE_COL_DATA), "{\"a\":\"}\"}");

	/* everything else: read the log */
	static const char *const other[] = {
	    "",
	    "{\"epoch\":\"e2\"}", /* orders_new_epoch() */
	    /* the public channel's payload */
	    "{\"operation\":\"INSERT\",\"id\":1,\"customer_name\":\"c\",\"product_name\":\"p\","
	    "\"status\":\"pending\",\"updated_at\":\"2026-12-06T01:16:50+00:00\",\"seq\":1}",
	    "{\"seq\":0,\"epoch\":\"e1\",\"changed_at\":1}",
	    "{\"seq\":-1,\"epoch\":\"e1\",\"changed_at\":1}",
	    "{\"seq\":12345678901234567890,\"epoch\":\"e1\",\"changed_at\":1}",
	    "{\"seq\":1,\"epoch\":\"e\\\"1\",\"changed_at\":1}",
	    "{\"seq\":1,\"epoch\":\"e1\",\"changed_at\":1} ",
	    "{\"seq\":1,\"epoch\":\"e1\",\"changed_at\":1}}",
	    "{\"seq\":1,\"epoch\":\"e1\",\"changed_at\":1",
	    "{\"seq\":1, \"epoch\":\"e1\",\"changed_at\":1}",
	    /* cut short, or junk after the data */
	    "{\"seq\":3,\"epoch\":\"e1\",\"changed_at\":1,\"operation\":\"UPDATE\",\"id\":1,"
	    "\"status\":\"shipped\",\"old_status\":\"shipped\",\"old\":{},\"data\":{\"a\":1}",
	    "{\"seq\":3,\"epoch\":\"e1\",\"changed_at\":1,\"operation\":\"UPDATE\",\"id\":1,"
	    "\"status\":\"shipped\",\"old_status\":\"shipped\",\"old\":{},\"data\":{\"a\":1}}x",
	    "{\"seq\":3,\"epoch\":\"e1\",\"changed_at\":1,\"operation\":\"UPDATE\",\"id\":1,"
	    "\"status\":\"shipped\",\"old_status\":\"shipped\",\"old\":{},\"data\":{\"a\":\"1}}",
	    "{\"seq\":3,\"epoch\":\"e1\",\"changed_at\":1,\"operation\":\"UPDATE\",\"id\":1,"
	    "\"status\":\"shipped\",\"old_status\":\"shipped\",\"old\":{},\"data\":[1]}",
	    "{\"seq\":3,\"epoch\":\"e1\",\"changed_at\":1,\"operation\":\"UPDATE\",\"id\":1,"
	    "\"status\":\"shipped\",\"old_status\":\"shipped\",\"old\":{}}",
	    "{\"seq\":3,\"epoch\":\"e1\",\"changed_at\":1,\"operation\":\"UPDATE\",\"id\":\"1\","
	    "\"status\":\"shipped\",\"old_status\":\"shipped\",\"old\":{},\"data\":{}}",
	    "{\"seq\":3,\"epoch\":\"e1\",\"changed_at\":1,\"operation\":null,\"id\":1,"
	    "\"status\":\"shipped\",\"old_status\":\"shipped\",\"old\":{},\"data\":{}}",
	    "{\"seq\":3,\"epoch\":\"e1\",\"changed_at\":1,\"operation\":\"UPDATE\",\"id\":1,"
	    "\"status\":\"shipped\",\"old_status\":\"shipped\",\"old\":nul,\"data\":{}}",
	};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		enum change_notice_kind k = parse(other[i], &nt, &p);
		CHECK(k == CHANGE_NOTICE_OTHER);
		if (k != CHANGE_NOTICE_OTHER)
			fprintf(stderr, "  accepted: %s\n", other[i]);
	}
}

int main(void)
{
	test_event_equals_log_row();
	test_forms();
	HARNESS_END();
}
