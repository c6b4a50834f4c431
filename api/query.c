#include "query.h"

#include "http.h"
#include "qs.h"
#include "order.h"

#include <errno.h>
#include <stdlib.h>

int query_int(const char *query, const char *name, long long min, long long max, long long def,
	      long long *out, struct err *err)
{
	char v[32];
	*out = def;
	int rc = qs_param(query, name, v, sizeof(v));
	if (rc == 0)
		return 0;
	if (rc < 0)
		return err_set_field(err, ERR_INVALID_QUERY, name,
				     "%s: must be given once, as a whole number %lld..%lld", name,
				     min, max);
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (!v[0] || *end || errno || v[0] == '+' || v[0] == ' ' || n < min || n > max)
		return err_set_field(err, ERR_INVALID_QUERY, name,
				     "%s: must be a whole number %lld..%lld, got '%s'", name, min,
				     max, v);
	*out = n;
	return 0;
}

int query_status(const char *query, const char **status, struct err *err)
{
	char v[32];
	*status = NULL;
	int rc = qs_param(query, "status", v, sizeof(v));
	if (rc == 0)
		return 0;
	int s = rc > 0 ? order_status_parse(v) : -1;
	if (s < 0)
		return err_set_field(err, ERR_INVALID_QUERY, "status",
				     "status: must be one of " ORDER_STATUS_LIST);
	*status = order_status_name((enum order_status)s);
	return 0;
}
