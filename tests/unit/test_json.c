/* json: parse errors, depth limit, trailing garbage, non-objects, UTF-8. */
#include "json.h"

#include "harness.h"

#include <stdlib.h>
#include <string.h>

static struct json_object *parse(const char *s, struct err *e)
{
	err_clear(e);
	return json_parse(s, strlen(s), e);
}

static struct json_object *parse_obj(const char *s, struct err *e)
{
	err_clear(e);
	return json_parse_object(s, strlen(s), e);
}

static void expect_invalid(const char *s)
{
	struct err e;
	struct json_object *o = parse(s, &e);
	if (o)
		fprintf(stderr, "accepted invalid JSON: %s\n", s);
	CHECK(o == NULL);
	CHECK(e.kind == ERR_INVALID_JSON);
	CHECK(e.msg[0] != '\0');
	json_object_put(o);
}

static void test_valid(void)
{
	struct err e;
	struct json_object *o = parse_obj("{\"a\": 1, \"b\": [true, null, \"x\"]}", &e);
	CHECK(o && json_object_is_type(o, json_type_object));
	json_object_put(o);
	o = parse_obj("  {}\r\n\t ", &e); /* surrounding whitespace */
	CHECK(o != NULL);
	json_object_put(o);
	o = parse("[1, 2]", &e);
	CHECK(o && json_object_is_type(o, json_type_array));
	json_object_put(o);
	o = parse("\"text\"", &e);
	CHECK(o && json_object_is_type(o, json_type_string));
	json_object_put(o);
	/* A bare scalar is one JSON value too (RFC 8259). */
	o = parse("42", &e);
	if (!o)
		fprintf(stderr, "json_parse(\"42\") failed: %s\n", e.msg);
	CHECK(o && json_object_is_type(o, json_type_int) && json_object_get_int(o) == 42);
	json_object_put(o);
	o = parse("true", &e);
	CHECK(o && json_object_is_type(o, json_type_boolean));
	json_object_put(o);
	/* Escapes are decoded: \u00e9 and a surrogate pair. */
	o = parse_obj("{\"k\":\"\\u00e9\\ud83d\\ude00\"}", &e);
	struct json_object *v = NULL;
	CHECK(o && json_object_object_get_ex(o, "k", &v));
	CHECK(v && strcmp(json_object_get_string(v), "\xc3\xa9\xf0\x9f\x98\x80") == 0);
	json_object_put(o);
}

static void test_invalid(void)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "{",
	    "}",
	    "{\"a\":}",
	    "{\"a\" 1}",
	    "{'a':1}",
	    "{a:1}",
	    "{\"a\":1,}",
	    "[1,]",
	    "{\"a\":01}",
	    "NaN",
	    "{\"a\":NaN}",
	    "{\"a\":Infinity}",
	    "undefined",
	    "{\"a\":\"x}",
	    "{\"a\":1} x",
	    "{} {}",
	    "{}]",
	    "{\"a\":1}garbage",
	    "{\"a\":\"\x01\"}", /* raw control character in a string */
	    "/* c */ {}",
	    "{\"a\":1 // c\n}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid(bad[i]);

	/* the message says where */
	struct err e;
	struct json_object *o = parse("{\"a\":1} x", &e);
	CHECK(o == NULL && strstr(e.msg, "byte") != NULL);

	/* trailing NUL bytes are not whitespace */
	err_clear(&e);
	o = json_parse("{}\0", 3, &e);
	if (o)
		fprintf(stderr, "accepted \"{}\\0\"\n");
	CHECK(o == NULL);
	json_object_put(o);
	err_clear(&e);
	o = json_parse("{\"a\":1}\0\0\0", 10, &e);
	CHECK(o == NULL);
	json_object_put(o);
	/* only len bytes are read: "{}" followed by garbage outside len is fine */
	o = json_parse("{}xyz", 2, &e);
	CHECK(o != NULL);
	json_object_put(o);
	/* a truncated document */
	o = json_parse("{\"a\":1}", 5, &e);
	CHECK(o == NULL && e.kind == ERR_INVALID_JSON);
}

