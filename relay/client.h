/* client: one subscriber (WebSocket or Server-Sent Events) and its queue
 * of unsent messages.
 *
 * The queue is the client's: the hub, the catch-up thread and the ticker
 * append to it (enforcing CLIENT_BACKLOG); the server's I/O thread takes
 * batches from its head and writes them (server.h). The accounting:
 *   queued_bytes    in the ring, not yet taken
 *   inflight_bytes  taken by the I/O thread, not yet fully written
 * so the unsent total is always their sum, whoever looks.
 *
 * Lifetime:
 *   routes (I/O thread)  client_new()            refs 1 (the connection's)
 *                        conn_stream(): conn set; subscribe_start(): hub_add
 *   any thread           pushes; server_schedule() queues it for writing
 *                        (holding a reference while queued)
 *   I/O thread           the connection ends: subscribe_retire() ->
 *                        client_retire(): conn = NULL, queue dropped, the
 *                        connection's reference dropped
 * The struct is freed on the last client_unref().
 *
 * Fields under `lock` unless noted. Thread-safe through the functions. */
#ifndef RELAY_CLIENT_H
#define RELAY_CLIENT_H

#include "change_filter.h"
#include "msg.h"
#include "relay.h"

#include <pthread.h>
#include <stdatomic.h>

struct client {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled when a write ends or the queue shrinks */
	atomic_int refs;
	unsigned long id;
	char peer[128]; /* who, for the logs (subscribe_peer) */
	struct relay *relay;
	struct change_query query;
	struct conn *conn; /* the server's connection; set and cleared by the I/O thread */

	/* queue of framed messages (ring) */
	struct msg **ring;
	size_t head, count, cap;
	size_t queued_bytes;   /* in the ring */
	size_t inflight_bytes; /* taken by the I/O thread, not yet written */

	int in_ready;	       /* on the server's ready list (holds a ref) */
	int closing;	       /* close frame queued: accept nothing more */
	int retired;	       /* the connection ended: conn is NULL */
	int replay_cancelled;  /* hub_reset() made it live: replay pushes nothing more */
	long long progress_ms; /* last time the reader took data (or its wait began) */
	int sse;	       /* Server-Sent Events (else WebSocket): set before linking */
	size_t queued_events;  /* changes in the ring (lag metrics) */
	long long sent_seq;    /* highest change seq written */

	/* hub linkage: under the hub lock */
	struct client *prev, *next;
	int linked;
	int live;	   /* receives broadcasts */
	long long min_seq; /* broadcasts with seq <= min_seq are skipped */

	struct client *ready_next; /* under the server's ready-list lock */

	/* catch-up (catchup.h): under the catch-up lock */
	struct client *cu_next;
	int cu_linked;
	unsigned cu_gen;     /* bumped by every catchup_add_locked() */
	long long cu_cursor; /* the last seq it has (given or filtered out) */
	int cu_check_since;  /* a since= from the client: check its epoch first */
};

/* New client for conn (not yet linked anywhere). peer is copied. */
struct client *client_new(struct relay *r, const struct change_query *q, const char *peer);
struct client *client_ref(struct client *c);
void client_unref(struct client *c);

/* Queue m (takes a new reference) with c->lock held; enforces the backlog
 * bound (closes the client with 1008 slow consumer when passed) and
 * schedules a write. Returns 0, or -1 if the client takes nothing more. */
int client_push_locked(struct client *c, struct msg *m);
/* Lock, push, unlock. */
int client_push(struct client *c, struct msg *m);
/* Queue m only if it fits under the backlog, with c->lock held: 0 queued,
 * 1 it does not fit (nothing queued, nothing closed: the caller moves the
 * client to catch-up), -1 the client takes nothing more. */
int client_offer_locked(struct client *c, struct msg *m);
/* Queue m whatever the backlog (pings, heartbeats, and catch-up, which
 * paces itself), with c->lock held. 0, or -1 if the client takes nothing
 * more. */
int client_push_control_locked(struct client *c, struct msg *m);
/* Bytes queued or being written, with c->lock held. */
size_t client_unsent_locked(const struct client *c);
/* As client_push for a caught-up event (no backlog check: the caller
 * paces): -1 (nothing queued) once hub_reset() cancelled the catch-up or
 * the client takes nothing more. */
int client_push_replay(struct client *c, struct msg *m);

/* Drop what is queued, queue a close frame and accept nothing more. With
 * c->lock held. */
void client_close_locked(struct client *c, int code, const char *reason);
/* As client_close_locked, but what is queued is sent first (the client
 * gets everything up to the point the stream cannot pass). */
void client_close_after_locked(struct client *c, int code, const char *reason);

/* The connection ended (I/O thread): forget conn, drop the queue, drop the
 * connection's reference. */
void client_retire(struct client *c);
/* Wait (up to ms) until the unsent bytes are at most `bytes` or the client
 * is closing or gone. Returns 1 if the client can take more, 0 if not. */
int client_wait_below(struct client *c, size_t bytes, long ms);

#endif
