#include "security.h"

#include "clock.h"
#include "csp.h"
#include "host.h"
#include "http.h"
#include "log.h"
#include "rate_limit.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* On every response, whatever its kind. */
#define SECURITY_HEADERS "Referrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n"

/* "https" as the first item of an X-Forwarded-Proto value, or a
 * proto=https parameter of a Forwarded value. */
static int says_https(const char *name, const char *v)
{
	if (strcasecmp(name, "X-Forwarded-Proto") == 0) {
		while (*v == ' ')
			v++;
		return strncasecmp(v, "https", 5) == 0 && strchr(" ,", v[5]);
	}
	for (const char *p = v; (p = strcasestr(p, "proto=")) != NULL; p += 6) {
		const char *q = p + 6 + (p[6] == '"');
		if (strncasecmp(q, "https", 5) == 0 && strchr("\"; ,", q[5]))
			return 1;
	}
	return 0;
}

int security_begin(struct mg_connection *c, const struct api *api, struct security_request *s,
		   struct err *err)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	const char *hosts[2] = {NULL, NULL};
	int nhosts = 0;
	s->proxied = s->https = 0;
	for (int i = 0; i < ri->num_headers; i++) {
		const char *name = ri->http_headers[i].name, *value = ri->http_headers[i].value;
		if (strcasecmp(name, "Host") == 0) {
			if (nhosts < 2)
				hosts[nhosts] = value;
			nhosts++;
		} else if (strcasecmp(name, "X-Forwarded-For") == 0) {
			s->proxied = 1;
		} else if (strcasecmp(name, "Forwarded") == 0) {
			s->proxied = 1;
			s->https |= says_https(name, value);
		} else if (strcasecmp(name, "X-Forwarded-Proto") == 0) {
			s->https |= says_https(name, value);
		}
	}
	if (client_addr_of_request(&api->proxies, ri, &s->client) < 0)
		memset(&s->client, 0, sizeof(s->client));
	client_ip_format(&s->client, s->client_text);

	int host_ok =
	    host_check_request(ri->http_version, hosts, nhosts > 2 ? 2 : nhosts, err) == 0;
	s->host = host_ok && nhosts == 1 ? hosts[0] : NULL;
	const char *origin = mg_get_header(c, "Origin");
	/* the origin is written back only when allowed: then it is one of
	 * ALLOWED_ORIGINS or a validated http(s)://host[:port] */
	s->cors =
	    origin && strlen(origin) < 256 && auth_origin_allowed(&api->auth, origin, s->host);
	int n = 0;
	if (s->cors)
		n = snprintf(s->api_headers, sizeof(s->api_headers),
			     "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n"
			     "Access-Control-Expose-Headers: ETag, Location, Link, Retry-After\r\n",
			     origin);
	n += snprintf(s->api_headers + n, sizeof(s->api_headers) - (size_t)n, SECURITY_HEADERS);
	s->common_len = (size_t)n;
	snprintf(s->api_headers + n, sizeof(s->api_headers) - (size_t)n,
		 "Content-Security-Policy: " CSP_API_POLICY "\r\n");
	s->page_headers[0] = '\0';
	mg_set_user_connection_data(c, s->api_headers);
	return host_ok ? 0 : -1;
}

void security_use_page_headers(struct mg_connection *c, const struct api *api,
			       struct security_request *s)
{
	char policy[1536];
	struct csp_page page = {api->relay_public_url, s->proxied, s->https, s->host,
				api->relay_port};
	if (csp_page_policy(&page, policy, sizeof(policy)) < 0) {
		/* a Host too long to name: the page keeps to its own origin */
		page.host = NULL;
		page.relay_public_url = NULL;
		if (csp_page_policy(&page, policy, sizeof(policy)) < 0)
			snprintf(policy, sizeof(policy),
				 "default-src 'self'; frame-ancestors 'none'");
	}
	snprintf(s->page_headers, sizeof(s->page_headers),
		 "%.*s"
		 "Content-Security-Policy: %s\r\n",
		 (int)s->common_len, s->api_headers, policy);
	mg_set_user_connection_data(c, s->page_headers);
}

int security_preflight(struct mg_connection *c, const struct security_request *s, const char *allow)
{
	if (s->cors)
		mg_printf(c,
			  "HTTP/1.1 204 No Content\r\nAllow: %s, OPTIONS\r\n"
			  "Access-Control-Allow-Methods: %s\r\n"
			  "Access-Control-Allow-Headers: Authorization, Content-Type, If-Match\r\n"
			  "Access-Control-Max-Age: 600\r\n"
			  "X-Content-Type-Options: nosniff\r\n%sContent-Length: 0\r\n\r\n",
			  allow, allow, http_connection_headers(c));
	else
		/* no Origin, or a refused one: no CORS header at all */
		mg_printf(c,
			  "HTTP/1.1 204 No Content\r\nAllow: %s, OPTIONS\r\n"
			  "X-Content-Type-Options: nosniff\r\n%sContent-Length: 0\r\n\r\n",
			  allow, http_connection_headers(c));
	return 204;
}

int security_check_write(struct api *api, const struct security_request *s, char *retry_after,
			 size_t cap, struct err *err)
{
	long long wait = rate_limit_take(api->write_limit, &s->client, clock_now_ns());
	if (wait == 0)
		return 0;
	snprintf(retry_after, cap, "Retry-After: %lld\r\n", wait);
	log_debug("write from %s refused: over WRITE_RATE_LIMIT", s->client_text);
	return err_set(err, ERR_RATE_LIMITED,
		       "too many writes from this address: retry in %lld s (WRITE_RATE_LIMIT)",
		       wait);
}

/* X-Forwarded-For values kept: the right-most ones decide. */
#define XFF_MAX 16

int client_addr_of_request(const struct trusted_proxies *tp, const struct mg_request_info *ri,
			   struct client_ip *out)
{
	const char *xff[XFF_MAX];
	size_t n = 0;
	for (int i = 0; i < ri->num_headers; i++) {
		if (strcasecmp(ri->http_headers[i].name, "X-Forwarded-For") != 0)
			continue;
		if (n == XFF_MAX)
			memmove(xff, xff + 1, sizeof(xff[0]) * --n);
		xff[n++] = ri->http_headers[i].value;
	}
	return client_addr_resolve(tp, ri->remote_addr, xff, n, out);
}
