/* host: the host[:port] of a Host header or an Origin, validated, for the
 * origin rule (auth.h) and for the page's Content-Security-Policy. Pure;
 * thread-safe.
 *
 * A host is a name of letters, digits, '-', '.' and '_' (no
 * percent-encoding), an IPv4 address, or an IPv6 address in brackets;
 * the port, when given, is 1..65535. Nothing else passes, so a validated
 * host can be written into a header as it is. */
#ifndef ORDERS_HOST_H
#define ORDERS_HOST_H

#include "client_addr.h"
#include "err.h"

#include <stddef.h>

#define HOST_NAME_MAX_LEN 253

struct host_port {
	char host[HOST_NAME_MAX_LEN + 3]; /* lowercase; IPv6 with its brackets */
	int port;			  /* 0 when not given */
	int is_ip;			  /* an IPv4 or [IPv6] literal: ip is set */
	struct client_ip ip;
};

/* Parse "host[:port]" (a Host header value). 0, or -1. */
int host_parse(const char *s, size_t n, struct host_port *out) __attribute__((warn_unused_result));
/* Parse an Origin: "scheme://host[:port]" with scheme http or https and
 * nothing after the authority. *https says which. 0, or -1 ("null",
 * paths, user info, other schemes). */
int host_parse_origin(const char *origin, struct host_port *out, int *https)
    __attribute__((warn_unused_result));
/* 1 when two parsed hosts name the same host (names case-insensitively,
 * a trailing dot ignored; addresses by value). Ports are not compared. */
int host_same(const struct host_port *a, const struct host_port *b);
/* 1 for "localhost" (also with a trailing dot), 127.0.0.0/8 and [::1]. */
int host_is_loopback(const struct host_port *h);

/* RFC 9112 section 3.2: an HTTP/1.1 request needs exactly one Host, and a
 * request's Host (any version) must be a valid host[:port]. version is
 * "1.1", "1.0"...; hosts[0..n) the values of every Host header. 0, or -1
 * with ERR_BAD_REQUEST. */
int host_check_request(const char *version, const char *const *hosts, int n, struct err *err)
    __attribute__((warn_unused_result));

#endif
