#include "server.h"

#include "buf.h"
#include "client.h"
#include "client_addr.h"
#include "clock.h"
#include "http_error.h"
#include "http_request.h"
#include "log.h"
#include "routes.h"
#include "stats.h"
#include "subscribe.h"
#include "ws_frame.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* The most a client frame may carry (CONTRACT section 5). */
#define CLIENT_FRAME_MAX 4096
/* How long a connection we are closing may take to read our last bytes
 * and close its side. */
#define LINGER_MS 2000
/* How long a slow consumer's close frame may wait behind its last batch. */
#define CLOSE_GRACE_MS 2000
/* Most messages and bytes one send takes from a client's queue. */
#define BATCH_MSGS  64
#define BATCH_BYTES (256 * 1024)
#define TIMER_MS    100
/* A stream socket's kernel send buffer: what a stalled client can hold
 * beyond CLIENT_BACKLOG (the kernel doubles it), instead of the several
 * MiB TCP autotuning would give it. */
#define STREAM_SNDBUF (256 * 1024)
#define MAX_EVENTS    256
/* I/O threads: one per CPU, at most this many. */
#define MAX_LOOPS 4

enum conn_state {
	C_HEAD,	   /* reading the request head */
	C_RESPOND, /* writing a plain response; then C_LINGER */
	C_STREAM,  /* WebSocket or SSE */
	C_LINGER,  /* our side shut down: wait for the peer's EOF */
	C_DEAD,	   /* closed; freed after the current event batch */
};

struct conn {
	struct loop *s;
	int fd;
	enum conn_state state;
	unsigned events; /* registered with epoll */
	long long deadline_ms;
	char peer[64];		     /* address:port */
	char addr[CLIENT_IP_STRLEN]; /* address alone */
	int head_only;		     /* HEAD request */
	/* C_HEAD */
	char *in;
	size_t in_len, in_cap;
	/* bytes before the client's queue: a response, or a stream's head */
	char *out;
	size_t out_len, out_off;
	/* C_STREAM */
	struct client *client;
	int websocket;
	struct ws_decoder *dec;
	long long pong_ms;	  /* last pong (or the stream's start) */
	long long stall_ms;	  /* when we closed it as a slow consumer, 0 if not */
	struct msg **batch;	  /* taken from the queue, being written (refs held) */
	size_t nbatch, batch_i;	  /* batch[batch_i] is the next to write */
	size_t batch_off;	  /* bytes of batch[batch_i] already written */
	size_t batch_bytes;	  /* queue bytes (msg->len) the batch took */
	struct conn *prev, *next; /* all live connections */
};

/* One I/O thread: its epoll set, its connections and the clients waiting
 * for it to write. A connection stays on the loop that accepted it. */
struct loop {
	struct server *srv;
	struct relay *r;
	struct server_config cfg;
	int lfd; /* the server's listening socket, shared by every loop */
	int epfd, evfd;
	int accepting; /* lfd registered with this loop's epoll */
	pthread_t thread;
	int started;
	struct conn *conns; /* this loop's thread only */
	struct conn *dead;  /* closed during this event batch */
	/* clients with something to send, from any thread */
	pthread_mutex_t lock;
	struct client *ready_head, *ready_tail;
	int wake_pending;
};

struct server {
	struct relay *r;
	struct server_config cfg;
	int lfd;
	pthread_mutex_t spare_lock;
	int spare_fd;
	atomic_int stop;
	atomic_int nconns;
	int nloops;
	struct loop loops[MAX_LOOPS];
};

/* epoll tags for the two descriptors that are not connections */
static char tag_listen, tag_wake;

static long long now_ms(void)
{
	return clock_now_ms();
}

static void set_events(struct conn *cn, unsigned ev)
{
	if (cn->events == ev)
		return;
	struct epoll_event e = {.events = ev, .data.ptr = cn};
	if (epoll_ctl(cn->s->epfd, EPOLL_CTL_MOD, cn->fd, &e) == 0)
		cn->events = ev;
}

const char *conn_peer(const struct conn *cn)
{
	return cn->peer;
}

const char *conn_peer_addr(const struct conn *cn)
{
	return cn->addr;
}

static void batch_release(struct conn *cn)
{
	for (size_t i = cn->batch_i; i < cn->nbatch; i++)
		msg_unref(cn->batch[i]);
	cn->nbatch = cn->batch_i = cn->batch_off = cn->batch_bytes = 0;
}

