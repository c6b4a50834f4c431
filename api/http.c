#include "http.h"

#include "deadline.h"
#include "qs.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CLOSE_LINE "Connection: close\r\n"

static struct http_request_state *state_of(const struct mg_connection *c)
{
	return mg_get_user_connection_data(c);
}

int http_request_has_body(const struct mg_connection *c)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	return ri->content_length > 0 || mg_get_header(c, "Transfer-Encoding") != NULL;
}

void http_request_begin(struct mg_connection *c, struct http_request_state *st)
{
	memset(st, 0, sizeof(*st));
	st->body_unread = http_request_has_body(c);
	mg_set_user_connection_data(c, st);
}

void http_request_end(struct mg_connection *c)
{
	mg_set_user_connection_data(c, NULL);
}

int http_add_headers(struct mg_connection *c, const char *lines)
{
	struct http_request_state *st = state_of(c);
	if (!st)
		return -1;
	size_t have = strlen(st->headers), add = strlen(lines);
	if (have + add + sizeof(CLOSE_LINE) > sizeof(st->headers))
		return -1; /* keeps room for CLOSE_LINE */
	memcpy(st->headers + have, lines, add + 1);
	return 0;
}

int http_set_headers(struct mg_connection *c, const char *lines)
{
	struct http_request_state *st = state_of(c);
	if (!st)
		return -1;
	size_t add = strlen(lines);
	if (add + sizeof(CLOSE_LINE) > sizeof(st->headers))
		return -1;
	memcpy(st->headers, lines, add + 1);
	if (st->close)
		memcpy(st->headers + add, CLOSE_LINE, sizeof(CLOSE_LINE));
	return 0;
}

void http_close_after(struct mg_connection *c)
{
	mg_disable_connection_keep_alive(c);
	struct http_request_state *st = state_of(c);
	if (st && !st->close) {
		size_t have = strlen(st->headers);
		memcpy(st->headers + have, CLOSE_LINE, sizeof(CLOSE_LINE));
		st->close = 1;
	}
}

const char *http_connection_headers(struct mg_connection *c)
{
	struct http_request_state *st = state_of(c);
	if (!st)
		return "";
	if (st->body_unread)
		http_close_after(c);
	return st->headers;
}

int http_send_json(struct mg_connection *c, int status, const char *json, size_t len,
		   const char *extra_headers)
{
	char head[1024];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\n"
			 "Content-Type: " HTTP_JSON_TYPE "\r\n"
			 "Content-Length: %zu\r\n"
			 "Cache-Control: no-store\r\n"
			 "X-Content-Type-Options: nosniff\r\n"
			 "%s%s\r\n",
			 status, http_status_text(status), len, extra_headers ? extra_headers : "",
			 http_connection_headers(c));
	if (n < 0 || (size_t)n >= sizeof(head)) {
		/* extra headers too long: a programming error; answer without them */
		n = snprintf(head, sizeof(head),
			     "HTTP/1.1 %d %s\r\nContent-Type: " HTTP_JSON_TYPE
			     "\r\nContent-Length: %zu\r\n\r\n",
			     status, http_status_text(status), len);
	}
	/* One write per response: headers and body in separate segments would
	 * meet Nagle's algorithm and the peer's delayed ACK (40 ms stalls). */
	if (len <= 64 * 1024) {
		char *one = xmalloc((size_t)n + len);
		memcpy(one, head, (size_t)n);
		memcpy(one + n, json, len);
		mg_write(c, one, (size_t)n + len);
		free(one);
	} else {
		mg_write(c, head, (size_t)n);
		mg_write(c, json, len);
	}
	return status;
}

int http_send_error(struct mg_connection *c, const struct err *e, const char *extra_headers)
{
	struct buf b;
	buf_init(&b, 4096);
	int status = err_http_status(e->kind);
	if (http_error_json(&b, e) == 0)
		http_send_json(c, status, b.data, b.len, extra_headers);
	else
		http_send_json(c, 500, HTTP_INTERNAL_ERROR_JSON, strlen(HTTP_INTERNAL_ERROR_JSON),
			       NULL);
	buf_release(&b);
	return status;
}

