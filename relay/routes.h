/* routes: the relay's plain HTTP endpoints, /health and /metrics. */
#ifndef RELAY_ROUTES_H
#define RELAY_ROUTES_H

#include "relay.h"

#include <civetweb.h>

void routes_register(struct mg_context *ctx, struct relay *r);

#endif
