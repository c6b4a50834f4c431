/* auth: the access rules of CONTRACT section 6, shared by api and relay.
 * Pure; thread-safe once built.
 *
 *   no token set        everything open (programs warn at start)
 *   API_TOKEN           writes need it (401 without, 403 with READ_TOKEN)
 *   + READ_TOKEN        reads and the change stream need one of the two
 *
 * Origins: with ALLOWED_ORIGINS, only those; without, an Origin whose host
 * equals the host of the request's Host header (any port). Requests
 * without an Origin are not affected. */
#ifndef ORDERS_AUTH_H
#define ORDERS_AUTH_H

#include "err.h"

#define AUTH_MAX_ORIGINS 32

struct auth {
	const char *api_token;	/* borrowed; NULL when unset */
	const char *read_token; /* borrowed; NULL when unset */
	int norigins;
	char origins[AUTH_MAX_ORIGINS][256];
};

enum auth_need { AUTH_READ, AUTH_WRITE };

/* Fill a from the configured values (origins: comma list or NULL).
 * READ_TOKEN without API_TOKEN is refused (ERR_CONFIG). */
int auth_init(struct auth *a, const char *api_token, const char *read_token, const char *origins,
	      struct err *err) __attribute__((warn_unused_result));
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
