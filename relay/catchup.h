/* catchup: clients that read the change log at their own pace.
 *
 * A client catches up from the log, not from memory, when it asked for
 * history (since=) or when it fell behind the live fan-out by more than
 * CLIENT_BACKLOG (a bulk import, a burst): the log is durable, so nothing
 * needs buffering for it and a client that keeps reading is never cut.
 * One thread serves every such client: it reads a page after the lowest
 * position among those with room, decodes it once, hands the same
 * messages to every client at that position, and moves a client back to
 * the live fan-out (hub_go_live) once it reaches the stream's head.
 *
 * Memory: a client gets more only while it has less than half its
 * backlog (at most CATCHUP_WINDOW) unsent, and catch-up as a whole stops
 * reading while its clients hold CATCHUP_BUDGET unsent, so it adds at most
 * CATCHUP_BUDGET plus one page (CATCHUP_PAGE rows) to the relay, however
 * many clients replay at once.
 *
 * A client that takes nothing for WRITE_TIMEOUT while data waits for it is
 * closed with 1008 "slow consumer" by the server (server.h); one whose position was pruned gets
 * resync (history_truncated); one whose since= names another epoch, or a
 * seq never handed out, gets resync (epoch_changed).
 *
 * Lock order: hub lock, client lock, catch-up lock; the thread takes the
 * catch-up lock alone. Thread-safe. */
#ifndef RELAY_CATCHUP_H
#define RELAY_CATCHUP_H

#include "client.h"
#include "relay.h"

#define CATCHUP_PAGE   500
#define CATCHUP_WINDOW (1024 * 1024)
#define CATCHUP_BUDGET (64 * 1024 * 1024)

struct catchup;

/* Start the thread (reads through r->db; positions from r->hub). */
struct catchup *catchup_new(struct relay *r);
/* Stop and join; drops the clients still catching up. NULL does nothing. */
void catchup_free(struct catchup *cu);
/* Serve c from `cursor` (the last seq it has) until it is live. c must not
 * be live; call with c->lock held. check_since: cursor is a since= of the
 * client's (check its epoch and that the seq exists first). */
void catchup_add_locked(struct catchup *cu, struct client *c, long long cursor, int check_since);
/* Clients catching up now (for /metrics). */
int catchup_count(struct catchup *cu);

#endif
