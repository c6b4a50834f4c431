/* api: what the orders-api handlers share. One struct api, built by main,
 * read-only after start except through its thread-safe members. */
#ifndef ORDERS_API_H
#define ORDERS_API_H

#include "auth.h"
#include "client_addr.h"
#include "db.h"
#include "err.h"
#include "metrics.h"
#include "route.h"

#include <civetweb.h>
#include <stdatomic.h>

struct static_files;
struct rate_limit;

struct api {
	struct db_pool *pool;	       /* thread-safe */
	struct metrics_http *metrics;  /* thread-safe */
	struct static_files *www;      /* immutable after load */
	const char *relay_health_host; /* where /health asks the relay */
	int relay_port;
	const char *relay_public_url;	/* NULL: the page derives it */
	struct auth auth;		/* tokens and origins, immutable */
	struct trusted_proxies proxies; /* TRUSTED_PROXIES, immutable */
	struct rate_limit *write_limit; /* WRITE_RATE_LIMIT; NULL: none; thread-safe */
	atomic_int inflight;		/* requests inside the dispatcher */
	atomic_int draining;		/* set at shutdown: new requests get 503 */
};

/* A route handler: sends a response and returns its HTTP status, or returns
 * -1 with err set and sends nothing (the dispatcher answers the error). */
typedef int (*api_handler)(struct mg_connection *c, struct api *api, const struct route_match *m,
			   struct err *err);

/* orders.c */
int api_orders_list(struct mg_connection *c, struct api *api, const struct route_match *m,
		    struct err *err);
int api_orders_get(struct mg_connection *c, struct api *api, const struct route_match *m,
		   struct err *err);
int api_orders_create(struct mg_connection *c, struct api *api, const struct route_match *m,
		      struct err *err);
int api_orders_update(struct mg_connection *c, struct api *api, const struct route_match *m,
		      struct err *err);
int api_orders_delete(struct mg_connection *c, struct api *api, const struct route_match *m,
		      struct err *err);
/* changes.c */
int api_changes_list(struct mg_connection *c, struct api *api, const struct route_match *m,
		     struct err *err);
/* status.c */
int api_health(struct mg_connection *c, struct api *api, const struct route_match *m,
	       struct err *err);
int api_metrics(struct mg_connection *c, struct api *api, const struct route_match *m,
		struct err *err);
int api_config(struct mg_connection *c, struct api *api, const struct route_match *m,
	       struct err *err);

#endif
