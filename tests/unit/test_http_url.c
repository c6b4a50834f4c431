/* http_url: parsing URLs and host[:port], rebuilding origins, percent-encoding. */
#include "http_url.h"

#include "harness.h"

static void test_url(void)
{
	struct http_url u;
	struct err err;
	CHECK(http_url_parse("http://localhost:3000", &u, &err) == 0);
	CHECK_STR(u.scheme, "http");
	CHECK_STR(u.host, "localhost");
	CHECK_STR(u.port, "3000");
	CHECK_STR(u.target, "/");
	CHECK(http_url_parse("HTTP://127.0.0.1/api/orders?limit=5", &u, &err) == 0);
	CHECK_STR(u.scheme, "http");
	CHECK_STR(u.port, "80");
	CHECK_STR(u.target, "/api/orders?limit=5");
	CHECK(http_url_parse("ws://[::1]:8080?since=4", &u, &err) == 0);
	CHECK_STR(u.host, "::1");
	CHECK_STR(u.port, "8080");
	CHECK_STR(u.target, "/?since=4");
	CHECK(!u.tls && !u.bare && u.default_port == 0);
	CHECK(http_url_parse("https://example.com", &u, &err) == 0);
	CHECK_STR(u.scheme, "https");
	CHECK_STR(u.port, "443");
	CHECK(u.tls && u.bare && u.default_port);
	CHECK(http_url_parse("WSS://relay.example:8443/ws?since=1", &u, &err) == 0);
	CHECK_STR(u.scheme, "wss");
	CHECK(u.tls && !u.bare && !u.default_port);
	CHECK_STR(u.target, "/ws?since=1");
	CHECK(http_url_parse("http://h:80", &u, NULL) == 0 && u.default_port && u.bare);
	CHECK(http_url_parse("http://h/", &u, NULL) == 0 && !u.bare);
	CHECK(http_url_parse("ftp://x", &u, &err) == -1);
	CHECK(http_url_parse("localhost:3000", &u, &err) == -1);
	CHECK(http_url_parse("http://:3000", &u, &err) == -1);
	CHECK(http_url_parse("http://h:0", &u, &err) == -1);
	CHECK(http_url_parse("http://h:65536", &u, &err) == -1);
	CHECK(http_url_parse("http://h:80x", &u, &err) == -1);
	CHECK(http_url_parse("http://user@h", &u, &err) == -1);
	CHECK(http_url_parse("http://h/a b", &u, &err) == -1);
	CHECK(http_url_parse("http://h/a\r\nX: y", &u, &err) == -1);
	CHECK(http_url_parse("http://h/a#frag", &u, &err) == -1);
	CHECK(http_url_parse("http://[::1", &u, &err) == -1);
	CHECK(http_url_parse("http://[]:80", &u, &err) == -1);
	CHECK(http_url_parse("http://[evil.example]/", &u, &err) == -1); /* brackets hold IPv6 */
	CHECK(http_url_parse("http://h:99999999999999999999", &u, NULL) == -1);
	CHECK(http_url_parse("gopher://h", &u, NULL) == -1); /* err may be NULL */
}

/* host[:port] alone: what auth reads from a Host header. */
static void test_host(void)
{
	char host[HTTP_HOST_MAX], port[HTTP_PORT_MAX];
	const char *end = http_host_parse("localhost:3000", host, port);
	CHECK(end && *end == '\0');
	CHECK_STR(host, "localhost");
	CHECK_STR(port, "3000");
	end = http_host_parse("[::1]/x", host, port);
	CHECK(end && strcmp(end, "/x") == 0);
	CHECK_STR(host, "::1");
	CHECK_STR(port, "");
	end = http_host_parse("a.b-c_d", host, port);
	CHECK(end && !*end);
	CHECK(http_host_parse("", host, port) == NULL);
	CHECK(http_host_parse(":80", host, port) == NULL);
	CHECK(http_host_parse("h:", host, port) == NULL);
	CHECK(http_host_parse("h:0", host, port) == NULL);
	CHECK(http_host_parse("h:65536", host, port) == NULL);
	end = http_host_parse("evil example", host, port); /* stops at the blank */
	CHECK(end && strcmp(end, " example") == 0);
	char longname[400];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(http_host_parse(longname, host, port) == NULL);
}

/* The pieces a client rebuilds from a parsed URL, and query values. */
static void test_rebuild(void)
{
	struct http_url u;
	char origin[300];
	struct buf b;
	buf_init(&b, 0);
	CHECK(http_url_parse("wss://[::1]/ws", &u, NULL) == 0);
	CHECK_STR(http_url_origin(&u, origin, sizeof(origin)), "wss://[::1]:443");
	CHECK(http_url_authority(&b, &u) == 0);
	CHECK_STR(b.data, "[::1]");
	buf_reset(&b);
	CHECK(http_url_parse("http://Host:3000", &u, NULL) == 0);
	CHECK(http_url_authority(&b, &u) == 0);
	CHECK_STR(b.data, "Host:3000");
	buf_reset(&b);
	CHECK(http_url_encode(&b, "John Doe&x=1/é~") == 0);
	CHECK_STR(b.data, "John%20Doe%26x%3D1%2F%C3%A9~");
	buf_release(&b);
}

int main(void)
{
	test_url();
	test_host();
	test_rebuild();
	HARNESS_END();
}