/* Give the client back: out of the hub, its slot returned, our reference
 * dropped. */
static void detach_client(struct conn *cn)
{
	struct client *c = cn->client;
	if (!c)
		return;
	cn->client = NULL;
	batch_release(cn);
	subscribe_retire(cn->s->r, c);
}

static void conn_kill(struct conn *cn, const char *why)
{
	struct loop *s = cn->s;
	if (cn->state == C_DEAD)
		return;
	if (why && cn->client)
		log_debug("%s %s closed: %s", cn->websocket ? "ws" : "sse", cn->peer, why);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, cn->fd, NULL);
	close(cn->fd);
	cn->fd = -1;
	cn->state = C_DEAD;
	detach_client(cn);
	free(cn->in);
	cn->in = NULL;
	free(cn->out);
	cn->out = NULL;
	if (cn->dec) {
		ws_decoder_release(cn->dec);
		free(cn->dec);
		cn->dec = NULL;
	}
	if (cn->prev)
		cn->prev->next = cn->next;
	else
		s->conns = cn->next;
	if (cn->next)
		cn->next->prev = cn->prev;
	cn->next = s->dead;
	s->dead = cn;
	atomic_fetch_sub(&s->srv->nconns, 1);
	if (!s->accepting && !atomic_load(&s->srv->stop)) {
		struct epoll_event e = {.events = EPOLLIN | EPOLLEXCLUSIVE,
					.data.ptr = &tag_listen};
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &e) == 0)
			s->accepting = 1;
	}
}

/* Our last bytes are out: shut our side and wait briefly for the peer's
 * EOF, so the kernel does not reset a connection whose peer still sends
 * (which could destroy our last bytes in flight). */
static void conn_linger(struct conn *cn)
{
	detach_client(cn);
	shutdown(cn->fd, SHUT_WR);
	cn->state = C_LINGER;
	cn->deadline_ms = now_ms() + LINGER_MS;
	set_events(cn, EPOLLIN | EPOLLRDHUP);
}

static void flush(struct conn *cn);

void conn_respond(struct conn *cn, int status, const char *type, const char *extra,
		  const void *body, size_t len)
{
	struct buf b;
	buf_init(&b, 0);
	char ctype[160] = "";
	if (type)
		snprintf(ctype, sizeof(ctype), "Content-Type: %s\r\n", type);
	int ok = buf_printf(&b,
			    "HTTP/1.1 %d %s\r\n%sContent-Length: %zu\r\nCache-Control: no-store\r\n"
			    "X-Content-Type-Options: nosniff\r\nConnection: close\r\n%s\r\n",
			    status, http_status_text(status), ctype, len, extra ? extra : "") == 0;
	if (ok && len && !cn->head_only)
		ok = buf_append(&b, body, len) == 0;
	if (!ok)
		abort(); /* b has no cap */
	free(cn->out);
	cn->out = b.data; /* ownership moves to the connection */
	cn->out_len = b.len;
	cn->out_off = 0;
	cn->state = C_RESPOND;
	cn->deadline_ms = now_ms() + cn->s->r->write_timeout_ms;
	set_events(cn, EPOLLOUT);
	flush(cn);
}

void conn_respond_error(struct conn *cn, const struct err *e, const char *extra)
{
	struct buf b;
	buf_init(&b, 0);
	if (http_error_json(&b, e) == 0)
		conn_respond(cn, err_http_status(e->kind), HTTP_JSON_TYPE, extra, b.data, b.len);
	else
		conn_respond(cn, 500, HTTP_JSON_TYPE, NULL, HTTP_INTERNAL_ERROR_JSON,
			     strlen(HTTP_INTERNAL_ERROR_JSON));
	buf_release(&b);
}

