/* Origins, Host headers, client addresses and the page's CSP: what the
 * api writes back into response headers from request input (common/host.c,
 * common/auth.c's origin rule, common/client_addr.c, api/csp.c). Input:
 * lines "origin\nhost\nx-forwarded-for\nRELAY_PUBLIC_URL\npeer". */
#include "fuzz.h"

#include "auth.h"
#include "client_addr.h"
#include "csp.h"
#include "host.h"

#define INPUT_MAX 4096

/* Bytes that could end a header line or split a header value's list. */
static int header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s >= 0x7f || strchr(";,\"\\", *s))
			return 0;
	return 1;
}

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > INPUT_MAX)
		return 0;
	char *in = fuzz_cstr(data, size);
	char *part[5] = {"", "", "", "", ""};
	char *p = in;
	for (int i = 0; i < 5 && p; i++) {
		part[i] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	const char *origin = part[0], *host = part[1], *xff = part[2], *relay = part[3],
		   *peer = part[4];

	struct host_port hp, op;
	int https;
	int host_ok = host_parse(host, strlen(host), &hp) == 0;
	if (host_ok)
		FUZZ_ASSERT(header_safe(hp.host) && hp.port >= 0 && hp.port <= 65535);
	if (host_parse_origin(origin, &op, &https) == 0)
		FUZZ_ASSERT(header_safe(op.host) && header_safe(origin));

	/* the default rule: an allowed origin is echoed, so it must be safe */
	static struct auth a;
	struct err e;
	FUZZ_ASSERT(auth_init(&a, NULL, NULL, NULL, &e) == 0);
	auth_set_bind_host(&a, "192.0.2.1");
	if (auth_origin_allowed(&a, origin, host)) {
		FUZZ_ASSERT(host_ok && header_safe(origin));
		FUZZ_ASSERT(host_parse_origin(origin, &op, &https) == 0 && host_same(&op, &hp));
		FUZZ_ASSERT(auth_host_trusted(&a, &hp));
	}

	/* the page's policy names hosts only in their validated form */
	char pol[2048];
	struct csp_page page = {relay[0] ? relay : NULL, xff[0] != '\0', origin[0] == 's', host,
				8080};
	int n = csp_page_policy(&page, pol, sizeof(pol));
	if (n >= 0) {
		FUZZ_ASSERT((size_t)n == strlen(pol));
		for (const char *c = pol; *c; c++)
			FUZZ_ASSERT((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f);
		FUZZ_ASSERT(!has_wildcard(pol));
		FUZZ_ASSERT(strstr(pol, "frame-ancestors 'none'") != NULL);
	}

	/* the client behind trusted proxies is always a real address */
	struct trusted_proxies tp;
	FUZZ_ASSERT(trusted_proxies_parse(&tp, "127.0.0.1, 10.0.0.0/8, ::1", &e) == 0);
	const char *vals[] = {xff, origin};
	struct client_ip ip;
	if (client_addr_resolve(&tp, peer, vals, 2, &ip) == 0) {
		char text[CLIENT_IP_STRLEN];
		struct client_ip back;
		client_ip_format(&ip, text);
		FUZZ_ASSERT(client_ip_parse(text, strlen(text), 0, &back) == 0);
		FUZZ_ASSERT(client_ip_equal(&ip, &back));
	}
	free(in);
	return 0;
}
