/* buf: a growable byte buffer with a cap set at creation (curl's dynbuf):
 * nothing read from a socket or a user grows without bound. The contents
 * are always NUL-terminated. Not thread-safe; caller-owned storage. */
#ifndef ORDERS_BUF_H
#define ORDERS_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap; /* most bytes the buffer may hold; 0 = no cap */
};

void buf_init(struct buf *b, size_t cap);
/* Frees the storage and resets to empty; idempotent. */
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
/* Append; return 0, or -1 (buffer unchanged) if the cap would be passed. */
int buf_append(struct buf *b, const void *data, size_t len) __attribute__((warn_unused_result));
int buf_append_str(struct buf *b, const char *s) __attribute__((warn_unused_result));
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)))
__attribute__((warn_unused_result));
/* Append s as a JSON string literal, quotes included. */
int buf_append_json_string(struct buf *b, const char *s) __attribute__((warn_unused_result));
/* Hand the bytes to the caller (free() them); the buffer becomes empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
