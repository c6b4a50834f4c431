/* client_addr: the address a request comes from. IP addresses as peers
 * and proxies give them (IPv4, IPv6, [IPv6], with a port in
 * X-Forwarded-For entries), the TRUSTED_PROXIES list (addresses and CIDR
 * ranges), and the client behind trusted proxies: X-Forwarded-For is read
 * only when the peer is trusted, from the right, and the first entry that
 * is not itself a trusted proxy is the client. Shared by the api (rate
 * limits, logs; api/security.h reads a civetweb request) and the relay
 * (logs). Pure; thread-safe once built. */
#ifndef ORDERS_CLIENT_ADDR_H
#define ORDERS_CLIENT_ADDR_H

#include "err.h"

#include <stddef.h>

/* One address: IPv6, or IPv4 as the mapped ::ffff:a.b.c.d. */
struct client_ip {
	unsigned char b[16];
};

/* Room for any formatted address and its NUL (INET6_ADDRSTRLEN). */
#define CLIENT_IP_STRLEN 46

/* Parse s[0..n): "192.0.2.1", "2001:db8::1" or "[2001:db8::1]"; with
 * with_port also "192.0.2.1:443" and "[2001:db8::1]:443" (the port is
 * dropped). No zone ids, no host names. 0, or -1. */
int client_ip_parse(const char *s, size_t n, int with_port, struct client_ip *out)
    __attribute__((warn_unused_result));
/* 1 for an IPv4 address (mapped). */
int client_ip_is_v4(const struct client_ip *ip);
/* 1 for 127.0.0.0/8 and ::1. */
int client_ip_is_loopback(const struct client_ip *ip);
/* 1 for 0.0.0.0 and :: (a wildcard bind address). */
int client_ip_is_any(const struct client_ip *ip);
int client_ip_equal(const struct client_ip *a, const struct client_ip *b);
/* "192.0.2.1" or "2001:db8::1" into out; returns out. */
char *client_ip_format(const struct client_ip *ip, char out[CLIENT_IP_STRLEN]);

#define TRUSTED_PROXIES_MAX 64

/* TRUSTED_PROXIES: addresses and CIDR ranges. Zero-initialised: none. */
struct trusted_proxies {
	int n;
	struct {
		struct client_ip net; /* host bits cleared */
		int bits;	      /* prefix over the 128-bit form */
	} nets[TRUSTED_PROXIES_MAX];
};

/* Parse a comma list ("10.0.0.1, 192.168.0.0/16, ::1, fd00::/8"); NULL or
 * blank: none. ERR_CONFIG naming TRUSTED_PROXIES on a bad item. */
int trusted_proxies_parse(struct trusted_proxies *tp, const char *list, struct err *err)
    __attribute__((warn_unused_result));
int trusted_proxies_contains(const struct trusted_proxies *tp, const struct client_ip *ip);

/* The client of a request that reached us from peer (the socket's
 * address). Unless peer is a trusted proxy, peer itself. Otherwise the
 * X-Forwarded-For values xff[0..nxff) (each a comma list, in header order,
 * read as one list) are walked from the right past trusted proxies: the
 * first entry that is not one is the client; an entry that is not an
 * address stops the walk and the hop that passed it on is the client;
 * when every entry is trusted, the left-most is. 0, or -1 when peer is
 * not an address. */
int client_addr_resolve(const struct trusted_proxies *tp, const char *peer, const char *const *xff,
			size_t nxff, struct client_ip *out) __attribute__((warn_unused_result));

#endif
