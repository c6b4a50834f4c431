/* http_client: a small blocking HTTP/1.1 client for orders-cli, over
 * http_socket's connections (http:// and https://).
 *
 * One request per connection. Every step (resolve, connect, TLS, send,
 * receive) shares one deadline, and the response is capped in size. It
 * puts together http_url (the URL), http_socket (the connection) and
 * http_response (the parser); this header includes them, so the
 * WebSocket and SSE clients, which use http_client_head and
 * http_client_refused to start their streams, include only this one.
 * http_request_format() is pure, for unit tests. */
#ifndef ORDERS_HTTP_CLIENT_H
#define ORDERS_HTTP_CLIENT_H

#include "buf.h"
#include "err.h"
#include "http_response.h"
#include "http_socket.h"
#include "http_url.h"

#include <stddef.h>

#define HTTP_CLIENT_BODY_MAX	(16 * 1024 * 1024) /* default response body cap */
#define HTTP_CLIENT_TIMEOUT_MS	10000		   /* default deadline */
#define HTTP_CLIENT_REFUSAL_MAX (64 * 1024) /* body cap of an error answer to a stream request */

struct http_request {
	const char *method; /* "GET", "POST", ... */
	const char *url;    /* absolute URL; http_client_request takes http:// and https:// */
	const char *body;   /* NULL for none */
	size_t body_len;
	const char *content_type;   /* for a body; default application/json */
	const char *accept;	    /* Accept: NULL application/json, "" none */
	const char *connection;	    /* Connection: NULL close ("Upgrade" for WebSocket) */
	const char *token;	    /* sent as "Authorization: Bearer <token>" when set */
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated, or NULL */
	const char *const *more;    /* more of them, sent after headers (a caller's own) */
	int timeout_ms;		    /* 0 = HTTP_CLIENT_TIMEOUT_MS */
	size_t max_body;	    /* 0 = HTTP_CLIENT_BODY_MAX */
	int insecure;		    /* https: accept any certificate (--insecure) */
};

/* Append the request bytes (head and body) for req to url u onto out. */
int http_request_format(struct buf *out, const struct http_request *req, const struct http_url *u)
    __attribute__((warn_unused_result));

/* Perform one request. Returns 0 when a complete response arrived (any
 * status: check resp->status), or -1 with err: ERR_UNAVAILABLE when the
 * server cannot be reached or the connection failed or timed out (the
 * message names the URL), ERR_BAD_REQUEST for a bad URL, a failed TLS
 * handshake or certificate check, or a malformed response, ERR_TOO_LARGE
 * for a response over the cap. resp is initialised here; release it with
 * http_response_release() in every case. */
int http_client_request(const struct http_request *req, struct http_response *resp, struct err *err)
    __attribute__((warn_unused_result));

/* The first half of a request whose answer the caller reads on as a
 * stream (WebSocket, Server-Sent Events): parse req->url, connect
 * (req->insecure for TLS), send req and read the answer up to the end of
 * its head, all before *deadline (set here from req->timeout_ms). 0 with
 * *conn open, *resp holding the status and headers (body capped at
 * req->max_body), *p ready for http_client_refused, and the bytes that
 * came after the head in rest; -1 with err (as http_client_request) and
 * *conn closed. p and resp are initialised here: release them in every
 * case. */
int http_client_head(const struct http_request *req, struct http_conn *conn, struct http_parser *p,
		     struct http_response *resp, struct buf *rest, long long *deadline,
		     struct err *err) __attribute__((warn_unused_result));

/* The head http_client_head read is not the answer the caller wanted
 * (`wanted`, e.g. "the WebSocket handshake"): read the body that follows
 * (rest first; for a second at most, capped by resp's body cap) and set
 * err to "<url> refused <wanted>: <status> <reason>[: <the body's error
 * text>]" with the kind err_kind_for_status gives for the status and the
 * body's "code". The server's words in err are printable only. */
void http_client_refused(struct http_conn *conn, struct http_parser *p, struct http_response *resp,
			 const struct buf *rest, const char *url, const char *wanted,
			 struct err *err);

#endif
