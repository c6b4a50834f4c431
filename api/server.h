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
/* Refuse new requests (503, Connection: close) and wait up to timeout_ms
 * for those in flight to finish, so none loses its response. */
void server_drain(struct api *api, int timeout_ms);
/* Stop civetweb and free it. */
void server_stop(struct mg_context *ctx);

#endif
