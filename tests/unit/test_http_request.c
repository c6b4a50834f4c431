/* http_request: the relay's request-head parser: complete, incomplete and
 * every refused shape, fed whole and a byte at a time. */
#include "http_request.h"

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse a copy of text (the parser writes NULs into its buffer). */
static int parse(const char *text, struct http_request *req, char **keep)
{
	size_t n = strlen(text);
	char *b = malloc(n + 1);
	memcpy(b, text, n + 1);
	const char *why;
	int rc = http_request_parse(b, n, req, &why);
	if (keep)
		*keep = b;
	else
		free(b);
	return rc;
}

static void test_good(void)
{
	struct http_request r;
	char *b;
	const char *head = "GET /ws?since=5&status=shipped HTTP/1.1\r\n"
			   "Host: relay.example:8080\r\n"
			   "Upgrade:  websocket \r\n"
			   "Connection: keep-alive, Upgrade\r\n"
			   "X-Empty:\r\n"
			   "\r\n";
	CHECK(parse(head, &r, &b) == (int)strlen(head));
	CHECK_STR(r.method, "GET");
	CHECK_STR(r.path, "/ws");
	CHECK_STR(r.query, "since=5&status=shipped");
	CHECK(r.minor == 1 && r.nheaders == 4);
	CHECK_STR(http_request_header(&r, "host"), "relay.example:8080");
	CHECK_STR(http_request_header(&r, "UPGRADE"), "websocket");
	CHECK_STR(http_request_header(&r, "X-Empty"), "");
	CHECK(http_request_header(&r, "Origin") == NULL);
	CHECK(http_token_list_has(http_request_header(&r, "Connection"), "upgrade"));
	CHECK(!http_token_list_has(http_request_header(&r, "Connection"), "close"));
	free(b);
	/* HTTP/1.0 needs no Host; bytes after the head are not part of it */
	const char *h10 = "GET /health HTTP/1.0\r\n\r\nextra";
	CHECK(parse(h10, &r, NULL) == (int)strlen(h10) - 5);
	CHECK(r.minor == 0 && r.query[0] == '\0');
	/* 64 headers pass */
	char big[8192];
	int n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 63; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "X-%d: y\r\n", i);
	snprintf(big + n, sizeof(big) - (size_t)n, "\r\n");
	CHECK(parse(big, &r, NULL) > 0 && r.nheaders == 64);
}

static void test_incomplete(void)
{
	const char *head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	size_t n = strlen(head);
	for (size_t i = 0; i < n; i++) {
		char b[64];
		memcpy(b, head, i);
		b[i] = '\0';
		struct http_request r;
		const char *why;
		int rc = http_request_parse(b, i, &r, &why);
		CHECK(rc == 0);
		if (rc != 0)
			fprintf(stderr, "  prefix %zu: %d (%s)\n", i, rc, why);
	}
}

static int status_of(const char *text)
{
	struct http_request r;
	return parse(text, &r, NULL);
}

static void test_refused(void)
{
	CHECK(status_of("GET / HTTP/1.1\r\n\r\n") == -400);			     /* no Host */
	CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n") == -400);    /* two */
	CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n") == -400); /* fold */
	CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n") == -400);
	CHECK(status_of("GET / HTTP/1.1\nHost: a\n\n") == -400);	     /* bare LF */
	CHECK(status_of("GET / HTTP/1.1\nHost: a") == -400);		     /* ... early */
	CHECK(status_of("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n") == -400); /* bare CR */
	CHECK(status_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == -400);	     /* space in name */
	CHECK(status_of("GET / HTTP/1.1\r\nHo\"st: a\r\n\r\n") == -400);
	CHECK(status_of("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n") == -400); /* control */
	CHECK(status_of("GET / HTTP/1.1\r\n: a\r\n\r\n") == -400);
	CHECK(status_of("GET / HTTP/1.1\r\nHost a\r\n\r\n") == -400);
	CHECK(status_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == -505);
	CHECK(status_of("GET / HTTPS/1.1\r\nHost: a\r\n\r\n") == -400);
	CHECK(status_of("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n") == -400);
	CHECK(status_of("GET  / HTTP/1.1\r\nHost: a\r\n\r\n") == -400);
	CHECK(status_of("G(T / HTTP/1.1\r\nHost: a\r\n\r\n") == -400);
	CHECK(status_of("GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n") == -400);
	CHECK(status_of("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") == -400);
	CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
			"Content-Length: 1\r\n\r\n") == -400);
	CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
			"Transfer-Encoding: chunked\r\n\r\n") == -400);
	/* a NUL anywhere in the head */
	char nul[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";
	struct http_request r;
	const char *why;
	CHECK(http_request_parse(nul, sizeof(nul) - 1, &r, &why) == -400);
	/* 65 headers: 431, complete or not */
	char big[20000];
	int n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 64; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "X-%d: y\r\n", i);
	CHECK(status_of(big) == -431);
	snprintf(big + n, sizeof(big) - (size_t)n, "\r\n");
	CHECK(status_of(big) == -431);
	/* 16 KiB of head without its end: 431 before the end arrives */
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(big + n, 'a', HTTP_HEAD_MAX);
	big[n + HTTP_HEAD_MAX] = '\0';
	CHECK(status_of(big) == -431);
}

int main(void)
{
	test_good();
	test_incomplete();
	test_refused();
	HARNESS_END();
}
