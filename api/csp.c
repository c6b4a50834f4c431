#include "csp.h"

#include "host.h"

#include <stdio.h>
#include <string.h>

const char *csp_page_relay_url(const char *relay_public_url, int proxied)
{
	if (relay_public_url && relay_public_url[0] == '/' && !proxied)
		return NULL;
	return relay_public_url;
}

/* Append " <scheme>://<authority>" when the authority is a valid
 * host[:port]; the page's connect-src never names anything else. */
static int add_source(char *out, size_t cap, size_t *len, const char *scheme, const char *auth,
		      size_t alen)
{
	struct host_port hp;
	if (host_parse(auth, alen, &hp) < 0)
		return 0;
	int n = snprintf(out + *len, cap - *len, " %s://%.*s", scheme, (int)alen, auth);
	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

int csp_page_policy(const struct csp_page *p, char *out, size_t cap)
{
	size_t len = 0;
	int n = snprintf(out, cap, "default-src 'self'; connect-src 'self'");
	if (n < 0 || (size_t)n >= cap)
		return -1;
	len = (size_t)n;
	const char *relay = csp_page_relay_url(p->relay_public_url, p->proxied);
	const char *ws = p->https ? "wss" : "ws", *http = p->https ? "https" : "http";
	int rc = 0;
	if (relay && relay[0] != '/') {
		/* absolute: its own scheme, and the matching one for SSE */
		int secure = strncmp(relay, "wss://", 6) == 0;
		if (secure || strncmp(relay, "ws://", 5) == 0) {
			const char *auth = relay + (secure ? 6 : 5);
			size_t alen = strcspn(auth, "/?#");
			rc = add_source(out, cap, &len, secure ? "wss" : "ws", auth, alen);
			if (rc == 0)
				rc = add_source(out, cap, &len, secure ? "https" : "http", auth,
						alen);
		}
	} else if (relay && p->host) {
		/* the page's own origin: 'self' covers http(s); ws(s) named too,
		 * as not every browser reads 'self' as covering WebSockets */
		rc = add_source(out, cap, &len, ws, p->host, strlen(p->host));
	} else if (p->host) {
		struct host_port hp;
		if (host_parse(p->host, strlen(p->host), &hp) == 0) {
			char auth[sizeof(hp.host) + 8];
			int an = snprintf(auth, sizeof(auth), "%s:%d", hp.host, p->ws_port);
			rc = add_source(out, cap, &len, ws, auth, (size_t)an);
			if (rc == 0)
				rc = add_source(out, cap, &len, http, auth, (size_t)an);
		}
	}
	if (rc < 0)
		return -1;
	n = snprintf(out + len, cap - len,
		     "; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; "
		     "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
	if (n < 0 || (size_t)n >= cap - len)
		return -1;
	return (int)(len + (size_t)n);
}
