/* The api's request-body validation: json_parse_object (strict RFC 8259,
 * UTF-8, depth) then order_fields_from_json for a create and an update,
 * as api/orders.c's read_body does with a body of at most 64 KiB. */
#include "fuzz.h"

#include "json.h"
#include "order.h"
#include "utf8.h"

#define BODY_MAX (64 * 1024) /* api/orders.c */

static void check_name(const char *s)
{
	if (!s)
		return;
	size_t len = strlen(s);
	FUZZ_ASSERT(len > 0);
	FUZZ_ASSERT(utf8_valid_text(s, len));
	FUZZ_ASSERT(utf8_length(s, len) <= ORDER_NAME_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > BODY_MAX)
		return 0;
	struct err e;
	err_clear(&e);
	struct json_object *obj = json_parse_object((const char *)data, size, &e);
	if (!obj) {
		FUZZ_ASSERT(e.kind == ERR_INVALID_JSON && e.msg[0]);
		return 0;
	}
	FUZZ_ASSERT(json_object_is_type(obj, json_type_object));
	static const enum order_body_kind kinds[] = {ORDER_BODY_CREATE, ORDER_BODY_UPDATE};
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct order_fields f;
		err_clear(&e);
		if (order_fields_from_json(obj, kinds[k], &f, &e) < 0) {
			FUZZ_ASSERT(e.kind == ERR_VALIDATION && e.field[0] && e.msg[0]);
			continue;
		}
		check_name(f.customer_name);
		check_name(f.product_name);
		if (f.status)
			FUZZ_ASSERT(order_status_parse(f.status) >= 0);
		if (kinds[k] == ORDER_BODY_CREATE)
			FUZZ_ASSERT(f.customer_name && f.product_name);
		else
			FUZZ_ASSERT(f.customer_name || f.product_name || f.status);
	}
	/* what the api stores and echoes serialises and parses again */
	char *text = json_dup_string(obj);
	err_clear(&e);
	struct json_object *again = json_parse_object(text, strlen(text), &e);
	free(text);
	json_object_put(again);
	json_object_put(obj);
	return 0;
}
