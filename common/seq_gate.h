/* seq_gate: the gap rule over the change log, pure.
 *
 * Readers fetch rows `seq > cursor ORDER BY seq` and deliver them in seq
 * order. A missing seq (a hole) was taken by a transaction that rolled back
 * (a permanent hole) or that has not committed yet (it may still fill it).
 * Every writing transaction holds a writer lock from before it takes its
 * first seq until it ends, keyed by a lower bound of its seqs (schema/005).
 * The writer floor F is the smallest key held, capped by the sequence's
 * next value, measured in a statement that ran BEFORE the read. A
 * transaction that can still fill hole h took its lock, then h: if it took
 * h after F was measured, h >= the capped next value >= F; if before, it
 * held its lock then, and its key < h, so F < h. Either way a hole h < F
 * is final in any later read; a hole h >= F waits for a floor measured
 * later. Transactions that never write orders hold no lock and never delay
 * the stream.
 *
 * Notifications (the relay's fast path). PostgreSQL delivers a NOTIFY only
 * after its transaction has committed, so a notification for seq s says s
 * is committed and visible to any read that starts later. When s is
 * cursor + 1 nothing can still precede it: every seq up to the cursor was
 * delivered or passed as final, so a read would return s first and the
 * rule above would pass it whatever the floor (it decides only holes).
 * seq_gate_take() is that step; a notification for a higher seq says
 * nothing about the seqs between, which stay holes for the rule above
 * (seq_gate_wait_next()).
 *
 * Not thread-safe (one gate per reader). */
#ifndef ORDERS_SEQ_GATE_H
#define ORDERS_SEQ_GATE_H

#include <stddef.h>

struct seq_gate {
	long long cursor; /* last seq delivered or passed */
	long long hole;	  /* first seq waited for, 0 when not waiting */
};

void seq_gate_init(struct seq_gate *g, long long cursor);
/* Given the seqs of one read (ascending, all > g->cursor) and the writer
 * floor measured before that read, return how many leading rows may be
 * delivered now; g->cursor becomes the last of them. Stops at the first
 * hole at or above the floor (then seq_gate_waiting() is 1 and g->hole
 * names it). */
size_t seq_gate_advance(struct seq_gate *g, const long long *seqs, size_t n, long long floor);
int seq_gate_waiting(const struct seq_gate *g);
/* The notification of seq s arrived (s is committed). If s is cursor + 1,
 * it is next: the cursor becomes s, a wait at s ends, and 1 is returned.
 * Else 0 and nothing changes. */
int seq_gate_take(struct seq_gate *g, long long s);
/* A seq above cursor + 1 is known committed and cursor + 1 is not: wait at
 * cursor + 1 (a hole) until the floor passes it or it arrives. */
void seq_gate_wait_next(struct seq_gate *g);
/* 1 when a floor measured now would let the waiting hole pass. */
int seq_gate_floor_passes(const struct seq_gate *g, long long floor);

#endif
