#include "order.h"

#include "json.h"
#include "utf8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[ORDER_STATUS_COUNT] = {
    "pending", "processing", "shipped", "delivered", "cancelled",
};

const char *order_status_name(enum order_status s)
{
	return (unsigned)s < ORDER_STATUS_COUNT ? status_names[s] : "unknown";
}

int order_status_parse(const char *s)
{
	for (int i = 0; i < ORDER_STATUS_COUNT; i++)
		if (strcmp(s, status_names[i]) == 0)
			return i;
	return -1;
}

static int check_name(const char *field, const char *v, size_t len, struct err *err)
{
	if (!utf8_valid_text(v, len))
		return err_set_field(err, ERR_VALIDATION, field,
				     "%s: must be valid UTF-8 text without NUL characters", field);
	size_t i = 0;
	while (i < len && strchr(" \t\r\n", v[i]))
		i++;
	if (i == len)
		return err_set_field(err, ERR_VALIDATION, field, "%s: must not be empty", field);
	if (utf8_length(v, len) > ORDER_NAME_MAX)
		return err_set_field(err, ERR_VALIDATION, field,
				     "%s: must be at most %d characters", field, ORDER_NAME_MAX);
	return 0;
}

int order_check_field(const char *field, const char *value, struct err *err)
{
	if (strcmp(field, "status") == 0) {
		if (order_status_parse(value) < 0)
			return err_set_field(err, ERR_VALIDATION, "status",
					     "status: must be one of " ORDER_STATUS_LIST);
		return 0;
	}
	if (strcmp(field, "customer_name") == 0 || strcmp(field, "product_name") == 0)
		return check_name(field, value, strlen(value), err);
	if (strcmp(field, "id") == 0 || strcmp(field, "created_at") == 0 ||
	    strcmp(field, "updated_at") == 0)
		return err_set_field(err, ERR_VALIDATION, field, "%s: is read-only", field);
	return err_set_field(err, ERR_VALIDATION, field,
			     "%s: unknown field (expected customer_name, product_name, status)",
			     field);
}

int order_fields_from_json(struct json_object *body, enum order_body_kind kind,
			   struct order_fields *out, struct err *err)
{
	memset(out, 0, sizeof(*out));
	json_object_object_foreach(body, key, val)
	{
		const char **slot = NULL;
		if (strcmp(key, "customer_name") == 0)
			slot = &out->customer_name;
		else if (strcmp(key, "product_name") == 0)
			slot = &out->product_name;
		else if (strcmp(key, "status") == 0)
			slot = &out->status;
		if (!slot && !*key)
			return err_set_field(err, ERR_VALIDATION, "body",
					     "body: a field with an empty name");
		if (!slot) {
			/* reuses the read-only / unknown wording */
			if (order_check_field(key, "", err) < 0)
				return -1;
			return err_set_field(err, ERR_VALIDATION, key, "%s: unknown field", key);
		}
		if (!json_object_is_type(val, json_type_string))
			return err_set_field(err, ERR_VALIDATION, key,
					     "%s: must be a string, got %s", key,
					     json_type_to_name(json_object_get_type(val)));
		const char *s = json_object_get_string(val);
		size_t len = (size_t)json_object_get_string_len(val);
		if (slot == &out->status) {
			if (len != strlen(s) || order_status_parse(s) < 0)
				return err_set_field(err, ERR_VALIDATION, "status",
						     "status: must be one of " ORDER_STATUS_LIST);
		} else if (check_name(key, s, len, err) < 0) {
			return -1;
		}
		*slot = s;
	}
	if (kind == ORDER_BODY_CREATE) {
		if (!out->customer_name)
			return err_set_field(err, ERR_VALIDATION, "customer_name",
					     "customer_name: is required");
		if (!out->product_name)
			return err_set_field(err, ERR_VALIDATION, "product_name",
					     "product_name: is required");
	} else if (!out->customer_name && !out->product_name && !out->status) {
		return err_set_field(err, ERR_VALIDATION, "body",
				     "body: give at least one of customer_name, product_name, "
				     "status");
	}
	return 0;
}

int order_parse_id(const char *s, long long *id, struct err *err)
{
	/* one spelling per id: digits only, no leading zero ("01" is not 1) */
	const char *p = s;
	if (!*p || strlen(p) > 19 || *p == '0')
		goto bad;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			goto bad;
	errno = 0;
	long long v = strtoll(s, NULL, 10);
	if (errno || v <= 0)
		goto bad;
	*id = v;
	return 0;
bad:
	return err_set_field(err, ERR_INVALID_ID, "id",
			     "cannot parse order id '%.40s': must be a positive integer without "
			     "leading zeros",
			     s);
}
