/* subscribe: what the two transports of the change stream share before
 * their framing differs: who may subscribe (CONTRACT section 6: an allowed
 * Origin, a read token where one is needed), the subscription query, a
 * MAX_CLIENTS slot, and handing the new client to the hub (live, or
 * catching up from since= first). ws.c (WebSocket) and sse.c (Server-Sent
 * Events) call these on the server's I/O thread. */
#ifndef RELAY_SUBSCRIBE_H
#define RELAY_SUBSCRIBE_H

#include "client.h"
#include "relay.h"
#include "server.h"

#include "http_request.h"

/* Origin and token checks: ERR_FORBIDDEN or ERR_UNAUTHORIZED in err. The
 * token is the access_token parameter, an Authorization: Bearer header or
 * a "bearer.<token>" subprotocol offered beside orders.v1. */
int subscribe_authorize(struct relay *r, const struct http_request *req, struct err *err)
    __attribute__((warn_unused_result));

/* Who the client is, for the logs: the socket's peer, or with
 * TRUSTED_PROXIES the client its X-Forwarded-For names ("203.0.113.9 via
 * 10.0.0.2:41234"). */
void subscribe_peer(struct relay *r, const struct conn *cn, const struct http_request *req,
		    char *out, size_t cap);
/* Take a MAX_CLIENTS slot (given back by subscribe_retire); 0, or -1 with
 * ERR_UNAVAILABLE when the relay is full. */
int subscribe_take_slot(struct relay *r, struct err *err) __attribute__((warn_unused_result));

/* Link c into the hub: live at once, or (with since=) through catch-up. */
void subscribe_start(struct relay *r, struct client *c, const char *transport);

/* Unlink c, give its slot back and drop the connection's reference. */
void subscribe_retire(struct relay *r, struct client *c);

#endif
