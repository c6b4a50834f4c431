/* csp: the Content-Security-Policy of the api's responses. Pure;
 * thread-safe.
 *
 * The page (www/) may connect only to its own origin and to the relay it
 * really uses, named exactly, never by scheme wildcards:
 *   RELAY_PUBLIC_URL absolute (wss://relay.example/ws)  its origin, as
 *       wss: and https: (the page falls back to Server-Sent Events and
 *       probes /health over HTTP when WebSockets are blocked);
 *   RELAY_PUBLIC_URL a path (/ws), page loaded through a front  'self' and
 *       ws(s)://<Host>;
 *   default  ws://<host of Host>:<WS_PORT> and http://<same>, or wss: and
 *       https: when the front says the page is https; without a valid Host
 *       only 'self' (the page then cannot reach the relay, and says so).
 * No page may frame any response (frame-ancestors 'none'). API responses
 * (JSON) get a policy that allows nothing at all. */
#ifndef ORDERS_CSP_H
#define ORDERS_CSP_H

#include <stddef.h>

/* What the page's relay URL and scheme depend on, per request. */
struct csp_page {
	const char *relay_public_url; /* RELAY_PUBLIC_URL; NULL when unset */
	int proxied;		      /* loaded through a front (X-Forwarded-For or Forwarded) */
	int https;		      /* the front says the page is https */
	const char *host;	      /* the request's Host; NULL when absent */
	int ws_port;		      /* WS_PORT */
};

/* The policy of responses other than the page's files. */
#define CSP_API_POLICY "default-src 'none'; frame-ancestors 'none'"

/* The relay URL the page is given in /api/config: RELAY_PUBLIC_URL, or
 * NULL for the page's default (ws://<its host>:WS_PORT/). A path is the
 * stream on the page's own origin behind a front, so it is given only to
 * pages loaded through one: a page loaded from the api's own port still
 * finds the relay on WS_PORT. */
const char *csp_page_relay_url(const char *relay_public_url, int proxied);

/* The page's policy into out (cap bytes). Returns its length, or -1 when
 * it does not fit. */
int csp_page_policy(const struct csp_page *p, char *out, size_t cap);

#endif
