/* auth: the access rules of CONTRACT section 6, shared by api and relay.
 * Pure; thread-safe once built.
 *
 *   no token set        everything open (programs warn at start)
 *   API_TOKEN           writes need it (401 without, 403 with READ_TOKEN)
 *   + READ_TOKEN        reads and the change stream need one of the two
 *
 * Origins: with ALLOWED_ORIGINS, only those; without, an http(s) Origin
 * whose host equals the host of the request's Host header (any port),
 * when that host is one this machine answers to for certain: a loopback
 * name or address (localhost, 127.0.0.0/8, [::1]), the address the server
 * is bound to (auth_set_bind_host; with a wildcard bind, the machine's
 * interface addresses), or the machine's own host name (gethostname).
 * Host alone is not trusted: a DNS-rebinding page (Host: evil.example,
 * Origin: http://evil.example) is refused. Requests without an Origin are
 * not affected. */
#ifndef ORDERS_AUTH_H
#define ORDERS_AUTH_H

#include "client_addr.h"
#include "err.h"
#include "host.h"

#define AUTH_MAX_ORIGINS 32
#define AUTH_MAX_LOCAL	 64

struct auth {
	const char *api_token;	/* borrowed; NULL when unset */
	const char *read_token; /* borrowed; NULL when unset */
	int norigins;
	char origins[AUTH_MAX_ORIGINS][256];
	/* the default origin rule's hosts (see above) */
	char hostname[HOST_NAME_MAX_LEN + 1]; /* gethostname at auth_init; "" if none */
	int has_bind;
	struct host_port bind; /* HOST, when it names one host or address */
	int nlocal;
	struct client_ip local[AUTH_MAX_LOCAL]; /* HOST is 0.0.0.0 or ::: every interface */
};

enum auth_need { AUTH_READ, AUTH_WRITE };

/* Fill a from the configured values (origins: comma list or NULL).
 * READ_TOKEN without API_TOKEN is refused (ERR_CONFIG). */
int auth_init(struct auth *a, const char *api_token, const char *read_token, const char *origins,
	      struct err *err) __attribute__((warn_unused_result));
/* The server's bind address (HOST: a name, an address, 0.0.0.0 or ::),
 * for the default origin rule; call after auth_init. A wildcard bind
 * trusts the addresses of the machine's interfaces at this moment. Without
 * this call only loopback and the machine's host name are trusted. */
void auth_set_bind_host(struct auth *a, const char *bind_host);
/* 1 when the default origin rule trusts this Host (see above). */
int auth_host_trusted(const struct auth *a, const struct host_port *host);
/* 1 when no token is configured. */
int auth_open(const struct auth *a);
/* Check a presented token (NULL when none) for an access: 0, or -1 with
 * ERR_UNAUTHORIZED (missing or unknown token) or ERR_FORBIDDEN (read-only
 * token for a write). Comparisons take constant time. */
int auth_check(const struct auth *a, enum auth_need need, const char *token, struct err *err)
    __attribute__((warn_unused_result));
/* The token of an "Authorization: Bearer <t>" header value, or NULL.
 * Returns a pointer into header. */
const char *auth_bearer(const char *header);
/* 1 if a browser Origin may use the service reached through Host `host`. */
int auth_origin_allowed(const struct auth *a, const char *origin, const char *host);

#endif
