/* server: the civetweb side of orders-api: start, one dispatcher for every
 * request (routing, framing checks, static files, metrics), stop. */
#ifndef ORDERS_API_SERVER_H
#define ORDERS_API_SERVER_H

#include "api.h"

struct server_options {
	const char *host;
	int port;
	int threads;
};

/* Start listening; NULL with err (e.g. the port is taken). */
struct mg_context *server_start(struct api *api, const struct server_options *opt, struct err *err);
/* Stop accepting, finish in-flight requests, free civetweb. */
void server_stop(struct mg_context *ctx);

#endif
