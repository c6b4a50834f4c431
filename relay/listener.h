/* listener: the one thread that turns the change log into the live stream.
 *
 * It holds its own PostgreSQL connection, LISTENs on the change log's
 * private channel (schema/006) and waits in poll() on the socket, a
 * self-pipe (stop) and a timeout. Two paths lead to clients, both through
 * the same seq_gate, the same decoder (relay/changes.c) and hub_broadcast:
 *
 * The fast path. A notification carries the whole event (the log row's
 * data and old text, byte for byte) with its seq and epoch. When its seq is
 * the next one (cursor + 1) and its epoch the listener's, it goes out at
 * once, with no query; a notification for a later seq is held (up to 1024,
 * by seq) until the seqs before it have gone out, and then goes out too.
 *
 * The log path. `seq > cursor ORDER BY seq LIMIT n`, page after page, with
 * the writer floor measured before each read, as before 006: for holes (a
 * seq whose notification has not come: a writer still open, a rollback, a
 * lost notification), events too large for NOTIFY's 8000 bytes (their
 * notification carries seq and epoch only), anything that does not parse
 * or names another epoch (an orders_new_epoch() notice), a notification for
 * a seq already sent that is not the one sent (seq went back), restarts,
 * reconnections (notifications sent meanwhile are lost), pruning and epoch
 * changes; and every 5 s as a safety net. Replays (since=) read the log in
 * relay/catchup.c, untouched.
 *
 * Why every guarantee still holds (CONTRACT section 5; seq_gate.h):
 *  - The cursor is the last seq sent or passed as final: every seq at or
 *    below it has gone out or can never appear. The fast path only moves
 *    it by one, to a seq it sends.
 *  - A notification is delivered by PostgreSQL only after its transaction
 *    commits (and in commit order), so a notified seq is committed, and
 *    visible to any read that starts after it arrived. A notification of
 *    cursor + 1 therefore names the lowest seq not yet sent, committed: no
 *    uncommitted lower seq can precede it (there is none below), and a read
 *    at that moment would return it first and pass it whatever the floor.
 *    Sending it from the notification is what the log path would do, with
 *    the same bytes (the payload holds the row's own json text).
 *  - The gap rule decides only holes, and still decides all of them: a
 *    later seq is never sent before cursor + 1 has gone out, and a hole is
 *    passed only by a read behind a floor measured before it. A hole first
 *    waits 1 ms for its own notification (writers commit out of seq order:
 *    seq 5 may commit before 4; 5 is held, 4 arrives, 4 then 5 go out);
 *    then the floor is measured, on notifications and every 20 ms; once a
 *    floor passes it (its writer has ended), its notification still has 1
 *    ms to come (a writer's lock goes before its notification), else the
 *    log is read: a rollback leaves nothing there and the read passes it.
 *  - Several notifications of one transaction arrive together, in seq
 *    order, at its commit; a rolled-back transaction or savepoint sends
 *    none (its seqs are holes, for the log path).
 *  - Epochs: the payload names the epoch the writer saw, and a notification
 *    of another epoch goes to the log. orders_new_epoch() notifies on the
 *    same channel; in commit order, a change committed after the renewal
 *    is notified after it, so the listener has read the log (and taken the
 *    new epoch) before it looks at that change: until a read, nothing goes
 *    out on trust after a notification that needs the log (barrier).
 *  - A relay that starts or reconnects while writers run reads the log
 *    first (notifications of earlier commits never reach it); later ones
 *    are sent or recognised as already sent (it remembers the last 4096
 *    seqs it sent, with their time and a hash of their data).
 *  - Only the owner and orders_app can read the private channel's name;
 *    anyone else's NOTIFY (on order_changes or any channel) at most wakes a
 *    relay that runs without 006, which then reads the log.
 *
 * It also prunes the log per CHANGES_RETENTION. On a lost connection it
 * reconnects with capped exponential backoff, LISTENs again and catches up
 * from the log; clients stay connected. */
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
