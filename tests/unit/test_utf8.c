/* utf8: the one decoder, for JSON text, WebSocket text and order names,
 * and the printable copy of server text. */
#include "utf8.h"

#include "harness.h"

#include <string.h>

static void test_valid(void)
{
	CHECK(utf8_valid("plain", 5));
	CHECK(utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
	CHECK(utf8_valid("a\0b", 3));
	CHECK(!utf8_valid("\xc3", 1));		   /* truncated */
	CHECK(!utf8_valid("\xc0\xaf", 2));	   /* overlong */
	CHECK(!utf8_valid("\xed\xa0\x80", 3));	   /* surrogate */
	CHECK(!utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	CHECK(!utf8_valid("\xff", 1));
}

static void test_valid_text(void)
{
	CHECK(utf8_valid_text("", 0));
	CHECK(utf8_valid_text("plain", 5));
	CHECK(utf8_valid_text("\xc3\xa9", 2));
	CHECK(utf8_valid_text("\xe2\x82\xac", 3));
	CHECK(utf8_valid_text("\xf0\x9f\x98\x80", 4));
	CHECK(utf8_valid_text("\xf4\x8f\xbf\xbf", 4));	/* U+10FFFF */
	CHECK(!utf8_valid_text("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	CHECK(!utf8_valid_text("a\0b", 3));
	CHECK(!utf8_valid_text("\xff", 1));
	CHECK(!utf8_valid_text("\x80", 1));
	CHECK(!utf8_valid_text("\xc3", 1));
	CHECK(!utf8_valid_text("\xc3\xa9", 1)); /* len cuts the sequence */
	CHECK(!utf8_valid_text("\xe2\x82", 2));
	CHECK(!utf8_valid_text("\xc0\xaf", 2));
	CHECK(!utf8_valid_text("\xe0\x80\xaf", 3));
	CHECK(!utf8_valid_text("\xed\xa0\x80", 3));
	CHECK(!utf8_valid_text("\xf8\x88\x80\x80\x80", 5));
	CHECK(utf8_length("", 0) == 0);
	CHECK(utf8_length("abc", 3) == 3);
	CHECK(utf8_length("\xc3\xa9t\xc3\xa9", 5) == 3);
	CHECK(utf8_length("\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 8) == 2);
}

static void test_char_len(void)
{
	CHECK(utf8_char_len("a", 1) == 1);
	CHECK(utf8_char_len("", 1) == 1); /* NUL */
	CHECK(utf8_char_len("a", 0) == 0);
	CHECK(utf8_char_len("\xc3\xa9", 2) == 2);
	CHECK(utf8_char_len("\xc3\xa9", 1) == 0);
	CHECK(utf8_char_len("\xe2\x82\xac", 4) == 3); /* NUL-terminated: stops at the NUL */
	CHECK(utf8_char_len("\xe2\x82", 4) == 0);
	CHECK(utf8_char_len("\xf0\x9f\x98\x80", 4) == 4);
	CHECK(utf8_char_len("\xff", 1) == 0);
}

static void test_printable(void)
{
	char out[64];
	const char *s = "ok \x1b]0;pwned\x07 caf\xc3\xa9\r\nx\x7f\xc2\x9b"
			"2J\xff!";
	CHECK_STR(utf8_printable(out, sizeof(out), s, strlen(s)),
		  "ok ?]0;pwned? caf\xc3\xa9  x??2J?!");
	CHECK_STR(utf8_printable(out, sizeof(out), "a\0b", 3), "a?b");
	/* never longer than the source: len + 1 holds every kind of byte */
	const char *all = "\x01\t\xc2\x85\xe2\x82\xac\xff\x7f\xed\xa0\x80z";
	CHECK_STR(utf8_printable(out, strlen(all) + 1, all, strlen(all)), "? ?\xe2\x82\xac?????z");
	CHECK_STR(utf8_printable(out, 4, "abcdef", 6), "abc");
	CHECK_STR(utf8_printable(out, 3, "a\xc3\xa9", 3), "a"); /* never half a character */
	CHECK_STR(utf8_printable(out, 1, "abc", 3), "");
}

int main(void)
{
	test_valid();
	test_valid_text();
	test_char_len();
	test_printable();
	HARNESS_END();
}
