#include "hub.h"

#include "buf.h"
#include "catchup.h"
#include "log.h"
#include "stats.h"
#include "ws_frame.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hub {
	pthread_mutex_t lock;
	struct relay *relay;
	struct client *head;
	int count;
	long long last;
	char epoch[CHANGE_EPOCH_MAX];
};

struct hub *hub_new(struct relay *r, long long last, const char *epoch)
{
	struct hub *h = xcalloc(1, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	h->relay = r;
	h->last = last;
	snprintf(h->epoch, sizeof(h->epoch), "%s", epoch);
	return h;
}

void hub_free(struct hub *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* The epoch is checked at the source (letters, digits, - and _), so it
 * needs no JSON escaping. */
static struct msg *hello_msg(long long seq, const char *epoch)
{
	char json[192];
	int n =
	    snprintf(json, sizeof(json),
		     "{\"type\":\"hello\",\"seq\":%lld,\"epoch\":\"%s\",\"server\":\"orders-relay "
		     "%s\"}",
		     seq, epoch, ORDERS_VERSION);
	return msg_new_text(json, (size_t)n);
}

struct msg *hub_resync_msg(long long seq, const char *epoch, const char *reason)
{
	char json[192];
	int n = snprintf(json, sizeof(json),
			 "{\"type\":\"resync\",\"seq\":%lld,\"epoch\":\"%s\",\"reason\":\"%s\"}",
			 seq, epoch, reason);
	return msg_new_text(json, (size_t)n);
}

long long hub_add(struct hub *h, struct client *c, int live)
{
	pthread_mutex_lock(&h->lock);
	client_ref(c);
	c->prev = NULL;
	c->next = h->head;
	if (h->head)
		h->head->prev = c;
	h->head = c;
	c->linked = 1;
	c->live = live;
	c->min_seq = h->last;
	h->count++;
	long long last = h->last;
	struct msg *m = hello_msg(last, h->epoch);
	client_push(c, m);
	msg_unref(m);
	pthread_mutex_unlock(&h->lock);
	atomic_fetch_add(&relay_stats.clients, 1);
	return last;
}

void hub_remove(struct hub *h, struct client *c)
{
	pthread_mutex_lock(&h->lock);
	if (!c->linked) {
		pthread_mutex_unlock(&h->lock);
		return;
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		h->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->linked = 0;
	c->live = 0;
	h->count--;
	pthread_mutex_unlock(&h->lock);
	atomic_fetch_sub(&relay_stats.clients, 1);
	client_unref(c);
}

int hub_go_live(struct hub *h, struct client *c, long long cursor, long long *target)
{
	pthread_mutex_lock(&h->lock);
	if (c->live) { /* hub_reset() made it live in a new history */
		pthread_mutex_unlock(&h->lock);
		return 1;
	}
	int ok = cursor >= h->last;
	if (ok) {
		c->live = 1;
		c->min_seq = cursor;
	} else {
		*target = h->last;
	}
	pthread_mutex_unlock(&h->lock);
	return ok;
}

void hub_broadcast(struct hub *h, const struct change *ch, size_t n, long long new_last)
{
	pthread_mutex_lock(&h->lock);
	for (struct client *c = h->head; c; c = c->next) {
		if (!c->live)
			continue;
		const struct change_filter *f = &c->query.filter;
		pthread_mutex_lock(&c->lock);
		for (size_t i = 0; i < n; i++) {
			if (ch[i].seq <= c->min_seq ||
			    !change_filter_match(f, ch[i].op, ch[i].status, ch[i].old_status,
						 ch[i].order_id))
				continue;
			int rc = client_offer_locked(c, ch[i].msg);
			if (rc == 1) {
				/* past its backlog: it reads the rest from the log at
				 * its own pace and rejoins when it reaches the head */
				log_debug("ws#%lu %s behind by %zu bytes at seq %lld: catching up "
					  "from the log",
					  c->id, c->peer, client_unsent_locked(c), ch[i].seq);
				c->live = 0;
				atomic_fetch_add(&relay_stats.catchups, 1);
				catchup_add_locked(h->relay->catchup, c, ch[i].seq - 1, 0);
			}
			if (rc != 0)
				break;
		}
		pthread_mutex_unlock(&c->lock);
	}
	if (new_last > h->last)
		h->last = new_last;
	pthread_mutex_unlock(&h->lock);
	atomic_fetch_add_explicit(&relay_stats.events, n, memory_order_relaxed);
}

void hub_reset(struct hub *h, long long last, const char *epoch, const char *reason)
{
	pthread_mutex_lock(&h->lock);
	h->last = last;
	snprintf(h->epoch, sizeof(h->epoch), "%s", epoch);
	struct msg *m = hub_resync_msg(last, epoch, reason);
	int n = 0;
	for (struct client *c = h->head; c; c = c->next) {
		pthread_mutex_lock(&c->lock);
		c->replay_cancelled = !c->live;
		c->live = 1;
		c->min_seq = last;
		if (client_push_locked(c, m) == 0)
			n++;
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&h->lock);
	msg_unref(m);
	atomic_fetch_add(&relay_stats.resyncs, (unsigned long long)n);
}

void hub_fail_live(struct hub *h, int code, const char *reason)
{
	pthread_mutex_lock(&h->lock);
	for (struct client *c = h->head; c; c = c->next) {
		pthread_mutex_lock(&c->lock);
		if (c->live)
			client_close_after_locked(c, code, reason);
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&h->lock);
}

void hub_epoch(struct hub *h, char out[CHANGE_EPOCH_MAX])
{
	pthread_mutex_lock(&h->lock);
	memcpy(out, h->epoch, CHANGE_EPOCH_MAX);
	pthread_mutex_unlock(&h->lock);
}

const long long HUB_LAG_BOUNDS[HUB_LAG_NBOUNDS] = {0, 10, 100, 1000, 10000, 100000};

void hub_lag(struct hub *h, struct hub_lag *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&h->lock);
	for (struct client *c = h->head; c; c = c->next) {
		pthread_mutex_lock(&c->lock);
		long long behind = (long long)c->queued_events;
		if (!c->live && h->last - c->sent_seq > behind)
			behind = h->last - c->sent_seq;
		int t = c->sse ? 1 : 0;
		pthread_mutex_unlock(&c->lock);
		if (behind > out->max[t])
			out->max[t] = behind;
		out->count[t]++;
		out->sum[t] += behind;
		for (int b = 0; b < HUB_LAG_NBOUNDS; b++)
			if (behind <= HUB_LAG_BOUNDS[b])
				out->le[t][b]++;
	}
	pthread_mutex_unlock(&h->lock);
}

long long hub_last(struct hub *h)
{
	pthread_mutex_lock(&h->lock);
	long long v = h->last;
	pthread_mutex_unlock(&h->lock);
	return v;
}

int hub_count(struct hub *h)
{
	pthread_mutex_lock(&h->lock);
	int v = h->count;
	pthread_mutex_unlock(&h->lock);
	return v;
}

void hub_heartbeat(struct hub *h)
{
	pthread_mutex_lock(&h->lock);
	char json[96];
	int jn = snprintf(json, sizeof(json), "{\"type\":\"heartbeat\",\"seq\":%lld}", h->last);
	struct msg *ping = msg_new_ping();
	struct msg *beat = msg_new_text(json, (size_t)jn);
	/* a client still catching up gets the ping only: heartbeat.seq
	 * promises that every later event follows, which it has not reached
	 * yet. Peers that answer no ping are dropped by the server's timer
	 * (server.h). */
	for (struct client *c = h->head; c; c = c->next) {
		pthread_mutex_lock(&c->lock);
		if (!c->closing && client_push_control_locked(c, ping) == 0 && c->live)
			client_push_control_locked(c, beat);
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&h->lock);
	msg_unref(ping);
	msg_unref(beat);
}

void hub_close_all(struct hub *h, int code, const char *reason)
{
	pthread_mutex_lock(&h->lock);
	for (struct client *c = h->head; c; c = c->next) {
		pthread_mutex_lock(&c->lock);
		client_close_locked(c, code, reason);
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&h->lock);
}

int hub_drained(struct hub *h)
{
	int drained = 1;
	pthread_mutex_lock(&h->lock);
	for (struct client *c = h->head; c && drained; c = c->next) {
		pthread_mutex_lock(&c->lock);
		if (c->conn && (c->count || c->inflight_bytes))
			drained = 0;
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&h->lock);
	return drained;
}
