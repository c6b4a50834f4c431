/* base64: RFC 4648 examples and padding. */
#include "base64.h"

#include "harness.h"

static void test_base64(void)
{
	char b[64];
	base64_encode("", 0, b);
	CHECK_STR(b, "");
	base64_encode("f", 1, b);
	CHECK_STR(b, "Zg==");
	base64_encode("fo", 2, b);
	CHECK_STR(b, "Zm8=");
	base64_encode("foo", 3, b);
	CHECK_STR(b, "Zm9v");
	base64_encode("foobar", 6, b);
	CHECK_STR(b, "Zm9vYmFy");
}

int main(void)
{
	test_base64();
	HARNESS_END();
}
