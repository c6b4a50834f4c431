/* hub: the connected clients and the position of the stream.
 *
 * `last` is the last seq this relay has delivered: every later change will
 * be broadcast. A client either gets live broadcasts (client->live) or is
 * still replaying history; the switch happens under the hub lock when its
 * replay cursor has reached `last`, so nothing falls in the seam.
 * Lock order: hub lock, then a client's lock, then the server's ready list.
 * Thread-safe. */
#ifndef RELAY_HUB_H
#define RELAY_HUB_H

#include "client.h"
#include "msg.h"
#include "relay.h"

#include <stddef.h>

/* One change ready to fan out; msg is the framed event. */
struct change {
	long long seq;
	int op, status, old_status; /* enum change_op, enum order_status, -1 */
	long long order_id;
	struct msg *msg;
};

/* epoch: the history `last` belongs to (copied). */
struct hub *hub_new(struct relay *r, long long last, const char *epoch);
/* Free the hub; every client must have been removed. */
void hub_free(struct hub *h);

/* Link c and queue its hello. When live, c gets broadcasts from now on (its
 * hello carries `last`); else it must replay and call hub_go_live().
 * Returns `last` at that moment. */
long long hub_add(struct hub *h, struct client *c, int live);
/* Unlink c (close handler); safe if c was never linked. */
void hub_remove(struct hub *h, struct client *c);
/* If cursor >= last, make c live (skipping seq <= cursor) and return 1;
 * else store last in *target and return 0. */
int hub_go_live(struct hub *h, struct client *c, long long cursor, long long *target);

/* Fan out n changes in seq order to every live, matching client, then set
 * last = new_last (>= the last change's seq). */
void hub_broadcast(struct hub *h, const struct change *ch, size_t n, long long new_last);

long long hub_last(struct hub *h);

/* How far clients are behind the head, in events not yet sent: a live
 * client's queued changes; a client catching up, at least the changes
 * between what it was last sent and the head. By transport (0 WebSocket,
 * 1 SSE), with a cumulative histogram over HUB_LAG_BOUNDS. */
#define HUB_LAG_NBOUNDS 6
extern const long long HUB_LAG_BOUNDS[HUB_LAG_NBOUNDS]; /* 0 10 100 1000 10000 100000 */
struct hub_lag {
	long long max[2];
	unsigned long long le[2][HUB_LAG_NBOUNDS]; /* clients at or below each bound */
	unsigned long long count[2];
	long long sum[2];
};
void hub_lag(struct hub *h, struct hub_lag *out);
void hub_epoch(struct hub *h, char out[CHANGE_EPOCH_MAX]);
/* The stream continues from `last` in history `epoch` (a new epoch, or
 * history pruned before this relay delivered it): every client gets
 * resync {seq: last, epoch, reason} and is live from there on; a replay in
 * progress is cancelled (client->replay_cancelled). */
void hub_reset(struct hub *h, long long last, const char *epoch, const char *reason);
/* Close every live client with code and reason (the live stream cannot go
 * on without skipping). */
void hub_fail_live(struct hub *h, int code, const char *reason);
/* A resync message (new reference). */
struct msg *hub_resync_msg(long long seq, const char *epoch, const char *reason);
int hub_count(struct hub *h);

/* Liveness tick, once per PING_INTERVAL: queue a ping on every client and
 * a heartbeat on every live one. It drops nobody: the server's timer
 * drops a WebSocket peer whose last pong is two intervals old. */
void hub_heartbeat(struct hub *h);
/* Queue a close frame on every client (shutdown). */
void hub_close_all(struct hub *h, int code, const char *reason);
/* 1 when no client has anything left to send. */
int hub_drained(struct hub *h);

#endif
