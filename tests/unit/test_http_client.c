/* http_client: request formatting, and requests that cannot reach a
 * server (with and without an err to fill). URL parsing is tested in
 * test_http_url, the response parser in test_http_response. */
#include "harness.h"
#include "http_client.h"

static void test_format(void)
{
	struct http_url u;
	struct err err;
	struct buf b;
	buf_init(&b, 0);
	CHECK(http_url_parse("http://127.0.0.1:3000/api/orders", &u, &err) == 0);
	const char *extra[] = {"If-Match: \"3\"", NULL};
	struct http_request req = {.method = "POST",
				   .url = "http://127.0.0.1:3000/api/orders",
				   .body = "{}",
				   .body_len = 2,
				   .token = "abcdefghijklmnop",
				   .headers = extra};
	CHECK(http_request_format(&b, &req, &u) == 0);
	CHECK(strncmp(b.data, "POST /api/orders HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n", 48) == 0);
	CHECK(strstr(b.data, "\r\nAuthorization: Bearer abcdefghijklmnop\r\n") != NULL);
	CHECK(strstr(b.data, "\r\nIf-Match: \"3\"\r\n") != NULL);
	CHECK(strstr(b.data, "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n") !=
	      NULL);
	CHECK(strstr(b.data, "\r\nConnection: close\r\n") != NULL);
	CHECK(b.len > 6 && strcmp(b.data + b.len - 6, "\r\n\r\n{}") == 0);
	buf_reset(&b);
	CHECK(http_url_parse("http://h/x", &u, &err) == 0);
	struct http_request get = {.method = "DELETE", .url = "http://h/x"};
	CHECK(http_request_format(&b, &get, &u) == 0);
	CHECK(strncmp(b.data, "DELETE /x HTTP/1.1\r\nHost: h\r\n", 29) == 0);
	CHECK(strstr(b.data, "Authorization") == NULL && strstr(b.data, "Content-") == NULL);
	buf_release(&b);
}

static void test_unreachable(void)
{
	/* a closed loopback port: connection refused, and the message names the URL */
	struct http_response r;
	struct err err;
	struct http_request req = {
	    .method = "GET", .url = "http://127.0.0.1:1/health", .timeout_ms = 2000};
	CHECK(http_client_request(&req, &r, &err) == -1);
	CHECK(err.kind == ERR_UNAVAILABLE);
	CHECK(strstr(err.msg, "http://127.0.0.1:1") != NULL);
	http_response_release(&r);
	struct http_request bad = {.method = "GET", .url = "https://127.0.0.1:1/"};
	CHECK(http_client_request(&bad, &r, &err) == -1 && err.kind == ERR_BAD_REQUEST);
	http_response_release(&r);
	/* err is optional: a failure without one must not write through NULL */
	CHECK(http_client_request(&req, &r, NULL) == -1);
	http_response_release(&r);
	CHECK(http_client_request(&bad, &r, NULL) == -1);
	http_response_release(&r);
}

int main(void)
{
	test_format();
	test_unreachable();
	HARNESS_END();
}
