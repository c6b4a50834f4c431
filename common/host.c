#include "host.h"

#include "http_url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int host_parse(const char *s, size_t n, struct host_port *out)
{
	memset(out, 0, sizeof(*out));
	/* the syntax is http_url's, the one parser of host[:port] */
	char text[HOST_NAME_MAX_LEN + 16], host[HTTP_HOST_MAX], port[HTTP_PORT_MAX];
	if (n == 0 || n >= sizeof(text) || memchr(s, '\0', n))
		return -1;
	memcpy(text, s, n);
	text[n] = '\0';
	const char *end = http_host_parse(text, host, port);
	if (!end || *end)
		return -1;
	size_t hlen = strlen(host);
	int bracketed = text[0] == '[';
	if (hlen > HOST_NAME_MAX_LEN)
		return -1;
	if (bracketed) {
		/* an IPv6 literal must be one (http_host_parse checks its
		 * characters only) */
		if (client_ip_parse(text, hlen + 2, 0, &out->ip) < 0)
			return -1;
		out->is_ip = 1;
	} else {
		out->is_ip = client_ip_parse(host, hlen, 0, &out->ip) == 0;
	}
	size_t at = 0;
	if (bracketed)
		out->host[at++] = '[';
	for (size_t i = 0; i < hlen; i++)
		out->host[at++] = (char)tolower((unsigned char)host[i]);
	if (bracketed)
		out->host[at++] = ']';
	out->host[at] = '\0';
	out->port = port[0] ? atoi(port) : 0;
	return 0;
}

int host_parse_origin(const char *origin, struct host_port *out, int *https)
{
	if (!origin)
		return -1;
	const char *p;
	if (strncasecmp(origin, "http://", 7) == 0)
		p = origin + 7, *https = 0;
	else if (strncasecmp(origin, "https://", 8) == 0)
		p = origin + 8, *https = 1;
	else
		return -1;
	return host_parse(p, strlen(p), out);
}

/* A name's length without one trailing dot ("localhost." is "localhost"). */
static size_t name_len(const char *h)
{
	size_t n = strlen(h);
	return n > 1 && h[n - 1] == '.' ? n - 1 : n;
}

int host_same(const struct host_port *a, const struct host_port *b)
{
	if (a->is_ip || b->is_ip)
		return a->is_ip && b->is_ip && client_ip_equal(&a->ip, &b->ip);
	size_t n = name_len(a->host);
	return n == name_len(b->host) && strncasecmp(a->host, b->host, n) == 0;
}

int host_is_loopback(const struct host_port *h)
{
	if (h->is_ip)
		return client_ip_is_loopback(&h->ip);
	return name_len(h->host) == 9 && strncasecmp(h->host, "localhost", 9) == 0;
}

int host_check_request(const char *version, const char *const *hosts, int n, struct err *err)
{
	if (n > 1)
		return err_set(err, ERR_BAD_REQUEST, "more than one Host header");
	if (n == 0) {
		if (version && strcmp(version, "1.0") != 0 && strcmp(version, "0.9") != 0)
			return err_set(err, ERR_BAD_REQUEST,
				       "an HTTP/1.1 request needs a Host header");
		return 0;
	}
	struct host_port hp;
	if (!hosts[0] || host_parse(hosts[0], strlen(hosts[0]), &hp) < 0)
		return err_set(err, ERR_BAD_REQUEST, "invalid Host header: must be host[:port]");
	return 0;
}
