/* csp: the page's connect-src names the relay it really uses, never a
 * scheme wildcard; nothing may frame it. */
#include "csp.h"

#include "harness.h"

#include <stdio.h>
#include <string.h>

static char out[2048];

static const char *policy(const char *relay, int proxied, int https, const char *host)
{
	struct csp_page p = {relay, proxied, https, host, 8080};
	if (csp_page_policy(&p, out, sizeof(out)) < 0)
		return "(too long)";
	return out;
}

/* The connect-src directive alone. */
static const char *connect_src(const char *relay, int proxied, int https, const char *host)
{
	static char d[1024];
	const char *pol = policy(relay, proxied, https, host);
	const char *p = strstr(pol, "connect-src ");
	if (!p)
		return "(none)";
	size_t n = strcspn(p, ";");
	snprintf(d, sizeof(d), "%.*s", (int)n, p);
	return d;
}

/* A bare scheme or "*" among the sources: any host at all. */
static int has_wildcard(const char *pol)
{
	char copy[2048];
	snprintf(copy, sizeof(copy), "%s", pol);
	char *save = NULL;
	for (char *t = strtok_r(copy, " ;", &save); t; t = strtok_r(NULL, " ;", &save))
		if (!strcmp(t, "ws:") || !strcmp(t, "wss:") || !strcmp(t, "http:") ||
		    !strcmp(t, "https:") || !strcmp(t, "*"))
			return 1;
	return 0;
}

static void test_fixed_parts(void)
{
	const char *p = policy(NULL, 0, 0, "localhost:3000");
	CHECK(strstr(p, "default-src 'self'") == p);
	CHECK(strstr(p, "frame-ancestors 'none'") != NULL);
	CHECK(strstr(p, "object-src 'none'") != NULL);
	CHECK(strstr(p, "base-uri 'none'") != NULL);
	CHECK(!has_wildcard(p));
	CHECK(!has_wildcard(policy(NULL, 1, 1, "orders.example")));
	CHECK(!has_wildcard(policy("/ws", 1, 1, "orders.example")));
	CHECK(!has_wildcard(policy("wss://relay.example/ws", 0, 0, NULL)));
	CHECK(has_wildcard("default-src 'self'; connect-src 'self' ws: wss:"));
	CHECK(strchr(p, '\r') == NULL && strchr(p, '\n') == NULL);
	CHECK(strstr(CSP_API_POLICY, "default-src 'none'") != NULL);
	CHECK(strstr(CSP_API_POLICY, "frame-ancestors 'none'") != NULL);
}

static void test_default_relay(void)
{
	/* ws://<host of the page>:WS_PORT, and http: for the SSE fallback */
	CHECK_STR(connect_src(NULL, 0, 0, "localhost:3000"),
		  "connect-src 'self' ws://localhost:8080 http://localhost:8080");
	CHECK_STR(connect_src(NULL, 0, 0, "Orders.Example"),
		  "connect-src 'self' ws://orders.example:8080 http://orders.example:8080");
	CHECK_STR(connect_src(NULL, 0, 0, "[::1]:3000"),
		  "connect-src 'self' ws://[::1]:8080 http://[::1]:8080");
	/* a page the front serves over https */
	CHECK_STR(connect_src(NULL, 1, 1, "orders.example"),
		  "connect-src 'self' wss://orders.example:8080 https://orders.example:8080");
	/* no Host, or one that is not a plain host[:port]: only 'self' */
	CHECK_STR(connect_src(NULL, 0, 0, NULL), "connect-src 'self'");
	static const char *const bad[] = {"a b", "x; script-src *", "h\r\nX: 1", "*", "h:0",
					  "",	 "user@h",	    "h/x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_STR(connect_src(NULL, 0, 0, bad[i]), "connect-src 'self'");
}

static void test_public_url(void)
{
	/* absolute: its origin only, whatever the Host says */
	CHECK_STR(connect_src("wss://relay.example/ws", 0, 0, "evil.example"),
		  "connect-src 'self' wss://relay.example https://relay.example");
	CHECK_STR(connect_src("ws://relay.example:9000/", 1, 1, "x"),
		  "connect-src 'self' ws://relay.example:9000 http://relay.example:9000");
	CHECK_STR(connect_src("wss://[2001:db8::1]:8443?x", 0, 0, NULL),
		  "connect-src 'self' wss://[2001:db8::1]:8443 https://[2001:db8::1]:8443");
	/* anything else names nothing (main refuses it at start anyway) */
	CHECK_STR(connect_src("::1", 0, 0, "x"), "connect-src 'self'");
	CHECK_STR(connect_src("ws:", 0, 0, "x"), "connect-src 'self'");
	CHECK_STR(connect_src("http://relay.example", 0, 0, "x"), "connect-src 'self'");
	CHECK_STR(connect_src("ws://", 0, 0, "x"), "connect-src 'self'");
	/* a path behind a front: the page's own origin */
	CHECK_STR(connect_src("/ws", 1, 1, "orders.example"),
		  "connect-src 'self' wss://orders.example");
	CHECK_STR(connect_src("/ws", 1, 0, "orders.example:8000"),
		  "connect-src 'self' ws://orders.example:8000");
	CHECK_STR(connect_src("/ws", 1, 1, NULL), "connect-src 'self'");
	/* a path but the page came straight from the api: the default */
	CHECK_STR(connect_src("/ws", 0, 0, "localhost:3000"),
		  "connect-src 'self' ws://localhost:8080 http://localhost:8080");
}

static void test_relay_url(void)
{
	CHECK(csp_page_relay_url(NULL, 1) == NULL);
	CHECK(csp_page_relay_url("/ws", 0) == NULL);
	CHECK_STR(csp_page_relay_url("/ws", 1), "/ws");
	CHECK_STR(csp_page_relay_url("wss://r.example/ws", 0), "wss://r.example/ws");
}

static void test_small_buffer(void)
{
	struct csp_page p = {NULL, 0, 0, "localhost:3000", 8080};
	char small[40];
	CHECK(csp_page_policy(&p, small, sizeof(small)) < 0);
	int n = csp_page_policy(&p, out, sizeof(out));
	CHECK(n > 0 && (size_t)n == strlen(out));
	char exact[512];
	CHECK(csp_page_policy(&p, exact, (size_t)n + 1) == n);
	CHECK(csp_page_policy(&p, exact, (size_t)n) < 0);
}

int main(void)
{
	test_fixed_parts();
	test_default_relay();
	test_public_url();
	test_relay_url();
	test_small_buffer();
	HARNESS_END();
}
