/* qs: splitting query strings and percent-decoding their values. */
#include "qs.h"

#include "harness.h"

#include <stdint.h>

static void test_split(void)
{
	const char *p = "a=1&&b&c=x%20y&=z";
	struct qs_pair q;
	CHECK(qs_next(&p, &q) == 1 && qs_key_is(&q, "a") && q.vlen == 1 && q.val[0] == '1');
	CHECK(qs_next(&p, &q) == 1 && qs_key_is(&q, "b") && q.vlen == 0);
	CHECK(qs_next(&p, &q) == 1 && qs_key_is(&q, "c") && !qs_key_is(&q, "cc") && q.vlen == 5);
	CHECK(qs_next(&p, &q) == 1 && q.klen == 0 && q.vlen == 1);
	CHECK(qs_next(&p, &q) == 0);
	p = "";
	CHECK(qs_next(&p, &q) == 0);
}

static void test_decode(void)
{
	char out[8];
	CHECK(qs_decode("x%20y+z", 7, out, sizeof(out)) == 0);
	CHECK_STR(out, "x y z");
	CHECK(qs_decode("%41%62", 6, out, sizeof(out)) == 0);
	CHECK_STR(out, "Ab");
	CHECK(qs_decode("%4", 2, out, sizeof(out)) < 0);       /* truncated escape */
	CHECK(qs_decode("%zz", 3, out, sizeof(out)) < 0);      /* not hex */
	CHECK(qs_decode("a%00b", 5, out, sizeof(out)) < 0);    /* NUL byte */
	CHECK(qs_decode("12345678", 8, out, sizeof(out)) < 0); /* no room for the NUL */
	CHECK(qs_decode("1234567", 7, out, sizeof(out)) == 0);
	CHECK(qs_decode("", 0, out, sizeof(out)) == 0 && out[0] == '\0');
}

static void test_find(void)
{
	struct qs_pair q;
	CHECK(qs_find("a=1&b=%32&c", "b", &q) == 1 && q.vlen == 3 && strncmp(q.val, "%32", 3) == 0);
	CHECK(qs_find("a=1&b=2", "c", &q) == 0);
	CHECK(qs_find(NULL, "c", &q) == 0);
	CHECK(qs_find("b=1&a=1&b=1", "b", &q) == -1);
	CHECK(qs_find("c", "c", &q) == 1 && q.vlen == 0);
}

static int uint_of(const char *s, long long max, long long *v)
{
	return qs_parse_uint(s, strlen(s), max, v);
}

static void test_uint(void)
{
	long long v = -1;
	CHECK(uint_of("0", 10, &v) == 0 && v == 0);
	CHECK(uint_of("10", 10, &v) == 0 && v == 10);
	CHECK(uint_of("11", 10, &v) < 0);
	CHECK(uint_of("9223372036854775807", INT64_MAX, &v) == 0 && v == INT64_MAX);
	CHECK(uint_of("9223372036854775808", INT64_MAX, &v) < 0);
	CHECK(uint_of("9999999999999999999", INT64_MAX, &v) < 0);
	CHECK(uint_of("99999999999999999999", INT64_MAX, &v) < 0);
	static const char *const bad[] = {"",	"00",  "01",  "-0",  "-1",  "+1", " 1",
					  "1 ", "%31", "1e3", "0x1", "1.0", "\t5"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(uint_of(bad[i], INT64_MAX, &v) < 0);
}

static void test_query_param(void)
{
	char out[16];
	CHECK(qs_param("a=1&b=two", "b", out, sizeof(out)) == 1);
	CHECK_STR(out, "two");
	CHECK(qs_param("a=1&b=two", "c", out, sizeof(out)) == 0);
	CHECK(qs_param(NULL, "a", out, sizeof(out)) == 0);
	CHECK(qs_param("a=x%20y+z", "a", out, sizeof(out)) == 1);
	CHECK_STR(out, "x y z");
	CHECK(qs_param("a=123456789012345", "a", out, sizeof(out)) == 1);
	CHECK(qs_param("a=1234567890123456", "a", out, sizeof(out)) == -1); /* too long */
	CHECK(qs_param("a=1&a=1", "a", out, sizeof(out)) == -1);	    /* repeated */
	CHECK(qs_param("&&a=1&&", "a", out, sizeof(out)) == 1);
	CHECK_STR(out, "1");
	CHECK(qs_param("a", "a", out, sizeof(out)) == 1);
	CHECK_STR(out, "");
}

int main(void)
{
	test_split();
	test_decode();
	test_find();
	test_uint();
	test_query_param();
	HARNESS_END();
}
