/* wsload: load tool for orders-relay (issue 3, "Benchmark").
 *
 * One process, one epoll loop, non-blocking everywhere: N WebSocket clients
 * of the relay and one libpq connection in pipeline mode. Phases:
 *   connect  open the clients in batches of --ramp, wait for every hello;
 *   write    E changes/s for T seconds, R rows per transaction; each
 *            transaction also returns its own seqs, and the moment its
 *            commit (pipeline sync) is seen is that seqs' commit time;
 *   drain    wait (bounded) until every client has every committed seq;
 * then report deliveries expected vs received, duplicates, out-of-order,
 * commit-to-receive latency, our own CPU, the relay's RSS and CPU time per
 * delivery (--relay-pid). Frames are not parsed as JSON: the type and
 * "seq": are found by a prefix test and memmem.
 *
 * Exit: 0 no loss, duplicate or reordering; 1 otherwise or on failure;
 * 2 usage error. */
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "http_response.h"
#include "http_url.h"
#include "latency_hist.h"
#include "proc_stat.h"
#include "ws_frame.h"
#include "xalloc.h"

#include <errno.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF_SIZE    (256 * 1024)
#define MAX_INFLIGHT 64		   /* transactions in the pipeline at once */
#define MAX_MESSAGE  (1024 * 1024) /* cap on one relay message */
#define MAX_ATTEMPTS 5		   /* connection attempts per client */
#define PENDING_MAX  (1 << 22)	   /* deliveries seen before their commit */
#define PG_TAG	     UINT64_MAX

static volatile sig_atomic_t stop;

enum cstate { C_IDLE, C_CONNECTING, C_HANDSHAKE, C_OPEN, C_CLOSED };

struct handshake {
	struct http_parser parser;
	struct http_response resp;
	char accept[WS_ACCEPT_LEN + 1];
};

struct client {
	int fd;
	enum cstate state;
	int attempts, hello;
	int64_t retry_ns; /* not before this (CLOCK_MONOTONIC) */
	struct buf out;	  /* handshake, pongs, close: bytes not yet written */
	size_t out_off;
	struct handshake *hs;
	struct ws_decoder dec;
	long long last; /* highest seq received */
	long long got;	/* distinct committed seqs of ours received */
	uint64_t *bits; /* received seqs, bit (seq - base - 1) */
	size_t nwords;
};

struct pending {
	uint32_t client;
	uint32_t off;
	int64_t recv_ns;
};

struct opts {
	const char *url, *db;
	long clients, rate, seconds, rows, ramp, relay_pid;
	double drain_s, connect_s;
	int json;
};

struct load {
	struct opts o;
	struct http_url url;
	struct addrinfo *ai;
	int ep;
	struct client *c;
	long *queue; /* clients waiting to (re)connect, a ring */
	long qhead, qlen, connecting, ready, failed, closed_after_hello;
	unsigned last_close_code;
	int errors_logged;
	char *rbuf;
	PGconn *pg;
	int pg_want_write;
	long long base; /* highest seq delivered before the write phase */
	int measuring;
	int64_t *commit_ns; /* commit time of our seq base+1+i, 0 = not ours */
	size_t range;
	long long *cur_seqs; /* seqs of the transaction being answered */
	long ncur, tx_total, tx_sent, tx_inflight, tx_failed, nulls;
	long long committed, max_seq;
	long long received, dups, ooo, history, foreign, out_of_range, early, resyncs;
	struct pending *pend;
	size_t npend, pend_dropped;
	struct latency_hist lat;
	int64_t t_write, t_last_commit;
};

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void lat_add(struct load *L, int64_t ns)
{
	if (ns < 0)
		L->early++; /* delivered before we saw the commit: counts as 0 */
	latency_hist_add(&L->lat, ns);
}

static void epoll_set(struct load *L, int op, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = {.events = events, .data.u64 = tag};
	if (epoll_ctl(L->ep, op, fd, &ev) < 0 && op != EPOLL_CTL_DEL) {
		fprintf(stderr, "wsload: epoll_ctl: %s\n", strerror(errno));
		exit(1);
	}
}

static void client_reset(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_release(&c->out);
	c->out_off = 0;
	if (c->hs) {
		http_parser_release(&c->hs->parser);
		http_response_release(&c->hs->resp);
		free(c->hs);
		c->hs = NULL;
	}
	ws_decoder_release(&c->dec);
}

