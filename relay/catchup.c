#include "catchup.h"

#include "change_filter.h"
#include "change_log.h"
#include "changes.h"
#include "clock.h"
#include "db.h"
#include "hub.h"
#include "log.h"
#include "stats.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct catchup {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct relay *r;
	struct client *head; /* linked by cu_next; the list holds a reference */
	int count;
	int stop;
	int started;
	pthread_t thread;
};

/* One client as the thread sees it during a round. */
struct entry {
	struct client *c;
	long long cursor;
	unsigned gen;
	int check_since;
	int done;     /* live again, or gone: leaves the list */
	int unlinked; /* left the list: drop the list's reference */
	int room;     /* may take a page now */
};

void catchup_add_locked(struct catchup *cu, struct client *c, long long cursor, int check_since)
{
	c->replay_cancelled = 0;
	pthread_mutex_lock(&cu->lock);
	c->cu_cursor = cursor;
	c->cu_check_since = check_since;
	c->cu_gen++;
	if (!c->cu_linked) {
		client_ref(c);
		c->cu_next = cu->head;
		cu->head = c;
		c->cu_linked = 1;
		cu->count++;
	}
	pthread_cond_signal(&cu->cond);
	pthread_mutex_unlock(&cu->lock);
}

int catchup_count(struct catchup *cu)
{
	pthread_mutex_lock(&cu->lock);
	int n = cu->count;
	pthread_mutex_unlock(&cu->lock);
	return n;
}

/* Tell c to reload and go on from the stream's head; returns that seq. */
static long long resync(struct relay *r, struct client *c, long long from, const char *reason)
{
	char epoch[CHANGE_EPOCH_MAX];
	hub_epoch(r->hub, epoch);
	long long last = hub_last(r->hub);
	struct msg *m = hub_resync_msg(last, epoch, reason);
	pthread_mutex_lock(&c->lock);
	client_push_control_locked(c, m);
	pthread_mutex_unlock(&c->lock);
	msg_unref(m);
	atomic_fetch_add(&relay_stats.resyncs, 1);
	log_info("ws#%lu %s from seq %lld: resync (%s) at %lld", c->id, c->peer, from, reason,
		 last);
	return last;
}

/* 1 when `since` was never handed out by the sequence: the client holds a
 * seq of another history (a restore, a reset sequence). */
static int since_is_foreign(struct relay *r, long long since)
{
	struct err err = {0};
	struct db_conn *dc = db_pool_get(r->db, &err);
	if (!dc)
		return 0;
	struct change_log_head h;
	int rc = change_log_head(dc, &h, &err);
	db_pool_put(r->db, dc);
	return rc == 0 && since > h.next - 1;
}

/* Checks before reading: gone, a since= to verify, at the head.
 * Sets e->done or e->room; returns the bytes e's client has unsent. */
static size_t check_entry(struct catchup *cu, struct entry *e, long long last, const char *epoch,
			  int *progress)
{
	struct relay *r = cu->r;
	struct client *c = e->c;
	pthread_mutex_lock(&c->lock);
	/* a reader that takes nothing for WRITE_TIMEOUT is cut by the
	 * server's timer (server.h), which closes it: gone below */
	int gone = c->closing || c->replay_cancelled || !c->conn;
	size_t unsent = client_unsent_locked(c);
	pthread_mutex_unlock(&c->lock);
	if (gone) {
		e->done = 1;
		return 0;
	}
	if (e->check_since) {
		e->check_since = 0;
		if (c->query.epoch[0] && strcmp(c->query.epoch, epoch) != 0)
			e->cursor = resync(r, c, e->cursor, "epoch_changed");
		else if (e->cursor > last && since_is_foreign(r, e->cursor))
			e->cursor = resync(r, c, e->cursor, "epoch_changed");
	}
	long long target;
	if (e->cursor >= last && hub_go_live(r->hub, c, e->cursor, &target)) {
		log_debug("ws#%lu %s live from seq %lld", c->id, c->peer, e->cursor);
		e->done = 1;
		*progress = 1;
		return 0;
	}
	size_t window = r->backlog / 2 < CATCHUP_WINDOW ? r->backlog / 2 : CATCHUP_WINDOW;
	e->room = unsent < window && e->cursor < last;
	return unsent;
}

/* Hand rows [0, n) of ch to one client past its cursor; -1 when it takes
 * nothing more. */
static int hand_out(struct entry *e, const struct change *ch, int n)
{
	const struct change_filter *f = &e->c->query.filter;
	for (int i = 0; i < n; i++) {
		if (ch[i].seq <= e->cursor)
			continue;
		if (change_filter_match(f, ch[i].op, ch[i].status, ch[i].old_status,
					ch[i].order_id)) {
			if (client_push_replay(e->c, ch[i].msg) < 0)
				return -1;
			atomic_fetch_add(&relay_stats.replayed, 1);
		}
		e->cursor = ch[i].seq;
	}
	return 0;
}

/* Read one page after `from` and give it to every entry at that position
 * with room. 1 if anything moved. */
