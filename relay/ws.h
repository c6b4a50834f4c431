/* ws: the WebSocket side of the change stream (paths / and /ws): the
 * RFC 6455 handshake checks, token, origin and query checks (HTTP errors
 * before the upgrade), then a client handed to the hub; its frames are
 * written and read by the server (server.h). */
#ifndef RELAY_WS_H
#define RELAY_WS_H

#include "http_request.h"
#include "relay.h"
#include "server.h"

/* Answer an upgrade request on cn (I/O thread). */
void ws_open(struct relay *r, struct conn *cn, const struct http_request *req);

#endif
