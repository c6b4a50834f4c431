/* order: statuses, body validation and id parsing. */
#include "order.h"

#include "harness.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

static void test_status(void)
{
	static const char *const names[] = {"pending", "processing", "shipped", "delivered",
					    "cancelled"};
	for (int i = 0; i < 5; i++) {
		CHECK(order_status_parse(names[i]) == i);
		CHECK_STR(order_status_name((enum order_status)i), names[i]);
	}
	static const char *const bad[] = {"",	  "Pending",  "PENDING",  " pending", "pending ",
					  "pend", "pendingx", "canceled", "bogus",    "null"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(order_status_parse(bad[i]) == -1);
	CHECK_STR(order_status_name(ORDER_STATUS_COUNT), "unknown");
	CHECK_STR(order_status_name((enum order_status) - 1), "unknown");
}

/* Validate a JSON text; returns rc and fills e. */
static int validate(const char *text, enum order_body_kind kind, struct order_fields *f,
		    struct err *e, struct json_object **keep)
{
	err_clear(e);
	struct json_object *o = json_parse_object(text, strlen(text), e);
	if (!o) {
		fprintf(stderr, "test body does not parse: %s (%s)\n", text, e->msg);
		return -2;
	}
	int rc = order_fields_from_json(o, kind, f, e);
	if (keep)
		*keep = o;
	else
		json_object_put(o);
	return rc;
}

static void expect_field_error(const char *text, enum order_body_kind kind, const char *field)
{
	struct order_fields f;
	struct err e;
	int rc = validate(text, kind, &f, &e, NULL);
	if (rc != -1 || e.kind != ERR_VALIDATION || strcmp(e.field, field) != 0)
		fprintf(stderr, "body %s: rc %d kind %d field '%s' msg '%s' (want field '%s')\n",
			text, rc, e.kind, e.field, e.msg, field);
	CHECK(rc == -1);
	CHECK(e.kind == ERR_VALIDATION);
	CHECK_STR(e.field, field);
	CHECK(strstr(e.msg, field) != NULL);
}

static char *name_of(const char *unit, int count)
{
	size_t ul = strlen(unit);
	char *s = malloc(ul * (size_t)count + 1);
	for (int i = 0; i < count; i++)
		memcpy(s + ul * (size_t)i, unit, ul);
	s[ul * (size_t)count] = '\0';
	return s;
}

static char *body_with(const char *field, const char *value)
{
	size_t n = strlen(value) + 200;
	char *s = malloc(n);
	if (strcmp(field, "customer_name") == 0)
		snprintf(s, n, "{\"customer_name\":\"%s\",\"product_name\":\"p\"}", value);
	else
		snprintf(s, n, "{\"customer_name\":\"c\",\"product_name\":\"%s\"}", value);
	return s;
}

static void test_create_ok(void)
{
	struct order_fields f;
	struct err e;
	struct json_object *o = NULL;
	CHECK(validate("{\"customer_name\":\"John Doe\",\"product_name\":\"Laptop\"}",
		       ORDER_BODY_CREATE, &f, &e, &o) == 0);
	CHECK_STR(f.customer_name, "John Doe");
	CHECK_STR(f.product_name, "Laptop");
	CHECK(f.status == NULL);
	json_object_put(o);
	CHECK(validate("{\"customer_name\":\"a\",\"product_name\":\"b\",\"status\":\"shipped\"}",
		       ORDER_BODY_CREATE, &f, &e, &o) == 0);
	CHECK_STR(f.status, "shipped");
	json_object_put(o);
	/* SQL-looking and unicode text is just text */
	CHECK(validate("{\"customer_name\":\"Robert'); DROP TABLE orders;--\","
		       "\"product_name\":\"\\u00e9\\ud83d\\ude00 \\\"q\\\"\"}",
		       ORDER_BODY_CREATE, &f, &e, &o) == 0);
	CHECK_STR(f.customer_name, "Robert'); DROP TABLE orders;--");
	CHECK_STR(f.product_name, "\xc3\xa9\xf0\x9f\x98\x80 \"q\"");
	json_object_put(o);
	/* leading/trailing spaces around real text are accepted */
	CHECK(validate("{\"customer_name\":\" a \",\"product_name\":\"b\"}", ORDER_BODY_CREATE, &f,
		       &e, NULL) == 0);
}

static void test_create_errors(void)
{
	expect_field_error("{\"product_name\":\"p\"}", ORDER_BODY_CREATE, "customer_name");
	expect_field_error("{\"customer_name\":\"c\"}", ORDER_BODY_CREATE, "product_name");
	expect_field_error("{}", ORDER_BODY_CREATE, "customer_name");
	expect_field_error("{\"customer_name\":\"\",\"product_name\":\"p\"}", ORDER_BODY_CREATE,
			   "customer_name");
	expect_field_error("{\"customer_name\":\"c\",\"product_name\":\"\"}", ORDER_BODY_CREATE,
			   "product_name");
	expect_field_error("{\"customer_name\":\"   \",\"product_name\":\"p\"}", ORDER_BODY_CREATE,
			   "customer_name");
	expect_field_error("{\"customer_name\":\" \\t\\r\\n \",\"product_name\":\"p\"}",
			   ORDER_BODY_CREATE, "customer_name");
	/* wrong types */
	static const char *const wrong[] = {"1", "1.5", "true", "null", "[]", "{}", "[\"a\"]"};
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		char b[200];
		snprintf(b, sizeof(b), "{\"customer_name\":%s,\"product_name\":\"p\"}", wrong[i]);
		expect_field_error(b, ORDER_BODY_CREATE, "customer_name");
		snprintf(b, sizeof(b), "{\"customer_name\":\"c\",\"product_name\":%s}", wrong[i]);
		expect_field_error(b, ORDER_BODY_CREATE, "product_name");
		snprintf(b, sizeof(b),
			 "{\"customer_name\":\"c\",\"product_name\":\"p\",\"status\":%s}",
			 wrong[i]);
		expect_field_error(b, ORDER_BODY_CREATE, "status");
	}
	/* statuses */
	static const char *const bad_status[] = {"bogus", "", "Pending", " shipped",
						 "shipped\\u0000"};
	for (size_t i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
		char b[200];
		snprintf(b, sizeof(b),
			 "{\"customer_name\":\"c\",\"product_name\":\"p\",\"status\":\"%s\"}",
			 bad_status[i]);
		expect_field_error(b, ORDER_BODY_CREATE, "status");
	}
	/* unknown and read-only fields */
	expect_field_error("{\"customer_name\":\"c\",\"product_name\":\"p\",\"id\":5}",
			   ORDER_BODY_CREATE, "id");
	expect_field_error("{\"customer_name\":\"c\",\"product_name\":\"p\",\"created_at\":\"x\"}",
			   ORDER_BODY_CREATE, "created_at");
	expect_field_error("{\"customer_name\":\"c\",\"product_name\":\"p\",\"updated_at\":\"x\"}",
			   ORDER_BODY_CREATE, "updated_at");
	expect_field_error("{\"customer_name\":\"c\",\"product_name\":\"p\",\"colour\":\"red\"}",
			   ORDER_BODY_CREATE, "colour");
	expect_field_error(
	    "{\"customer_name\":\"c\",\"product_name\":\"p\",\"Status\":\"shipped\"}",
	    ORDER_BODY_CREATE, "Status");
	{
		struct order_fields f;
		struct err e;
		validate("{\"customer_name\":\"c\",\"product_name\":\"p\",\"id\":5}",
			 ORDER_BODY_CREATE, &f, &e, NULL);
		CHECK(strstr(e.msg, "read-only") != NULL);
		validate("{\"customer_name\":\"c\",\"product_name\":\"p\",\"colour\":1}",
			 ORDER_BODY_CREATE, &f, &e, NULL);
		CHECK(strstr(e.msg, "unknown") != NULL);
	}
	/* NUL inside a name */
	expect_field_error("{\"customer_name\":\"a\\u0000b\",\"product_name\":\"p\"}",
			   ORDER_BODY_CREATE, "customer_name");
}