/* The connection failed or ended: retry a client that never said hello,
 * otherwise count it as lost (its missing deliveries show in the report). */
static void client_fail(struct load *L, long i, const char *fmt, const char *detail)
{
	struct client *c = &L->c[i];
	int was_ready = c->hello, was_busy = c->state == C_CONNECTING || c->state == C_HANDSHAKE ||
					     (c->state == C_OPEN && !c->hello);
	if (L->errors_logged < 5 && fmt) {
		fprintf(stderr, "wsload: client %ld: ", i);
		fprintf(stderr, fmt, detail);
		fputc('\n', stderr);
		if (++L->errors_logged == 5)
			fprintf(stderr, "wsload: (further client errors not shown)\n");
	}
	client_reset(c);
	if (was_busy)
		L->connecting--;
	if (was_ready) {
		c->state = C_CLOSED;
		L->closed_after_hello++;
	} else if (++c->attempts < MAX_ATTEMPTS && !L->measuring) {
		c->state = C_IDLE; /* a full listen backlog refuses: come back later */
		c->retry_ns = clock_now_ns() + c->attempts * (int64_t)200000000;
		L->queue[(L->qhead + L->qlen++) % L->o.clients] = i;
	} else {
		c->state = C_CLOSED;
		L->failed++;
	}
}

static int client_flush(struct load *L, long i)
{
	struct client *c = &L->c[i];
	while (c->out_off < c->out.len) {
		ssize_t n =
		    send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			epoll_set(L, EPOLL_CTL_MOD, c->fd, EPOLLIN | EPOLLOUT, (uint64_t)i);
			return 0;
		}
		if (n < 0) {
			client_fail(L, i, "send: %s", strerror(errno));
			return -1;
		}
		c->out_off += (size_t)n;
	}
	buf_reset(&c->out);
	c->out_off = 0;
	epoll_set(L, EPOLL_CTL_MOD, c->fd, EPOLLIN, (uint64_t)i);
	return 0;
}