void conn_stream(struct conn *cn, struct client *c, const char *head, size_t len, int websocket)
{
	free(cn->out);
	cn->out = xmalloc(len);
	memcpy(cn->out, head, len);
	cn->out_len = len;
	cn->out_off = 0;
	cn->client = c;
	cn->websocket = websocket;
	cn->state = C_STREAM;
	cn->pong_ms = now_ms();
	cn->batch = xmalloc(BATCH_MSGS * sizeof(*cn->batch));
	int sndbuf = STREAM_SNDBUF;
	setsockopt(cn->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (websocket) {
		cn->dec = xmalloc(sizeof(*cn->dec));
		ws_decoder_init_server(cn->dec, CLIENT_FRAME_MAX);
	}
	pthread_mutex_lock(&c->lock);
	c->conn = cn;
	pthread_mutex_unlock(&c->lock);
	set_events(cn, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
}

void server_schedule(struct server *srv, struct client *c)
{
	(void)srv;
	struct loop *s = c->conn->s; /* c->lock held: conn is set */
	if (c->in_ready)
		return;
	c->in_ready = 1;
	client_ref(c);
	pthread_mutex_lock(&s->lock);
	c->ready_next = NULL;
	if (s->ready_tail)
		s->ready_tail->ready_next = c;
	else
		s->ready_head = c;
	s->ready_tail = c;
	int wake = !s->wake_pending;
	s->wake_pending = 1;
	pthread_mutex_unlock(&s->lock);
	if (wake) {
		uint64_t one = 1;
		ssize_t n = write(s->evfd, &one, sizeof(one));
		(void)n; /* a full counter still wakes the thread */
	}
}

/* Move up to a batch of messages from c's queue into the connection. */
static int refill(struct conn *cn, struct client *c)
{
	pthread_mutex_lock(&c->lock);
	size_t n = 0, bytes = 0;
	while (c->count && n < BATCH_MSGS &&
	       (n == 0 || bytes + c->ring[c->head]->len <= BATCH_BYTES)) {
		struct msg *m = c->ring[c->head];
		c->head = (c->head + 1) % c->cap;
		c->count--;
		cn->batch[n++] = m; /* the queue's reference moves to the batch */
		bytes += m->len;
		if (m->seq > 0)
			c->queued_events--;
	}
	c->queued_bytes -= bytes;
	c->inflight_bytes = bytes;
	pthread_mutex_unlock(&c->lock);
	cn->nbatch = n;
	cn->batch_i = cn->batch_off = 0;
	cn->batch_bytes = bytes;
	return n > 0;
}

/* The bytes of m this connection's transport sends. */
static const struct msg *wire(const struct conn *cn, struct msg *m)
{
	return cn->websocket ? m : msg_sse(m);
}

static void observe_lag(const struct msg *m)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	double t = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	metrics_hist_observe(&relay_stats.lag, t - m->changed_at);
}

/* Account for w bytes written from the batch; returns 1 when our close
 * frame (the last message a client gets) went out. */
static int advance(struct conn *cn, size_t w, long long *top, int *lagged)
{
	int closed = 0;
	while (cn->batch_i < cn->nbatch) {
		struct msg *m = cn->batch[cn->batch_i];
		size_t len = wire(cn, m)->len;
		size_t rest = len - cn->batch_off;
		if (w < rest) {
			cn->batch_off += w;
			break;
		}
		w -= rest;
		if (m->seq > *top)
			*top = m->seq;
		if (m->changed_at > 0 && !*lagged) {
			observe_lag(m);
			*lagged = 1;
		}
		if (m->kind == MSG_CLOSE)
			closed = 1;
		msg_unref(m);
		cn->batch_i++;
		cn->batch_off = 0;
	}
	return closed;
}

/* Write what the connection has: the plain bytes, then the client's queue,
 * until the socket would block. */
static void flush(struct conn *cn)
{
	while (cn->out_off < cn->out_len) {
		ssize_t w = send(cn->fd, cn->out + cn->out_off, cn->out_len - cn->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* EPOLLOUT is registered */
		if (w <= 0) {
			conn_kill(cn, "write failed");
			return;
		}
		cn->out_off += (size_t)w;
	}
	if (cn->out) {
		free(cn->out);
		cn->out = NULL;
		cn->out_len = cn->out_off = 0;
	}
	if (cn->state == C_RESPOND) {
		conn_linger(cn);
		return;
	}
	struct client *c = cn->client;
	if (cn->state != C_STREAM || !c)
		return;
	for (;;) {
		if (cn->batch_i == cn->nbatch && !refill(cn, c)) {
			set_events(cn, (cn->events & EPOLLIN) | EPOLLRDHUP);
			return;
		}
		struct iovec iov[BATCH_MSGS];
		int n = 0;
		size_t want = 0;
		for (size_t i = cn->batch_i; i < cn->nbatch; i++) {
			const struct msg *w = wire(cn, cn->batch[i]);
			size_t off = i == cn->batch_i ? cn->batch_off : 0;
			if (w->len == off)
				continue; /* an SSE client's ping has no bytes */
			iov[n].iov_base = (void *)(w->bytes + off);
			iov[n].iov_len = w->len - off;
			want += iov[n].iov_len;
			n++;
		}
		ssize_t w = 0;
		if (n) {
			struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
			w = sendmsg(cn->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				conn_kill(cn, "write failed");
				return;
			}
			if (w < 0)
				w = 0;
		}
		long long top = 0;
		int lagged = 0;
		size_t done_before = cn->batch_i;
		int closed = advance(cn, (size_t)w, &top, &lagged);
		int batch_done = cn->batch_i == cn->nbatch;
		if (w > 0 || batch_done) {
			atomic_fetch_add_explicit(&relay_stats.writes, 1, memory_order_relaxed);
			atomic_fetch_add_explicit(&relay_stats.messages_sent,
						  cn->batch_i - done_before, memory_order_relaxed);
			atomic_fetch_add_explicit(&relay_stats.bytes_sent, (size_t)w,
						  memory_order_relaxed);
			pthread_mutex_lock(&c->lock);
			c->progress_ms = now_ms();
			if (top > c->sent_seq)
				c->sent_seq = top;
			if (batch_done) {
				c->inflight_bytes = 0;
				pthread_cond_broadcast(&c->cond);
			}
			pthread_mutex_unlock(&c->lock);
		}
		if (closed) {
			conn_linger(cn);
			return;
		}
		if (!batch_done || (size_t)w < want) {
			set_events(cn, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
			return;
		}
	}
}

/* A frame from a WebSocket client. Returns 0 to go on reading, -1 when
 * the connection is closing. */
static int on_frame(struct conn *cn, enum ws_event ev, const struct ws_message *m,
		    const struct err *err)
{
	struct client *c = cn->client;
	switch (ev) {
	case WS_EVENT_PONG:
		cn->pong_ms = now_ms();
		return 0;
	case WS_EVENT_PING: {
		struct msg *pong = msg_new_pong(m->data, m->len);
		int rc = client_push(c, pong);
		msg_unref(pong);
		return rc < 0 ? -1 : 0;
	}
	case WS_EVENT_CLOSE: {
		/* echo the code (none: 1000) and stop sending */
		unsigned code =
		    m->close_code == WS_CLOSE_NO_STATUS ? WS_CLOSE_NORMAL : m->close_code;
		pthread_mutex_lock(&c->lock);
		client_close_locked(c, (int)code, "");
		pthread_mutex_unlock(&c->lock);
		return -1;
	}
	case WS_EVENT_ERROR:
		log_info("ws#%lu %s closed with %u: %s", c->id, cn->peer, cn->dec->fail_code,
			 err->msg);
		atomic_fetch_add(&relay_stats.protocol_closes, 1);
		pthread_mutex_lock(&c->lock);
		client_close_locked(c, (int)cn->dec->fail_code, err->msg + strlen("websocket: "));
		pthread_mutex_unlock(&c->lock);
		return -1;
	default: /* a data message cannot come out of a server decoder */
		return 0;
	}
}

static void feed_frames(struct conn *cn, const char *data, size_t len)
{
	size_t off = 0;
	while (cn->state == C_STREAM && cn->dec->state != WS_DEC_FAILED && off < len) {
		size_t used = 0;
		struct ws_message m;
		struct err err = {0};
		enum ws_event ev = ws_decoder_feed(cn->dec, data + off, len - off, &used, &m, &err);
		off += used;
		if (ev != WS_EVENT_NONE && on_frame(cn, ev, &m, &err) < 0) {
			/* nothing more is read from a peer we are closing */
			set_events(cn, cn->events & ~(unsigned)EPOLLIN);
			break;
		}
		if (ev == WS_EVENT_NONE && used == 0)
			break;
	}
	if (cn->state == C_STREAM)
		flush(cn);
}

static void on_head(struct conn *cn, size_t head_len, const struct http_request *req)
{
	struct err err = {0};
	const char *cl = http_request_header(req, "Content-Length");
	if (http_request_header(req, "Transfer-Encoding") ||
	    (cl && strspn(cl, "0") != strlen(cl))) {
		err_set(&err, ERR_BAD_REQUEST, "the relay takes no request body");
		conn_respond_error(cn, &err, NULL);
		return;
	}
	if (cl && !*cl) {
		err_set(&err, ERR_BAD_REQUEST, "malformed Content-Length");
		conn_respond_error(cn, &err, NULL);
		return;
	}
	cn->head_only = strcmp(req->method, "HEAD") == 0;
	routes_dispatch(cn->s->r, cn, req);
	/* a WebSocket client may send frames right behind its handshake */
	if (cn->state == C_STREAM && cn->websocket && cn->in_len > head_len)
		feed_frames(cn, cn->in + head_len, cn->in_len - head_len);
}

static void read_head(struct conn *cn)
{
	if (!cn->in) {
		cn->in_cap = 2048;
		cn->in = xmalloc(cn->in_cap + 1);
	}
	for (;;) {
		if (cn->in_len == cn->in_cap) {
			if (cn->in_cap > HTTP_HEAD_MAX)
				break; /* the parser says 431 below */
			cn->in_cap =
			    cn->in_cap * 2 > HTTP_HEAD_MAX + 1 ? HTTP_HEAD_MAX + 1 : cn->in_cap * 2;
			cn->in = xrealloc(cn->in, cn->in_cap + 1);
		}
		ssize_t n = recv(cn->fd, cn->in + cn->in_len, cn->in_cap - cn->in_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_kill(cn, NULL);
			return;
		}
		cn->in_len += (size_t)n;
	}
	cn->in[cn->in_len] = '\0';
	struct http_request req;
	const char *why;
	int rc = http_request_parse(cn->in, cn->in_len, &req, &why);
	if (rc == 0)
		return;
	if (rc < 0) {
		log_info("http %s refused with %d: %s", cn->peer, -rc, why);
		struct err err = {0};
		err_set(&err, ERR_BAD_REQUEST, "%s", why);
		struct buf b;
		buf_init(&b, 0);
		if (http_error_json(&b, &err) == 0)
			conn_respond(cn, -rc, HTTP_JSON_TYPE, NULL, b.data, b.len);
		buf_release(&b);
		return;
	}
	on_head(cn, (size_t)rc, &req);
	if (cn->state != C_HEAD && cn->state != C_DEAD) {
		free(cn->in);
		cn->in = NULL;
		cn->in_len = cn->in_cap = 0;
	}
}

/* Read what a streaming or lingering peer sent. */
static void read_stream(struct conn *cn)
{
	char buf[4096];
	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = recv(cn->fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_kill(cn, "peer closed");
			return;
		}
		if (cn->state == C_STREAM && cn->websocket)
			feed_frames(cn, buf, (size_t)n);
		if (cn->state != C_STREAM && cn->state != C_LINGER)
			return;
		if (cn->state == C_STREAM && !(cn->events & EPOLLIN))
			return; /* closing: we stopped reading */
	}
}

static void peer_name(const struct sockaddr_storage *ss, char *out, size_t cap,
		      char addr[CLIENT_IP_STRLEN])
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
	}
	snprintf(out, cap, ss->ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
	snprintf(addr, CLIENT_IP_STRLEN, "%s", host);
}

static void accept_some(struct loop *s)
{
	for (int i = 0; i < 64; i++) {
		if (atomic_load(&s->srv->nconns) >= s->cfg.max_connections) {
			/* full: leave the rest in the kernel's backlog until a
			 * connection ends */
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->lfd, NULL);
			s->accepting = 0;
			log_warn("%d connections open: not accepting until one ends",
				 s->cfg.max_connections);
			return;
		}
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				/* out of descriptors: take the connection with the
				 * spare one and close it, so the backlog does not
				 * wake us forever */
				struct server *srv = s->srv;
				pthread_mutex_lock(&srv->spare_lock);
				if (srv->spare_fd >= 0) {
					close(srv->spare_fd);
					fd = accept(s->lfd, NULL, NULL);
					if (fd >= 0)
						close(fd);
					srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
					log_warn(
					    "out of file descriptors: a connection was refused");
				}
				pthread_mutex_unlock(&srv->spare_lock);
			}
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *cn = xcalloc(1, sizeof(*cn));
		cn->s = s;
		cn->fd = fd;
		cn->state = C_HEAD;
		cn->deadline_ms = now_ms() + s->cfg.request_timeout_ms;
		peer_name(&ss, cn->peer, sizeof(cn->peer), cn->addr);
		struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = cn};
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			free(cn);
			continue;
		}
		cn->events = e.events;
		cn->next = s->conns;
		if (s->conns)
			s->conns->prev = cn;
		s->conns = cn;
		atomic_fetch_add(&s->srv->nconns, 1);
	}
}

