#include "http_url.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int http_url_parse(const char *url, struct http_url *out, struct err *err)
{
	static const struct {
		const char *scheme;
		const char *port;
	} schemes[] = {{"http", "80"}, {"ws", "80"}};
	memset(out, 0, sizeof(*out));
	const char *p = strstr(url, "://");
	if (!p)
		return err_set(err, ERR_BAD_REQUEST, "not a URL: '%.200s'", url);
	size_t slen = (size_t)(p - url);
	const char *def_port = NULL;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strlen(schemes[i].scheme) == slen &&
		    strncasecmp(url, schemes[i].scheme, slen) == 0) {
			snprintf(out->scheme, sizeof(out->scheme), "%s", schemes[i].scheme);
			def_port = schemes[i].port;
		}
	}
	if (!def_port) {
		if ((slen == 5 && strncasecmp(url, "https", 5) == 0) ||
		    (slen == 3 && strncasecmp(url, "wss", 3) == 0))
			return err_set(err, ERR_BAD_REQUEST,
				       "'%.200s': TLS is not supported, use a plain http:// or "
				       "ws:// URL (or a TLS-terminating proxy)",
				       url);
		return err_set(err, ERR_BAD_REQUEST, "unsupported URL scheme in '%.200s'", url);
	}
	p += 3;
	const char *host = p, *host_end;
	if (*p == '[') {
		host = ++p;
		while (*p && *p != ']')
			p++;
		if (*p != ']')
			return err_set(err, ERR_BAD_REQUEST, "bad IPv6 address in '%.200s'", url);
		host_end = p++;
	} else {
		while (*p && (isalnum((unsigned char)*p) || strchr(".-_", *p)))
			p++;
		host_end = p;
	}
	if (host_end == host || (size_t)(host_end - host) >= sizeof(out->host))
		return err_set(err, ERR_BAD_REQUEST, "missing or bad host in '%.200s'", url);
	memcpy(out->host, host, (size_t)(host_end - host));
	if (*p == ':') {
		const char *port = ++p;
		long v = 0;
		while (isdigit((unsigned char)*p) && v <= 65535)
			v = v * 10 + (*p++ - '0');
		if (p == port || v < 1 || v > 65535 || isdigit((unsigned char)*p))
			return err_set(err, ERR_BAD_REQUEST, "bad port in '%.200s'", url);
		snprintf(out->port, sizeof(out->port), "%ld", v);
	} else {
		snprintf(out->port, sizeof(out->port), "%s", def_port);
	}
	if (*p && *p != '/' && *p != '?')
		return err_set(err, ERR_BAD_REQUEST, "unexpected '%c' in URL '%.200s'", *p, url);
	for (const char *q = p; *q; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f || *q == '#')
			return err_set(err, ERR_BAD_REQUEST, "bad character in URL '%.200s'", url);
	int n = snprintf(out->target, sizeof(out->target), "%s%s", *p == '/' ? "" : "/", p);
	if (n < 0 || (size_t)n >= sizeof(out->target))
		return err_set(err, ERR_BAD_REQUEST, "URL too long");
	return 0;
}

int http_url_encode(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p)) {
			if (buf_append(out, p, 1) < 0)
				return -1;
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			if (buf_append(out, e, 3) < 0)
				return -1;
		}
	}
	return 0;
}
