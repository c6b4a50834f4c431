/* buf: cap enforcement, growth, printf, JSON string escaping, detach. */
#include "buf.h"

#include "harness.h"

#include <stdlib.h>
#include <string.h>

static void test_cap(void)
{
	struct buf b;
	buf_init(&b, 10);
	CHECK(buf_append(&b, "12345", 5) == 0);
	CHECK(buf_append(&b, "67890", 5) == 0);
	CHECK(b.len == 10);
	CHECK_STR(b.data, "1234567890");
	/* one more byte passes the cap: refused, buffer unchanged */
	CHECK(buf_append(&b, "x", 1) == -1);
	CHECK(b.len == 10);
	CHECK_STR(b.data, "1234567890");
	CHECK(buf_append_str(&b, "y") == -1);
	CHECK(buf_printf(&b, "%d", 1) == -1);
	CHECK_STR(b.data, "1234567890");
	/* empty appends are fine at the cap */
	CHECK(buf_append(&b, "", 0) == 0);
	/* after a reset the space is available again */
	buf_reset(&b);
	CHECK(b.len == 0 && b.data[0] == '\0');
	CHECK(buf_printf(&b, "%s-%d", "abc", 12345) == 0);
	CHECK_STR(b.data, "abc-12345");
	CHECK(buf_printf(&b, "%s", "toolong") == -1);
	CHECK_STR(b.data, "abc-12345");
	buf_release(&b);
	CHECK(b.data == NULL && b.len == 0);
	buf_release(&b); /* idempotent */

	/* a huge length never wraps around the cap check */
	buf_init(&b, 100);
	CHECK(buf_append(&b, "a", 1) == 0);
	CHECK(buf_append(&b, "b", (size_t)-1) == -1);
	CHECK(buf_append(&b, "b", (size_t)-1 - 1) == -1);
	CHECK(b.len == 1);
	buf_release(&b);

	/* a JSON string that does not fit fails without passing the cap */
	buf_init(&b, 8);
	CHECK(buf_append_json_string(&b, "abcdefgh") == -1);
	CHECK(b.len <= 8);
	buf_release(&b);
	buf_init(&b, 8);
	CHECK(buf_append_json_string(&b, "abcdef") == 0); /* 8 with quotes */
	CHECK_STR(b.data, "\"abcdef\"");
	buf_release(&b);
}

static void test_growth(void)
{
	struct buf b;
	buf_init(&b, 0); /* no cap */
	for (int i = 0; i < 10000; i++)
		CHECK(buf_append(&b, "0123456789", 10) == 0 || (i = 10000, 0));
	CHECK(b.len == 100000);
	CHECK(b.data[b.len] == '\0');
	CHECK(memcmp(b.data + 99990, "0123456789", 10) == 0);
	size_t len = 0;
	char *p = buf_detach(&b, &len);
	CHECK(len == 100000 && p[0] == '0');
	CHECK(b.data == NULL && b.len == 0);
	free(p);
	/* detach of an empty buffer gives an empty string */
	p = buf_detach(&b, &len);
	CHECK(p && p[0] == '\0' && len == 0);
	free(p);
	/* data with NUL bytes is kept */
	buf_init(&b, 0);
	CHECK(buf_append(&b, "a\0b", 3) == 0);
	CHECK(b.len == 3 && b.data[1] == '\0' && b.data[2] == 'b');
	buf_release(&b);
	/* a cap bigger than the first allocation */
	buf_init(&b, 1000);
	char big[1000];
	memset(big, 'x', sizeof(big));
	CHECK(buf_append(&b, big, 999) == 0);
	CHECK(buf_append(&b, big, 1) == 0);
	CHECK(buf_append(&b, big, 1) == -1);
	CHECK(b.len == 1000);
	buf_release(&b);
}

static const char *json_of(struct buf *b, const char *s)
{
	buf_reset(b);
	if (buf_append_json_string(b, s) < 0)
		return "(failed)";
	return b->data;
}

static void test_json_escape(void)
{
	struct buf b;
	buf_init(&b, 0);
	CHECK_STR(json_of(&b, ""), "\"\"");
	CHECK_STR(json_of(&b, "plain"), "\"plain\"");
	CHECK_STR(json_of(&b, "say \"hi\""), "\"say \\\"hi\\\"\"");
	CHECK_STR(json_of(&b, "back\\slash"), "\"back\\\\slash\"");
	CHECK_STR(json_of(&b, "a\nb\rc\td"), "\"a\\nb\\rc\\td\"");
	CHECK_STR(json_of(&b, "\x01\x1f"), "\"\\u0001\\u001f\"");
	CHECK_STR(json_of(&b, "\b\f"), "\"\\u0008\\u000c\"");
	CHECK_STR(json_of(&b, "\xc3\xa9\xf0\x9f\x98\x80"), "\"\xc3\xa9\xf0\x9f\x98\x80\"");
	CHECK_STR(json_of(&b, "Robert'); DROP TABLE orders;--"),
		  "\"Robert'); DROP TABLE orders;--\"");
	CHECK_STR(json_of(&b, "</script>"), "\"</script>\"");
	/* appends after existing content */
	buf_reset(&b);
	CHECK(buf_append_str(&b, "{\"k\":") == 0);
	CHECK(buf_append_json_string(&b, "v\"") == 0);
	CHECK(buf_append_str(&b, "}") == 0);
	CHECK_STR(b.data, "{\"k\":\"v\\\"\"}");
	buf_release(&b);
}

int main(void)
{
	test_cap();
	test_growth();
	test_json_escape();
	HARNESS_END();
}