static void run_ready(struct loop *s)
{
	uint64_t v;
	ssize_t n = read(s->evfd, &v, sizeof(v));
	(void)n;
	pthread_mutex_lock(&s->lock);
	struct client *c = s->ready_head;
	s->ready_head = s->ready_tail = NULL;
	s->wake_pending = 0;
	pthread_mutex_unlock(&s->lock);
	while (c) {
		struct client *next = c->ready_next;
		/* in_ready is cleared only here, once c is off the list: it also
		 * keeps c on the list once (ready_next is its one link) */
		pthread_mutex_lock(&c->lock);
		c->in_ready = 0;
		struct conn *cn = c->conn;
		pthread_mutex_unlock(&c->lock);
		if (cn && cn->state == C_STREAM && cn->client == c)
			flush(cn);
		client_unref(c);
		c = next;
	}
}

/* Deadlines: request heads, lingering closes, stalled readers, silent
 * WebSocket peers. */
static void check_timers(struct loop *s, long long now)
{
	struct relay *r = s->r;
	for (struct conn *cn = s->conns, *next; cn; cn = next) {
		next = cn->next;
		if (cn->state == C_HEAD || cn->state == C_RESPOND || cn->state == C_LINGER) {
			if (now >= cn->deadline_ms)
				conn_kill(cn, NULL);
			continue;
		}
		if (cn->state != C_STREAM || !cn->client)
			continue;
		struct client *c = cn->client;
		if (cn->stall_ms) {
			if (now - cn->stall_ms > CLOSE_GRACE_MS)
				conn_kill(cn, "slow consumer");
			continue;
		}
		pthread_mutex_lock(&c->lock);
		int waiting = c->count > 0 || cn->batch_i < cn->nbatch || cn->out_off < cn->out_len;
		long long idle = now - c->progress_ms;
		int stalled = waiting && idle > r->write_timeout_ms;
		if (stalled) {
			log_warn("%s#%lu %s slow consumer: took nothing for %lld ms; closing with "
				 "1008",
				 cn->websocket ? "ws" : "sse", c->id, cn->peer, idle);
			atomic_fetch_add(&relay_stats.slow_closes, 1);
			client_close_locked(c, 1008, "slow consumer");
		}
		pthread_mutex_unlock(&c->lock);
		if (stalled) {
			cn->stall_ms = now;
			continue;
		}
		if (cn->websocket && now - cn->pong_ms > 2 * r->ping_ms) {
			log_info("ws#%lu %s answered no ping for %lld ms: dropped", c->id, cn->peer,
				 now - cn->pong_ms);
			atomic_fetch_add(&relay_stats.silent_drops, 1);
			conn_kill(cn, "silent");
		}
	}
}

