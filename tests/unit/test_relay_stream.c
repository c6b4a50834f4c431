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

static void snap(struct seq_snapshot *s, const char *text)
{
	CHECK(seq_snapshot_parse(text, s) == 0);
}

static void test_gate(void)
{
	struct seq_snapshot s;
	CHECK(seq_snapshot_parse("10:20:12,15", &s) == 0);
	CHECK(s.xmin == 10 && s.xmax == 20 && s.nxip == 2 && s.xip[1] == 15);
	CHECK(seq_snapshot_in_progress(&s, 12) && !seq_snapshot_in_progress(&s, 13) &&
	      seq_snapshot_in_progress(&s, 25) && !seq_snapshot_in_progress(&s, 5));
	seq_snapshot_release(&s);
	CHECK(seq_snapshot_parse("10:x:", &s) < 0);

	struct seq_gate g;
	seq_gate_init(&g, 5);
	long long rows1[] = {6, 7, 9, 10};
	/* contiguous rows pass; the hole at 8 waits for xid 12 */
	snap(&s, "10:20:12");
	CHECK(seq_gate_advance(&g, rows1, 4, &s) == 2);
	CHECK(g.cursor == 7 && seq_gate_waiting(&g) && seq_gate_needs_bound(&g));
	seq_gate_set_bound(&g, 22); /* xids 20, 21 may run unlisted above xmax */
	seq_snapshot_release(&s);
	/* xid 12 still running; a new xid 18 cannot fill hole 8 */
	long long rows2[] = {9, 10};
	snap(&s, "12:20:12,18");
	CHECK(seq_gate_advance(&g, rows2, 2, &s) == 0 && seq_gate_waiting(&g));
	seq_snapshot_release(&s);
	/* 12 ended but 21 (unlisted at first) is running: wait */
	snap(&s, "18:23:18,21");
	CHECK(seq_gate_advance(&g, rows2, 2, &s) == 0 && seq_gate_waiting(&g));
	seq_snapshot_release(&s);
	/* 12 and 20..21 ended: pass the hole even though 18 and 25 are open */
	snap(&s, "18:26:18,25");
	CHECK(seq_gate_advance(&g, rows2, 2, &s) == 2);
	CHECK(g.cursor == 10 && !seq_gate_waiting(&g));
	seq_snapshot_release(&s);
	/* a hole with nothing listed still needs the bound, then passes */
	long long rows3[] = {13};
	snap(&s, "30:30:");
	CHECK(seq_gate_advance(&g, rows3, 1, &s) == 0 && seq_gate_needs_bound(&g));
	seq_gate_set_bound(&g, 30);
	CHECK(seq_gate_advance(&g, rows3, 1, &s) == 1 && g.cursor == 13);
	seq_snapshot_release(&s);
	/* the hole is filled by the commit */
	long long rows4[] = {15};
	snap(&s, "30:40:33");
	CHECK(seq_gate_advance(&g, rows4, 1, &s) == 0 && g.hole == 14);
	seq_gate_set_bound(&g, 41);
	seq_snapshot_release(&s);
	long long rows5[] = {14, 15};
	snap(&s, "40:40:");
	CHECK(seq_gate_advance(&g, rows5, 2, &s) == 2 && g.cursor == 15 && !seq_gate_waiting(&g));
	seq_snapshot_release(&s);
	seq_gate_release(&g);
}

int main(void)
{
	test_query();
	test_match();
	test_event();
	test_gate();
	HARNESS_END();
}
