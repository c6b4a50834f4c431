/* base64: standard alphabet with '=' padding (RFC 4648), for the
 * WebSocket handshake keys. Pure and thread-safe. */
#ifndef ORDERS_BASE64_H
#define ORDERS_BASE64_H

#include <stddef.h>

/* Characters base64_encode writes for len input bytes, NUL excluded. */
#define BASE64_ENCODED_LEN(len) (((len) + 2) / 3 * 4)

/* Encode in[0..len) into out, NUL-terminated. out must hold
 * BASE64_ENCODED_LEN(len) + 1 bytes. Returns the characters written. */
size_t base64_encode(const void *in, size_t len, char *out);

#endif
