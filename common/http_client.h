/* http_client: a small blocking HTTP/1.1 client over plain sockets, for the
 * CLI, tests and tools (no TLS: http:// only).
 *
 * One request per connection ("Connection: close"). Every step (resolve,
 * connect, send, receive) shares one deadline, and the response is capped
 * in size. Responses framed by Content-Length, chunked transfer coding or
 * end of connection are understood.
 *
 * The pure parts are exposed for unit tests and for the WebSocket client:
 * http_url_parse(), http_request_format() and the incremental response
 * parser (struct http_parser). Nothing here keeps global state; a parser
 * or response belongs to one thread at a time. */
#ifndef ORDERS_HTTP_CLIENT_H
#define ORDERS_HTTP_CLIENT_H

#include "buf.h"
#include "err.h"

#include <stddef.h>

#define HTTP_CLIENT_HEAD_MAX   (64 * 1024)	  /* status line + headers */
#define HTTP_CLIENT_BODY_MAX   (16 * 1024 * 1024) /* default response body cap */
#define HTTP_CLIENT_TIMEOUT_MS 10000		  /* default deadline */

/* A parsed http:// or ws:// URL. */
struct http_url {
	char scheme[8];	   /* "http", "ws" (lowercase) */
	char host[256];	   /* without brackets for IPv6 */
	char port[8];	   /* decimal; the scheme's default when absent */
	char target[2048]; /* path and query, "/" when absent; never empty */
};

/* Parse url (http://, ws://; https:// and wss:// are refused with a clear
 * message since TLS is not supported). 0 or -1 with ERR_BAD_REQUEST. */
int http_url_parse(const char *url, struct http_url *out, struct err *err)
    __attribute__((warn_unused_result));

/* Percent-encode s for a query value (RFC 3986 unreserved kept) onto out. */
int http_url_encode(struct buf *out, const char *s) __attribute__((warn_unused_result));

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
/* The peer closed the connection: 1 if that completes the response (a body
 * delimited by the end of the connection), -1 with err if it came too
 * early. */
int http_parser_finish(struct http_parser *p, struct err *err) __attribute__((warn_unused_result));

struct http_request {
	const char *method; /* "GET", "POST", ... */
	const char *url;    /* absolute http:// URL */
	const char *body;   /* NULL for none */
	size_t body_len;
	const char *content_type;   /* for a body; default application/json */
	const char *token;	    /* sent as "Authorization: Bearer <token>" when set */
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated, or NULL */
	int timeout_ms;		    /* 0 = HTTP_CLIENT_TIMEOUT_MS */
	size_t max_body;	    /* 0 = HTTP_CLIENT_BODY_MAX */
};

/* Append the request bytes (head and body) for req to url u onto out. */
int http_request_format(struct buf *out, const struct http_request *req, const struct http_url *u)
    __attribute__((warn_unused_result));

/* Connect to host:port within the deadline (CLOCK_MONOTONIC ms, see
 * clock_now_ms). Returns a connected non-blocking socket (close it), or -1
 * with err: ERR_UNAVAILABLE and the reason ("Connection refused"). */
int http_connect(const char *host, const char *port, long long deadline_ms, struct err *err);
/* Send all of data before the deadline; 0 or -1 with err. */
int http_send_all(int fd, const void *data, size_t len, long long deadline_ms, struct err *err)
    __attribute__((warn_unused_result));
/* Wait until fd is readable or the deadline passes: 1 readable, 0 timeout,
 * -1 error (EINTR is reported as 0 so callers can check a stop flag). */
int http_wait_readable(int fd, long long deadline_ms);

/* Perform one request. Returns 0 when a complete response arrived (any
 * status: check resp->status), or -1 with err: ERR_UNAVAILABLE when the
 * server cannot be reached or the connection failed or timed out (the
 * message names the URL), ERR_BAD_REQUEST for a bad URL or a malformed
 * response, ERR_TOO_LARGE for a response over the cap. resp is initialised
 * here; release it with http_response_release() in every case. */
int http_client_request(const struct http_request *req, struct http_response *resp, struct err *err)
    __attribute__((warn_unused_result));

#endif
