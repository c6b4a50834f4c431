/* sha1: SHA-1 (FIPS 180-4), small and dependency-free. Only for the
 * WebSocket handshake (Sec-WebSocket-Accept); never use it for security.
 * Pure and thread-safe. */
#ifndef ORDERS_SHA1_H
#define ORDERS_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_LEN 20

struct sha1_ctx {
	uint32_t h[5];
	uint64_t total; /* bytes hashed so far */
	unsigned char block[64];
	size_t used; /* bytes waiting in block */
};

void sha1_init(struct sha1_ctx *c);
void sha1_update(struct sha1_ctx *c, const void *data, size_t len);
void sha1_final(struct sha1_ctx *c, unsigned char out[SHA1_DIGEST_LEN]);
/* One-shot digest of data[0..len). */
void sha1(const void *data, size_t len, unsigned char out[SHA1_DIGEST_LEN]);

#endif
