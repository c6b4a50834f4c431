/* change_filter: subscription query parsing (since, epoch, filters) and
 * matching events against a filter, TRUNCATE included. */
#include "change_filter.h"

#include "harness.h"
#include "order.h"

static void test_query(void)
{
	struct change_query q;
	struct err e = {0};
	CHECK(change_query_parse(NULL, &q, &e) == 0 && !q.has_since);
	CHECK(change_query_parse("since=41&status=pending,shipped&id=7&operation=insert,DELETE", &q,
				 &e) == 0);
	CHECK(q.has_since && q.since == 41 && q.filter.id == 7);
	CHECK(q.filter.status_mask ==
	      ((1u << ORDER_STATUS_PENDING) | (1u << ORDER_STATUS_SHIPPED)));
	CHECK(q.filter.op_mask == ((1u << CHANGE_OP_INSERT) | (1u << CHANGE_OP_DELETE)));
	CHECK(change_query_parse("access_token=abc&since=0", &q, &e) == 0 && q.since == 0);
	CHECK(change_query_parse("status=pending%2Cshipped", &q, &e) == 0 &&
	      q.filter.status_mask == 5u);
	static const char *const bad[][2] = {
	    {"since=abc", "since"},
	    {"since=-1", "since"},
	    {"since=1&since=2", "since"},
	    {"since=", "since"},
	    {"status=bogus", "status"},
	    {"status=a,,b", "status"},
	    {"id=0", "id"},
	    {"id=1x", "id"},
	    {"operation=UPSERT", "operation"},
	    {"since=%zz", "since"},
	    {"since=99999999999999999999", "since"},
	    /* one spelling per number: no sign, leading zero or percent-encoding */
	    {"since=-0", "since"},
	    {"since=00", "since"},
	    {"since=07", "since"},
	    {"since=%30", "since"},
	    {"since=%095", "since"},
	    {"since=+5", "since"},
	    {"id=01", "id"},
	    {"id=%31", "id"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		CHECK(change_query_parse(bad[i][0], &q, &e) < 0);
		CHECK(e.kind == ERR_INVALID_QUERY);
		CHECK_STR(e.field, bad[i][1]);
	}
}

/* change_seq_parse (Last-Event-ID too): canonical decimal only. */
static void test_seq_parse(void)
{
	long long v = -1;
	CHECK(change_seq_parse("0", &v) == 0 && v == 0);
	CHECK(change_seq_parse("42", &v) == 0 && v == 42);
	CHECK(change_seq_parse("999999999999999999", &v) == 0 && v == CHANGE_SEQ_MAX);
	static const char *const bad[] = {"",	"00", "01",  "-0", "+1",
					  " 1", "1 ", "1e3", "x",  "1000000000000000000"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(change_seq_parse(bad[i], &v) < 0);
}

static void test_match(void)
{
	struct change_filter f = {0};
	CHECK(change_filter_match(&f, CHANGE_OP_UPDATE, 1, 0, 5));
	f.status_mask = 1u << ORDER_STATUS_PENDING;
	CHECK(change_filter_match(&f, CHANGE_OP_UPDATE, ORDER_STATUS_SHIPPED, ORDER_STATUS_PENDING,
				  5));
	CHECK(!change_filter_match(&f, CHANGE_OP_UPDATE, ORDER_STATUS_SHIPPED, -1, 5));
	f.id = 6;
	CHECK(!change_filter_match(&f, CHANGE_OP_INSERT, ORDER_STATUS_PENDING, -1, 5));
	f.id = 0;
	f.op_mask = 1u << CHANGE_OP_DELETE;
	CHECK(!change_filter_match(&f, CHANGE_OP_INSERT, ORDER_STATUS_PENDING, -1, 5));
	CHECK(change_filter_match(&f, CHANGE_OP_DELETE, ORDER_STATUS_PENDING, -1, 5));
}

static void test_truncate_filters(void)
{
	struct change_filter f = {0};
	f.status_mask = 1u << ORDER_STATUS_PENDING;
	f.id = 9;
	/* TRUNCATE has no status or id and passes those filters */
	CHECK(change_filter_match(&f, CHANGE_OP_TRUNCATE, -1, -1, 0));
	f.op_mask = 1u << CHANGE_OP_INSERT;
	CHECK(!change_filter_match(&f, CHANGE_OP_TRUNCATE, -1, -1, 0));
	CHECK(change_op_parse("truncate") == CHANGE_OP_TRUNCATE);
	struct change_query q;
	struct err e = {0};
	CHECK(change_query_parse("since=3&epoch=ab12-x_Y", &q, &e) == 0);
	CHECK_STR(q.epoch, "ab12-x_Y");
	CHECK(change_query_parse("operation=TRUNCATE", &q, &e) == 0 &&
	      q.filter.op_mask == 1u << CHANGE_OP_TRUNCATE && q.epoch[0] == '\0');
	static const char *const bad[] = {
	    "epoch=a%20b", "epoch=%22x", "epoch=", "epoch=a&epoch=b",
	    "epoch=0123456789012345678901234567890123456789012345678901234567890123"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		CHECK(change_query_parse(bad[i], &q, &e) < 0);
		CHECK_STR(e.field, "epoch");
	}
	CHECK(change_epoch_valid("0123456789abcdef0123456789abcdef"));
	CHECK(!change_epoch_valid("a.b") && !change_epoch_valid(""));
}

int main(void)
{
	test_query();
	test_seq_parse();
	test_match();
	test_truncate_filters();
	HARNESS_END();
}