static void test_lengths(void)
{
	struct order_fields f;
	struct err e;
	static const char *const units[] = {"a", "\\u00e9", "\\u20ac", "\\ud83d\\ude00"};
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		for (int field = 0; field < 2; field++) {
			const char *fname = field ? "product_name" : "customer_name";
			char *n200 = name_of(units[u], 200);
			char *n201 = name_of(units[u], 201);
			char *b200 = body_with(fname, n200);
			char *b201 = body_with(fname, n201);
			int rc = validate(b200, ORDER_BODY_CREATE, &f, &e, NULL);
			if (rc != 0)
				fprintf(stderr, "200 x '%s' in %s refused: %s\n", units[u], fname,
					e.msg);
			CHECK(rc == 0);
			expect_field_error(b201, ORDER_BODY_CREATE, fname);
			free(n200);
			free(n201);
			free(b200);
			free(b201);
		}
	}
	/* 1 character is fine */
	CHECK(validate("{\"customer_name\":\"x\",\"product_name\":\"y\"}", ORDER_BODY_CREATE, &f,
		       &e, NULL) == 0);
}

static void test_invalid_utf8_value(void)
{
	/* json-c validates UTF-8 while parsing; build the object directly. */
	static const char *const bad[] = {"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "customer_name", json_object_new_string(bad[i]));
		json_object_object_add(o, "product_name", json_object_new_string("p"));
		struct order_fields f;
		struct err e;
		err_clear(&e);
		CHECK(order_fields_from_json(o, ORDER_BODY_CREATE, &f, &e) == -1);
		CHECK(e.kind == ERR_VALIDATION);
		CHECK_STR(e.field, "customer_name");
		json_object_put(o);
	}
}