int http_check_framing(struct mg_connection *c, struct err *err)
{
	const char *te = mg_get_header(c, "Transfer-Encoding");
	const char *cl = mg_get_header(c, "Content-Length");
	const struct mg_request_info *ri = mg_get_request_info(c);
	int lengths = 0, encodings = 0;
	for (int i = 0; i < ri->num_headers; i++) {
		lengths += strcasecmp(ri->http_headers[i].name, "Content-Length") == 0;
		encodings += strcasecmp(ri->http_headers[i].name, "Transfer-Encoding") == 0;
	}
	if (lengths > 1 || encodings > 1)
		return err_set(err, ERR_BAD_REQUEST, "request repeats a framing header");
	if (te && cl)
		return err_set(err, ERR_BAD_REQUEST,
			       "request has both Transfer-Encoding and Content-Length");
	if (cl) {
		/* digits, then at most trailing whitespace ("1 2" is not 1) */
		const char *p = cl;
		while (isdigit((unsigned char)*p))
			p++;
		if (p == cl)
			return err_set(err, ERR_BAD_REQUEST, "invalid Content-Length");
		while (*p == ' ')
			p++;
		if (*p)
			return err_set(err, ERR_BAD_REQUEST, "invalid Content-Length");
	}
	if (te && strcasecmp(te, "chunked") != 0)
		return err_set(err, ERR_BAD_REQUEST, "unsupported Transfer-Encoding");
	return 0;
}

/* civetweb 1.15 parses the head in place and keeps no copy of it: the
 * request line and header names and values stay in its request buffer,
 * the bytes it consumed as separators overwritten with NUL (a line's CR
 * and LF, the colon and any spaces before it; after the request line, all
 * whitespace up to the first header name), and it stops reading header
 * lines, silently, at the 64th or at a line that does not start with a
 * name character (a space: obs-fold; a colon; a byte over 126). The head
 * has no NUL bytes and no control characters but CR and LF (civetweb
 * refuses those), so every NUL between two pointers it hands out is a
 * separator, and what follows the last header line it kept tells whether
 * it stopped at the end of the head.
 *
 * The only bytes read past the last header line are the next two (the
 * blank line that ends the head, when the line ended in CRLF). When the
 * head instead ends in a bare "\n\n" that fills civetweb's buffer exactly,
 * those lie past the head's end: HTTP_HEAD_MAX is a multiple of 16, so on
 * glibc they are still inside the buffer's allocation; under
 * AddressSanitizer, whose allocator gives no such slack, they are not
 * read. */
#if defined(__SANITIZE_ADDRESS__)
#define HTTP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HTTP_ASAN 1
#endif
#endif
#ifdef HTTP_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* The byte at p past the last header line; 0 when it cannot be read. */
static unsigned char byte_past(const char *p)
{
#ifdef HTTP_ASAN
	if (__asan_address_is_poisoned(p))
		return 0;
#endif
	return (unsigned char)*p;
}

