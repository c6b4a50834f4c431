/* http: the check of a request head as civetweb 1.15's parser leaves it. */
#include "http.h"

#include "harness.h"

#include <stdlib.h>

/* Lay out a raw head the way civetweb 1.15's parser leaves it in its
 * buffer (the behaviour http.c describes): the head's last byte, the
 * request line's separators and every following whitespace, each header's
 * colon and spaces before it, and each header line's CR and LF become NUL;
 * header lines are taken up to 64, stopping silently at a line that does
 * not start with a name character. Bytes after the head stay as they are. */
static char *parse_like_civetweb(const char *raw, size_t len, struct mg_request_info *ri)
{
	char *b = calloc(len + 64, 1);
	memcpy(b, raw, len);
	size_t end = 0;
	for (size_t i = 0; i + 1 < len && !end; i++) {
		if (b[i] == '\n' && b[i + 1] == '\n')
			end = i + 2;
		else if (i + 3 < len && !memcmp(b + i, "\r\n\r\n", 4))
			end = i + 4;
	}
	b[end - 1] = '\0';
	memset(ri, 0, sizeof(*ri));
	char *p = b;
	ri->request_method = p;
	p = strchr(p, ' ');
	*p++ = '\0';
	ri->request_uri = p;
	p = strchr(p, ' ');
	*p++ = '\0';
	ri->http_version = p + 5; /* after "HTTP/" */
	while (*p > ' ')
		p++;
	do
		*p++ = '\0';
	while (*p == ' ' || *p == '\r' || *p == '\n');
	for (int i = 0; i < MG_MAX_HEADERS; i++) {
		char *q = p;
		while (*q != ':' && *q >= 33 && *q <= 126)
			q++;
		if (q == p)
			break;
		while (*q == ' ')
			*q++ = '\0';
		*q++ = '\0';
		ri->http_headers[i].name = p;
		while (*q == ' ')
			q++;
		ri->http_headers[i].value = q;
		while (*q && *q != '\r' && *q != '\n')
			q++;
		if (*q == '\r')
			*q++ = '\0';
		ri->num_headers = i + 1;
		if (!*q)
			break;
		*q++ = '\0';
		p = q;
		if (*q == '\r' || *q == '\n')
			break;
	}
	return b;
}

/* The kind http_check_head gives raw (ERR_NONE when accepted). */
static enum err_kind head_verdict(const char *raw)
{
	struct mg_request_info ri;
	char *b = parse_like_civetweb(raw, strlen(raw), &ri);
	struct err err;
	err_clear(&err);
	int rc = http_check_head(&ri, &err);
	free(b);
	return rc == 0 ? ERR_NONE : err.kind;
}

static char *many_headers(int n, const char *before_end)
{
	char *s = malloc((size_t)n * 16 + 256);
	size_t len = (size_t)sprintf(s, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "X-%d: v\r\n", i);
	sprintf(s + len, "%s\r\n", before_end);
	return s;
}

static void test_check_head(void)
{
	CHECK(head_verdict("GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n") == ERR_NONE);
	CHECK(head_verdict("GET / HTTP/1.1\r\nHost: x\r\nEmpty:\r\n\r\n") == ERR_NONE);
	CHECK(head_verdict("GET / HTTP/1.0\r\n\r\n") == ERR_NONE);
	/* a body right after the head is not a header line */
	CHECK(head_verdict("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}") == ERR_NONE);
	/* 64 lines are kept; a 65th is hidden by civetweb: 431 */
	char *h = many_headers(64, "");
	CHECK(head_verdict(h) == ERR_NONE);
	free(h);
	h = many_headers(64, "Transfer-Encoding: chunked\r\n");
	CHECK(head_verdict(h) == ERR_HEADERS);
	free(h);
	h = many_headers(70, "");
	CHECK(head_verdict(h) == ERR_HEADERS);
	free(h);
	/* obs-fold: civetweb stops at it and ignores what follows */
	CHECK(head_verdict("GET / HTTP/1.1\r\nHost: x\r\n Transfer-Encoding: chunked\r\n\r\n") ==
	      ERR_BAD_REQUEST);
	CHECK(head_verdict("GET / HTTP/1.1\r\nA: b\r\n c\r\nContent-Length: 5\r\n\r\n") ==
	      ERR_BAD_REQUEST);
	/* whitespace before the first header: civetweb would take it as one */
	CHECK(head_verdict("GET / HTTP/1.1\r\n Transfer-Encoding: chunked\r\n\r\n") ==
	      ERR_BAD_REQUEST);
	/* lines civetweb stops at: a colon, a byte over 126, a lone CR */
	CHECK(head_verdict("GET / HTTP/1.1\r\nHost: x\r\n:TE: chunked\r\n\r\n") == ERR_BAD_REQUEST);
	CHECK(head_verdict("GET / HTTP/1.1\r\nHost: x\r\n\xc3TE: chunked\r\n\r\n") ==
	      ERR_BAD_REQUEST);
	CHECK(head_verdict("GET / HTTP/1.1\r\nHost: x\r\n\rTE: chunked\r\n\r\n") ==
	      ERR_BAD_REQUEST);
	/* whitespace before a colon; a name that is not a token */
	CHECK(head_verdict("GET / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n") ==
	      ERR_BAD_REQUEST);
	CHECK(head_verdict("GET / HTTP/1.1\r\nX(y): z\r\n\r\n") == ERR_BAD_REQUEST);
	/* bare LF line endings, where they can be seen */
	CHECK(head_verdict("GET / HTTP/1.1\nHost: x\r\n\r\n") == ERR_BAD_REQUEST);
	CHECK(head_verdict("GET / HTTP/1.1\r\nHost: x\nA: b\r\n\r\n") == ERR_BAD_REQUEST);
	CHECK(head_verdict("GET / HTTP/1.1\r\nHost: x\n TE: chunked\r\n\r\n") == ERR_BAD_REQUEST);
	/* a header section over 16 KiB */
	size_t big = HTTP_HEADER_SECTION_MAX + 100;
	char *s = malloc(big + 64);
	int n = sprintf(s, "GET / HTTP/1.1\r\nX-Big: ");
	memset(s + n, 'a', big);
	strcpy(s + n + big, "\r\n\r\n");
	CHECK(head_verdict(s) == ERR_HEADERS);
	strcpy(s + n + HTTP_HEADER_SECTION_MAX - 20, "\r\n\r\n");
	CHECK(head_verdict(s) == ERR_NONE);
	free(s);
}

int main(void)
{
	test_check_head();
	HARNESS_END();
}
