/* server: the civetweb side of orders-api: start, one dispatcher for every
 * request (routing, framing checks, static files, metrics), stop. */
#ifndef ORDERS_API_SERVER_H
#define ORDERS_API_SERVER_H

#include "api.h"

struct server_options {
	const char *host;
	int port;
	int threads;		      /* civetweb workers (API_THREADS) */
	long long request_timeout_ms; /* REQUEST_TIMEOUT */
};

/* The idle time allowed between two requests on a kept-alive connection:
 * KEEPALIVE_MAX_MS, or REQUEST_TIMEOUT when that is shorter. */
#define KEEPALIVE_MAX_MS 2000

/* Start listening; NULL with err (e.g. the port is taken). Sets the
 * connection limits in api. */
struct mg_context *server_start(struct api *api, const struct server_options *opt, struct err *err);
/* Refuse new requests (503, Connection: close) and wait up to timeout_ms
 * for those in flight to finish, so none loses its response. */
void server_drain(struct api *api, int timeout_ms);
/* Stop civetweb and free it and the connection limits' state. */
void server_stop(struct api *api, struct mg_context *ctx);

#endif
