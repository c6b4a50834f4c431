#include "base64.h"

#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const void *in, size_t len, char *out)
{
	const unsigned char *p = in;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

static int value_of(char c)
{
	const char *p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

long base64_decode(const char *s, unsigned char *out)
{
	size_t n = strlen(s);
	long o = 0;
	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int last = i + 4 == n;
		int a = value_of(s[i]), b = value_of(s[i + 1]);
		int c = s[i + 2] == '=' && last ? -2 : value_of(s[i + 2]);
		int d = s[i + 3] == '=' && last ? -2 : value_of(s[i + 3]);
		if (a < 0 || b < 0 || c == -1 || d == -1 || (c == -2 && d != -2))
			return -1;
		unsigned v = (unsigned)a << 18 | (unsigned)b << 12;
		out[o++] = (unsigned char)(v >> 16);
		if (c >= 0) {
			v |= (unsigned)c << 6;
			out[o++] = (unsigned char)(v >> 8);
		}
		if (d >= 0) {
			v |= (unsigned)d;
			out[o++] = (unsigned char)v;
		}
	}
	return o;
}
