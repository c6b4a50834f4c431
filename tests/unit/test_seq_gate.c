/* seq_gate: the gapless seq gate: holes wait while a writer may still
 * fill them and pass once the writer floor is above them. */
#include "seq_gate.h"

#include "harness.h"

#include <stddef.h>

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

/* The fast path: a notification is committed; the next seq goes at once,
 * a later one leaves a hole for the floor to decide. */
static void test_take(void)
{
	struct seq_gate g;
	seq_gate_init(&g, 10);
	CHECK(seq_gate_take(&g, 11) == 1 && g.cursor == 11 && !seq_gate_waiting(&g));
	/* not next: nothing moves (a hole below it, or already delivered) */
	CHECK(seq_gate_take(&g, 13) == 0 && g.cursor == 11);
	CHECK(seq_gate_take(&g, 11) == 0 && seq_gate_take(&g, 5) == 0 && g.cursor == 11);
	/* 13 is known committed and 12 is not: wait at 12 */
	seq_gate_wait_next(&g);
	CHECK(seq_gate_waiting(&g) && g.hole == 12);
	CHECK(!seq_gate_floor_passes(&g, 12) && seq_gate_floor_passes(&g, 13));
	/* 12 arrives: the wait ends, 13 is next */
	CHECK(seq_gate_take(&g, 12) == 1 && g.cursor == 12 && !seq_gate_waiting(&g));
	CHECK(seq_gate_take(&g, 13) == 1 && g.cursor == 13);
	/* a read that stopped at a hole (cursor raised below the floor), then
	 * the hole's own notification */
	long long rows[] = {20};
	CHECK(seq_gate_advance(&g, rows, 1, 16) == 0 && g.cursor == 15 && g.hole == 16);
	CHECK(seq_gate_take(&g, 17) == 0 && seq_gate_waiting(&g));
	CHECK(seq_gate_take(&g, 16) == 1 && g.cursor == 16 && !seq_gate_waiting(&g));
	/* a later read goes on from the cursor the notifications moved */
	long long rows2[] = {17, 18, 20};
	CHECK(seq_gate_advance(&g, rows2, 3, 19) == 2 && g.cursor == 18 && g.hole == 19);
}

int main(void)
{
	test_gate();
	test_take();
	HARNESS_END();
}
