#include "utf8.h"

#include <string.h>

size_t utf8_char_len(const void *s, size_t avail)
{
	const unsigned char *p = s;
	if (!avail)
		return 0;
	unsigned c = p[0], cp;
	size_t n;
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0)
		n = 2, cp = c & 0x1F;
	else if ((c & 0xF0) == 0xE0)
		n = 3, cp = c & 0x0F;
	else if ((c & 0xF8) == 0xF0)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t k = 1; k < n; k++) {
		if (k >= avail || (p[k] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[k] & 0x3F);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

int utf8_valid(const void *s, size_t len)
{
	const unsigned char *p = s;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_char_len(p + i, len - i);
		if (!n)
			return 0;
		i += n;
	}
	return 1;
}

int utf8_valid_text(const char *s, size_t len)
{
	return !memchr(s, '\0', len) && utf8_valid(s, len);
}

size_t utf8_length(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

char *utf8_printable(char *dst, size_t cap, const char *src, size_t len)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t w = 0;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_char_len(p + i, len - i);
		const char *out = (const char *)p + i;
		size_t olen = n;
		if (!n) {
			out = "?", olen = 1, n = 1;
		} else if (p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
			out = " ", olen = 1;
		} else if (p[i] < 0x20 || p[i] == 0x7f || (p[i] == 0xC2 && p[i + 1] < 0xA0)) {
			out = "?", olen = 1; /* C0, DEL, C1 (U+0080..U+009F) */
		}
		if (w + olen >= cap)
			break;
		memcpy(dst + w, out, olen);
		w += olen;
		i += n;
	}
	dst[w] = '\0';
	return dst;
}
