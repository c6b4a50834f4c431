/* http_url: parsing http:// and ws:// URLs, percent-encoding. */
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
	CHECK(http_url_parse("https://example.com", &u, &err) == -1);
	CHECK(strstr(err.msg, "TLS") != NULL);
	CHECK(http_url_parse("ftp://x", &u, &err) == -1);
	CHECK(http_url_parse("localhost:3000", &u, &err) == -1);
	CHECK(http_url_parse("http://:3000", &u, &err) == -1);
	CHECK(http_url_parse("http://h:0", &u, &err) == -1);
	CHECK(http_url_parse("http://h:65536", &u, &err) == -1);
	CHECK(http_url_parse("http://h:80x", &u, &err) == -1);
	CHECK(http_url_parse("http://user@h", &u, &err) == -1);
	CHECK(http_url_parse("http://h/a b", &u, &err) == -1);
	CHECK(http_url_parse("http://h/a\r\nX: y", &u, &err) == -1);

	struct buf b;
	buf_init(&b, 0);
	CHECK(http_url_encode(&b, "John Doe&x=1/é~") == 0);
	CHECK_STR(b.data, "John%20Doe%26x%3D1%2F%C3%A9~");
	buf_release(&b);
}

int main(void)
{
	test_url();
	HARNESS_END();
}
