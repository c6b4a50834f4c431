#include "change_filter.h"

#include "order.h"
#include "qs.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const op_names[CHANGE_OP_COUNT] = {"INSERT", "UPDATE", "DELETE", "TRUNCATE"};

int change_op_parse(const char *s)
{
	for (int i = 0; i < CHANGE_OP_COUNT; i++)
		if (strcasecmp(s, op_names[i]) == 0)
			return i;
	return -1;
}

int change_seq_parse(const char *s, long long *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 18 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	errno = 0;
	*out = strtoll(s, NULL, 10);
	return errno ? -1 : 0;
}

/* Split a comma list and map each item with parse(); fills *mask. */
static int parse_list(const char *v, int (*parse)(const char *), unsigned *mask)
{
	char item[64];
	*mask = 0;
	const char *p = v;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0 || n >= sizeof(item))
			return -1;
		memcpy(item, p, n);
		item[n] = '\0';
		int k = parse(item);
		if (k < 0)
			return -1;
		*mask |= 1u << k;
		if (!end)
			return 0;
		p = end + 1;
	}
}

static int status_parse(const char *s)
{
	return order_status_parse(s);
}

int change_query_parse(const char *query, struct change_query *out, struct err *err)
{
	memset(out, 0, sizeof(*out));
	if (!query)
		return 0;
	unsigned seen = 0;
	static const char *const names[] = {"since", "status", "id", "operation", "epoch"};
	struct qs_pair pair;
	for (const char *p = query; qs_next(&p, &pair);) {
		int which = -1;
		for (int i = 0; i < 5; i++)
			if (qs_key_is(&pair, names[i]))
				which = i;
		if (which >= 0) {
			const char *name = names[which];
			char val[256];
			if (seen & (1u << which))
				return err_set_field(err, ERR_INVALID_QUERY, name,
						     "%s: given more than once", name);
			seen |= 1u << which;
			if (qs_decode(pair.val, pair.vlen, val, sizeof(val)) < 0 || !val[0])
				return err_set_field(err, ERR_INVALID_QUERY, name,
						     "%s: missing or malformed value", name);
			long long num;
			switch (which) {
			case 0:
				/* numbers are checked raw: "%30" or "00" is not 0 */
				if (qs_parse_uint(pair.val, pair.vlen, CHANGE_SEQ_MAX, &num) < 0)
					return err_set_field(
					    err, ERR_INVALID_QUERY, name,
					    "since: must be a sequence number >= 0, got '%.40s'",
					    val);
				out->has_since = 1;
				out->since = num;
				break;
			case 1:
				if (parse_list(val, status_parse, &out->filter.status_mask) < 0)
					return err_set_field(err, ERR_INVALID_QUERY, name,
							     "status: must be a comma list of %s, "
							     "got '%.40s'",
							     ORDER_STATUS_LIST, val);
				break;
			case 2:
				if (qs_parse_uint(pair.val, pair.vlen, CHANGE_SEQ_MAX, &num) < 0 ||
				    num < 1)
					return err_set_field(
					    err, ERR_INVALID_QUERY, name,
					    "id: must be a positive order id, got '%.40s'", val);
				out->filter.id = num;
				break;
			case 3:
				if (parse_list(val, change_op_parse, &out->filter.op_mask) < 0)
					return err_set_field(
					    err, ERR_INVALID_QUERY, name,
					    "operation: must be a comma list of "
					    "INSERT, UPDATE, DELETE, TRUNCATE, got "
					    "'%.40s'",
					    val);
				break;
			default:
				if (!change_epoch_valid(val))
					return err_set_field(err, ERR_INVALID_QUERY, name,
							     "epoch: must be the epoch a server "
							     "gave (letters, digits, - and _), got "
							     "'%.40s'",
							     val);
				memcpy(out->epoch, val, strlen(val) + 1); /* checked: < 64 */
				break;
			}
		}
	}
	return 0;
}

int change_epoch_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= CHANGE_EPOCH_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

int change_filter_match(const struct change_filter *f, int op, int status, int old_status,
			long long id)
{
	if (f->op_mask && (op < 0 || !(f->op_mask & (1u << op))))
		return 0;
	if (op == CHANGE_OP_TRUNCATE)
		return 1;
	if (f->id && f->id != id)
		return 0;
	if (f->status_mask) {
		int hit = (status >= 0 && (f->status_mask & (1u << status))) ||
			  (old_status >= 0 && (f->status_mask & (1u << old_status)));
		if (!hit)
			return 0;
	}
	return 1;
}