static void test_update(void)
{
	struct order_fields f;
	struct err e;
	CHECK(validate("{\"status\":\"delivered\"}", ORDER_BODY_UPDATE, &f, &e, NULL) == 0);
	CHECK(validate("{\"customer_name\":\"x\"}", ORDER_BODY_UPDATE, &f, &e, NULL) == 0);
	CHECK(validate("{\"product_name\":\"x\"}", ORDER_BODY_UPDATE, &f, &e, NULL) == 0);
	struct json_object *o = NULL;
	CHECK(validate("{\"product_name\":\"x\"}", ORDER_BODY_UPDATE, &f, &e, &o) == 0);
	CHECK(f.customer_name == NULL && f.status == NULL);
	json_object_put(o);
	/* nothing to change */
	{
		int rc = validate("{}", ORDER_BODY_UPDATE, &f, &e, NULL);
		CHECK(rc == -1 && e.kind == ERR_VALIDATION && e.field[0] != '\0');
	}
	expect_field_error("{\"status\":\"bogus\"}", ORDER_BODY_UPDATE, "status");
	expect_field_error("{\"customer_name\":\"\"}", ORDER_BODY_UPDATE, "customer_name");
	expect_field_error("{\"customer_name\":null}", ORDER_BODY_UPDATE, "customer_name");
	expect_field_error("{\"status\":\"shipped\",\"id\":1}", ORDER_BODY_UPDATE, "id");
	expect_field_error("{\"status\":\"shipped\",\"created_at\":\"2020-01-01\"}",
			   ORDER_BODY_UPDATE, "created_at");
}

static void test_check_field(void)
{
	struct err e;
	CHECK(order_check_field("status", "shipped", &e) == 0);
	CHECK(order_check_field("status", "nope", &e) == -1 && strcmp(e.field, "status") == 0);
	CHECK(order_check_field("customer_name", "x", &e) == 0);
	CHECK(order_check_field("customer_name", "", &e) == -1);
	CHECK(order_check_field("product_name", " ", &e) == -1);
	CHECK(order_check_field("id", "5", &e) == -1 && strstr(e.msg, "read-only"));
	CHECK(order_check_field("colour", "red", &e) == -1 && strcmp(e.field, "colour") == 0);
}

static void test_ids(void)
{
	struct err e;
	long long id = 0;
	CHECK(order_parse_id("1", &id, &e) == 0 && id == 1);
	CHECK(order_parse_id("42", &id, &e) == 0 && id == 42);
	CHECK(order_parse_id("9223372036854775807", &id, &e) == 0 && id == 9223372036854775807LL);
	static const char *const bad[] = {"0",
					  "00",
					  "-1",
					  "+1",
					  "1e3",
					  "1.0",
					  "abc",
					  "",
					  " 1",
					  "1 ",
					  "0x1",
					  "1a",
					  "\x01",
					  "99999999999999999999",
					  "9223372036854775808",
					  "18446744073709551616",
					  "-0",
					  "01",
					  "007",
					  "%31"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		id = 777;
		int rc = order_parse_id(bad[i], &id, &e);
		if (rc == 0)
			fprintf(stderr, "id '%s' accepted as %lld\n", bad[i], id);
		CHECK(rc == -1);
		CHECK(e.kind == ERR_INVALID_ID);
		CHECK(id == 777);
	}
	/* the message quotes the id, bounded */
	char longid[200];
	memset(longid, '9', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	CHECK(order_parse_id(longid, &id, &e) == -1);
	CHECK(strlen(e.msg) < 120);
	CHECK(order_parse_id("abc", &id, &e) == -1 && strstr(e.msg, "abc") != NULL);
}

/* A field with an empty name is a validation error naming the body, not
 * one with an empty field (found by fuzz_json_body). */
static void test_empty_key(void)
{
	expect_field_error("{\"\":1,\"customer_name\":\"c\",\"product_name\":\"p\"}",
			   ORDER_BODY_CREATE, "body");
	expect_field_error("{\"\":\"pending\"}", ORDER_BODY_UPDATE, "body");
}

int main(void)
{
	test_empty_key();
	test_status();
	test_create_ok();
	test_create_errors();
	test_lengths();
	test_invalid_utf8_value();
	test_update();
	test_check_field();
	test_ids();
	HARNESS_END();
}
