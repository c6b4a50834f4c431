/* server: the relay's network side: one epoll thread per CPU (at most
 * four), each owning the connections it accepted.
 *
 * Why not civetweb (which the api keeps): civetweb 1.15 gives each
 * connection a thread for its whole life, allocates whatever a WebSocket
 * frame announces, sends pings on its own timer and restarts its write
 * timeout after every partial send. A stream server holds thousands of
 * long-lived, mostly idle connections; here each costs a socket and a few
 * hundred bytes, and every limit is ours:
 *
 *   request head   line and headers within REQUEST_TIMEOUT in total from
 *                  accept, at most 16 KiB and 64 headers (431), strict
 *                  parsing (http_request.h); no request bodies
 *   plain reply    /health, /metrics, errors: written, then the socket is
 *                  shut down and closed (no keep-alive, nothing drained)
 *   stream         WebSocket or SSE (routes.c decides): the client's queue
 *                  (client.h) is written with non-blocking sends as the
 *                  socket takes it; a client that takes nothing for
 *                  WRITE_TIMEOUT while data waits gets 1008 and is cut
 *   client frames  a WebSocket peer may send only masked control frames
 *                  of at most 4 KiB (ws_frame.h's server decoder): data
 *                  frames get 1003, oversized 1009, violations 1002, and
 *                  the relay never holds more than one frame of 4 KiB
 *   liveness       pings come from the hub's ticker (one per
 *                  PING_INTERVAL); a peer whose last pong is older than
 *                  two intervals is dropped, however many bytes it
 *                  trickles
 *
 * Threads: each I/O thread (a loop) owns the struct conn it accepted and
 * every socket call on it; the loops share only the listening socket
 * (EPOLLEXCLUSIVE wakes one per connection) and the connection count.
 * Other threads reach a connection only through its client: they queue
 * messages with client.h, which calls server_schedule(); the connection's
 * loop then writes. A broadcast to many clients is thus written by every
 * loop at once. Lock order: client lock, then a loop's ready-list lock.
 */
#ifndef RELAY_SERVER_H
#define RELAY_SERVER_H

#include "err.h"
#include "relay.h"

#include <stddef.h>

struct server;
struct conn;
struct client;
struct http_request;

struct server_config {
	const char *host;
	int port;
	long long request_timeout_ms; /* REQUEST_TIMEOUT */
	int max_connections;	      /* sockets held at once, streams included */
	int io_threads;		      /* I/O threads; 0: one per CPU (at most 4) */
};

/* Bind and listen (ERR_CONFIG when the address is taken or invalid). The
 * thread starts with server_start. */
struct server *server_new(struct relay *r, const struct server_config *cfg, struct err *err);
int server_start(struct server *s, struct err *err) __attribute__((warn_unused_result));
/* Stop the thread and close every connection (their clients retired).
 * NULL does nothing. */
void server_free(struct server *s);
/* Connections open now (any state). */
int server_connections(struct server *s);
/* I/O threads running. */
int server_io_threads(struct server *s);

/* Called by client.h with c->lock held when c has something to send:
 * the I/O thread will write it. Takes a reference while queued. */
void server_schedule(struct server *s, struct client *c);

/* What routes.c needs, on the I/O thread only, while answering a request.
 * The connection ends after a plain response. */
const char *conn_peer(const struct conn *cn);	   /* "address:port" of the socket */
const char *conn_peer_addr(const struct conn *cn); /* its address alone */
/* Answer with status, a body (type NULL: no Content-Type) and extra
 * "Name: value\r\n" lines. HEAD requests get the head only. */
void conn_respond(struct conn *cn, int status, const char *type, const char *extra,
		  const void *body, size_t len);
/* Answer with the contract's error body for e (status from its kind). */
void conn_respond_error(struct conn *cn, const struct err *e, const char *extra);
/* Turn the connection into a stream for c: head (the 101 or 200 response
 * head, copied) goes first, then whatever c queues. websocket: read client
 * frames (else the peer's bytes are discarded). The connection holds a
 * reference to c from here on and retires it when it ends. */
void conn_stream(struct conn *cn, struct client *c, const char *head, size_t len, int websocket);

#endif
