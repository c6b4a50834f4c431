/* security: the api's application-level defences for each request, in
 * one place so the dispatcher stays short (CONTRACT section 6):
 *   - the Host rule: an HTTP/1.1 request needs exactly one valid Host (400);
 *   - the client's address: the peer, or behind TRUSTED_PROXIES the
 *     X-Forwarded-For client (client_addr.h), for rate limits and logs;
 *   - CORS: headers only for an allowed Origin (auth_origin_allowed), and
 *     a preflight from a refused one gets none at all;
 *   - security headers on every response: Referrer-Policy no-referrer,
 *     X-Frame-Options DENY, and a Content-Security-Policy (csp.h): the
 *     page's names the relay it really uses, API responses allow nothing;
 *   - WRITE_RATE_LIMIT per client address (rate_limit.h): 429 with
 *     Retry-After. */
#ifndef ORDERS_API_SECURITY_H
#define ORDERS_API_SECURITY_H

#include "api.h"
#include "client_addr.h"

/* One request's decisions; lives on the dispatcher's stack, and the
 * connection's headers point into it until the response is sent. */
struct security_request {
	struct client_ip client; /* who sent it (behind trusted proxies) */
	char client_text[48];	 /* the same, for logs (room for any peer) */
	int cors;		 /* Origin present and allowed */
	const char *host;	 /* the valid Host, or NULL */
	int proxied, https;	 /* through a front; the page is https */
	size_t common_len;	 /* CORS + security headers at the start of both */
	char api_headers[768];	 /* those + the API responses' policy */
	char page_headers[2048]; /* those + the page's policy */
};

/* Before routing: resolve the client, choose the headers every response
 * carries and set them on the connection (http_connection_headers), then
 * check Host. 0, or -1 with ERR_BAD_REQUEST (the headers are set either
 * way). */
int security_begin(struct mg_connection *c, const struct api *api, struct security_request *s,
		   struct err *err) __attribute__((warn_unused_result));
/* Switch the connection's headers to the page's (its files). */
void security_use_page_headers(struct mg_connection *c, const struct api *api,
			       struct security_request *s);
/* Answer an OPTIONS request on a route that allows `allow`: 204 with
 * Allow, and the CORS preflight headers only for an allowed Origin.
 * Returns 204. */
int security_preflight(struct mg_connection *c, const struct security_request *s,
		       const char *allow);
/* A write from s->client: 0 when WRITE_RATE_LIMIT lets it through, else
 * -1 with ERR_RATE_LIMITED and a "Retry-After: N\r\n" line in
 * retry_after (cap bytes). */
int security_check_write(struct api *api, const struct security_request *s, char *retry_after,
			 size_t cap, struct err *err) __attribute__((warn_unused_result));

/* client_addr_resolve for a civetweb request: its peer (remote_addr) and
 * its X-Forwarded-For headers in order (the last 16 of them). Reads the
 * request's fields only. */
int client_addr_of_request(const struct trusted_proxies *tp, const struct mg_request_info *ri,
			   struct client_ip *out) __attribute__((warn_unused_result));

#endif
