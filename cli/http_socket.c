#include "http_socket.h"

#include "clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Milliseconds to the deadline for poll(): 0 when passed, -1 (no limit)
 * for a negative deadline. */
static int remaining_ms(long long deadline_ms)
{
	if (deadline_ms < 0)
		return -1;
	long long left = deadline_ms - clock_now_ms();
	if (left < 0)
		return 0;
	return left > 1000000000 ? 1000000000 : (int)left;
}

/* 1 when fd is ready for events, 0 on timeout or EINTR, -1 on error. */
static int wait_fd(int fd, short events, long long deadline_ms)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int r = poll(&pfd, 1, remaining_ms(deadline_ms));
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	return r > 0;
}

static int tcp_connect(const char *host, const char *port, long long deadline_ms, struct err *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return err_set(err, ERR_UNAVAILABLE, "cannot resolve host '%s': %s", host,
			       gai_strerror(rc));
	int fd = -1;
	int last = ECONNREFUSED;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			int pr;
			do {
				pr = poll(&pfd, 1, remaining_ms(deadline_ms));
			} while (pr < 0 && errno == EINTR && remaining_ms(deadline_ms) > 0);
			if (pr > 0) {
				int soerr = 0;
				socklen_t sl = sizeof(soerr);
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
				    !soerr)
					break;
				last = soerr ? soerr : errno;
			} else {
				last = ETIMEDOUT;
			}
		} else {
			last = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err_set(err, ERR_UNAVAILABLE, "%s", strerror(last));
	return fd;
}

/* OpenSSL reads and writes the socket through this BIO, which sends with
 * MSG_NOSIGNAL: a server that hangs up must not kill the CLI with
 * SIGPIPE, and SIGPIPE keeps its default so `orders-cli watch | head`
 * still ends when head does. The socket is the BIO's data. */
static int bio_fd(BIO *b)
{
	return (int)(intptr_t)BIO_get_data(b);
}

static int bio_write(BIO *b, const char *data, int len)
{
	BIO_clear_retry_flags(b);
	ssize_t n = send(bio_fd(b), data, (size_t)len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_write(b);
	return (int)n;
}

static int bio_read(BIO *b, char *buf, int len)
{
	BIO_clear_retry_flags(b);
	ssize_t n = recv(bio_fd(b), buf, (size_t)len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_read(b);
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH; /* nothing is buffered here */
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO_METHOD *socket_method; /* made once, kept for the process */
static pthread_once_t socket_method_once = PTHREAD_ONCE_INIT;

static void socket_method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "orders socket");
	if (m && (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
		  !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create))) {
		BIO_meth_free(m);
		m = NULL;
	}
	socket_method = m;
}

/* The reason of OpenSSL's first queued error, or fallback. */
static const char *tls_reason(const char *fallback)
{
	const char *r = ERR_reason_error_string(ERR_peek_error());
	return r ? r : fallback;
}

/* 1 if host is an IPv4 or IPv6 address rather than a name. */
static int is_address(const char *host)
{
	unsigned char a[16];
	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* Set up TLS on the connected c->fd and complete the handshake. */
static int tls_start(struct http_conn *c, const char *host, int insecure, long long deadline_ms,
		     struct err *err)
{
	pthread_once(&socket_method_once, socket_method_init);
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || !socket_method) {
		SSL_CTX_free(ctx);
		return err_set(err, ERR_SYSTEM, "cannot set up TLS: %s",
			       tls_reason("out of memory"));
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* a server that closes without close_notify ends the stream; the HTTP
	 * and WebSocket framing above still tells a cut answer from a whole one */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (!insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_default_verify_paths(ctx); /* honours SSL_CERT_FILE, SSL_CERT_DIR */
	}
	c->ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* the SSL keeps its own reference */
	BIO *bio = c->ssl ? BIO_new(socket_method) : NULL;
	if (!bio)
		return err_set(err, ERR_SYSTEM, "cannot set up TLS: %s",
			       tls_reason("out of memory"));
	BIO_set_data(bio, (void *)(intptr_t)c->fd);
	SSL_set_bio(c->ssl, bio, bio);
	int address = is_address(host);
	/* SNI carries names only (RFC 6066); the check takes either */
	if ((!address && !SSL_set_tlsext_host_name(c->ssl, host)) ||
	    (!insecure && (address ? !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host)
				   : !SSL_set1_host(c->ssl, host))))
		return err_set(err, ERR_SYSTEM, "cannot set up TLS for host '%s': %s", host,
			       tls_reason("bad host"));
	for (;;) {
		ERR_clear_error();
		int r = SSL_connect(c->ssl);
		if (r == 1)
			return 0;
		int e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			int w = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
					deadline_ms);
			if (w < 0)
				return err_set(err, ERR_UNAVAILABLE, "%s: poll failed: %s",
					       c->where, strerror(errno));
			if (w == 0 && clock_now_ms() >= deadline_ms)
				return err_set(err, ERR_UNAVAILABLE,
					       "%s: timed out in the TLS handshake", c->where);
			continue;
		}
		c->failed = 1;
		long v = SSL_get_verify_result(c->ssl);
		if (v != X509_V_OK)
			return err_set(err, ERR_BAD_REQUEST,
				       "cannot verify %s: %s (trust its CA with SSL_CERT_FILE, or "
				       "use --insecure for a test certificate)",
				       c->where, X509_verify_cert_error_string(v));
		if (e == SSL_ERROR_SYSCALL && !ERR_peek_error())
			return err_set(err, ERR_UNAVAILABLE,
				       "%s: connection lost in the TLS handshake%s%s", c->where,
				       errno ? ": " : "", errno ? strerror(errno) : "");
		return err_set(err, ERR_BAD_REQUEST, "TLS handshake with %s failed: %s", c->where,
			       tls_reason("protocol error"));
	}
}

