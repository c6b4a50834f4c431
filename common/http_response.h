/* http_response: an HTTP/1.1 response and the incremental parser that
 * fills it from bytes as they arrive (status line, headers, bodies framed
 * by Content-Length, chunked coding or the end of the connection), with a
 * cap on the head and on the body. No I/O, no global state; a parser or
 * response belongs to one thread at a time. */
#ifndef ORDERS_HTTP_RESPONSE_H
#define ORDERS_HTTP_RESPONSE_H

#include "buf.h"
#include "err.h"

#include <stddef.h>

#define HTTP_CLIENT_HEAD_MAX (64 * 1024) /* status line + headers */

struct http_header {
	char *name;  /* as received */
	char *value; /* leading and trailing blanks removed */
};

struct http_response {
	int status;
	char reason[64];
	struct http_header *headers;
	size_t nheaders;
	struct buf body; /* NUL-terminated */
};

void http_response_init(struct http_response *r, size_t body_cap);
/* Free headers and body; idempotent. */
void http_response_release(struct http_response *r);
/* Borrowed value of the first header with that name (case-insensitive),
 * or NULL. */
const char *http_response_header(const struct http_response *r, const char *name);

enum http_parser_state {
	HTTP_P_HEAD,
	HTTP_P_BODY_LENGTH,
	HTTP_P_BODY_EOF,
	HTTP_P_CHUNK_SIZE,
	HTTP_P_CHUNK_DATA,
	HTTP_P_CHUNK_CRLF,
	HTTP_P_TRAILERS,
	HTTP_P_DONE,
};

/* Incremental response parser; fields are private. */
struct http_parser {
	enum http_parser_state state;
	int head_only;	 /* stop after the headers (HEAD requests, WebSocket upgrade) */
	struct buf line; /* head, chunk-size line or trailer line being collected */
	unsigned long long remaining; /* body or chunk bytes still expected */
	struct http_response *resp;
};

/* Parse into resp (initialised by the caller with its body cap). */
void http_parser_init(struct http_parser *p, struct http_response *resp, int head_only);
void http_parser_release(struct http_parser *p);
/* Feed data[0..len). Returns 1 when the response is complete (*used bytes
 * were consumed; the rest belongs to whatever follows), 0 when more is
 * needed (everything was consumed), -1 with err on a malformed or
 * over-large response. */
int http_parser_feed(struct http_parser *p, const char *data, size_t len, size_t *used,
		     struct err *err) __attribute__((warn_unused_result));
/* After a head-only parse has completed: go on to read the body, framed
 * as the head says, into resp->body (a response that has none, such as
 * 204, stays complete). For a client that looks at the status before it
 * decides to read on (an error answer to a WebSocket upgrade). 0, or -1
 * with err for bad framing or when no head was parsed head-only. */
int http_parser_read_body(struct http_parser *p, struct err *err)
    __attribute__((warn_unused_result));
/* The peer closed the connection: 1 if that completes the response (a body
 * delimited by the end of the connection), -1 with err if it came too
 * early. */
int http_parser_finish(struct http_parser *p, struct err *err) __attribute__((warn_unused_result));

#endif
