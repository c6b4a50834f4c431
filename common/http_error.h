/* http_error: what every HTTP server of the suite says the same way: the
 * reason phrase of a status and the contract's error body
 * {"error": msg, "code": code[, "field": field]}. Used by the api's
 * civetweb handlers (http.c) and the relay's own server. Pure. */
#ifndef ORDERS_HTTP_ERROR_H
#define ORDERS_HTTP_ERROR_H

#include "buf.h"
#include "err.h"

#define HTTP_JSON_TYPE		 "application/json; charset=utf-8"
#define HTTP_INTERNAL_ERROR_JSON "{\"error\":\"internal error\",\"code\":\"internal_error\"}"

/* Reason phrase for a status ("Not Found"); "Unknown" for others. */
const char *http_status_text(int status);

/* Append the error body for e to b. 0, or -1 if b's cap was reached. */
int http_error_json(struct buf *b, const struct err *e) __attribute__((warn_unused_result));

#endif