static int serve_group(struct catchup *cu, struct entry *es, size_t n, long long from,
		       long long last, const char *epoch, struct change *ch)
{
	struct relay *r = cu->r;
	struct err err = {0};
	struct db_conn *dc = db_pool_get(r->db, &err);
	if (!dc)
		return 0;
	struct change_log_page p;
	int rc = change_log_read(dc, from, last, CATCHUP_PAGE, &p, &err);
	db_pool_put(r->db, dc);
	if (rc < 0)
		return 0;
	if (strcmp(p.epoch, epoch) != 0) {
		/* another history: the listener resets every client */
		change_log_page_release(&p);
		return 0;
	}
	int progress = 1;
	if (p.pruned > from) {
		for (size_t i = 0; i < n; i++)
			if (!es[i].done && es[i].room && es[i].cursor == from)
				es[i].cursor = resync(r, es[i].c, from, "history_truncated");
		change_log_page_release(&p);
		return progress;
	}
	int k = 0, bad = 0;
	for (; k < p.n; k++) {
		if (change_from_page(&p, k, &ch[k]) < 0) {
			log_error("change log row seq %lld cannot be decoded",
				  change_log_seq(&p, k));
			bad = 1;
			break;
		}
	}
	long long end = bad || p.n == CATCHUP_PAGE ? (k ? ch[k - 1].seq : from) : last;
	for (size_t i = 0; i < n; i++) {
		struct entry *e = &es[i];
		if (e->done || !e->room || e->cursor != from)
			continue;
		if (hand_out(e, ch, k) < 0) {
			e->done = 1;
			continue;
		}
		if (bad) {
			/* what came before the row, then a close: never a skip */
			pthread_mutex_lock(&e->c->lock);
			client_close_after_locked(e->c, 1011, "change log row cannot be decoded");
			pthread_mutex_unlock(&e->c->lock);
			e->done = 1;
			continue;
		}
		/* a page ends on rows read: fewer than asked means nothing more
		 * exists up to `last` (holes below it are final) */
		e->cursor = end;
	}
	for (int i = 0; i < k; i++)
		change_release(&ch[i]);
	change_log_page_release(&p);
	return progress;
}

/* One pass over every entry; 1 if anything moved. */
static int serve_round(struct catchup *cu, struct entry *es, size_t n, struct change *ch)
{
	struct relay *r = cu->r;
	long long last = hub_last(r->hub);
	char epoch[CHANGE_EPOCH_MAX];
	hub_epoch(r->hub, epoch);
	int progress = 0;
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += check_entry(cu, &es[i], last, epoch, &progress);
	if (total >= CATCHUP_BUDGET)
		return progress;
	long long from = -1;
	for (size_t i = 0; i < n; i++)
		if (!es[i].done && es[i].room && (from < 0 || es[i].cursor < from))
			from = es[i].cursor;
	if (from < 0)
		return progress;
	return serve_group(cu, es, n, from, last, epoch, ch) || progress;
}

static void *catchup_main(void *arg)
{
	struct catchup *cu = arg;
	struct entry *es = NULL;
	size_t cap = 0;
	struct change *ch = xcalloc(CATCHUP_PAGE, sizeof(*ch));
	int progress = 1;
	for (;;) {
		pthread_mutex_lock(&cu->lock);
		if (!progress && !cu->stop && cu->head) {
			/* nobody had room or anything to read: look again soon
			 * (readers free room, the head moves on) */
			struct timespec dl;
			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_nsec += 10 * 1000000L;
			if (dl.tv_nsec >= 1000000000L) {
				dl.tv_sec++;
				dl.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&cu->cond, &cu->lock, &dl);
		}
		while (!cu->stop && !cu->head)
			pthread_cond_wait(&cu->cond, &cu->lock);
		if (cu->stop) {
			pthread_mutex_unlock(&cu->lock);
			break;
		}
		size_t n = 0;
		for (struct client *c = cu->head; c; c = c->cu_next) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				es = xrealloc(es, cap * sizeof(*es));
			}
			es[n++] = (struct entry){.c = client_ref(c),
						 .cursor = c->cu_cursor,
						 .gen = c->cu_gen,
						 .check_since = c->cu_check_since};
		}
		pthread_mutex_unlock(&cu->lock);

		progress = serve_round(cu, es, n, ch);

		/* write back; an entry re-added meanwhile (a newer gen) wins */
		pthread_mutex_lock(&cu->lock);
		for (size_t i = 0; i < n; i++) {
			struct client *c = es[i].c;
			if (c->cu_gen != es[i].gen)
				continue;
			c->cu_cursor = es[i].cursor;
			c->cu_check_since = es[i].check_since;
			if (!es[i].done)
				continue;
			for (struct client **pp = &cu->head; *pp; pp = &(*pp)->cu_next) {
				if (*pp == c) {
					*pp = c->cu_next;
					break;
				}
			}
			c->cu_linked = 0;
			c->cu_next = NULL;
			es[i].unlinked = 1;
			cu->count--;
		}
		pthread_mutex_unlock(&cu->lock);
		for (size_t i = 0; i < n; i++) {
			if (es[i].unlinked)
				client_unref(es[i].c); /* the list's reference */
			client_unref(es[i].c);
		}
	}
	free(ch);
	free(es);
	return NULL;
}

struct catchup *catchup_new(struct relay *r)
{
	struct catchup *cu = xcalloc(1, sizeof(*cu));
	pthread_mutex_init(&cu->lock, NULL);
	pthread_cond_init(&cu->cond, NULL);
	cu->r = r;
	if (pthread_create(&cu->thread, NULL, catchup_main, cu) == 0)
		cu->started = 1;
	else
		log_error("cannot start the catch-up thread");
	return cu;
}

void catchup_free(struct catchup *cu)
{
	if (!cu)
		return;
	pthread_mutex_lock(&cu->lock);
	cu->stop = 1;
	pthread_cond_broadcast(&cu->cond);
	pthread_mutex_unlock(&cu->lock);
	if (cu->started)
		pthread_join(cu->thread, NULL);
	while (cu->head) {
		struct client *c = cu->head;
		cu->head = c->cu_next;
		c->cu_linked = 0;
		client_unref(c);
	}
	pthread_cond_destroy(&cu->cond);
	pthread_mutex_destroy(&cu->lock);
	free(cu);
}
