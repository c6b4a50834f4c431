#include "query.h"

#include "order.h"
#include "qs.h"

#include <stdio.h>

/* Up to 40 bytes of a raw value for an error message, as printable ASCII. */
static const char *shown(const char *s, size_t n, char out[44])
{
	size_t k = 0;
	for (; k < n && k < 40; k++)
		out[k] = s[k] > ' ' && s[k] < 0x7f ? s[k] : '?';
	snprintf(out + k, 4, "%s", k < n ? "..." : "");
	return out;
}

int query_int(const char *query, const char *name, long long min, long long max, long long def,
	      long long *out, struct err *err)
{
	*out = def;
	struct qs_pair pair;
	int rc = qs_find(query, name, &pair);
	if (rc == 0)
		return 0;
	if (rc < 0)
		return err_set_field(err, ERR_INVALID_QUERY, name,
				     "%s: must be given once, as a whole number %lld..%lld", name,
				     min, max);
	/* the raw text, not its decoding: one spelling per number, so "%35",
	 * "05", "-0" or "+5" never pass for 5 or 0 */
	long long n;
	char v[44];
	if (qs_parse_uint(pair.val, pair.vlen, max, &n) < 0 || n < min)
		return err_set_field(err, ERR_INVALID_QUERY, name,
				     "%s: must be a whole number %lld..%lld in plain digits "
				     "without leading zeros, got '%s'",
				     name, min, max, shown(pair.val, pair.vlen, v));
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
