#include "sender.h"

#include "buf.h"
#include "client.h"
#include "clock.h"
#include "log.h"
#include "stats.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Most bytes one write takes from a client before others get a turn. */
#define SENDER_BATCH_BYTES (256 * 1024)
/* A write taking longer than this counts as stuck. */
#define SENDER_STUCK_MS 20

struct sender {
	struct sender_pool *pool;
	pthread_t thread;
	atomic_llong write_start_ms; /* 0 when not writing */
};

struct sender_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct client *head, *tail; /* ready queue */
	int stop;
	int idle;
	int n, max;
	struct sender *senders; /* max entries, n started */
};

static void *sender_main(void *arg);

static void spawn_locked(struct sender_pool *p)
{
	struct sender *s = &p->senders[p->n];
	s->pool = p;
	atomic_init(&s->write_start_ms, 0);
	if (pthread_create(&s->thread, NULL, sender_main, s) != 0) {
		log_error("cannot start a sender thread");
		return;
	}
	p->n++;
	atomic_store(&relay_stats.sender_threads, p->n);
	if (p->n > 2)
		log_debug("sender pool grew to %d threads", p->n);
}

struct sender_pool *sender_pool_new(int min, int max)
{
	struct sender_pool *p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->max = max < min ? min : max;
	p->senders = xcalloc((size_t)p->max, sizeof(*p->senders));
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < min; i++)
		spawn_locked(p);
	pthread_mutex_unlock(&p->lock);
	return p;
}

/* Every sender busy and at least one stuck: add one. p->lock held. */
static void maybe_grow_locked(struct sender_pool *p)
{
	if (p->idle > 0 || p->n >= p->max || !p->head)
		return;
	long long now = clock_now_ms();
	for (int i = 0; i < p->n; i++) {
		long long t = atomic_load(&p->senders[i].write_start_ms);
		if (t && now - t > SENDER_STUCK_MS) {
			spawn_locked(p);
			return;
		}
	}
}

void sender_pool_check(struct sender_pool *p)
{
	pthread_mutex_lock(&p->lock);
	maybe_grow_locked(p);
	pthread_mutex_unlock(&p->lock);
}

/* Append c to the ready queue. p->lock held. */
static void enqueue_locked(struct sender_pool *p, struct client *c)
{
	c->ready_next = NULL;
	if (p->tail)
		p->tail->ready_next = c;
	else
		p->head = c;
	p->tail = c;
}

void sender_schedule(struct sender_pool *p, struct client *c)
{
	c->in_ready = 1;
	client_ref(c);
	pthread_mutex_lock(&p->lock);
	enqueue_locked(p, c);
	if (p->idle > 0)
		pthread_cond_signal(&p->cond);
	else
		maybe_grow_locked(p);
	pthread_mutex_unlock(&p->lock);
}

