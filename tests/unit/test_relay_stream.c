/* Unit tests for the relay's pure parts: subscription query parsing and
 * matching, WebSocket server frames, event JSON and the gapless seq gate. */
#include "harness.h"

#include "buf.h"
#include "change_event.h"
#include "change_filter.h"
#include "order.h"
#include "seq_gate.h"

#include <stdint.h>

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
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		CHECK(change_query_parse(bad[i][0], &q, &e) < 0);
		CHECK(e.kind == ERR_INVALID_QUERY);
		CHECK_STR(e.field, bad[i][1]);
	}
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

static void test_event(void)
{
	struct buf b;
	buf_init(&b, 0);
	struct timespec ts = {.tv_sec = 1700000000, .tv_nsec = 123456789};
	char t[CHANGE_EVENT_TIME_MAX];
	change_event_time(&ts, t);
	CHECK_STR(t, "2023-11-14T22:13:20.123Z");
	CHECK(change_event_format(&b, 42, "{\"id\":7}", "{\"status\":\"pending\"}", t) == 0);
	CHECK_STR(b.data,
		  "{\"type\":\"order_change\",\"seq\":42,\"data\":{\"id\":7},"
		  "\"old\":{\"status\":\"pending\"},\"timestamp\":\"2023-11-14T22:13:20.123Z\"}");
	buf_reset(&b);
	CHECK(change_event_format(&b, 1, "{}", NULL, t) == 0);
	CHECK(strstr(b.data, "\"old\"") == NULL);
	buf_release(&b);
}

static void test_gate(void)
{
	struct seq_gate g;
	seq_gate_init(&g, 5);
	/* contiguous rows pass; the hole at 8 waits while a writer whose key
	 * is at or below 8 may still fill it (floor 8) */
	long long rows1[] = {6, 7, 9, 10};
	CHECK(seq_gate_advance(&g, rows1, 4, 8) == 2);
	CHECK(g.cursor == 7 && seq_gate_waiting(&g) && g.hole == 8);
	CHECK(!seq_gate_floor_passes(&g, 8) && seq_gate_floor_passes(&g, 9));
	/* a floor of 9 (measured before the next read): 8 is final */
	long long rows2[] = {9, 10};
	CHECK(seq_gate_advance(&g, rows2, 2, 9) == 2);
	CHECK(g.cursor == 10 && !seq_gate_waiting(&g));
	/* several holes: those below the floor pass, the rest wait; the
	 * cursor moves up to just below the floor */
	long long rows3[] = {16};
	CHECK(seq_gate_advance(&g, rows3, 1, 13) == 0);
	CHECK(g.cursor == 12 && g.hole == 13 && seq_gate_waiting(&g));
	/* the writer commits: 13..15 appear */
	long long rows4[] = {13, 14, 15, 16};
	CHECK(seq_gate_advance(&g, rows4, 4, 13) == 4 && g.cursor == 16);
	CHECK(!seq_gate_waiting(&g));
	/* no writer: the floor is the sequence's next value; every hole below
	 * the rows read is final */
	long long rows5[] = {20, 25};
	CHECK(seq_gate_advance(&g, rows5, 2, 26) == 2 && g.cursor == 25);
	/* rows at or below the cursor are never delivered twice */
	long long rows6[] = {24, 25, 26};
	CHECK(seq_gate_advance(&g, rows6, 3, 27) == 3 && g.cursor == 26);
	/* a floor at the hole itself does not pass it */
	long long rows7[] = {28};
	CHECK(seq_gate_advance(&g, rows7, 1, 27) == 0 && g.hole == 27 && g.cursor == 26);
	/* an empty read changes nothing */
	CHECK(seq_gate_advance(&g, NULL, 0, 1) == 0 && !seq_gate_waiting(&g) && g.cursor == 26);
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
	test_match();
	test_event();
	test_gate();
	test_truncate_filters();
	HARNESS_END();
}
