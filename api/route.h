/* route: match a request method and path against a table of patterns such
 * as "/api/orders/:id" (one ":name" segment captures). Pure; thread-safe.
 * Distinguishes an unknown path (404) from a known path with the wrong
 * method (405, with the Allow list). */
#ifndef ORDERS_ROUTE_H
#define ORDERS_ROUTE_H

#include <stddef.h>

enum route_method {
	ROUTE_GET = 1 << 0,
	ROUTE_POST = 1 << 1,
	ROUTE_PUT = 1 << 2,
	ROUTE_PATCH = 1 << 3,
	ROUTE_DELETE = 1 << 4,
	ROUTE_HEAD = 1 << 5,
	ROUTE_OPTIONS = 1 << 6,
};

struct route_def {
	const char *pattern; /* "/api/orders/:id" */
	unsigned methods;    /* ROUTE_GET | ... */
	int id;		     /* caller's handler id */
};

enum route_status { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };

#define ROUTE_PARAM_MAX 64

struct route_match {
	const struct route_def *def; /* borrowed from the table */
	char param[ROUTE_PARAM_MAX]; /* the ":name" segment, "" if none */
	char allow[64];		     /* for ROUTE_BAD_METHOD: "GET, PUT, ..." */
};

/* The ROUTE_* bit of a method name, or 0 if unknown. */
unsigned route_method_bit(const char *method);
/* Find the route; fills m. A captured segment longer than ROUTE_PARAM_MAX-1
 * still matches, truncated to an invalid marker ("\x01") so ids fail
 * validation rather than matching a prefix. */
enum route_status route_match(const struct route_def *table, size_t n, const char *method,
			      const char *path, struct route_match *m);

#endif
