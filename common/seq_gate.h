/* seq_gate: gapless ordering over the change log.
 *
 * The relay reads `seq > cursor ORDER BY seq` together with
 * pg_current_snapshot() in one statement. Rows are delivered in seq order;
 * when the next expected seq is missing (a hole), it may belong to a
 * transaction still in progress. A seq is taken after the writing
 * transaction got its xid, and before the visible row above the hole took
 * its seq, so only a transaction in progress when the snapshot S where the
 * hole was seen was taken can still fill it: one in S's xip list, or one
 * with an xid >= S's xmax (xmax is latestCompletedXid + 1, so running
 * transactions above it are not listed). The gate stops at such a hole,
 * remembers the xip xids and the range [xmax, U) where U is an xid assigned
 * after S (seq_gate_set_bound(): the caller runs pg_current_xact_id()), and
 * passes the hole once none of them is in progress any more (each re-read
 * narrows the set with the new snapshot). Rolled-back transactions send no
 * notification, so the caller re-reads on a short timer while
 * seq_gate_waiting() is true.
 *
 * Pure, not thread-safe (one gate per reader); release with
 * seq_gate_release(). */
#ifndef ORDERS_SEQ_GATE_H
#define ORDERS_SEQ_GATE_H

#include <stddef.h>
#include <stdint.h>

/* A parsed pg_snapshot "xmin:xmax:xip1,xip2,...". */
struct seq_snapshot {
	uint64_t xmin, xmax;
	size_t nxip;
	uint64_t *xip; /* owned; sorted as PostgreSQL prints it */
};

/* Parse text into snap (release with seq_snapshot_release). 0 or -1. */
int seq_snapshot_parse(const char *text, struct seq_snapshot *snap)
    __attribute__((warn_unused_result));
void seq_snapshot_release(struct seq_snapshot *snap);
/* 1 if xid is in progress in snap (in xip, or >= xmax). */
int seq_snapshot_in_progress(const struct seq_snapshot *snap, uint64_t xid);

struct seq_gate {
	long long cursor; /* last seq delivered or passed */
	long long hole;	  /* seq waited for, 0 when not waiting */
	size_t nwait;
	uint64_t *wait;	 /* owned: listed xids that may still fill the hole */
	uint64_t lo, hi; /* and the unlisted ones in [lo, hi); hi 0 = unknown */
	int need_bound;	 /* hi unknown: caller must seq_gate_set_bound() */
};

void seq_gate_init(struct seq_gate *g, long long cursor);
void seq_gate_release(struct seq_gate *g);
/* Given the seqs of one read (ascending, all > g->cursor) and the snapshot
 * of the same statement, return how many leading rows may be delivered now;
 * g->cursor becomes the last of them. Stops at a hole that a transaction of
 * the snapshot may still fill (then seq_gate_waiting() is 1). */
size_t seq_gate_advance(struct seq_gate *g, const long long *seqs, size_t n,
			const struct seq_snapshot *snap);
int seq_gate_waiting(const struct seq_gate *g);
/* 1 when the hole waits for an upper bound of the xids assigned so far. */
int seq_gate_needs_bound(const struct seq_gate *g);
/* An xid assigned after the snapshot that found the hole (e.g. the result
 * of pg_current_xact_id() in a later statement). */
void seq_gate_set_bound(struct seq_gate *g, uint64_t xid);

/* Keep in set[0..*n) only the xids still in progress in snap. Returns *n. */
size_t seq_gate_still_running(uint64_t *set, size_t *n, const struct seq_snapshot *snap);

#endif