static void test_invalid_utf8(void)
{
	static const char *const bad[] = {
	    "{\"a\":\"\xff\"}",		/* never valid */
	    "{\"a\":\"\xc3\"}",		/* truncated sequence */
	    "{\"a\":\"\xc0\xaf\"}",	/* overlong '/' */
	    "{\"a\":\"\xed\xa0\x80\"}", /* encoded surrogate */
	    "{\"\xff\":\"a\"}",		/* in a key */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid(bad[i]);
}

/* What json-c would silently change is refused: a lone surrogate would be
 * stored as U+FFFD, a key with an escaped NUL cut at the NUL, a repeated
 * key resolved to its last value. */
static void test_lossy_escapes(void)
{
	static const char *const bad[] = {
	    "{\"a\":\"\\ud800\"}",		 /* lone high surrogate */
	    "{\"a\":\"\\uD800x\"}",		 /* high surrogate, then a letter */
	    "{\"a\":\"\\ud800\\u0041\"}",	 /* high surrogate, then not a low one */
	    "{\"a\":\"\\ud800\\ud800\"}",	 /* two high surrogates */
	    "{\"a\":\"\\udc00\"}",		 /* lone low surrogate */
	    "{\"a\":\"\\ude00\\ud83d\"}",	 /* a pair in the wrong order */
	    "[\"\\udfff\"]",			 /* in an array */
	    "{\"\\ud800\":1}",			 /* in a key */
	    "{\"customer_name\\u0000x\":\"a\"}", /* escaped NUL in a key */
	    "{\"\\u0000\":1}",
	    "{\"a\":{\"b\\u0000\":1}}", /* in a nested key */
	    "{\"a\":\"\\u12\"}",	/* short escape */
	    "{\"a\":\"\\u12g4\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid(bad[i]);

	struct err e;
	struct json_object *o = parse("{\"k\\u0000\":1}", &e);
	CHECK(o == NULL && strstr(e.msg, "key") != NULL);
	o = parse("\"\\ud800\"", &e);
	CHECK(o == NULL && strstr(e.msg, "surrogate") != NULL);

	/* an escaped NUL in a value is still a value (the order rules refuse it) */
	o = parse_obj("{\"a\":\"x\\u0000y\"}", &e);
	CHECK(o != NULL);
	json_object_put(o);
	/* a valid pair at the very end, and U+FFFF itself, are fine */
	o = parse("\"\\udbff\\udfff\"", &e);
	CHECK(o != NULL);
	json_object_put(o);
	o = parse("\"\\uffff\"", &e);
	CHECK(o != NULL);
	json_object_put(o);

	/* a repeated key in the object a body is read from */
	o = parse_obj("{\"status\":\"pending\",\"status\":\"shipped\"}", &e);
	CHECK(o == NULL && e.kind == ERR_INVALID_JSON && strstr(e.msg, "more than once"));
	o = parse_obj("{\"a\":1,\"\\u0061\":2}", &e); /* the same key, spelt otherwise */
	CHECK(o == NULL && e.kind == ERR_INVALID_JSON);
	o = parse_obj("{\"a\":{\"x\":1,\"y\":2},\"b\":[{\"c\":1}],\"c\":3}", &e);
	CHECK(o != NULL && json_object_object_length(o) == 3);
	json_object_put(o);
}

static void test_depth(void)
{
	char deep[2 * 64 + 1];
	for (int d = 1; d <= 40; d++) {
		memset(deep, 0, sizeof(deep));
		memset(deep, '[', (size_t)d);
		memset(deep + d, ']', (size_t)d);
		struct err e;
		struct json_object *o = parse(deep, &e);
		if (d <= JSON_MAX_DEPTH)
			CHECK(o != NULL);
		else
			CHECK(o == NULL && e.kind == ERR_INVALID_JSON);
		json_object_put(o);
	}
	/* deep objects too, and a very deep document does not crash */
	size_t n = 100000;
	char *big = malloc(2 * n + 1);
	memset(big, '[', n);
	memset(big + n, ']', n);
	big[2 * n] = '\0';
	struct err e;
	struct json_object *o = parse(big, &e);
	CHECK(o == NULL && e.kind == ERR_INVALID_JSON);
	free(big);
	char obj[1024] = "";
	for (int i = 0; i < 33; i++)
		strcat(obj, "{\"a\":");
	strcat(obj, "1");
	for (int i = 0; i < 33; i++)
		strcat(obj, "}");
	o = parse(obj, &e);
	CHECK(o == NULL);
}

static void test_non_object(void)
{
	static const char *const not_obj[] = {"[]",   "[{\"a\":1}]", "\"s\"",	"1",
					      "true", "null",	     "  null  "};
	for (size_t i = 0; i < sizeof(not_obj) / sizeof(not_obj[0]); i++) {
		struct err e;
		struct json_object *o = parse_obj(not_obj[i], &e);
		CHECK(o == NULL);
		CHECK(e.kind == ERR_INVALID_JSON);
		if (!strstr(e.msg, "expected a JSON object"))
			fprintf(stderr, "'%s': message '%s'\n", not_obj[i], e.msg);
		CHECK(strstr(e.msg, "expected a JSON object") != NULL);
		json_object_put(o);
	}
}

static void test_dup_string(void)
{
	struct err e;
	struct json_object *o = parse_obj("{ \"a\" : \"x/y\" , \"b\" : [ 1 ] }", &e);
	char *s = json_dup_string(o);
	CHECK_STR(s, "{\"a\":\"x/y\",\"b\":[1]}");
	free(s);
	json_object_put(o);
}

/* json-c keeps object keys as C strings: a key holding \u0000 is refused,
 * not cut (found by fuzz_json_body: {"\u0000id":1} came out as the key
 * "", and "customer_name\u0000x" would read as customer_name). */
static void test_nul_in_key(void)
{
	static const char *const bad[] = {
	    "{\"\\u0000id\":1,\"customer_name\":\"x\"}",
	    "{\"customer_name\\u0000x\":\"a\",\"product_name\":\"p\"}",
	    "[{\"a\":{\"b\\u0000\":1}}]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err e;
		struct json_object *o = parse(bad[i], &e);
		CHECK(o == NULL);
		CHECK(e.kind == ERR_INVALID_JSON);
		CHECK(strstr(e.msg, "\\u0000 in an object key") != NULL);
		json_object_put(o);
	}
	/* in a value, or another escape in a key: still JSON */
	struct err e;
	struct json_object *o = parse("{\"k\\u0041\":\"a\\u0000b\",\"\\u00001\":0}", &e);
	CHECK(o == NULL); /* the second key holds \u0000 too */
	json_object_put(o);
	o = parse("{\"k\\u0041\":\"a\\u0000b\"}", &e);
	CHECK(o != NULL);
	struct json_object *v = NULL;
	CHECK(o && json_object_object_get_ex(o, "kA", &v) && json_object_get_string_len(v) == 3);
	json_object_put(o);
}

int main(void)
{
	test_nul_in_key();
	test_valid();
	test_invalid();
	test_invalid_utf8();
	test_lossy_escapes();
	test_depth();
	test_non_object();
	test_dup_string();
	HARNESS_END();
}
