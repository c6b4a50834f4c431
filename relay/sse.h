/* sse: the change stream as Server-Sent Events at GET /events, for
 * clients that only speak HTTP (curl, EventSource behind proxies that drop
 * WebSockets, scripts). The same query, tokens, hub, client queue, senders
 * and guarantees as the WebSocket (subscribe.h); only the framing differs
 * (msg_sse): `event: <type>`, `data: <the same JSON>`, `id: <seq>` on
 * changes. A Last-Event-ID header means since=. The request's worker
 * thread holds the response open until the client is closed (slow
 * consumer, shutdown: a last `event: error`) or gone (a write fails). */
#ifndef RELAY_SSE_H
#define RELAY_SSE_H

#include "relay.h"

#include <civetweb.h>

/* Register GET /events on ctx; cbdata is r. */
void sse_register(struct mg_context *ctx, struct relay *r);

#endif
