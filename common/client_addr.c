#include "client_addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const unsigned char v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* A port after an address: 1 to 5 digits, at most 65535. */
static int valid_port(const char *s, size_t n)
{
	if (n == 0 || n > 5)
		return 0;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v <= 65535;
}

int client_ip_parse(const char *s, size_t n, int with_port, struct client_ip *out)
{
	char text[CLIENT_IP_STRLEN];
	int bracket = n > 0 && s[0] == '[';
	if (bracket) {
		const char *close = memchr(s, ']', n);
		if (!close)
			return -1;
		size_t rest = n - (size_t)(close - s) - 1;
		if (rest && !(with_port && close[1] == ':' && valid_port(close + 2, rest - 1)))
			return -1;
		s++;
		n = (size_t)(close - s);
	} else if (with_port) {
		/* a single colon is IPv4 with a port; IPv6 with one is bracketed */
		const char *colon = memchr(s, ':', n);
		if (colon && !memchr(colon + 1, ':', n - (size_t)(colon - s) - 1)) {
			if (!valid_port(colon + 1, n - (size_t)(colon - s) - 1))
				return -1;
			n = (size_t)(colon - s);
		}
	}
	if (n == 0 || n >= sizeof(text) || memchr(s, '\0', n))
		return -1;
	memcpy(text, s, n);
	text[n] = '\0';
	unsigned char v4[4];
	if (!bracket && inet_pton(AF_INET, text, v4) == 1) {
		memcpy(out->b, v4_prefix, 12);
		memcpy(out->b + 12, v4, 4);
		return 0;
	}
	if (strchr(text, ':') && inet_pton(AF_INET6, text, out->b) == 1)
		return 0;
	return -1;
}

int client_ip_is_v4(const struct client_ip *ip)
{
	return memcmp(ip->b, v4_prefix, 12) == 0;
}

int client_ip_is_loopback(const struct client_ip *ip)
{
	static const unsigned char v6_loopback[16] = {[15] = 1};
	if (client_ip_is_v4(ip))
		return ip->b[12] == 127;
	return memcmp(ip->b, v6_loopback, 16) == 0;
}

int client_ip_is_any(const struct client_ip *ip)
{
	static const unsigned char zero[16];
	if (client_ip_is_v4(ip))
		return memcmp(ip->b + 12, zero, 4) == 0;
	return memcmp(ip->b, zero, 16) == 0;
}

int client_ip_equal(const struct client_ip *a, const struct client_ip *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

char *client_ip_format(const struct client_ip *ip, char out[CLIENT_IP_STRLEN])
{
	const char *ok = client_ip_is_v4(ip) ? inet_ntop(AF_INET, ip->b + 12, out, CLIENT_IP_STRLEN)
					     : inet_ntop(AF_INET6, ip->b, out, CLIENT_IP_STRLEN);
	if (!ok)
		snprintf(out, CLIENT_IP_STRLEN, "?");
	return out;
}

/* Clear the bits of ip past the first `bits`. */
static void mask_bits(struct client_ip *ip, int bits)
{
	for (int i = 0; i < 16; i++) {
		int keep = bits - i * 8;
		if (keep >= 8)
			continue;
		ip->b[i] &= keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
	}
}

/* One TRUSTED_PROXIES item: an address, or address/prefix. */
static int parse_net(const char *s, size_t n, struct client_ip *net, int *bits)
{
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	if (client_ip_parse(s, alen, 0, net) < 0)
		return -1;
	int v4 = client_ip_is_v4(net), max = v4 ? 32 : 128;
	int prefix = max;
	if (slash) {
		const char *p = slash + 1;
		size_t plen = n - alen - 1;
		if (plen == 0 || plen > 3 || (p[0] == '0' && plen > 1))
			return -1;
		prefix = 0;
		for (size_t i = 0; i < plen; i++) {
			if (p[i] < '0' || p[i] > '9')
				return -1;
			prefix = prefix * 10 + (p[i] - '0');
		}
		if (prefix > max)
			return -1;
	}
	*bits = v4 ? prefix + 96 : prefix;
	mask_bits(net, *bits);
	return 0;
}

int trusted_proxies_parse(struct trusted_proxies *tp, const char *list, struct err *err)
{
	memset(tp, 0, sizeof(*tp));
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ",");
		const char *item = p;
		size_t len = n;
		while (len && (*item == ' ' || *item == '\t'))
			item++, len--;
		while (len && (item[len - 1] == ' ' || item[len - 1] == '\t'))
			len--;
		p += n + (p[n] == ',');
		if (len == 0)
			continue;
		if (tp->n == TRUSTED_PROXIES_MAX)
			return err_set(err, ERR_CONFIG, "TRUSTED_PROXIES: at most %d entries",
				       TRUSTED_PROXIES_MAX);
		if (parse_net(item, len, &tp->nets[tp->n].net, &tp->nets[tp->n].bits) < 0)
			return err_set(
			    err, ERR_CONFIG,
			    "TRUSTED_PROXIES: each entry must be an IPv4 or IPv6 address "
			    "or a CIDR range such as 10.0.0.0/8, got '%.*s'",
			    (int)(len > 60 ? 60 : len), item);
		tp->n++;
	}
	return 0;
}

int trusted_proxies_contains(const struct trusted_proxies *tp, const struct client_ip *ip)
{
	for (int i = 0; i < tp->n; i++) {
		struct client_ip m = *ip;
		mask_bits(&m, tp->nets[i].bits);
		if (client_ip_equal(&m, &tp->nets[i].net))
			return 1;
	}
	return 0;
}

int client_addr_resolve(const struct trusted_proxies *tp, const char *peer, const char *const *xff,
			size_t nxff, struct client_ip *out)
{
	struct client_ip cur;
	if (!peer || client_ip_parse(peer, strlen(peer), 0, &cur) < 0)
		return -1;
	*out = cur;
	if (!trusted_proxies_contains(tp, &cur))
		return 0;
	/* the values read as one list: walk them, and each, from the right */
	for (size_t v = nxff; v-- > 0;) {
		const char *s = xff[v] ? xff[v] : "";
		size_t end = strlen(s);
		for (;;) {
			size_t start = end;
			while (start > 0 && s[start - 1] != ',')
				start--;
			size_t a = start, b = end;
			while (a < b && (s[a] == ' ' || s[a] == '\t'))
				a++;
			while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
				b--;
			struct client_ip ip;
			if (client_ip_parse(s + a, b - a, 1, &ip) < 0)
				return 0; /* not an address: the hop that passed it on */
			*out = ip;
			if (!trusted_proxies_contains(tp, &ip))
				return 0;
			if (start == 0)
				break;
			end = start - 1;
		}
	}
	return 0;
}
