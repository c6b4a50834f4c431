/* query: the query parameters of the REST API, validated without clamping:
 * a bad value fails with ERR_INVALID_QUERY naming the parameter. */
#ifndef ORDERS_QUERY_H
#define ORDERS_QUERY_H

#include "err.h"

#define QUERY_LIMIT_DEFAULT 100
#define QUERY_LIMIT_MAX	    1000

/* Integer parameter `name` of the query string in [min, max] (0 <= min),
 * written in plain digits without leading zeros or percent-encoding (one
 * spelling per number); *out keeps `def` when absent. Returns 0 or -1
 * with err. */
int query_int(const char *query, const char *name, long long min, long long max, long long def,
	      long long *out, struct err *err) __attribute__((warn_unused_result));
/* `status` parameter: NULL when absent, else a static status name. */
int query_status(const char *query, const char **status, struct err *err)
    __attribute__((warn_unused_result));

#endif
