/* listener: the one thread that reads the change log for all clients.
 *
 * It holds its own PostgreSQL connection with LISTEN order_changes and
 * waits in poll() on the socket, a self-pipe (stop) and a timeout. A
 * notification is only a wake-up: all pending ones are drained and cost one
 * read of `seq > last ORDER BY seq LIMIT n` (with the snapshot of the same
 * statement), page after page, through a seq_gate so that rows go out in
 * seq order and no seq an open transaction may still fill is skipped.
 * While the gate waits at a hole it re-reads every 15 ms (a rollback sends
 * no notification). On a lost connection it reconnects with capped
 * exponential backoff, LISTENs again and catches up from the log; clients
 * stay connected. It also prunes the log per CHANGES_RETENTION. */
#ifndef RELAY_LISTENER_H
#define RELAY_LISTENER_H

#include "err.h"
#include "change_filter.h"
#include "relay.h"

struct listener;

/* Connect (retrying up to wait_ms), check the schema and find the start
 * position: the highest seq, or just below the lowest seq a running writer
 * may still fill (see seq_gate.h), so nothing below it can still appear;
 * it never waits for transactions. The connect retries end early when
 * *stop becomes non-zero (a signal handler's flag; borrowed). NULL with err:
 * ERR_CONFIG for a missing schema, ERR_UNAVAILABLE when the database is
 * unreachable, ERR_SHUTTING_DOWN when *stop ended the wait. */
struct listener *listener_new(const char *conninfo, long long retention_ms, long wait_ms,
			      volatile int *stop, struct err *err);
/* The start position found by listener_new. */
long long listener_start_seq(const struct listener *l);
/* The epoch of the history the listener reads (copied into out). */
void listener_epoch(struct listener *l, char out[CHANGE_EPOCH_MAX]);
/* Start the thread; broadcasts go to r->hub. 0 or -1. */
int listener_start(struct listener *l, struct relay *r) __attribute__((warn_unused_result));
/* Stop, join and free. NULL does nothing. */
void listener_free(struct listener *l);
/* 1 while connected to the database. */
int listener_connected(struct listener *l);

#endif
