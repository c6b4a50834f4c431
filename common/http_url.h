/* http_url: parsing http:// and ws:// URLs into the parts a client
 * connects with, and percent-encoding query values. Pure functions,
 * thread-safe. */
#ifndef ORDERS_HTTP_URL_H
#define ORDERS_HTTP_URL_H

#include "buf.h"
#include "err.h"

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

#endif
