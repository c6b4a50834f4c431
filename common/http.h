/* http: helpers for civetweb request handlers (api and relay): bounded body
 * reads, JSON responses, errors in the contract's shape, query parameters.
 * Every function is safe to call from any civetweb worker thread. */
#ifndef ORDERS_HTTP_H
#define ORDERS_HTTP_H

#include "buf.h"
#include "err.h"
#include "http_error.h"

#include <civetweb.h>
#include <stddef.h>

/* Headers every response on this connection carries for the request being
 * served (CORS), set by the dispatcher with mg_set_user_connection_data()
 * as a "Name: value\r\n..." string; "" when none. */
const char *http_connection_headers(const struct mg_connection *c);

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

/* Read the request body into out (reset first), at most cap bytes; larger
 * bodies fail with ERR_TOO_LARGE before anything is stored. */
int http_read_body(struct mg_connection *c, size_t cap, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

/* 1 if the request's Content-Type is application/json (any parameters). */
int http_is_json_request(struct mg_connection *c);

#endif
