/* routes: what the relay answers at each path: the stream at / and /ws
 * (ws.h) and /events (sse.h), /health and /metrics, 404 elsewhere. */
#ifndef RELAY_ROUTES_H
#define RELAY_ROUTES_H

#include "http_request.h"
#include "relay.h"
#include "server.h"

/* Answer req on cn (I/O thread): a plain response or a stream. */
void routes_dispatch(struct relay *r, struct conn *cn, const struct http_request *req);

#endif
