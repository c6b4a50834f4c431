/* sse: the change stream as Server-Sent Events at GET /events, for
 * clients that only speak HTTP (curl, EventSource behind proxies that drop
 * WebSockets, scripts). The same query, tokens, hub, client queue and
 * guarantees as the WebSocket (subscribe.h); only the framing differs
 * (msg_sse): `event: <type>`, `data: <the same JSON>`, `id: <seq>` on
 * changes. A Last-Event-ID header means since=. The response stays open
 * until the client is closed (slow consumer, shutdown: a last
 * `event: error`) or gone. */
#ifndef RELAY_SSE_H
#define RELAY_SSE_H

#include "http_request.h"
#include "relay.h"
#include "server.h"

/* Answer GET /events on cn (I/O thread). */
void sse_open(struct relay *r, struct conn *cn, const struct http_request *req);

#endif