static int is_tchar(unsigned char ch)
{
	return isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

int http_check_head(const struct mg_request_info *ri, struct err *err)
{
	int n = ri->num_headers;
	/* Without a header line there is nothing to hide a framing header
	 * behind: a line civetweb stopped at can only start with a colon or
	 * a byte over 126, which no proxy takes for a header either. */
	if (n <= 0 || !ri->http_version)
		return 0;
	const struct mg_header *h = ri->http_headers;
	/* request line: CRLF, then the first name at once */
	const char *eol = ri->http_version + strlen(ri->http_version);
	ptrdiff_t gap = h[0].name - eol;
	if (gap == 1)
		return err_set(err, ERR_BAD_REQUEST, "request line ends in a bare LF, not CRLF");
	if (gap != 2)
		return err_set(err, ERR_BAD_REQUEST,
			       "whitespace between the request line and the first header");
	for (int i = 0; i < n; i++) {
		const char *name = h[i].name, *value = h[i].value;
		size_t len = strlen(name);
		if (!len)
			return err_set(err, ERR_BAD_REQUEST, "empty header name");
		for (size_t k = 0; k < len; k++)
			if (!is_tchar((unsigned char)name[k]))
				return err_set(err, ERR_BAD_REQUEST,
					       "invalid character in header name");
		/* name[len] was the colon, or a space before it */
		if (value != name + len + 1 && name[len + 1] == '\0')
			return err_set(err, ERR_BAD_REQUEST, "whitespace before a header's colon");
		eol = value + strlen(value);
		if (i + 1 < n) {
			gap = h[i + 1].name - eol;
			if (gap != 2)
				return err_set(err, ERR_BAD_REQUEST,
					       gap == 1 ? "header line ends in a bare LF, not CRLF"
							: "malformed header line");
		}
	}
	if (eol + 2 - h[0].name > HTTP_HEADER_SECTION_MAX)
		return err_set(err, ERR_HEADERS, "header section over %d bytes",
			       HTTP_HEADER_SECTION_MAX);
	/* After the last kept line: CR LF (both NUL now), then the blank line
	 * that ends the head: CR and its LF (NUL now), or a bare LF (NUL). */
	unsigned char next = (unsigned char)eol[1];
	if (next == '\0') {
		next = byte_past(eol + 2);
		if (next == '\r' && byte_past(eol + 3) == '\0')
			return 0;
		if (next == '\0')
			return 0;
	}
	/* a line civetweb did not read: a continuation, a 65th header, or
	 * one it stops at; or (after a bare "\n\n") the body */
	if (next == ' ' || next == '\t')
		return err_set(err, ERR_BAD_REQUEST,
			       "header line starts with whitespace (obs-fold is not accepted)");
	if (n >= MG_MAX_HEADERS && next > ' ' && next < 0x7f)
		return err_set(err, ERR_HEADERS, "more than %d header lines", MG_MAX_HEADERS);
	if (next == ':' || next == '\r' || next >= 0x7f || eol[1] != '\0')
		return err_set(err, ERR_BAD_REQUEST, "malformed header line");
	return 0; /* a body after a bare-LF head */
}

int http_read_body(struct mg_connection *c, size_t cap, struct buf *out, struct err *err)
{
	buf_reset(out);
	const struct mg_request_info *ri = mg_get_request_info(c);
	if (ri->content_length > (long long)cap)
		return err_set(err, ERR_TOO_LARGE, "request body over %zu bytes", cap);
	/* the framing check admits only "chunked" */
	int chunked = mg_get_header(c, "Transfer-Encoding") != NULL;
	size_t want = !chunked && ri->content_length > 0 ? (size_t)ri->content_length : 0;
	char chunk[8192];
	int rc = 0, n = 0;
	deadline_resume();
	while (chunked || out->len < want) {
		/* returns 0 at a chunked body's end, and also when civetweb's own
		 * per-read timeout passed without data; -1 when interrupted at the
		 * deadline, on a bad chunk or when the peer left */
		n = mg_read(c, chunk, sizeof(chunk));
		if (n <= 0) {
			rc = chunked && n == 0 ? 0 : -1;
			break;
		}
		if (out->len + (size_t)n > cap || buf_append(out, chunk, (size_t)n) < 0) {
			deadline_pause();
			return err_set(err, ERR_TOO_LARGE, "request body over %zu bytes", cap);
		}
	}
	deadline_pause();
	if (rc == 0) {
		struct http_request_state *st = state_of(c);
		if (st)
			st->body_unread = 0;
		return 0;
	}
	switch (deadline_rang()) {
	case DEADLINE_EVICTED:
		return err_set(err, ERR_OVERLOADED,
			       "the server is full and this request was the slowest; retry");
	case DEADLINE_EXPIRED:
		return err_set(err, ERR_TIMEOUT,
			       "request body not complete within REQUEST_TIMEOUT");
	case DEADLINE_NONE:
		break;
	}
	if (n == 0)
		return err_set(err, ERR_TIMEOUT,
			       "request body not complete within REQUEST_TIMEOUT");
	return err_set(err, ERR_BAD_REQUEST, "could not read the request body");
}

int http_is_json_request(struct mg_connection *c)
{
	const char *ct = mg_get_header(c, "Content-Type");
	if (!ct)
		return 0;
	while (*ct == ' ')
		ct++;
	size_t n = strlen("application/json");
	return strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}
