#include "http_url.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *http_host_parse(const char *s, char host[HTTP_HOST_MAX], char port[HTTP_PORT_MAX])
{
	const char *p = s, *start, *end;
	host[0] = port[0] = '\0';
	if (*p == '[') {
		start = ++p;
		while (isxdigit((unsigned char)*p) || *p == ':' || *p == '.')
			p++;
		if (*p != ']' || !strchr(start, ':') || strchr(start, ':') > p)
			return NULL;
		end = p++;
	} else {
		start = p;
		while (*p && (isalnum((unsigned char)*p) || strchr(".-_", *p)))
			p++;
		end = p;
	}
	size_t n = (size_t)(end - start);
	if (!n || n >= HTTP_HOST_MAX)
		return NULL;
	if (*p == ':') {
		const char *digits = ++p;
		long v = 0;
		while (isdigit((unsigned char)*p) && v <= 65535)
			v = v * 10 + (*p++ - '0');
		if (p == digits || v < 1 || v > 65535 || isdigit((unsigned char)*p))
			return NULL;
		snprintf(port, HTTP_PORT_MAX, "%ld", v);
	}
	memcpy(host, start, n);
	host[n] = '\0';
	return p;
}

int http_url_parse(const char *url, struct http_url *out, struct err *err)
{
	static const struct {
		const char *scheme;
		const char *port;
		int tls;
	} schemes[] = {{"http", "80", 0}, {"https", "443", 1}, {"ws", "80", 0}, {"wss", "443", 1}};
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
			out->tls = schemes[i].tls;
		}
	}
	if (!def_port)
		return err_set(err, ERR_BAD_REQUEST, "unsupported URL scheme in '%.200s'", url);
	p = http_host_parse(p + 3, out->host, out->port);
	if (!p)
		return err_set(err, ERR_BAD_REQUEST, "missing or bad host or port in '%.200s'",
			       url);
	if (!out->port[0])
		snprintf(out->port, sizeof(out->port), "%s", def_port);
	out->default_port = strcmp(out->port, def_port) == 0;
	if (*p && *p != '/' && *p != '?')
		return err_set(err, ERR_BAD_REQUEST, "unexpected '%c' in URL '%.200s'", *p, url);
	for (const char *q = p; *q; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f || *q == '#')
			return err_set(err, ERR_BAD_REQUEST, "bad character in URL '%.200s'", url);
	out->bare = !*p;
	int n = snprintf(out->target, sizeof(out->target), "%s%s", *p == '/' ? "" : "/", p);
	if (n < 0 || (size_t)n >= sizeof(out->target))
		return err_set(err, ERR_BAD_REQUEST, "URL too long");
	return 0;
}

char *http_url_origin(const struct http_url *u, char *out, size_t cap)
{
	int v6 = strchr(u->host, ':') != NULL;
	snprintf(out, cap, "%s://%s%s%s:%s", u->scheme, v6 ? "[" : "", u->host, v6 ? "]" : "",
		 u->port);
	return out;
}

int http_url_authority(struct buf *out, const struct http_url *u)
{
	int v6 = strchr(u->host, ':') != NULL;
	return buf_printf(out, "%s%s%s%s%s", v6 ? "[" : "", u->host, v6 ? "]" : "",
			  u->default_port ? "" : ":", u->default_port ? "" : u->port);
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
