#include "qs.h"

#include <string.h>

int qs_next(const char **p, struct qs_pair *pair)
{
	const char *s = *p;
	while (*s == '&')
		s++;
	if (!*s) {
		*p = s;
		return 0;
	}
	const char *end = strchr(s, '&');
	if (!end)
		end = s + strlen(s);
	const char *eq = memchr(s, '=', (size_t)(end - s));
	pair->key = s;
	pair->klen = (size_t)((eq ? eq : end) - s);
	pair->val = eq ? eq + 1 : end;
	pair->vlen = (size_t)(end - pair->val);
	*p = end;
	return 1;
}

int qs_key_is(const struct qs_pair *pair, const char *name)
{
	return strlen(name) == pair->klen && strncmp(pair->key, name, pair->klen) == 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int qs_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			int h = hexval((unsigned char)s[i + 1]),
			    l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = h * 16 + l;
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c == 0 || o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	if (cap == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

int qs_param(const char *query, const char *name, char *out, size_t outlen)
{
	if (!query)
		return 0;
	int found = 0;
	struct qs_pair pair;
	for (const char *p = query; qs_next(&p, &pair);) {
		if (!qs_key_is(&pair, name))
			continue;
		/* repeated, malformed, too long or holding a NUL byte */
		if (found || qs_decode(pair.val, pair.vlen, out, outlen) < 0)
			return -1;
		found = 1;
	}
	return found;
}

int qs_find(const char *query, const char *name, struct qs_pair *pair)
{
	int found = 0;
	struct qs_pair p;
	for (const char *s = query ? query : ""; qs_next(&s, &p);) {
		if (!qs_key_is(&p, name))
			continue;
		if (found)
			return -1;
		*pair = p;
		found = 1;
	}
	return found;
}

int qs_parse_uint(const char *s, size_t n, long long max, long long *out)
{
	if (n == 0 || n > 19 || (s[0] == '0' && n > 1))
		return -1;
	unsigned long long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0'); /* 19 digits fit in 64 bits */
	}
	if (v > (unsigned long long)max)
		return -1;
	*out = (long long)v;
	return 0;
}
