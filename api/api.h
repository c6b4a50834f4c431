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

struct deadline_registry;
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
	/* connection limits (server.c), fixed at start */
	struct deadline_registry *deadlines; /* the workers' request deadlines */
	long long request_timeout_ns;	     /* REQUEST_TIMEOUT */
	long long keepalive_ns;		     /* idle time allowed between two requests */
	int capacity; /* connections served at once; past it the longest waiting is evicted */
	struct {
		atomic_int open;	 /* connections held by workers */
		atomic_ullong refused;	 /* answered 503 at the door */
		atomic_ullong evicted;	 /* closed to make room */
		atomic_ullong timed_out; /* REQUEST_TIMEOUT passed */
		atomic_int no_timer;	 /* workers without a deadline timer */
	} conn_stats;
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
