/* ws: the civetweb WebSocket handlers of the change stream (paths / and
 * /ws): query parsing on connect (HTTP 400 on a bad parameter), hello,
 * history replay for since=SEQ, then live delivery through the hub. */
#ifndef RELAY_WS_H
#define RELAY_WS_H

#include "relay.h"

#include <civetweb.h>

/* Register the handlers on ctx; cbdata is r. */
void ws_register(struct mg_context *ctx, struct relay *r);
/* civetweb's connection_close callback: frees a client whose handshake
 * never completed. */
void ws_connection_closed(const struct mg_connection *conn);

#endif
