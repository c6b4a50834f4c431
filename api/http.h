/* http: helpers for the api's civetweb request handlers: bounded body
 * reads, JSON responses, errors in the contract's shape, query parameters.
 * Every function is safe to call from any civetweb worker thread. */
#ifndef ORDERS_HTTP_H
#define ORDERS_HTTP_H

#include "buf.h"
#include "err.h"
#include "http_error.h"

#include <civetweb.h>
#include <stddef.h>

/* The head civetweb reads before any handler runs (its max_request_size,
 * and each worker's buffer): request line and header section. A multiple
 * of 16 (see http_check_head). civetweb 1.15 answers a longer head with
 * the same "400 Malformed message" as a head holding a control character
 * (its 413 branch cannot be reached), so the 431 for a header section over
 * HTTP_HEADER_SECTION_MAX is given here, for heads up to this size. */
#define HTTP_HEAD_MAX (32 * 1024)
/* The most a header section (every header line) may take: over it, 431. */
#define HTTP_HEADER_SECTION_MAX (16 * 1024)

/* What the dispatcher of a request attaches to it (http_request_begin):
 * the headers every response to it carries (CORS), and whether the
 * connection ends after the response. A request whose body is not read to
 * its end is always answered with Connection: close and the connection
 * closed, never drained: the peer may send that body as slowly as it
 * likes. */
struct http_request_state {
	char headers[3072]; /* "Name: value\r\n"..., NUL-terminated (a page's CSP included) */
	int close;	    /* Connection: close is sent; civetweb ends the connection */
	int body_unread;    /* the request has a body not read to its end yet */
};

/* Attach st to the request being served (reset; body_unread from the
 * request's Content-Length or Transfer-Encoding). Detach before returning
 * to civetweb with http_request_end. */
void http_request_begin(struct mg_connection *c, struct http_request_state *st);
void http_request_end(struct mg_connection *c);
/* 1 when the request announces a body (Content-Length > 0 or chunked). */
int http_request_has_body(const struct mg_connection *c);
/* Append "Name: value\r\n" lines for every response to this request;
 * -1 when they do not fit (nothing appended). */
int http_add_headers(struct mg_connection *c, const char *lines);
/* Replace the lines added so far (security.h sets the API's or the page's
 * set); a Connection: close already decided stays. -1 when they do not
 * fit (nothing changed). */
int http_set_headers(struct mg_connection *c, const char *lines);
/* End the connection after this response: Connection: close in the
 * response, and civetweb neither reads nor drains anything more. */
void http_close_after(struct mg_connection *c);
/* The headers every response to this request carries: the dispatcher's
 * (CORS), plus Connection: close when the connection ends (always when a
 * body is left unread); "" when none. Call it while writing the head. */
const char *http_connection_headers(struct mg_connection *c);

/* Send a complete response with a JSON body. extra_headers: zero or more
 * "Name: value\r\n" lines, or NULL. Returns status (civetweb's convention). */
int http_send_json(struct mg_connection *c, int status, const char *json, size_t len,
		   const char *extra_headers);
/* Send {"error": msg, "code": code[, "field": field]} with the status of the
 * error kind; ERR_METHOD responses should carry an Allow line in extra. */
int http_send_error(struct mg_connection *c, const struct err *e, const char *extra_headers);

/* Refuse request smuggling: both Transfer-Encoding and Content-Length,
 * or a Content-Length that is not a plain number. 0 or -1 with err. */
int http_check_framing(struct mg_connection *c, struct err *err)
    __attribute__((warn_unused_result));

/* Refuse a request head that civetweb 1.15 read only in part or more
 * leniently than HTTP allows, so no header can hide from the framing
 * check: a header line after the 64 civetweb keeps (431), a header section
 * over HTTP_HEADER_SECTION_MAX (431), a line starting with whitespace
 * (obs-fold: 400), whitespace before a colon, a header name that is not a
 * token, a bare LF line ending where one can be seen (400). Works on what
 * civetweb's parser leaves in its buffer (see http.c); ri is the request's
 * info. 0 or -1 with err (ERR_BAD_REQUEST or ERR_HEADERS). */
int http_check_head(const struct mg_request_info *ri, struct err *err)
    __attribute__((warn_unused_result));

/* Read the request body into out (reset first), at most cap bytes; larger
 * bodies fail with ERR_TOO_LARGE before anything is stored. The body must
 * arrive by the request's deadline (deadline.h): otherwise ERR_TIMEOUT
 * (ERR_OVERLOADED when the server evicted the request to make room). On
 * success the body has been read to its end; on failure the response
 * closes the connection. */
int http_read_body(struct mg_connection *c, size_t cap, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

/* 1 if the request's Content-Type is application/json (any parameters). */
int http_is_json_request(struct mg_connection *c);

#endif
