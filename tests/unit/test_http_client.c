/* http_client: request formatting, requests that cannot reach a server
 * (with and without an err to fill), a whole exchange with a loopback
 * server, and an https:// URL against a server without TLS. URL parsing is tested in
 * test_http_url, the response parser in test_http_response. */
#include "harness.h"
#include "http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

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
	/* a WebSocket upgrade: no Accept, Connection: Upgrade; 443 is wss's default */
	buf_reset(&b);
	CHECK(http_url_parse("wss://relay.example/ws", &u, &err) == 0);
	struct http_request up = {.method = "GET",
				  .url = "wss://relay.example/ws",
				  .accept = "",
				  .connection = "Upgrade"};
	CHECK(http_request_format(&b, &up, &u) == 0);
	CHECK(strncmp(b.data, "GET /ws HTTP/1.1\r\nHost: relay.example\r\n", 39) == 0);
	CHECK(strstr(b.data, "Accept") == NULL && strstr(b.data, "\r\nConnection: Upgrade\r\n"));
	buf_reset(&b);
	CHECK(http_url_parse("http://h/x", &u, &err) == 0);
	struct http_request get = {.method = "DELETE", .url = "http://h/x"};
	CHECK(http_request_format(&b, &get, &u) == 0);
	CHECK(strncmp(b.data, "DELETE /x HTTP/1.1\r\nHost: h\r\n", 29) == 0);
	CHECK(strstr(b.data, "Authorization") == NULL && strstr(b.data, "Content-") == NULL);
	buf_release(&b);
}

/* A one-connection server on a loopback port: reads the request head,
 * sends `answer`, closes. */
struct one_shot {
	int fd;
	const char *answer;
	char request[4096];
};

static void *one_shot_serve(void *arg)
{
	struct one_shot *o = arg;
	int c = accept(o->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	size_t n = 0;
	/* a TLS ClientHello (0x16) gets its answer at once */
	while (n < sizeof(o->request) - 1 && !strstr(o->request, "\r\n\r\n") &&
	       (n == 0 || o->request[0] != 0x16)) {
		ssize_t k = recv(c, o->request + n, sizeof(o->request) - 1 - n, 0);
		if (k <= 0)
			break;
		n += (size_t)k;
		o->request[n] = '\0';
	}
	(void)!write(c, o->answer, strlen(o->answer));
	close(c);
	return NULL;
}

/* Start a one_shot for answer; returns its port. */
static int one_shot_start(struct one_shot *o, pthread_t *t, const char *answer)
{
	memset(o, 0, sizeof(*o));
	o->answer = answer;
	o->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (bind(o->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(o->fd, 1) < 0 ||
	    getsockname(o->fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	pthread_create(t, NULL, one_shot_serve, o);
	return ntohs(a.sin_port);
}

/* A whole exchange over TCP: the head, then a chunked body read on after
 * it; and an https:// URL against a server that does not speak TLS. */
static void test_exchange(void)
{
	struct one_shot o;
	pthread_t t;
	struct http_response r;
	struct err err;
	char url[64];
	int port = one_shot_start(&o, &t,
				  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "3\r\n[1,\r\n2\r\n2]\r\n0\r\n\r\n");
	CHECK(port > 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/orders", port);
	struct http_request get = {.method = "GET", .url = url, .timeout_ms = 5000};
	CHECK(http_client_request(&get, &r, &err) == 0);
	CHECK(r.status == 200);
	CHECK_STR(r.body.data, "[1,2]");
	http_response_release(&r);
	pthread_join(t, NULL);
	close(o.fd);
	CHECK(strncmp(o.request, "GET /api/orders HTTP/1.1\r\n", 26) == 0);

	port = one_shot_start(&o, &t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);
	struct http_request tls = {.method = "GET", .url = url, .timeout_ms = 5000};
	CHECK(http_client_request(&tls, &r, &err) == -1);
	CHECK(err.kind == ERR_BAD_REQUEST &&
	      strstr(err.msg, "TLS handshake with https://") != NULL);
	http_response_release(&r);
	pthread_join(t, NULL);
	close(o.fd);
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
	struct http_request bad = {.method = "GET", .url = "ws://127.0.0.1:1/"};
	CHECK(http_client_request(&bad, &r, &err) == -1 && err.kind == ERR_BAD_REQUEST);
	http_response_release(&r);
	struct http_request tls = {
	    .method = "GET", .url = "https://127.0.0.1:1/health", .timeout_ms = 2000};
	CHECK(http_client_request(&tls, &r, &err) == -1 && err.kind == ERR_UNAVAILABLE);
	CHECK(strstr(err.msg, "https://127.0.0.1:1") != NULL);
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
	test_exchange();
	HARNESS_END();
}
