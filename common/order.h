/* order: the order domain shared by api, relay and CLI: statuses, input
 * validation and the limits of the contract, so the programs cannot drift. */
#ifndef ORDERS_ORDER_H
#define ORDERS_ORDER_H

#include "err.h"

#include <json-c/json.h>

enum order_status {
	ORDER_STATUS_PENDING,
	ORDER_STATUS_PROCESSING,
	ORDER_STATUS_SHIPPED,
	ORDER_STATUS_DELIVERED,
	ORDER_STATUS_CANCELLED,
	ORDER_STATUS_COUNT
};

#define ORDER_STATUS_LIST "pending, processing, shipped, delivered, cancelled"
#define ORDER_NAME_MAX	  200 /* characters */

/* Static name of a status. */
const char *order_status_name(enum order_status s);
/* The status named s, or -1. */
int order_status_parse(const char *s);

/* Fields of a create or update body; strings are borrowed from the JSON
 * object they came from; NULL when absent. */
struct order_fields {
	const char *customer_name;
	const char *product_name;
	const char *status;
};

enum order_body_kind { ORDER_BODY_CREATE, ORDER_BODY_UPDATE };

/* Validate a request body object. CREATE needs both names; UPDATE needs at
 * least one field. Unknown and read-only fields, wrong types, empty or
 * over-long names and unknown statuses fail with ERR_VALIDATION naming the
 * field. Returns 0 or -1. */
int order_fields_from_json(struct json_object *body, enum order_body_kind kind,
			   struct order_fields *out, struct err *err)
    __attribute__((warn_unused_result));

/* Validate one field value given as text (the CLI's `status=shipped`). */
int order_check_field(const char *field, const char *value, struct err *err)
    __attribute__((warn_unused_result));

/* Parse a positive 64-bit id written in decimal digits only, without a
 * leading zero ("01" is refused: one spelling per id). Returns 0, or
 * -1 with ERR_INVALID_ID ("cannot parse order id 'abc'"). */
int order_parse_id(const char *s, long long *id, struct err *err)
    __attribute__((warn_unused_result));

#endif
