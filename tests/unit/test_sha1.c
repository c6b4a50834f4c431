/* sha1: FIPS 180 examples, whole and fed in uneven pieces. */
#include "sha1.h"

#include "harness.h"

static void hex(const unsigned char *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_sha1(void)
{
	unsigned char d[20];
	char h[41];
	sha1("abc", 3, d);
	hex(d, 20, h);
	CHECK_STR(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
	sha1("", 0, d);
	hex(d, 20, h);
	CHECK_STR(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha1(two, strlen(two), d);
	hex(d, 20, h);
	CHECK_STR(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	/* a million 'a's fed in uneven pieces */
	struct sha1_ctx c;
	char chunk[997];
	memset(chunk, 'a', sizeof(chunk));
	sha1_init(&c);
	size_t left = 1000000;
	while (left) {
		size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
		sha1_update(&c, chunk, n);
		left -= n;
	}
	sha1_final(&c, d);
	hex(d, 20, h);
	CHECK_STR(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

int main(void)
{
	test_sha1();
	HARNESS_END();
}