static void *server_main(void *arg)
{
	struct loop *s = arg;
	struct epoll_event evs[MAX_EVENTS];
	long long next_timer = now_ms() + TIMER_MS;
	while (!atomic_load(&s->srv->stop)) {
		long long now = now_ms();
		int wait = next_timer > now ? (int)(next_timer - now) : 0;
		int n = epoll_wait(s->epfd, evs, MAX_EVENTS, wait);
		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			void *tag = evs[i].data.ptr;
			if (tag == &tag_listen) {
				accept_some(s);
				continue;
			}
			if (tag == &tag_wake)
				continue; /* below, once per batch */
			struct conn *cn = tag;
			unsigned ev = evs[i].events;
			if (cn->state == C_DEAD)
				continue;
			if (ev & EPOLLERR) {
				conn_kill(cn, "socket error");
				continue;
			}
			if (ev & EPOLLOUT)
				flush(cn);
			if (cn->state == C_DEAD)
				continue;
			if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
				if (cn->state == C_HEAD)
					read_head(cn);
				else if (cn->state == C_STREAM || cn->state == C_LINGER)
					read_stream(cn);
				else if (ev & EPOLLHUP)
					conn_kill(cn, NULL);
			}
		}
		run_ready(s);
		now = now_ms();
		if (now >= next_timer) {
			check_timers(s, now);
			next_timer = now + TIMER_MS;
		}
		while (s->dead) {
			struct conn *cn = s->dead;
			s->dead = cn->next;
			free(cn->batch);
			free(cn);
		}
	}
	return NULL;
}

