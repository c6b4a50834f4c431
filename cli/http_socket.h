/* http_socket: the CLI's connections, shared by the HTTP, WebSocket and
 * SSE clients: TCP for http:// and ws://, TLS over it for https:// and
 * wss:// (OpenSSL), with blocking-style I/O on non-blocking sockets under
 * one deadline (CLOCK_MONOTONIC milliseconds, see clock_now_ms).
 *
 * TLS verifies the server's certificate against the system CA store
 * (SSL_CERT_FILE and SSL_CERT_DIR replace it, as for every OpenSSL
 * program) and the URL's host against it (a name, sent as SNI too, or an
 * IP address); `insecure` skips both, for a test certificate. TLS 1.2 at
 * least. Writes never raise SIGPIPE.
 *
 *   struct http_conn c = HTTP_CONN_INIT;
 *   if (http_conn_open(&c, &url, 0, deadline, &err) < 0) ...
 *   http_conn_send(&c, req, len, deadline, &err);
 *   while (http_conn_wait(&c, deadline) == 1) {
 *           ssize_t n = http_conn_read(&c, buf, sizeof(buf), &err);
 *           if (n == HTTP_CONN_AGAIN) continue; ...
 *   }
 *   http_conn_close(&c);
 *
 * A connection belongs to one thread. */
#ifndef ORDERS_HTTP_SOCKET_H
#define ORDERS_HTTP_SOCKET_H

#include "err.h"
#include "http_url.h"

#include <stddef.h>
#include <sys/types.h>

struct ssl_st; /* OpenSSL's SSL */

struct http_conn {
	int fd;		    /* -1 when closed */
	struct ssl_st *ssl; /* NULL for plain TCP */
	int want_write;	    /* TLS: the last read waits for the socket to take data */
	int failed;	    /* TLS: a fatal error; no close_notify */
	char where[300];    /* "https://host:port", for messages */
};

#define HTTP_CONN_INIT                                                                             \
	{                                                                                          \
		.fd = -1                                                                           \
	}

/* http_conn_read found nothing to read yet: wait again. */
#define HTTP_CONN_AGAIN (-2)

/* Connect to u's host and port within the deadline, with TLS for https://
 * and wss://. insecure: accept any certificate for any host. Returns 0
 * with *c open, or -1 with err (*c closed; messages name
 * scheme://host:port): ERR_UNAVAILABLE when the server cannot be reached
 * or the connection broke ("cannot reach ...: Connection refused");
 * ERR_BAD_REQUEST when the TLS handshake fails ("TLS handshake with ...
 * failed: wrong version number") or the certificate is not trusted for
 * the host ("cannot verify ...: self-signed certificate"). */
int http_conn_open(struct http_conn *c, const struct http_url *u, int insecure,
		   long long deadline_ms, struct err *err) __attribute__((warn_unused_result));

/* Send all of data before the deadline; 0 or -1 with err (ERR_UNAVAILABLE). */
int http_conn_send(struct http_conn *c, const void *data, size_t len, long long deadline_ms,
		   struct err *err) __attribute__((warn_unused_result));

/* Wait until there is something to read (TLS: bytes already decrypted
 * count) or the deadline passes; deadline_ms < 0 waits without one.
 * 1 readable, 0 timeout or a signal (EINTR: check your stop flag),
 * -1 error. */
int http_conn_wait(struct http_conn *c, long long deadline_ms);

/* Read at most cap bytes of what has arrived (after http_conn_wait said
 * 1). Returns the count (> 0), 0 at the end of the stream (TLS: the
 * server's close_notify, or a close without one), HTTP_CONN_AGAIN when
 * nothing can be read yet (part of a TLS record, EINTR: wait again), or
 * -1 with err (ERR_UNAVAILABLE) when the connection broke. */
ssize_t http_conn_read(struct http_conn *c, void *buf, size_t cap, struct err *err)
    __attribute__((warn_unused_result));

/* Close and forget the connection (TLS: close_notify first, when the
 * session is sound and the socket takes it at once); safe on a closed
 * one (idempotent). */
void http_conn_close(struct http_conn *c);

#endif
