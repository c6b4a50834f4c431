#include "auth.h"

#include "http_url.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int auth_init(struct auth *a, const char *api_token, const char *read_token, const char *origins,
	      struct err *err)
{
	memset(a, 0, sizeof(*a));
	a->api_token = api_token && *api_token ? api_token : NULL;
	a->read_token = read_token && *read_token ? read_token : NULL;
	if (a->read_token && !a->api_token)
		return err_set(err, ERR_CONFIG,
			       "READ_TOKEN: needs API_TOKEN too (otherwise writes would be open "
			       "while reads are not)");
	if (a->read_token && strcmp(a->read_token, a->api_token) == 0)
		return err_set(err, ERR_CONFIG, "READ_TOKEN: must differ from API_TOKEN");
	for (const char *p = origins; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ",");
		size_t m = n;
		while (m && p[m - 1] == ' ')
			m--;
		if (m) {
			if (a->norigins == AUTH_MAX_ORIGINS || m >= sizeof(a->origins[0]))
				return err_set(err, ERR_CONFIG,
					       "ALLOWED_ORIGINS: at most %d origins of up to 255 "
					       "characters",
					       AUTH_MAX_ORIGINS);
			memcpy(a->origins[a->norigins], p, m);
			a->origins[a->norigins][m] = '\0';
			a->norigins++;
		}
		p += n;
	}
	return 0;
}

int auth_open(const struct auth *a)
{
	return !a->api_token;
}

/* Constant-time equality of a presented token and a configured one. */
static int token_equal(const char *given, const char *want)
{
	size_t gl = strlen(given), wl = strlen(want);
	unsigned char diff = gl != wl;
	for (size_t i = 0; i < wl; i++)
		diff |= (unsigned char)(want[i] ^ (i < gl ? given[i] : 0));
	return diff == 0;
}

int auth_check(const struct auth *a, enum auth_need need, const char *token, struct err *err)
{
	if (!a->api_token)
		return 0;
	if (need == AUTH_READ && !a->read_token)
		return 0;
	if (!token)
		return err_set(err, ERR_UNAUTHORIZED,
			       "authentication required: send Authorization: Bearer <token>");
	if (token_equal(token, a->api_token))
		return 0;
	if (a->read_token && token_equal(token, a->read_token)) {
		if (need == AUTH_READ)
			return 0;
		return err_set(err, ERR_FORBIDDEN, "this token may only read");
	}
	return err_set(err, ERR_UNAUTHORIZED, "invalid token");
}

const char *auth_bearer(const char *header)
{
	if (!header)
		return NULL;
	while (*header == ' ')
		header++;
	if (strncasecmp(header, "Bearer ", 7) != 0)
		return NULL;
	header += 7;
	while (*header == ' ')
		header++;
	return *header ? header : NULL;
}

/* The host of an origin ("scheme://host[:port]") or, when url is 0, of a
 * Host header ("host[:port]"), by common/http_url's parser; "" when s is
 * neither. */
static void host_of(const char *s, int url, char out[HTTP_HOST_MAX])
{
	struct http_url u;
	char port[HTTP_PORT_MAX];
	const char *end;
	out[0] = '\0';
	if (url) {
		if (http_url_parse(s, &u, NULL) == 0 && u.bare)
			memcpy(out, u.host, sizeof(u.host));
	} else if ((end = http_host_parse(s, out, port)) == NULL || *end) {
		out[0] = '\0';
	}
}

int auth_origin_allowed(const struct auth *a, const char *origin, const char *host)
{
	if (!origin)
		return 1;
	if (a->norigins) {
		for (int i = 0; i < a->norigins; i++)
			if (strcasecmp(origin, a->origins[i]) == 0)
				return 1;
		return 0;
	}
	if (!host)
		return 0;
	char oh[HTTP_HOST_MAX], hh[HTTP_HOST_MAX];
	host_of(origin, 1, oh);
	host_of(host, 0, hh);
	return oh[0] && strcasecmp(oh, hh) == 0;
}