static void client_start(struct load *L, long i)
{
	struct client *c = &L->c[i];
	char key[WS_KEY_LEN + 1];
	c->fd = socket(L->ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	L->connecting++;
	c->state = C_CONNECTING;
	if (c->fd < 0) {
		client_fail(L, i, "socket: %s", strerror(errno));
		return;
	}
	if (connect(c->fd, L->ai->ai_addr, L->ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		client_fail(L, i, "connect: %s", strerror(errno));
		return;
	}
	if (ws_client_key(key) < 0) {
		client_fail(L, i, "%s", "no random bytes for the key");
		return;
	}
	c->hs = xcalloc(1, sizeof(*c->hs));
	http_response_init(&c->hs->resp, 4096);
	http_parser_init(&c->hs->parser, &c->hs->resp, 1);
	ws_accept_key(key, c->hs->accept);
	ws_decoder_init(&c->dec, MAX_MESSAGE);
	buf_init(&c->out, 16384);
	if (buf_printf(&c->out,
		       "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
		       "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
		       "Sec-WebSocket-Version: 13\r\nUser-Agent: wsload\r\n\r\n",
		       L->url.target, L->url.host, L->url.port, key) < 0) {
		client_fail(L, i, "%s", "request too long");
		return;
	}
	epoll_set(L, EPOLL_CTL_ADD, c->fd, EPOLLOUT, (uint64_t)i);
}

/* Cheap field access: the value after "key": (blanks skipped), or NULL. */
static const char *field(const char *p, size_t len, const char *key, size_t klen)
{
	const char *f = memmem(p, len, key, klen);
	if (!f)
		return NULL;
	f += klen;
	while (f < p + len && (*f == ' ' || *f == ':'))
		f++;
	return f;
}

static long long parse_seq(const char *p, size_t len)
{
	const char *f = field(p, len, "\"seq\"", 5);
	long long v = 0;
	if (!f || *f < '0' || *f > '9')
		return -1;
	while (*f >= '0' && *f <= '9')
		v = v * 10 + (*f++ - '0');
	return v;
}

static void on_change(struct load *L, long i, long long seq)
{
	struct client *c = &L->c[i];
	if (seq < 0 || !L->measuring || seq <= L->base) {
		L->history++;
		return;
	}
	size_t off = (size_t)(seq - L->base - 1);
	if (off >= L->range) {
		L->out_of_range++;
		return;
	}
	if (off / 64 >= c->nwords) {
		size_t n = c->nwords ? c->nwords : 16;
		while (n <= off / 64)
			n *= 2;
		c->bits = xrealloc(c->bits, n * sizeof(*c->bits));
		memset(c->bits + c->nwords, 0, (n - c->nwords) * sizeof(*c->bits));
		c->nwords = n;
	}
	uint64_t bit = 1ULL << (off % 64);
	if (c->bits[off / 64] & bit) {
		L->dups++;
		return;
	}
	c->bits[off / 64] |= bit;
	if (seq < c->last)
		L->ooo++;
	else
		c->last = seq;
	int64_t t = clock_now_ns();
	if (L->commit_ns[off]) {
		lat_add(L, t - L->commit_ns[off]);
		c->got++;
		L->received++;
	} else if (L->npend < PENDING_MAX) {
		/* its commit (or that it is not ours) is not known yet */
		L->pend[L->npend++] = (struct pending){(uint32_t)i, (uint32_t)off, t};
	} else {
		L->pend_dropped++;
	}
}

static void on_message(struct load *L, long i, const char *p, size_t len)
{
	const char *t;
	if (len > 9 && memcmp(p, "{\"type\":\"", 9) == 0)
		t = p + 9;
	else if ((t = field(p, len, "\"type\"", 6)) != NULL && *t == '"')
		t++;
	else
		return;
	if (strncmp(t, "order_change\"", 13) == 0) {
		on_change(L, i, parse_seq(p, len));
	} else if (strncmp(t, "hello\"", 6) == 0 && !L->c[i].hello) {
		long long seq = parse_seq(p, len);
		L->c[i].hello = 1;
		L->c[i].last = seq;
		L->ready++;
		L->connecting--;
		if (seq > L->base)
			L->base = seq;
	} else if (strncmp(t, "resync\"", 7) == 0) {
		L->resyncs++;
	}
}

/* Feed bytes to the client's decoder; 0, or -1 when the client is gone. */
static int client_frames(struct load *L, long i, const char *data, size_t n)
{
	struct client *c = &L->c[i];
	struct ws_message m;
	struct err err;
	size_t off = 0, used;
	unsigned char mask[4] = {0x5a, 0x17, 0xc3, 0x81};
	unsigned char payload[WS_CONTROL_MAX];
	while (off < n) {
		enum ws_event ev = ws_decoder_feed(&c->dec, data + off, n - off, &used, &m, &err);
		off += used;
		switch (ev) {
		case WS_EVENT_NONE:
			return 0;
		case WS_EVENT_MESSAGE:
			on_message(L, i, (const char *)m.data, m.len);
			break;
		case WS_EVENT_PING:
			if (ws_frame_encode(&c->out, 1, WS_OP_PONG, m.data, m.len, mask) < 0 ||
			    client_flush(L, i) < 0)
				return -1;
			break;
		case WS_EVENT_PONG:
			break;
		case WS_EVENT_CLOSE: {
			size_t plen = ws_close_payload(payload, WS_CLOSE_NORMAL, "");
			L->last_close_code = m.close_code;
			if (ws_frame_encode(&c->out, 1, WS_OP_CLOSE, payload, plen, mask) == 0)
				(void)!send(c->fd, c->out.data + c->out_off,
					    c->out.len - c->out_off, MSG_NOSIGNAL);
			client_fail(L, i, "closed by the relay: %s", m.close_reason);
			return -1;
		}
		case WS_EVENT_ERROR:
			client_fail(L, i, "%s", err.msg);
			return -1;
		}
	}
	return 0;
}

static void client_event(struct load *L, long i, uint32_t events)
{
	struct client *c = &L->c[i];
	if (c->state == C_CONNECTING) {
		int e = 0;
		socklen_t sl = sizeof(e);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0 || e) {
			client_fail(L, i, "connect: %s", strerror(e ? e : errno));
			return;
		}
		c->state = C_HANDSHAKE;
		client_flush(L, i);
		return;
	}
	if ((events & EPOLLOUT) && client_flush(L, i) < 0)
		return;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	ssize_t n = recv(c->fd, L->rbuf, RBUF_SIZE, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_fail(L, i, "connection lost: %s", n ? strerror(errno) : "end of stream");
		return;
	}
	size_t used = 0;
	if (c->state == C_HANDSHAKE) {
		struct err err;
		int rc = http_parser_feed(&c->hs->parser, L->rbuf, (size_t)n, &used, &err);
		if (rc < 0) {
			client_fail(L, i, "handshake: %s", err.msg);
			return;
		}
		if (rc == 0)
			return;
		const char *acc = http_response_header(&c->hs->resp, "Sec-WebSocket-Accept");
		if (c->hs->resp.status != 101 || !acc || strcmp(acc, c->hs->accept) != 0) {
			client_fail(L, i, "handshake refused: HTTP %s", c->hs->resp.reason);
			return;
		}
		http_parser_release(&c->hs->parser);
		http_response_release(&c->hs->resp);
		free(c->hs);
		c->hs = NULL;
		c->state = C_OPEN;
	}
	client_frames(L, i, L->rbuf + used, (size_t)n - used);
}

static const char SQL_BEFORE[] =
    "SELECT set_config('wsload.before', (CASE WHEN is_called THEN last_value "
    "ELSE last_value - 1 END)::text, true) FROM order_changes_seq";
static const char SQL_INSERT[] =
    "INSERT INTO orders (customer_name, product_name) "
    "SELECT 'wsload', 'item ' || g FROM generate_series(1, $1::int) AS g";
static const char SQL_SEQS[] =
    "SELECT seq FROM order_changes WHERE seq > current_setting('wsload.before')::bigint "
    "AND xmin = (pg_current_xact_id()::text::bigint % 4294967296)::text::xid ORDER BY seq";

static int pg_fail(struct load *L, const char *what)
{
	fprintf(stderr, "wsload: database: %s: %s", what, PQerrorMessage(L->pg));
	return -1;
}

static int pg_flush(struct load *L)
{
	int rc = PQflush(L->pg);
	if (rc < 0)
		return pg_fail(L, "send");
	if (rc != L->pg_want_write) {
		L->pg_want_write = rc;
		epoll_set(L, EPOLL_CTL_MOD, PQsocket(L->pg), EPOLLIN | (rc ? EPOLLOUT : 0), PG_TAG);
	}
	return 0;
}

/* One transaction of R rows: three statements and a sync, which commits
 * the implicit transaction (the pipeline sync result marks the commit). */
static int pg_send_tx(struct load *L)
{
	char rows[24];
	const char *params[1] = {rows};
	snprintf(rows, sizeof(rows), "%ld", L->o.rows);
	if (!PQsendQueryParams(L->pg, SQL_BEFORE, 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsendQueryParams(L->pg, SQL_INSERT, 1, NULL, params, NULL, NULL, 0) ||
	    !PQsendQueryParams(L->pg, SQL_SEQS, 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQpipelineSync(L->pg))
		return pg_fail(L, "queue");
	L->tx_sent++;
	L->tx_inflight++;
	return pg_flush(L);
}

static int pg_results(struct load *L)
{
	if (!PQconsumeInput(L->pg))
		return pg_fail(L, "receive");
	L->nulls = 0;
	while (L->tx_inflight > 0 && !PQisBusy(L->pg)) {
		PGresult *r = PQgetResult(L->pg);
		if (!r) {
			if (++L->nulls > 2) /* nothing more to read now */
				break;
			continue;
		}
		L->nulls = 0;
		switch (PQresultStatus(r)) {
		case PGRES_TUPLES_OK:
			if (strcmp(PQfname(r, 0), "seq") != 0)
				break;
			for (int k = 0; k < PQntuples(r) && L->ncur < L->o.rows; k++)
				L->cur_seqs[L->ncur++] = atoll(PQgetvalue(r, k, 0));
			break;
		case PGRES_COMMAND_OK:
			break;
		case PGRES_PIPELINE_SYNC: {
			int64_t t = clock_now_ns();
			for (long k = 0; k < L->ncur; k++) {
				long long off = L->cur_seqs[k] - L->base - 1;
				if (off < 0 || (size_t)off >= L->range) {
					L->out_of_range++;
					continue;
				}
				L->commit_ns[off] = t;
				L->committed++;
				if (L->cur_seqs[k] > L->max_seq)
					L->max_seq = L->cur_seqs[k];
			}
			L->ncur = 0;
			L->tx_inflight--;
			L->t_last_commit = t;
			break;
		}
		case PGRES_PIPELINE_ABORTED: /* after an error: the transaction rolls back */
			break;
		default:
			if (L->tx_failed++ < 3)
				fprintf(stderr, "wsload: transaction failed: %s",
					PQresultErrorMessage(r));
			L->ncur = 0;
			break;
		}
		PQclear(r);
	}
	return pg_flush(L);
}

/* Wait for events once (at most 1 ms) and dispatch them, the database
 * first so that a commit is recorded before the deliveries read with it. */
static int loop_once(struct load *L)
{
	struct epoll_event ev[1024];
	int n = epoll_wait(L->ep, ev, 1024, 1);
	if (n < 0 && errno != EINTR) {
		fprintf(stderr, "wsload: epoll_wait: %s\n", strerror(errno));
		return -1;
	}
	int pg_ready = 0;
	for (int k = 0; k < n; k++) {
		if (ev[k].data.u64 != PG_TAG)
			continue;
		pg_ready = 1;
		if ((ev[k].events & EPOLLOUT) && pg_flush(L) < 0)
			return -1;
	}
	for (int k = 0; k < n || k == 0; k++) {
		/* also when the database socket is not in this batch (a full
		 * batch may leave it out), and again every 128 clients: a
		 * commit must not be read later than the deliveries after it */
		if (k % 128 == 0 && (pg_ready || L->tx_inflight > 0) && pg_results(L) < 0)
			return -1;
		if (k < n && ev[k].data.u64 != PG_TAG && L->c[ev[k].data.u64].fd >= 0)
			client_event(L, (long)ev[k].data.u64, ev[k].events);
	}
	return 0;
}

/* The options, by their index in the table below. */
enum wsload_option {
	OPT_ORDERS_RELAY_URL,
	OPT_DATABASE_URL,
	OPT_WSLOAD_CLIENTS,
	OPT_WSLOAD_RATE,
	OPT_WSLOAD_SECONDS,
	OPT_WSLOAD_ROWS_PER_TX,
	OPT_WSLOAD_RELAY_PID,
	OPT_WSLOAD_RAMP,
	OPT_WSLOAD_CONNECT_TIMEOUT,
	OPT_WSLOAD_DRAIN_TIMEOUT,
	OPT_JSON,
	N_OPTIONS
};

static const struct config_option options[N_OPTIONS] = {
    [OPT_ORDERS_RELAY_URL] = {"ORDERS_RELAY_URL", "url", "ws://127.0.0.1:8080/", CONFIG_WS_URL,
			      "relay stream to load; a query such as ?since=0 is passed on"},
    [OPT_DATABASE_URL] = {"DATABASE_URL", "db", NULL, CONFIG_DB_URL,
			  "libpq URI or conninfo of the relay's database"},
    [OPT_WSLOAD_CLIENTS] = {"WSLOAD_CLIENTS", "clients", "100", CONFIG_COUNT,
			    "WebSocket clients N"},
    [OPT_WSLOAD_RATE] = {"WSLOAD_RATE", "rate", "100", CONFIG_COUNT,
			 "changes E written per second"},
    [OPT_WSLOAD_SECONDS] = {"WSLOAD_SECONDS", "seconds", "10", CONFIG_COUNT,
			    "length T of the write phase, seconds"},
    [OPT_WSLOAD_ROWS_PER_TX] = {"WSLOAD_ROWS_PER_TX", "rows-per-tx", "1", CONFIG_COUNT,
				"rows R per transaction"},
    [OPT_WSLOAD_RELAY_PID] = {"WSLOAD_RELAY_PID", "relay-pid", NULL, CONFIG_COUNT,
			      "sample this process's RSS and CPU time (/proc)"},
    [OPT_WSLOAD_RAMP] = {"WSLOAD_RAMP", "ramp", "500", CONFIG_COUNT,
			 "connections being opened at once"},
    [OPT_WSLOAD_CONNECT_TIMEOUT] = {"WSLOAD_CONNECT_TIMEOUT", "connect-timeout", "60s",
				    CONFIG_DURATION, "for every client to get its hello"},
    [OPT_WSLOAD_DRAIN_TIMEOUT] = {"WSLOAD_DRAIN_TIMEOUT", "drain-timeout", "10s", CONFIG_DURATION,
				  "wait for stragglers after the writes"},
    [OPT_JSON] = {NULL, "json", NULL, CONFIG_BOOL, "also print the result as one JSON line"},
};

static const char ABOUT[] =
    "Opens N WebSocket clients to orders-relay, writes E changes/s into the\n"
    "orders table for T seconds, and reports deliveries expected vs received,\n"
    "duplicates, out-of-order, commit-to-receive latency, its own CPU and the\n"
    "relay's RSS and CPU time per delivery. --json also prints the result as\n"
    "one JSON line. Exit status: 0 nothing lost, duplicated or reordered;\n"
    "1 otherwise or on failure; 2 usage error.";

static int parse_opts(int argc, char **argv, struct opts *o)
{
	struct config cfg = {0};
	struct err err;
	int rc = config_load(&cfg, "wsload", "wsload --db URL [--json] [OPTION...]", ABOUT, options,
			     N_OPTIONS, argc, argv, &err);
	if (rc == 0 && !config_str(&cfg, OPT_DATABASE_URL))
		rc = err_set(&err, ERR_CONFIG, "DATABASE_URL (--db) is required");
	if (rc == 0) {
		o->json = config_num(&cfg, OPT_JSON) != 0;
		o->url = xstrdup(config_str(&cfg, OPT_ORDERS_RELAY_URL));
		o->db = xstrdup(config_str(&cfg, OPT_DATABASE_URL));
		o->clients = config_num(&cfg, OPT_WSLOAD_CLIENTS);
		o->rate = config_num(&cfg, OPT_WSLOAD_RATE);
		o->seconds = config_num(&cfg, OPT_WSLOAD_SECONDS);
		o->rows = config_num(&cfg, OPT_WSLOAD_ROWS_PER_TX);
		o->relay_pid = config_num(&cfg, OPT_WSLOAD_RELAY_PID);
		o->ramp = config_num(&cfg, OPT_WSLOAD_RAMP);
		o->connect_s = (double)config_num(&cfg, OPT_WSLOAD_CONNECT_TIMEOUT) / 1000;
		o->drain_s = (double)config_num(&cfg, OPT_WSLOAD_DRAIN_TIMEOUT) / 1000;
	} else if (rc < 0) {
		fprintf(stderr, "wsload: %s\nTry 'wsload --help'\n", err.msg);
	}
	config_release(&cfg);
	return rc;
}

static int setup(struct load *L)
{
	struct err err;
	struct rlimit rl;
	rlim_t need = (rlim_t)L->o.clients + 64;
	if (http_url_parse(L->o.url, &L->url, &err) < 0 || strcmp(L->url.scheme, "ws") != 0) {
		fprintf(stderr, "wsload: --url: %s\n", err.msg[0] ? err.msg : "not ws://");
		return -1;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		rl.rlim_cur = need;
		if (rl.rlim_max < need)
			rl.rlim_max = need; /* only root may raise the hard limit */
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			fprintf(stderr, "wsload: cannot allow %lu open files: %s\n",
				(unsigned long)need, strerror(errno));
			return -1;
		}
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	int rc = getaddrinfo(L->url.host, L->url.port, &hints, &L->ai);
	if (rc) {
		fprintf(stderr, "wsload: %s: %s\n", L->url.host, gai_strerror(rc));
		return -1;
	}
	L->pg = PQconnectdb(L->o.db);
	if (PQstatus(L->pg) != CONNECTION_OK)
		return pg_fail(L, "connect");
	if (PQsetnonblocking(L->pg, 1) < 0 || !PQenterPipelineMode(L->pg))
		return pg_fail(L, "pipeline mode");
	L->ep = epoll_create1(EPOLL_CLOEXEC);
	epoll_set(L, EPOLL_CTL_ADD, PQsocket(L->pg), EPOLLIN, PG_TAG);
	L->c = xcalloc((size_t)L->o.clients, sizeof(*L->c));
	L->queue = xcalloc((size_t)L->o.clients, sizeof(*L->queue));
	for (long i = 0; i < L->o.clients; i++) {
		L->c[i].fd = -1;
		L->queue[i] = i;
	}
	L->qlen = L->o.clients;
	L->rbuf = xmalloc(RBUF_SIZE);
	L->tx_total = (L->o.rate * L->o.seconds + L->o.rows - 1) / L->o.rows;
	L->range = (size_t)(L->tx_total * L->o.rows) * 2 + 100000;
	L->commit_ns = xcalloc(L->range, sizeof(*L->commit_ns));
	L->cur_seqs = xcalloc((size_t)L->o.rows, sizeof(*L->cur_seqs));
	L->pend = xcalloc(PENDING_MAX, sizeof(*L->pend));
	return 0;
}

/* Commits now known settle the deliveries that arrived before them. */
static void resolve_pending(struct load *L)
{
	for (size_t k = 0; k < L->npend; k++) {
		struct pending *p = &L->pend[k];
		if (!L->commit_ns[p->off]) {
			L->foreign++;
			continue;
		}
		lat_add(L, p->recv_ns - L->commit_ns[p->off]);
		L->c[p->client].got++;
		L->received++;
	}
	L->npend = 0;
}

static int all_delivered(const struct load *L)
{
	for (long i = 0; i < L->o.clients; i++)
		if (L->c[i].state == C_OPEN && L->c[i].got < L->committed)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	static struct load L;
	int rc = parse_opts(argc, argv, &L.o);
	if (rc != 0)
		return rc < 0 ? 2 : 0;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (setup(&L) < 0)
		return 1;

	/* connect: at most --ramp clients between connect() and hello */
	int64_t t0 = clock_now_ns(), deadline = t0 + (int64_t)(L.o.connect_s * 1e9);
	while (!stop && L.ready + L.failed < L.o.clients && clock_now_ns() < deadline) {
		while (L.qlen > 0 && L.connecting < L.o.ramp &&
		       L.c[L.queue[L.qhead]].retry_ns <= clock_now_ns()) {
			long i = L.queue[L.qhead];
			L.qhead = (L.qhead + 1) % L.o.clients;
			L.qlen--;
			client_start(&L, i);
		}
		if (loop_once(&L) < 0)
			return 1;
	}
	for (long i = 0; i < L.o.clients; i++)
		if (!L.c[i].hello && L.c[i].state != C_CLOSED) {
			client_reset(&L.c[i]);
			L.c[i].state = C_CLOSED;
			L.failed++;
		}
	double connect_s = (double)(clock_now_ns() - t0) / 1e9;
	fprintf(stderr, "wsload: %ld of %ld clients ready in %.1f s (hello seq %lld)\n", L.ready,
		L.o.clients, connect_s, L.base);
	if (!L.ready)
		return 1;

	/* write: E changes/s on the timetable, then wait for the commits */
	struct proc_stat r0 = {0}, r1 = {0};
	int have_relay = L.o.relay_pid > 0 && proc_stat_read((pid_t)L.o.relay_pid, &r0) == 0;
	double cpu0 = proc_stat_self_cpu();
	L.measuring = 1;
	L.t_write = clock_now_ns();
	double tx_rate = (double)L.o.rate / (double)L.o.rows;
	deadline = L.t_write + (L.o.seconds + 30) * (int64_t)1000000000;
	while (!stop && (L.tx_sent < L.tx_total || L.tx_inflight > 0) &&
	       clock_now_ns() < deadline) {
		long due = (long)((double)(clock_now_ns() - L.t_write) / 1e9 * tx_rate) + 1;
		if (due > L.tx_total)
			due = L.tx_total;
		while (L.tx_sent < due && L.tx_inflight < MAX_INFLIGHT)
			if (pg_send_tx(&L) < 0)
				return 1;
		if (loop_once(&L) < 0)
			return 1;
	}
	double write_s = (double)(L.t_last_commit - L.t_write) / 1e9;

	/* drain: every open client has every committed seq, or time is up */
	resolve_pending(&L);
	int64_t t_drain = clock_now_ns(), next_check = 0;
	deadline = t_drain + (int64_t)(L.o.drain_s * 1e9);
	while (!stop && clock_now_ns() < deadline) {
		if (clock_now_ns() >= next_check) {
			if (all_delivered(&L))
				break;
			next_check = clock_now_ns() + 10000000;
		}
		if (loop_once(&L) < 0)
			return 1;
	}
	resolve_pending(&L);
	double drain_s = (double)(clock_now_ns() - t_drain) / 1e9;
	double wall = (double)(clock_now_ns() - L.t_write) / 1e9, cpu = proc_stat_self_cpu() - cpu0;
	if (have_relay)
		have_relay = proc_stat_read((pid_t)L.o.relay_pid, &r1) == 0;

	long long expected = L.committed * L.o.clients, missing = expected - L.received;
	double deliv = L.received ? (double)L.received : 1;
	double p50 = (double)latency_hist_quantile(&L.lat, 0.50) / 1e6;
	double p99 = (double)latency_hist_quantile(&L.lat, 0.99) / 1e6,
	       max = (double)L.lat.max_ns / 1e6;
	double rcpu = r1.cpu_s - r0.cpu_s;
	int ok = !missing && !L.dups && !L.ooo && !L.tx_failed && !stop;
	printf("wsload: N=%ld clients (%ld ready, %ld failed, %ld closed later, last close code "
	       "%u), E=%ld/s x %ld s, R=%ld rows/tx%s\n",
	       L.o.clients, L.ready, L.failed, L.closed_after_hello, L.last_close_code, L.o.rate,
	       L.o.seconds, L.o.rows, stop ? " (INTERRUPTED)" : "");
	printf("  changes committed %lld in %.1f s (%.0f/s), %ld transactions failed\n",
	       L.committed, write_s, write_s > 0 ? (double)L.committed / write_s : 0, L.tx_failed);
	printf("  deliveries        expected %lld received %lld missing %lld duplicates %lld "
	       "out-of-order %lld (drain %.1f s)\n",
	       expected, L.received, missing, L.dups, L.ooo, drain_s);
	printf("  latency           p50 %.2f ms  p99 %.2f ms  max %.2f ms (commit -> receive)\n",
	       p50, p99, max);
	if (have_relay)
		printf("  relay             RSS %.1f MB (peak %.1f MB), CPU %.2f s = %.2f "
		       "us/delivery\n",
		       r1.rss_kb / 1024.0, r1.hwm_kb / 1024.0, rcpu, rcpu * 1e6 / deliv);
	printf("  wsload            CPU %.2f s over %.1f s (%.0f%% of a core) = %.2f us/delivery\n",
	       cpu, wall, 100 * cpu / wall, cpu * 1e6 / deliv);
	if (L.history || L.foreign || L.out_of_range || L.early || L.resyncs || L.pend_dropped)
		printf("  also              %lld replayed, %lld not ours, %lld out of range, "
		       "%lld seen before their commit, %lld resync, %zu unresolved\n",
		       L.history, L.foreign, L.out_of_range, L.early, L.resyncs, L.pend_dropped);
	if (L.o.json)
		printf("{\"clients\":%ld,\"ready\":%ld,\"connect_failed\":%ld,\"closed\":%ld,"
		       "\"last_close_code\":%u,\"rate\":%ld,\"seconds\":%ld,\"rows_per_tx\":%ld,"
		       "\"connect_s\":%.2f,\"write_s\":%.2f,\"drain_s\":%.2f,\"committed\":%lld,"
		       "\"tx_failed\":%ld,\"expected\":%lld,\"received\":%lld,\"missing\":%lld,"
		       "\"duplicates\":%lld,\"out_of_order\":%lld,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
		       "\"max_ms\":%.3f,\"relay_rss_kb\":%ld,\"relay_hwm_kb\":%ld,"
		       "\"relay_cpu_s\":%.2f,\"relay_us_per_delivery\":%.3f,\"tool_cpu_s\":%.2f,"
		       "\"tool_cpu_pct\":%.1f,\"tool_us_per_delivery\":%.3f,\"early\":%lld,"
		       "\"ok\":%s}\n",
		       L.o.clients, L.ready, L.failed, L.closed_after_hello, L.last_close_code,
		       L.o.rate, L.o.seconds, L.o.rows, connect_s, write_s, drain_s, L.committed,
		       L.tx_failed, expected, L.received, missing, L.dups, L.ooo, p50, p99, max,
		       r1.rss_kb, r1.hwm_kb, have_relay ? rcpu : -1.0,
		       have_relay ? rcpu * 1e6 / deliv : -1.0, cpu, 100 * cpu / wall,
		       cpu * 1e6 / deliv, L.early, ok ? "true" : "false");
	fflush(stdout);
	return ok ? 0 : 1;
}
