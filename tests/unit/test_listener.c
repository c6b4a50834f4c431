/* listener: what its fast path sends for a notification is what its log
 * path sends for the change log's row of the same change: both go through
 * change_log's page accessors and relay/changes.c (change_from_page), and
 * give the same filter fields and the same framed event, byte for byte but
 * the send time. (relay/changes.c has no test of its own name: api/ has a
 * changes.c too.) */
#include "changes.h"

#include "change_filter.h"
#include "harness.h"
#include "order.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

static PGresult *log_row(const char *const vals[CHANGE_COL_COUNT])
{
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc attrs[CHANGE_COL_COUNT];
	memset(attrs, 0, sizeof(attrs));
	static char name[] = "c";
	for (int i = 0; i < CHANGE_COL_COUNT; i++) {
		attrs[i].name = name;
		attrs[i].typid = 25;
		attrs[i].typlen = -1;
		attrs[i].atttypmod = -1;
	}
	if (!PQsetResultAttrs(r, CHANGE_COL_COUNT, attrs))
		abort();
	for (int i = 0; i < CHANGE_COL_COUNT; i++)
		if (!PQsetvalue(r, 0, i, (char *)vals[i], vals[i] ? (int)strlen(vals[i]) : -1))
			abort();
	return r;
}

/* The frame's bytes with the send time ("timestamp":"...") left out. */
static void without_time(const struct msg *m, char *out, size_t cap)
{
	const char *json = (const char *)m->bytes + m->text_off;
	size_t len = m->len - m->text_off;
	const char *t = memmem(json, len, ",\"timestamp\":\"", 14);
	size_t head = t ? (size_t)(t - json) : len;
	snprintf(out, cap, "%.*s", (int)head, json);
}

static void same_change(const char *payload_text, const char *const vals[CHANGE_COL_COUNT])
{
	char *payload = strdup(payload_text);
	struct change_log_notice nt;
	struct change_log_page fast;
	CHECK(change_log_notice_parse(payload, &nt, &fast) == CHANGE_NOTICE_EVENT);
	struct change_log_page logp = {.res = log_row(vals), .n = 1};
	struct change a, b;
	CHECK(change_from_page(&fast, 0, &a) == 0);
	CHECK(change_from_page(&logp, 0, &b) == 0);
	CHECK(a.seq == b.seq && a.op == b.op && a.status == b.status &&
	      a.old_status == b.old_status && a.order_id == b.order_id);
	CHECK(a.msg->seq == b.msg->seq && a.msg->changed_at == b.msg->changed_at);
	char x[4096], y[4096];
	without_time(a.msg, x, sizeof(x));
	without_time(b.msg, y, sizeof(y));
	CHECK_STR(x, y);
	CHECK(a.msg->len == b.msg->len); /* the same frame header, the same length */
	change_release(&a);
	change_release(&b);
	change_log_page_release(&fast);
	change_log_page_release(&logp);
	free(payload);
}

#define DATA_U                                                                                     \
	"{\"operation\":\"UPDATE\",\"id\":7,\"customer_name\":\"John \\\"J\\\" Doe\","             \
	"\"product_name\":\"Laptop \xe2\x82\xac\",\"status\":\"shipped\","                         \
	"\"created_at\":\"2026-12-06T01:16:50.877112+00:00\","                                     \
	"\"updated_at\":\"2026-12-06T01:16:50.882337+00:00\"}"

static void test_update(void)
{
	const char *vals[CHANGE_COL_COUNT] = {"42",
					      "UPDATE",
					      "7",
					      "shipped",
					      "pending",
					      DATA_U,
					      "{\"status\":\"pending\"}",
					      "1796519810.882442"};
	same_change("{\"seq\":42,\"epoch\":\"e\",\"changed_at\":1796519810.882442,"
		    "\"operation\":\"UPDATE\",\"id\":7,\"status\":\"shipped\","
		    "\"old_status\":\"pending\",\"old\":{\"status\":\"pending\"},\"data\":" DATA_U
		    "}",
		    vals);
	struct change c;
	char payload[] = "{\"seq\":42,\"epoch\":\"e\",\"changed_at\":1,\"operation\":\"UPDATE\","
			 "\"id\":7,\"status\":\"shipped\",\"old_status\":\"pending\","
			 "\"old\":{\"status\":\"pending\"},\"data\":{}}";
	struct change_log_notice nt;
	struct change_log_page p;
	CHECK(change_log_notice_parse(payload, &nt, &p) == CHANGE_NOTICE_EVENT);
	CHECK(change_from_page(&p, 0, &c) == 0);
	CHECK(c.op == CHANGE_OP_UPDATE && c.status == ORDER_STATUS_SHIPPED &&
	      c.old_status == ORDER_STATUS_PENDING && c.order_id == 7);
	change_release(&c);
}

static void test_insert_delete_truncate(void)
{
	const char *ins[CHANGE_COL_COUNT] = {"5",  "INSERT",	 "3",  "pending",
					     NULL, "{\"id\":3}", NULL, "1796519810.5"};
	same_change(
	    "{\"seq\":5,\"epoch\":\"e\",\"changed_at\":1796519810.5,\"operation\":\"INSERT\","
	    "\"id\":3,\"status\":\"pending\",\"old_status\":null,\"old\":null,"
	    "\"data\":{\"id\":3}}",
	    ins);
	const char *del[CHANGE_COL_COUNT] = {"6",  "DELETE",	 "3",  "pending",
					     NULL, "{\"id\":3}", NULL, "1796519810.6"};
	same_change(
	    "{\"seq\":6,\"epoch\":\"e\",\"changed_at\":1796519810.6,\"operation\":\"DELETE\","
	    "\"id\":3,\"status\":\"pending\",\"old_status\":null,\"old\":null,"
	    "\"data\":{\"id\":3}}",
	    del);
	const char *tr[CHANGE_COL_COUNT] = {"7",  "TRUNCATE",	 NULL,
					    NULL, NULL,		 "{\"operation\":\"TRUNCATE\"}",
					    NULL, "1796519810.7"};
	same_change("{\"seq\":7,\"epoch\":\"e\",\"changed_at\":1796519810.7,"
		    "\"operation\":\"TRUNCATE\",\"id\":null,\"status\":null,\"old_status\":null,"
		    "\"old\":null,\"data\":{\"operation\":\"TRUNCATE\"}}",
		    tr);
}

/* A payload that parses but names no known status is refused by the same
 * decoder as a bad log row (the listener then reads the log). */
static void test_undecodable(void)
{
	char payload[] = "{\"seq\":8,\"epoch\":\"e\",\"changed_at\":1,\"operation\":\"INSERT\","
			 "\"id\":3,\"status\":\"bogus\",\"old_status\":null,\"old\":null,"
			 "\"data\":{}}";
	struct change_log_notice nt;
	struct change_log_page p;
	struct change c;
	CHECK(change_log_notice_parse(payload, &nt, &p) == CHANGE_NOTICE_EVENT);
	CHECK(change_from_page(&p, 0, &c) < 0);
	change_release(&c);
}

int main(void)
{
	test_update();
	test_insert_delete_truncate();
	test_undecodable();
	HARNESS_END();
}
