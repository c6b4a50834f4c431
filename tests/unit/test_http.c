/* http: query parameter lookup (URL-decoded, bounded, no repeats). */
#include "http.h"

#include "harness.h"

static void test_query_param(void)
{
	char out[16];
	CHECK(http_query_param("a=1&b=two", "b", out, sizeof(out)) == 1);
	CHECK_STR(out, "two");
	CHECK(http_query_param("a=1&b=two", "c", out, sizeof(out)) == 0);
	CHECK(http_query_param(NULL, "a", out, sizeof(out)) == 0);
	CHECK(http_query_param("a=x%20y+z", "a", out, sizeof(out)) == 1);
	CHECK_STR(out, "x y z");
	CHECK(http_query_param("a=123456789012345", "a", out, sizeof(out)) == 1);
	CHECK(http_query_param("a=1234567890123456", "a", out, sizeof(out)) == -1); /* too long */
	CHECK(http_query_param("a=1&a=1", "a", out, sizeof(out)) == -1);	    /* repeated */
	CHECK(http_query_param("&&a=1&&", "a", out, sizeof(out)) == 1);
	CHECK_STR(out, "1");
	CHECK(http_query_param("a", "a", out, sizeof(out)) == 1);
	CHECK_STR(out, "");
}

int main(void)
{
	test_query_param();
	HARNESS_END();
}