static int listen_on(const char *host, int port, struct err *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char ports[16];
	snprintf(ports, sizeof(ports), "%d", port);
	int rc = getaddrinfo(host, ports, &hints, &ai);
	if (rc != 0)
		return err_set(err, ERR_CONFIG, "cannot listen on %s:%d: %s", host, port,
			       gai_strerror(rc));
	int fd = -1, saved = 0;
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    a->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, 4096) < 0) {
			saved = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return err_set(err, ERR_CONFIG, "cannot listen on %s:%d: %s", host, port,
			       strerror(saved));
	return fd;
}

static void loop_release(struct loop *l)
{
	while (l->conns)
		conn_kill(l->conns, NULL);
	while (l->dead) {
		struct conn *cn = l->dead;
		l->dead = cn->next;
		free(cn->batch);
		free(cn);
	}
	/* clients scheduled after their connection ended */
	for (struct client *c = l->ready_head, *next; c; c = next) {
		next = c->ready_next;
		client_unref(c);
	}
	l->ready_head = l->ready_tail = NULL;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->evfd >= 0)
		close(l->evfd);
	pthread_mutex_destroy(&l->lock);
}

static int loop_init(struct loop *l, struct server *srv)
{
	l->srv = srv;
	l->r = srv->r;
	l->cfg = srv->cfg;
	l->lfd = srv->lfd;
	pthread_mutex_init(&l->lock, NULL);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	/* every loop accepts; EPOLLEXCLUSIVE wakes one of them per connection */
	struct epoll_event el = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &tag_listen};
	struct epoll_event ew = {.events = EPOLLIN, .data.ptr = &tag_wake};
	if (l->epfd < 0 || l->evfd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->lfd, &el) < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->evfd, &ew) < 0)
		return -1;
	l->accepting = 1;
	return 0;
}

