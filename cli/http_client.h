/* http_client: a small blocking HTTP/1.1 client over plain sockets, for
 * orders-cli (no TLS: http:// only).
 *
 * One request per connection ("Connection: close"). Every step (resolve,
 * connect, send, receive) shares one deadline, and the response is capped
 * in size. It puts together http_url (the URL), http_socket (connect,
 * send, wait) and http_response (the parser); this header includes them,
 * so the WebSocket and SSE clients that share those parts include only
 * this one. http_request_format() is pure, for unit tests. */
#ifndef ORDERS_HTTP_CLIENT_H
#define ORDERS_HTTP_CLIENT_H

#include "buf.h"
#include "err.h"
#include "http_response.h"
#include "http_socket.h"
#include "http_url.h"

#include <stddef.h>

#define HTTP_CLIENT_BODY_MAX   (16 * 1024 * 1024) /* default response body cap */
#define HTTP_CLIENT_TIMEOUT_MS 10000		  /* default deadline */

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

/* Perform one request. Returns 0 when a complete response arrived (any
 * status: check resp->status), or -1 with err: ERR_UNAVAILABLE when the
 * server cannot be reached or the connection failed or timed out (the
 * message names the URL), ERR_BAD_REQUEST for a bad URL or a malformed
 * response, ERR_TOO_LARGE for a response over the cap. resp is initialised
 * here; release it with http_response_release() in every case. */
int http_client_request(const struct http_request *req, struct http_response *resp, struct err *err)
    __attribute__((warn_unused_result));

#endif
