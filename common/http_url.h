/* http_url: the one parser of URLs and hosts: http://, https://, ws:// and
 * wss:// URLs into the parts a client connects with (the CLI, wsload),
 * the same check for configured URLs and origins (common/config), and
 * host[:port] for origins and Host headers (common/auth). Also
 * percent-encoding of query values. Pure functions, thread-safe. */
#ifndef ORDERS_HTTP_URL_H
#define ORDERS_HTTP_URL_H

#include "buf.h"
#include "err.h"

#include <stddef.h>

#define HTTP_HOST_MAX 256 /* host name or address, NUL included */
#define HTTP_PORT_MAX 8	  /* "65535", NUL included */

/* A parsed http://, https://, ws:// or wss:// URL. */
struct http_url {
	char scheme[8];		  /* "http", "https", "ws", "wss" (lowercase) */
	char host[HTTP_HOST_MAX]; /* without brackets for IPv6 */
	char port[HTTP_PORT_MAX]; /* decimal; the scheme's default when absent */
	char target[2048];	  /* path and query, "/" when absent; never empty */
	int tls;		  /* https or wss */
	int default_port;	  /* port is the scheme's default (80, 443) */
	int bare;		  /* nothing after host[:port]: an origin */
};

/* Parse url. 0, or -1 with ERR_BAD_REQUEST (another scheme, user info, a
 * bad host or port, blanks, control characters or '#'). err may be NULL. */
int http_url_parse(const char *url, struct http_url *out, struct err *err)
    __attribute__((warn_unused_result));

/* Parse host[:port] at the start of s: a name of A-Z a-z 0-9 . - _ or an
 * IPv6 address in brackets, then an optional port 1..65535. host gets the
 * name (brackets removed) and port the digits ("" when absent). Returns
 * the first character after them, or NULL when s does not start with a
 * host (or it does not fit HTTP_HOST_MAX). */
const char *http_host_parse(const char *s, char host[HTTP_HOST_MAX], char port[HTTP_PORT_MAX]);

/* "scheme://host:port" of u (IPv6 in brackets) into out, for messages and
 * for building a sibling URL. Returns out. */
char *http_url_origin(const struct http_url *u, char *out, size_t cap);
/* host of u as a Host header or URL authority wants it: in brackets when
 * it is an IPv6 address, ":port" added unless it is the default. */
int http_url_authority(struct buf *out, const struct http_url *u)
    __attribute__((warn_unused_result));

/* Percent-encode s for a query value (RFC 3986 unreserved kept) onto out. */
int http_url_encode(struct buf *out, const char *s) __attribute__((warn_unused_result));

#endif