struct server *server_new(struct relay *r, const struct server_config *cfg, struct err *err)
{
	int lfd = listen_on(cfg->host, cfg->port, err);
	if (lfd < 0)
		return NULL;
	struct server *s = xcalloc(1, sizeof(*s));
	s->r = r;
	s->cfg = *cfg;
	s->lfd = lfd;
	pthread_mutex_init(&s->spare_lock, NULL);
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	s->nloops = cfg->io_threads > 0 ? cfg->io_threads : cpus < 1 ? 1 : (int)cpus;
	if (s->nloops > MAX_LOOPS)
		s->nloops = MAX_LOOPS;
	for (int i = 0; i < s->nloops; i++) {
		if (loop_init(&s->loops[i], s) < 0) {
			err_set(err, ERR_INTERNAL, "cannot set up epoll: %s", strerror(errno));
			s->nloops = i + 1;
			server_free(s);
			return NULL;
		}
	}
	return s;
}

int server_start(struct server *s, struct err *err)
{
	for (int i = 0; i < s->nloops; i++) {
		struct loop *l = &s->loops[i];
		if (pthread_create(&l->thread, NULL, server_main, l) != 0)
			return err_set(err, ERR_INTERNAL, "cannot start an I/O thread");
		l->started = 1;
	}
	return 0;
}

int server_connections(struct server *s)
{
	return atomic_load(&s->nconns);
}

int server_io_threads(struct server *s)
{
	return s->nloops;
}

void server_free(struct server *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, 1);
	for (int i = 0; i < s->nloops; i++) {
		struct loop *l = &s->loops[i];
		if (!l->started)
			continue;
		uint64_t one = 1;
		ssize_t n = write(l->evfd, &one, sizeof(one));
		(void)n;
		pthread_join(l->thread, NULL);
	}
	for (int i = 0; i < s->nloops; i++)
		loop_release(&s->loops[i]);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	pthread_mutex_destroy(&s->spare_lock);
	free(s);
}
