#include "auth.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

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
	if (gethostname(a->hostname, sizeof(a->hostname)) < 0)
		a->hostname[0] = '\0';
	a->hostname[sizeof(a->hostname) - 1] = '\0';
	return 0;
}

/* Every address of the machine's interfaces (IPv4 only unless v6). */
static void add_interface_addresses(struct auth *a, int v6)
{
	struct ifaddrs *list = NULL;
	if (getifaddrs(&list) < 0)
		return;
	for (struct ifaddrs *i = list; i && a->nlocal < AUTH_MAX_LOCAL; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		struct client_ip ip = {{0}};
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)i->ifa_addr;
			ip.b[10] = ip.b[11] = 0xff;
			memcpy(ip.b + 12, &sin->sin_addr, 4);
		} else if (v6 && i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const void *)i->ifa_addr;
			if (sin6->sin6_scope_id)
				continue; /* link-local: a browser cannot name it without a zone */
			memcpy(ip.b, &sin6->sin6_addr, 16);
		} else {
			continue;
		}
		a->local[a->nlocal++] = ip;
	}
	freeifaddrs(list);
}

void auth_set_bind_host(struct auth *a, const char *bind_host)
{
	a->has_bind = 0;
	a->nlocal = 0;
	if (!bind_host || !*bind_host)
		return;
	struct client_ip ip;
	if (client_ip_parse(bind_host, strlen(bind_host), 0, &ip) == 0 && client_ip_is_any(&ip)) {
		add_interface_addresses(a, !client_ip_is_v4(&ip));
		return;
	}
	if (client_ip_parse(bind_host, strlen(bind_host), 0, &ip) == 0) {
		/* an address: compare by value ("::1" unbracketed too) */
		memset(&a->bind, 0, sizeof(a->bind));
		a->bind.is_ip = 1;
		a->bind.ip = ip;
		a->has_bind = 1;
		return;
	}
	a->has_bind = host_parse(bind_host, strlen(bind_host), &a->bind) == 0;
}

int auth_host_trusted(const struct auth *a, const struct host_port *host)
{
	if (host_is_loopback(host))
		return 1;
	if (a->has_bind && host_same(&a->bind, host))
		return 1;
	if (host->is_ip) {
		for (int i = 0; i < a->nlocal; i++)
			if (client_ip_equal(&a->local[i], &host->ip))
				return 1;
		return 0;
	}
	struct host_port me;
	return a->hostname[0] && host_parse(a->hostname, strlen(a->hostname), &me) == 0 &&
	       host_same(&me, host);
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
	struct host_port oh, hh;
	int https;
	if (!host || host_parse_origin(origin, &oh, &https) < 0 ||
	    host_parse(host, strlen(host), &hh) < 0)
		return 0;
	return host_same(&oh, &hh) && auth_host_trusted(a, &hh);
}