int http_conn_open(struct http_conn *c, const struct http_url *u, int insecure,
		   long long deadline_ms, struct err *err)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	http_url_origin(u, c->where, sizeof(c->where));
	struct err cerr;
	c->fd = tcp_connect(u->host, u->port, deadline_ms, &cerr);
	if (c->fd < 0)
		return err_set(err, cerr.kind, "cannot reach %s: %s", c->where, cerr.msg);
	if (u->tls && tls_start(c, u->host, insecure, deadline_ms, err) < 0) {
		http_conn_close(c);
		return -1;
	}
	return 0;
}

int http_conn_send(struct http_conn *c, const void *data, size_t len, long long deadline_ms,
		   struct err *err)
{
	const char *p = data;
	while (len) {
		short wait = POLLOUT;
		if (c->ssl) {
			ERR_clear_error();
			int n = SSL_write(c->ssl, p, len > INT_MAX ? INT_MAX : (int)len);
			if (n > 0) {
				p += n;
				len -= (size_t)n;
				continue;
			}
			int e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_WANT_READ)
				wait = POLLIN;
			else if (e != SSL_ERROR_WANT_WRITE) {
				c->failed = 1;
				return err_set(
				    err, ERR_UNAVAILABLE, "%s: send failed: %s", c->where,
				    e == SSL_ERROR_SYSCALL && errno ? strerror(errno)
								    : tls_reason("TLS error"));
			}
		} else {
			ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
			if (n > 0) {
				p += n;
				len -= (size_t)n;
				continue;
			}
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				return err_set(err, ERR_UNAVAILABLE, "%s: send failed: %s",
					       c->where, strerror(errno));
		}
		if (remaining_ms(deadline_ms) == 0)
			return err_set(err, ERR_UNAVAILABLE, "%s: timed out sending", c->where);
		if (wait_fd(c->fd, wait, deadline_ms) < 0)
			return err_set(err, ERR_UNAVAILABLE, "%s: poll failed: %s", c->where,
				       strerror(errno));
	}
	return 0;
}

int http_conn_wait(struct http_conn *c, long long deadline_ms)
{
	if (c->ssl && !c->want_write && SSL_pending(c->ssl) > 0)
		return 1;
	return wait_fd(c->fd, c->want_write ? POLLOUT : POLLIN, deadline_ms);
}

ssize_t http_conn_read(struct http_conn *c, void *buf, size_t cap, struct err *err)
{
	if (!c->ssl) {
		ssize_t n = recv(c->fd, buf, cap, 0);
		if (n >= 0)
			return n;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return HTTP_CONN_AGAIN;
		return err_set(err, ERR_UNAVAILABLE, "%s: connection lost: %s", c->where,
			       strerror(errno));
	}
	ERR_clear_error();
	int n = SSL_read(c->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
	c->want_write = 0;
	if (n > 0)
		return n;
	switch (SSL_get_error(c->ssl, n)) {
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_WANT_READ:
		return HTTP_CONN_AGAIN;
	case SSL_ERROR_WANT_WRITE: /* a TLS message of its own to send first */
		c->want_write = 1;
		return HTTP_CONN_AGAIN;
	case SSL_ERROR_SYSCALL:
		c->failed = 1;
		if (!ERR_peek_error())
			return err_set(err, ERR_UNAVAILABLE, "%s: connection lost%s%s", c->where,
				       errno ? ": " : "", errno ? strerror(errno) : "");
		/* fall through */
	default:
		c->failed = 1;
		return err_set(err, ERR_UNAVAILABLE, "%s: TLS error: %s", c->where,
			       tls_reason("protocol error"));
	}
}

void http_conn_close(struct http_conn *c)
{
	if (c->ssl) {
		/* close_notify when the session is sound and the socket takes it
		 * now; the answer is not waited for */
		if (!c->failed && SSL_is_init_finished(c->ssl)) {
			ERR_clear_error();
			SSL_shutdown(c->ssl);
		}
		SSL_free(c->ssl); /* and its BIO */
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->want_write = 0;
	c->failed = 0;
	ERR_clear_error();
}