static struct client *pop(struct sender_pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (!p->head && !p->stop) {
		p->idle++;
		pthread_cond_wait(&p->cond, &p->lock);
		p->idle--;
	}
	struct client *c = p->head;
	if (c) {
		p->head = c->ready_next;
		if (!p->head)
			p->tail = NULL;
		c->ready_next = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	return c;
}

/* Write one batch to c; returns with c unscheduled or rescheduled. */
static void serve(struct sender *s, struct client *c, struct buf *scratch, struct msg ***vec,
		  size_t *veccap)
{
	pthread_mutex_lock(&c->lock);
	if (!c->conn || c->failed || c->count == 0) {
		c->in_ready = 0;
		pthread_mutex_unlock(&c->lock);
		client_unref(c);
		return;
	}
	size_t n = 0, bytes = 0, queued = 0;
	int has_close = 0, sse = c->sse;
	long long top = 0;
	while (c->count && (n == 0 || bytes + c->ring[c->head]->len <= SENDER_BATCH_BYTES)) {
		struct msg *m = c->ring[c->head];
		c->head = (c->head + 1) % c->cap;
		c->count--;
		if (n == *veccap) {
			*veccap = *veccap ? *veccap * 2 : 64;
			*vec = xrealloc(*vec, *veccap * sizeof(**vec));
		}
		(*vec)[n++] = m;
		queued += m->len;
		/* the transport's own framing of the same message */
		bytes += sse ? msg_sse(m)->len : m->len;
		if (m->kind == MSG_CLOSE)
			has_close = 1;
		if (m->seq > top)
			top = m->seq;
		if (m->seq > 0)
			c->queued_events--;
	}
	c->queued_bytes -= queued;
	c->inflight_bytes = queued;
	c->busy = 1;
	struct mg_connection *conn = c->conn;
	pthread_mutex_unlock(&c->lock);

	const void *data = sse ? msg_sse((*vec)[0])->bytes : (*vec)[0]->bytes;
	if (n > 1) {
		buf_reset(scratch);
		for (size_t i = 0; i < n; i++) {
			const struct msg *w = sse ? msg_sse((*vec)[i]) : (*vec)[i];
			if (buf_append(scratch, w->bytes, w->len) < 0)
				abort(); /* scratch has no cap */
		}
		data = scratch->data;
	}
	int ok = 1;
	if (bytes) { /* an SSE client's pings have no bytes */
		atomic_store(&s->write_start_ms, clock_now_ms());
		mg_lock_connection(conn);
		int rc = mg_write(conn, data, bytes);
		mg_unlock_connection(conn);
		atomic_store(&s->write_start_ms, 0);
		ok = rc > 0 && (size_t)rc == bytes;
	}

	if (ok) {
		atomic_fetch_add_explicit(&relay_stats.writes, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&relay_stats.messages_sent, n, memory_order_relaxed);
		atomic_fetch_add_explicit(&relay_stats.bytes_sent, bytes, memory_order_relaxed);
		for (size_t i = 0; i < n; i++) {
			if ((*vec)[i]->changed_at > 0) {
				struct timespec now;
				clock_gettime(CLOCK_REALTIME, &now);
				double t = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
				metrics_hist_observe(&relay_stats.lag, t - (*vec)[i]->changed_at);
				break;
			}
		}
	}

	pthread_mutex_lock(&c->lock);
	c->busy = 0;
	c->inflight_bytes = 0;
	if (ok) {
		c->progress_ms = clock_now_ms();
		if (top > c->sent_seq)
			c->sent_seq = top;
	}
	if (!ok) {
		if (!c->failed)
			log_info("ws#%lu %s write failed; dropping the client", c->id, c->peer);
		c->failed = 1;
		c->closing = 1;
	}
	/* after a failed write or our close frame the worker thread ends the
	 * connection itself: on the peer's close or EOF, or when its pings go
	 * unanswered (see start_server) */
	int again = ok && !has_close && c->count > 0 && c->conn && !c->failed;
	if (!again)
		c->in_ready = 0;
	pthread_cond_broadcast(&c->cond);
	if (again) {
		pthread_mutex_lock(&s->pool->lock);
		enqueue_locked(s->pool, c);
		pthread_mutex_unlock(&s->pool->lock);
	}
	pthread_mutex_unlock(&c->lock);
	if (!again)
		client_unref(c);
	for (size_t i = 0; i < n; i++)
		msg_unref((*vec)[i]);
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	struct buf scratch;
	buf_init(&scratch, 0);
	struct msg **vec = NULL;
	size_t veccap = 0;
	struct client *c;
	while ((c = pop(s->pool)))
		serve(s, c, &scratch, &vec, &veccap);
	free(vec);
	buf_release(&scratch);
	return NULL;
}

void sender_pool_free(struct sender_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	/* senders drain the queue first (pop returns NULL only when empty) */
	for (int i = 0; i < p->n; i++)
		pthread_join(p->senders[i].thread, NULL);
	free(p->senders);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
