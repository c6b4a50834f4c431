#include "buf.h"

#include "utf8.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static int buf_reserve(struct buf *b, size_t extra)
{
	if (b->cap && (extra > b->cap || b->len > b->cap - extra))
		return -1;
	size_t need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	size_t n = b->alloc ? b->alloc : 256;
	while (n < need)
		n *= 2;
	if (b->cap && n > b->cap + 1)
		n = b->cap + 1;
	b->data = xrealloc(b->data, n);
	b->alloc = n;
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len) < 0)
		return -1;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int buf_append_json_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (buf_append(b, "\"", 1) < 0)
		return -1;
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *run = p;
	while (*p) {
		char esc[7];
		size_t elen = 0, skip = 1;
		switch (*p) {
		case '"':
			elen = 2, esc[0] = '\\', esc[1] = '"';
			break;
		case '\\':
			elen = 2, esc[0] = '\\', esc[1] = '\\';
			break;
		case '\n':
			elen = 2, esc[0] = '\\', esc[1] = 'n';
			break;
		case '\r':
			elen = 2, esc[0] = '\\', esc[1] = 'r';
			break;
		case '\t':
			elen = 2, esc[0] = '\\', esc[1] = 't';
			break;
		default:
			if (*p < 0x20) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[*p >> 4];
				esc[5] = hex[*p & 15];
				elen = 6;
			} else if (*p >= 0x80) {
				skip = utf8_char_len(p, 4); /* stops at the NUL */
				if (!skip) {
					/* not UTF-8: the replacement character keeps the JSON valid
					 */
					memcpy(esc, "\\ufffd", 6);
					elen = 6;
					skip = 1;
				}
			}
		}
		if (!elen) {
			p += skip;
			continue;
		}
		if (buf_append(b, run, (size_t)(p - run)) < 0 || buf_append(b, esc, elen) < 0)
			return -1;
		p += skip;
		run = p;
	}
	if (buf_append(b, run, (size_t)(p - run)) < 0)
		return -1;
	return buf_append(b, "\"", 1);
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->data ? b->data : xstrdup("");
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}
