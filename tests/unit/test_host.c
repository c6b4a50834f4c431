/* host: Host headers and origins, validated; HTTP/1.1 needs one Host. */
#include "host.h"

#include "harness.h"

#include <string.h>

static int parse(const char *s, struct host_port *h)
{
	return host_parse(s, strlen(s), h);
}

static void test_parse(void)
{
	struct host_port h;
	CHECK(parse("localhost", &h) == 0 && h.port == 0 && !h.is_ip);
	CHECK_STR(h.host, "localhost");
	CHECK(parse("Orders.Example:3000", &h) == 0 && h.port == 3000);
	CHECK_STR(h.host, "orders.example");
	CHECK(parse("127.0.0.1:1", &h) == 0 && h.is_ip && h.port == 1);
	CHECK(parse("[::1]:65535", &h) == 0 && h.is_ip && h.port == 65535);
	CHECK_STR(h.host, "[::1]");
	CHECK(parse("[2001:DB8::1]", &h) == 0 && h.is_ip);
	CHECK_STR(h.host, "[2001:db8::1]");
	CHECK(parse("my_host-1.lan.", &h) == 0);

	static const char *const bad[] = {
	    "",
	    ":3000",
	    "host:",
	    "host:0",
	    "host:65536",
	    "host:123456",
	    "host:80:80",
	    "host:+80",
	    "host: 80",
	    " host",
	    "host ",
	    "ho st",
	    "host/x",
	    "user@host",
	    "ho%73t",
	    "host\r\nX-Injected: 1",
	    "host;a",
	    "ho\"st",
	    "::1",
	    "[::1",
	    "[::1]x",
	    "[host]",
	    "[127.0.0.1]",
	    "[fe80::1%eth0]",
	    "h\xc3\xa9st",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &h) == 0)
			fprintf(stderr, "host '%s' accepted\n", bad[i]);
		CHECK(parse(bad[i], &h) < 0);
	}
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(parse(longname, &h) < 0);
	CHECK(host_parse("localhost\0evil", 14, &h) < 0);
}

static void test_origin(void)
{
	struct host_port h;
	int https = -1;
	CHECK(host_parse_origin("http://localhost:5173", &h, &https) == 0 && !https &&
	      h.port == 5173);
	CHECK(host_parse_origin("HTTPS://Shop.Example", &h, &https) == 0 && https);
	CHECK_STR(h.host, "shop.example");
	static const char *const bad[] = {
	    "null",	     "localhost",  "ws://localhost",	 "http://",	     "http://a/",
	    "http://a/path", "http://u@a", "http://a:b",	 "file://",	     "http://a?x",
	    "http://a#x",    "http:/a",	   "javascript://a%0a1", "http://[::1]:0x10"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(host_parse_origin(bad[i], &h, &https) < 0);
	CHECK(host_parse_origin(NULL, &h, &https) < 0);
}

static void test_same_and_loopback(void)
{
	struct host_port a, b;
	CHECK(parse("LocalHost:1", &a) == 0 && parse("localhost.:2", &b) == 0 && host_same(&a, &b));
	CHECK(parse("[::1]", &a) == 0 && parse("[0::1]", &b) == 0 && host_same(&a, &b));
	CHECK(parse("127.0.0.1", &a) == 0 && parse("localhost", &b) == 0 && !host_same(&a, &b));
	CHECK(parse("a.example", &a) == 0 && parse("b.example", &b) == 0 && !host_same(&a, &b));
	CHECK(parse("localhost", &a) == 0 && host_is_loopback(&a));
	CHECK(parse("localhost.", &a) == 0 && host_is_loopback(&a));
	CHECK(parse("127.9.9.9", &a) == 0 && host_is_loopback(&a));
	CHECK(parse("[::1]", &a) == 0 && host_is_loopback(&a));
	CHECK(parse("[::ffff:127.0.0.1]", &a) == 0 && host_is_loopback(&a));
	CHECK(parse("localhost.example", &a) == 0 && !host_is_loopback(&a));
	CHECK(parse("x.localhost", &a) == 0 && !host_is_loopback(&a));
	CHECK(parse("128.0.0.1", &a) == 0 && !host_is_loopback(&a));
	CHECK(parse("127.1", &a) == 0 && !host_is_loopback(&a)); /* a name, not an address */
}

static void test_request(void)
{
	struct err e;
	const char *one[] = {"localhost:3000"};
	const char *two[] = {"a", "b"};
	const char *bad[] = {"a b"};
	CHECK(host_check_request("1.1", one, 1, &e) == 0);
	CHECK(host_check_request("1.0", one, 1, &e) == 0);
	CHECK(host_check_request("1.0", NULL, 0, &e) == 0); /* HTTP/1.0 may omit it */
	err_clear(&e);
	CHECK(host_check_request("1.1", NULL, 0, &e) < 0 && e.kind == ERR_BAD_REQUEST);
	CHECK(strstr(e.msg, "Host") != NULL);
	CHECK(host_check_request("1.1", two, 2, &e) < 0 && e.kind == ERR_BAD_REQUEST);
	CHECK(host_check_request("1.0", two, 2, &e) < 0);
	CHECK(host_check_request("1.1", bad, 1, &e) < 0 && e.kind == ERR_BAD_REQUEST);
	CHECK(host_check_request("1.0", bad, 1, &e) < 0);
}

int main(void)
{
	test_parse();
	test_origin();
	test_same_and_loopback();
	test_request();
	HARNESS_END();
}
