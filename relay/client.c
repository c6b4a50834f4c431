#include "client.h"

#include "clock.h"
#include "log.h"
#include "server.h"
#include "stats.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_ulong client_ids;

struct client *client_new(struct relay *r, const struct change_query *q, const char *peer)
{
	struct client *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	atomic_init(&c->refs, 1);
	c->id = atomic_fetch_add(&client_ids, 1) + 1;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->relay = r;
	c->query = *q;
	return c;
}

struct client *client_ref(struct client *c)
{
	atomic_fetch_add(&c->refs, 1);
	return c;
}

static void queue_drop(struct client *c)
{
	while (c->count) {
		msg_unref(c->ring[c->head]);
		c->head = (c->head + 1) % c->cap;
		c->count--;
	}
	c->head = 0;
	c->queued_bytes = 0;
	c->queued_events = 0;
}

void client_unref(struct client *c)
{
	if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	queue_drop(c);
	free(c->ring);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void queue_put(struct client *c, struct msg *m)
{
	if (c->count == 0 && c->inflight_bytes == 0)
		c->progress_ms = clock_now_ms(); /* the wait for the reader starts now */
	if (c->count == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		struct msg **n = xmalloc(ncap * sizeof(*n));
		for (size_t i = 0; i < c->count; i++)
			n[i] = c->ring[(c->head + i) % c->cap];
		free(c->ring);
		c->ring = n;
		c->cap = ncap;
		c->head = 0;
	}
	c->ring[(c->head + c->count) % c->cap] = msg_ref(m);
	c->count++;
	c->queued_bytes += m->len;
	if (m->seq > 0)
		c->queued_events++;
}

static void schedule(struct client *c)
{
	if (!c->in_ready && c->count && c->conn)
		server_schedule(c->relay->server, c);
}

void client_close_locked(struct client *c, int code, const char *reason)
{
	if (c->closing)
		return;
	queue_drop(c);
	client_close_after_locked(c, code, reason);
}

void client_close_after_locked(struct client *c, int code, const char *reason)
{
	if (c->closing)
		return;
	c->closing = 1;
	struct msg *m = msg_new_close(code, reason);
	queue_put(c, m);
	msg_unref(m);
	schedule(c);
}

int client_push_locked(struct client *c, struct msg *m)
{
	if (c->closing || !c->conn)
		return -1;
	if (c->queued_bytes + c->inflight_bytes + m->len > c->relay->backlog) {
		log_warn("ws#%lu %s slow consumer: %zu bytes unsent, closing with 1008", c->id,
			 c->peer, c->queued_bytes + c->inflight_bytes);
		atomic_fetch_add(&relay_stats.slow_closes, 1);
		client_close_locked(c, 1008, "slow consumer");
		return -1;
	}
	queue_put(c, m);
	schedule(c);
	return 0;
}

int client_offer_locked(struct client *c, struct msg *m)
{
	if (c->closing || !c->conn)
		return -1;
	if (c->queued_bytes + c->inflight_bytes + m->len > c->relay->backlog)
		return 1;
	queue_put(c, m);
	schedule(c);
	return 0;
}

int client_push_control_locked(struct client *c, struct msg *m)
{
	if (c->closing || !c->conn)
		return -1;
	queue_put(c, m);
	schedule(c);
	return 0;
}

size_t client_unsent_locked(const struct client *c)
{
	return c->queued_bytes + c->inflight_bytes;
}

int client_push(struct client *c, struct msg *m)
{
	pthread_mutex_lock(&c->lock);
	int rc = client_push_locked(c, m);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int client_push_replay(struct client *c, struct msg *m)
{
	pthread_mutex_lock(&c->lock);
	int rc = c->replay_cancelled ? -1 : client_push_control_locked(c, m);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void client_retire(struct client *c)
{
	pthread_mutex_lock(&c->lock);
	c->retired = 1;
	c->closing = 1;
	c->conn = NULL;
	c->inflight_bytes = 0;
	queue_drop(c);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	client_unref(c);
}

int client_wait_below(struct client *c, size_t bytes, long ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->lock);
	while (!c->closing && c->queued_bytes + c->inflight_bytes > bytes) {
		if (pthread_cond_timedwait(&c->cond, &c->lock, &dl) == ETIMEDOUT)
			break;
	}
	int ok = !c->closing && c->queued_bytes + c->inflight_bytes <= bytes;
	pthread_mutex_unlock(&c->lock);
	return ok;
}
