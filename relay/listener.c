#include "listener.h"

#include "change_log.h"
#include "changes.h"
#include "clock.h"
#include "db.h"
#include "hub.h"
#include "log.h"
#include "seq_gate.h"
#include "stats.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE_ROWS	1000
#define HOLE_RECHECK_MS 20
#define SAFETY_READ_MS	5000
#define BACKOFF_MAX_MS	5000
#define PRUNE_BATCH	5000
#define HELD_SLOTS	1024 /* notifications held above a hole, by seq % HELD_SLOTS */
#define RECENT_SLOTS	4096 /* delivered seqs remembered, by seq % RECENT_SLOTS */
#define FAST_BATCH	256  /* fast-path changes fanned out under one hub lock */
/* How long a hole waits for its own notification before the floor is
 * asked, and again once a floor has passed it before the log is read (a
 * writer's lock goes before its notification arrives). */
#define HOLE_GRACE_NS 1000000LL

/* A notification for a seq above cursor + 1, held until its turn: with the
 * event (p.n == 1, p borrows n's payload) or seq only (p.n == 0: the row is
 * read from the log when its turn comes). */
struct held {
	PGnotify *n; /* NULL: empty slot */
	long long seq;
	struct change_log_page p;
};

/* A seq delivered (either path), to recognise its notification arriving
 * late (after a read delivered it) from one of another history. */
struct recent {
	long long seq;
	double at;		 /* changed_at */
	unsigned long long hash; /* of data */
};

struct listener {
	char *conninfo;
	long long retention_ms;
	long long prune_every_ms;
	PGconn *pg;	    /* LISTEN and pruning */
	struct db_pool *db; /* the reader's own connection (change_log.h) */
	struct relay *relay;
	struct seq_gate gate;
	long long floor; /* the last writer floor measured */
	char epoch[CHANGE_EPOCH_MAX];
	pthread_mutex_t epoch_lock; /* epoch is read by other threads */
	/* the fast path (see listener.h); all of it the listener thread's */
	char channel[64];    /* the private channel; "" without schema/006 (wake-ups only) */
	int barrier;	     /* a notification needs the log first: no fast path until a read */
	int read_now;	     /* cursor + 1 is committed and only the log has it */
	int wake;	     /* a wake-up only (no private channel) */
	long long log_ahead; /* highest seq known committed that only the log has */
	long long held_max;  /* highest seq held (none above the cursor when <= it) */
	struct held *held;
	struct recent *recent;
	struct change *batch;
	size_t nbatch;
	long long batch_from;  /* the cursor before the batch */
	long long hole_since;  /* clock_now_ns() when the gate began to wait here */
	long long passed_hole; /* the hole a floor passed (at passed_at), or 0 */
	long long passed_at;
	long long floor_at; /* clock_now_ns() of the last floor measured */
	const char *why;    /* why the next read (debug log) */
	pthread_t thread;
	int started;
	int pipe[2];
	atomic_int stop;
	atomic_int connected;
	int ever_lost;
};

static const char PRUNE_SQL[] =
    "WITH d AS (DELETE FROM order_changes WHERE seq IN (SELECT seq FROM order_changes "
    "WHERE changed_at < now() - $1::interval AND seq <= $3 ORDER BY seq LIMIT $2) "
    "RETURNING seq), "
    "u AS (UPDATE order_changes_pruned SET pruned_through = "
    "GREATEST(pruned_through, (SELECT max(seq) FROM d)) "
    "WHERE EXISTS (SELECT 1 FROM d) RETURNING 1) "
    "SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM u)";

/* Sleep up to ms, waking early on stop. */
static void nap(struct listener *l, long ms)
{
	struct pollfd p = {.fd = l->pipe[0], .events = POLLIN};
	if (!atomic_load(&l->stop))
		(void)poll(&p, 1, (int)ms);
}

/* Measure the writer floor into l->floor. 0 or -1. */
static int measure_floor(struct listener *l, struct err *err)
{
	struct db_conn *c = db_pool_get(l->db, err);
	if (!c)
		return -1;
	int rc = change_log_floor(c, &l->floor, err);
	db_pool_put(l->db, c);
	l->floor_at = clock_now_ns();
	return rc;
}

/* The fast path's state: empty (a new history, or a new listener). */
static void fast_reset(struct listener *l)
{
	for (size_t i = 0; i < HELD_SLOTS; i++) {
		PQfreemem(l->held[i].n);
		l->held[i].n = NULL;
	}
	memset(l->recent, 0, RECENT_SLOTS * sizeof(*l->recent));
	l->held_max = 0;
	l->log_ahead = 0;
	l->read_now = 0;
	l->passed_hole = 0;
}

/* Where a history starts for this relay: the newest seq, or below the
 * lowest seq a running writer may still fill (see seq_gate.h), never below
 * what retention pruned. Sets the gate, l->floor and l->epoch; no wait. */
static int find_start(struct listener *l, struct err *err)
{
	struct change_log_head h;
	if (measure_floor(l, err) < 0)
		return -1;
	struct db_conn *c = db_pool_get(l->db, err);
	if (!c)
		return -1;
	int rc = change_log_head(c, &h, err);
	db_pool_put(l->db, c);
	if (rc < 0)
		return -1;
	long long start = h.last < l->floor - 1 ? h.last : l->floor - 1;
	if (start < h.pruned)
		start = h.pruned;
	if (start < h.last)
		log_info("start at seq %lld: writers still running may fill seqs above it "
			 "(newest %lld)",
			 start, h.last);
	seq_gate_init(&l->gate, start);
	fast_reset(l);
	pthread_mutex_lock(&l->epoch_lock);
	memcpy(l->epoch, h.epoch, sizeof(l->epoch));
	pthread_mutex_unlock(&l->epoch_lock);
	return 0;
}

/* The private channel's name (schema/006) into l->channel; "" when the
 * schema has none or this role may not read it: notifications are then
 * wake-ups only, as before 006. The name is a secret (whoever knows it can
 * hand the relay events): it is never logged. */
static void read_channel(struct listener *l)
{
	int had = l->channel[0] != '\0';
	l->channel[0] = '\0';
	PGresult *r = PQexec(l->pg, "SELECT channel FROM order_changes_notify");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
		const char *v = PQgetvalue(r, 0, 0);
		size_t n = strlen(v);
		if (n > 0 && n < sizeof(l->channel) &&
		    strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_") == n)
			memcpy(l->channel, v, n + 1);
	} else if (PQstatus(l->pg) == CONNECTION_OK && (had || !l->ever_lost)) {
		char msg[200];
		db_error_line(msg, sizeof(msg), PQresultErrorMessage(r));
		log_warn("no private notification channel (%s): every notification costs a change "
			 "log read (apply schema/006)",
			 msg);
	}
	PQclear(r);
}

/* Listen on the private channel, or on order_changes without one. */
static int listen_changes(struct listener *l, struct err *err)
{
	read_channel(l);
	char sql[96];
	snprintf(sql, sizeof(sql), "UNLISTEN *; LISTEN %s",
		 l->channel[0] ? l->channel : "order_changes");
	return db_exec_simple(l->pg, sql, err);
}

struct listener *listener_new(const char *conninfo, long long retention_ms, long wait_ms,
			      volatile int *stop, struct err *err)
{
	struct listener *l = xcalloc(1, sizeof(*l));
	l->conninfo = xstrdup(conninfo);
	l->retention_ms = retention_ms;
	l->prune_every_ms = retention_ms / 4;
	if (l->prune_every_ms < 200)
		l->prune_every_ms = 200;
	if (l->prune_every_ms > 60000)
		l->prune_every_ms = 60000;
	l->pipe[0] = l->pipe[1] = -1;
	pthread_mutex_init(&l->epoch_lock, NULL);
	l->held = xcalloc(HELD_SLOTS, sizeof(*l->held));
	l->recent = xcalloc(RECENT_SLOTS, sizeof(*l->recent));
	l->batch = xcalloc(FAST_BATCH, sizeof(*l->batch));
	l->db = db_pool_new(conninfo, "orders-relay reader", 1);
	if (pipe2(l->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		err_set(err, ERR_SYSTEM, "pipe: %s", strerror(errno));
		goto fail;
	}
	l->pg = db_connect_retry(conninfo, "orders-relay listener", stop, wait_ms, err);
	if (!l->pg) {
		if (*stop)
			err_set(err, ERR_SHUTTING_DOWN, "stopped during start-up");
		goto fail;
	}
	if (db_check_schema(l->pg, err) < 0)
		goto fail;
	/* LISTEN before reading, so no change falls between the two */
	if (listen_changes(l, err) < 0)
		goto fail;
	if (find_start(l, err) < 0)
		goto fail;
	atomic_store(&l->connected, 1);
	return l;
fail:
	listener_free(l);
	return NULL;
}

long long listener_start_seq(const struct listener *l)
{
	return l->gate.cursor;
}

void listener_epoch(struct listener *l, char out[CHANGE_EPOCH_MAX])
{
	pthread_mutex_lock(&l->epoch_lock);
	memcpy(out, l->epoch, CHANGE_EPOCH_MAX);
	pthread_mutex_unlock(&l->epoch_lock);
}

int listener_connected(struct listener *l)
{
	return atomic_load(&l->connected);
}

static void drop_conn(struct listener *l, const char *why)
{
	if (l->pg) {
		log_warn("database connection lost (%s); clients stay connected, reconnecting",
			 why);
		PQfinish(l->pg);
		l->pg = NULL;
	}
	l->ever_lost = 1;
	atomic_store(&l->connected, 0);
}

static int connect_listen(struct listener *l)
{
	struct err err = {0};
	l->pg = db_connect(l->conninfo, "orders-relay listener", &err);
	if (!l->pg) {
		log_debug("%s", err.msg);
		return -1;
	}
	if (listen_changes(l, &err) < 0) {
		log_warn("LISTEN failed: %s", err.msg);
		PQfinish(l->pg);
		l->pg = NULL;
		return -1;
	}
	return 0;
}

/* The log now holds another history (recreated, restored, or seq went
 * back): start over in it and tell every client. */
static int new_history(struct listener *l, const char *why, struct err *err)
{
	char old[CHANGE_EPOCH_MAX];
	listener_epoch(l, old);
	/* a recreated log has a new private channel too; LISTEN first, so no
	 * change falls between it and the reads that follow */
	if (l->pg && listen_changes(l, err) < 0)
		return -1;
	if (find_start(l, err) < 0)
		return -1;
	char now[CHANGE_EPOCH_MAX];
	listener_epoch(l, now);
	log_warn("%s: epoch %s -> %s, stream continues from seq %lld", why, old, now,
		 l->gate.cursor);
	hub_reset(l->relay->hub, l->gate.cursor, now, "epoch_changed");
	return 0;
}

/* FNV-1a of a change's data text. */
static unsigned long long data_hash(const char *s)
{
	unsigned long long h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Remember that seq went out with this time and data (from a row or a
 * notification of the same change: the same text either way). */
static void remember(struct listener *l, long long seq, double at, const char *data)
{
	struct recent *r = &l->recent[seq % RECENT_SLOTS];
	r->seq = seq;
	r->at = at;
	r->hash = data_hash(data);
}

/* Deliver rows [0, k) of a page past `before`. -1 when a row cannot be
 * decoded: nothing at or after it is delivered, and live clients are told
 * (closed with 1011) rather than skipped past it. */
static int deliver(struct listener *l, const struct change_log_page *p, size_t k, long long before,
		   struct change *ch)
{
	size_t m = 0;
	int rc = 0;
	for (size_t i = 0; i < k; i++) {
		long long seq = change_log_seq(p, (int)i);
		if (seq <= before)
			continue;
		if (change_from_page(p, (int)i, &ch[m]) == 0) {
			remember(l, seq, ch[m].msg->changed_at,
				 change_log_col(p, (int)i, CHANGE_COL_DATA));
		} else {
			log_error("change log row seq %lld cannot be decoded; the stream stops "
				  "before it",
				  seq);
			l->gate.cursor = seq - 1;
			rc = -1;
			break;
		}
		m++;
	}
	if (m || l->gate.cursor > before) {
		log_debug("deliver %zu change(s) %lld..%lld, cursor %lld -> %lld%s", m,
			  m ? ch[0].seq : 0, m ? ch[m - 1].seq : 0, before, l->gate.cursor,
			  seq_gate_waiting(&l->gate) ? " (waiting at a hole)" : "");
		hub_broadcast(l->relay->hub, ch, m, l->gate.cursor);
	}
	for (size_t i = 0; i < m; i++)
		change_release(&ch[i]);
	if (rc < 0)
		hub_fail_live(l->relay->hub, 1011, "change log row cannot be decoded");
	return rc;
}

/* -- the fast path (see listener.h) ------------------------------------- */

/* Fan out the changes the fast path has decoded, under one hub lock. */
static void fast_flush(struct listener *l)
{
	if (!l->nbatch)
		return;
	log_debug("deliver %zu notified change(s) %lld..%lld, cursor %lld -> %lld", l->nbatch,
		  l->batch[0].seq, l->batch[l->nbatch - 1].seq, l->batch_from, l->gate.cursor);
	hub_broadcast(l->relay->hub, l->batch, l->nbatch, l->gate.cursor);
	atomic_fetch_add_explicit(&relay_stats.fast_path_events, l->nbatch, memory_order_relaxed);
	for (size_t i = 0; i < l->nbatch; i++)
		change_release(&l->batch[i]);
	l->nbatch = 0;
}

/* Send seq cursor + 1 from its notification's page p. 0, or -1 when it
 * cannot be decoded: then the log path reads the row and decides. */
static int fast_send(struct listener *l, const struct change_log_page *p, double at)
{
	if (!l->nbatch)
		l->batch_from = l->gate.cursor;
	struct change *ch = &l->batch[l->nbatch];
	if (change_from_page(p, 0, ch) < 0) {
		change_release(ch);
		log_warn("notification for seq %lld cannot be decoded: reading the change log",
			 change_log_seq(p, 0));
		l->barrier = 1;
		return -1;
	}
	long long seq = ch->seq;
	if (!seq_gate_take(&l->gate, seq)) { /* the caller checked: never */
		change_release(ch);
		l->barrier = 1;
		return -1;
	}
	remember(l, seq, at, change_log_col(p, 0, CHANGE_COL_DATA));
	if (++l->nbatch == FAST_BATCH)
		fast_flush(l);
	return 0;
}

static void held_free(struct held *h)
{
	PQfreemem(h->n);
	h->n = NULL;
}

/* Send held notifications while the next seq is one of them; a seq-only
 * one means the next seq is committed and only the log has it. */
static void fast_drain_held(struct listener *l)
{
	while (!l->barrier && l->held_max > l->gate.cursor) {
		long long next = l->gate.cursor + 1;
		struct held *h = &l->held[next % HELD_SLOTS];
		if (!h->n || h->seq != next)
			return;
		if (h->p.n == 0) {
			l->read_now = 1;
			return;
		}
		int rc = fast_send(l, &h->p,
				   strtod(change_log_col(&h->p, 0, CHANGE_COL_CHANGED_AT), NULL));
		held_free(h);
		if (rc < 0)
			return;
	}
}

/* Hold notification n (seq s above cursor + 1, page p) until its turn. */
static void fast_hold(struct listener *l, PGnotify *n, long long s, const struct change_log_page *p)
{
	struct held *h = &l->held[s % HELD_SLOTS];
	if (h->n && h->seq <= l->gate.cursor)
		held_free(h);
	if (h->n) { /* s is HELD_SLOTS or more ahead: the log will do */
		if (s > l->log_ahead)
			l->log_ahead = s;
		PQfreemem(n);
		return;
	}
	h->n = n;
	h->seq = s;
	h->p = *p;
	if (s > l->held_max)
		l->held_max = s;
}

/* Held notifications at or below the cursor (a read delivered them) go. */
static void held_sweep(struct listener *l)
{
	long long max = 0;
	for (size_t i = 0; i < HELD_SLOTS; i++) {
		struct held *h = &l->held[i];
		if (h->n && h->seq <= l->gate.cursor)
			held_free(h);
		else if (h->n && h->seq > max)
			max = h->seq;
	}
	l->held_max = max;
}

/* Did seq go out with this notification's change (its notification
 * arriving after a read delivered it)? Else it belongs to another history
 * (the sequence went back) and only a read can tell. */
static int was_sent(const struct listener *l, const struct change_log_notice *nt,
		    const struct change_log_page *p)
{
	const struct recent *r = &l->recent[nt->seq % RECENT_SLOTS];
	return r->seq == nt->seq && r->at == nt->changed_at &&
	       (p->n == 0 || r->hash == data_hash(change_log_col(p, 0, CHANGE_COL_DATA)));
}

/* One notification, in the order PostgreSQL delivered it (commit order).
 * Takes n. */
static void on_notify(struct listener *l, PGnotify *n)
{
	if (!l->channel[0] || strcmp(n->relname, l->channel) != 0) {
		l->wake = 1; /* no private channel: a wake-up only */
		PQfreemem(n);
		return;
	}
	struct change_log_notice nt;
	struct change_log_page p;
	enum change_notice_kind kind = change_log_notice_parse(n->extra, &nt, &p);
	if (kind == CHANGE_NOTICE_OTHER || strcmp(nt.epoch, l->epoch) != 0) {
		/* an epoch renewal, a change of another epoch, or not ours:
		 * nothing goes out on trust until the log has been read */
		l->barrier = 1;
		PQfreemem(n);
		return;
	}
	long long s = nt.seq;
	if (s <= l->gate.cursor) {
		/* as a rule its notification arriving after a read sent it;
		 * else seq went back, which only a read can tell */
		if (!l->barrier && !was_sent(l, &nt, &p))
			l->barrier = 1;
		PQfreemem(n);
		return;
	}
	if (l->barrier) { /* the coming read sees it (it has committed) */
		PQfreemem(n);
		return;
	}
	if (s != l->gate.cursor + 1) {
		fast_hold(l, n, s, &p);
		return;
	}
	if (kind == CHANGE_NOTICE_SEQ) {
		l->read_now = 1; /* too large to carry the event */
		PQfreemem(n);
		return;
	}
	int rc = fast_send(l, &p, nt.changed_at);
	PQfreemem(n);
	if (rc == 0)
		fast_drain_held(l);
}

/* While the gate waits at a hole: what is due now (*need_read or
 * *check_floor), and the ns until the next step. With the fast path a hole
 * first waits HOLE_GRACE_NS for its own notification; then the floor is
 * measured on notifications (notified) and every HOLE_RECHECK_MS (a
 * rollback sends none); once a floor has passed the hole, its notification
 * still has HOLE_GRACE_NS to come (a writer's lock goes before its
 * notification arrives) before the log is read. Without it, no grace. */
static long long hole_step(struct listener *l, int notified, int *need_read, int *check_floor)
{
	long long now = clock_now_ns(), left;
	int grace = l->channel[0] != '\0';
	if (l->passed_hole == l->gate.hole) {
		left = grace ? l->passed_at + HOLE_GRACE_NS - now : 0;
		if (left > 0)
			return left;
		*need_read = 1;
		l->why = "the floor passed a hole";
		return 0;
	}
	left = l->hole_since + HOLE_GRACE_NS - now;
	if (grace && left > 0)
		return left;
	left = l->floor_at + HOLE_RECHECK_MS * 1000000LL - now;
	if (notified || left <= 0) {
		*check_floor = 1;
		return 0;
	}
	return left;
}

/* Take every notification libpq holds, then say what the stream needs:
 * a read (*need_read), a floor measurement (*check_floor), or nothing. */
static void on_notifies(struct listener *l, int *need_read, int *check_floor)
{
	PGnotify *n;
	int any = 0;
	while ((n = PQnotifies(l->pg))) {
		any = 1;
		on_notify(l, n);
	}
	fast_flush(l);
	if (!any)
		return;
	if (l->wake) {
		/* wake-ups only: read, or while waiting at a hole only the
		 * writer floor can pass it, and measuring it is cheaper */
		l->wake = 0;
		if (seq_gate_waiting(&l->gate))
			*check_floor = 1;
		else
			*need_read = 1;
		l->why = "notified";
	}
	if (l->barrier || l->read_now) {
		*need_read = 1;
		l->why =
		    l->barrier ? "a notification needs the log" : "the next seq is in the log only";
	} else if (seq_gate_waiting(&l->gate)) {
		(void)hole_step(l, 1, need_read, check_floor); /* the hole is still open */
	} else if (l->log_ahead > l->gate.cursor) {
		*need_read = 1; /* the log has more than the notifications */
		l->why = "rows above a filled hole";
	} else if (l->held_max > l->gate.cursor) {
		/* a later seq committed, the next one not yet: a hole, which
		 * the gap rule decides unless its notification comes first */
		seq_gate_wait_next(&l->gate);
		l->hole_since = clock_now_ns();
	}
}

/* Read and deliver pages until caught up or stopped at a hole. 0, or -1
 * (database trouble: reconnect and read again). */
static int read_changes(struct listener *l)
{
	struct change *ch = xcalloc(PAGE_ROWS, sizeof(*ch));
	long long *seqs = xcalloc(PAGE_ROWS, sizeof(*seqs));
	struct err err = {0};
	int rc = 0;
	/* this read sees every change whose notification has arrived (they
	 * committed before it started), so what they asked for is done */
	l->barrier = 0;
	l->read_now = 0;
	l->log_ahead = 0;
	while (!atomic_load(&l->stop)) {
		struct change_log_page p;
		struct db_conn *c = db_pool_get(l->db, &err);
		if (!c) {
			rc = -1;
			break;
		}
		rc = change_log_read(c, l->gate.cursor, 0, PAGE_ROWS, &p, &err);
		db_pool_put(l->db, c);
		if (rc < 0)
			break;
		char epoch[CHANGE_EPOCH_MAX];
		listener_epoch(l, epoch);
		if (strcmp(p.epoch, epoch) != 0 || p.next - 1 < l->gate.cursor) {
			const char *why = strcmp(p.epoch, epoch) ? "the change log has a new epoch"
								 : "seq went back";
			int stale = strcmp(p.epoch, epoch) == 0;
			change_log_page_release(&p);
			if (stale) {
				/* renew it once for every relay and client */
				char fresh[CHANGE_EPOCH_MAX];
				if ((c = db_pool_get(l->db, &err)) == NULL) {
					rc = -1;
					break;
				}
				rc = change_log_renew_epoch(c, epoch, fresh, &err);
				db_pool_put(l->db, c);
				if (rc < 0)
					break;
			}
			if ((rc = new_history(l, why, &err)) < 0)
				break;
			continue;
		}
		if (p.pruned > l->gate.cursor) {
			/* another relay pruned what this one has not delivered */
			log_warn("the change log was pruned through seq %lld, past this relay's "
				 "seq %lld: clients resync",
				 p.pruned, l->gate.cursor);
			change_log_page_release(&p);
			seq_gate_init(&l->gate, p.pruned);
			hub_reset(l->relay->hub, l->gate.cursor, epoch, "history_truncated");
			continue;
		}
		for (int i = 0; i < p.n; i++)
			seqs[i] = change_log_seq(&p, i);
		long long before = l->gate.cursor;
		size_t k = seq_gate_advance(&l->gate, seqs, (size_t)p.n, l->floor);
		int bad = deliver(l, &p, k, before, ch);
		int n = p.n;
		long long top = n ? seqs[n - 1] : 0;
		change_log_page_release(&p);
		if (bad < 0)
			break;
		if (seq_gate_waiting(&l->gate)) {
			/* a floor measured now may pass the hole: then read again
			 * at once; else wait for writers (see listener_main) */
			if ((rc = measure_floor(l, &err)) < 0)
				break;
			if (seq_gate_floor_passes(&l->gate, l->floor))
				continue;
			/* rows above the hole: read again once it is filled (a
			 * full page may have more behind it) */
			l->log_ahead = n == PAGE_ROWS ? LLONG_MAX : top;
			break;
		}
		if (n < PAGE_ROWS)
			break;
	}
	if (rc < 0 && err.msg[0])
		log_warn("reading the change log: %s", err.msg);
	held_sweep(l);
	l->hole_since = clock_now_ns(); /* the read measured the floor */
	free(seqs);
	free(ch);
	return rc;
}

static int prune(struct listener *l)
{
	char interval[48], lim[16];
	snprintf(interval, sizeof(interval), "%lld milliseconds", l->retention_ms);
	snprintf(lim, sizeof(lim), "%d", PRUNE_BATCH);
	/* never past what this relay has delivered: a row logged long ago by a
	 * transaction that commits late must be read before it may go */
	char cursor[32];
	snprintf(cursor, sizeof(cursor), "%lld", l->gate.cursor);
	const char *params[3] = {interval, lim, cursor};
	for (int round = 0; round < 20 && !atomic_load(&l->stop); round++) {
		PGresult *r = PQexecParams(l->pg, PRUNE_SQL, 3, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			char msg[200];
			db_error_line(msg, sizeof(msg), PQresultErrorMessage(r));
			int bad = PQstatus(l->pg) == CONNECTION_BAD;
			if (!bad)
				log_warn("pruning the change log failed: %s", msg);
			PQclear(r);
			return bad ? -1 : 0;
		}
		long long n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		if (n > 0) {
			atomic_fetch_add(&relay_stats.pruned_rows, (unsigned long long)n);
			log_info("pruned %lld change log row(s) older than %lld ms", n,
				 l->retention_ms);
		}
		if (n < PRUNE_BATCH)
			break;
	}
	return 0;
}

static void *listener_main(void *arg)
{
	struct listener *l = arg;
	long backoff = 100;
	int need_read = 1, check_floor = 0;
	long long now = clock_now_ms();
	long long next_prune = now + 1000, next_safety = now + SAFETY_READ_MS;
	while (!atomic_load(&l->stop)) {
		if (!l->pg) {
			if (connect_listen(l) < 0) {
				nap(l, backoff);
				backoff =
				    backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
				continue;
			}
			backoff = 100;
			if (l->ever_lost) {
				atomic_fetch_add(&relay_stats.db_reconnects, 1);
				log_info("database reachable again; catching up from seq %lld",
					 l->gate.cursor);
			}
			atomic_store(&l->connected, 1);
			need_read = 1;
			l->why = "connected";
		}
		if (need_read) {
			log_debug("read from seq %lld: %s", l->gate.cursor,
				  l->why ? l->why : "start");
			if (read_changes(l) < 0) {
				drop_conn(l, "read failed");
				continue;
			}
			need_read = 0;
			check_floor = 0; /* the read measured it */
		}
		now = clock_now_ms();
		if (now >= next_prune) {
			if (prune(l) < 0) {
				drop_conn(l, "prune failed");
				continue;
			}
			next_prune = clock_now_ms() + l->prune_every_ms;
		}
		/* notifications that arrived during a query wait inside libpq */
		on_notifies(l, &need_read, &check_floor);
		if (check_floor && !need_read) {
			/* waiting at a hole: only the writer floor can pass it, and
			 * measuring it is cheaper than reading a page */
			struct err err = {0};
			if (measure_floor(l, &err) < 0) {
				drop_conn(l, err.msg);
				continue;
			}
			if (seq_gate_floor_passes(&l->gate, l->floor)) {
				/* the hole is final: a read tells whether it
				 * committed, unless its notification comes first */
				l->passed_hole = l->gate.hole;
				l->passed_at = clock_now_ns();
			}
		}
		check_floor = 0;
		long long wake = next_prune < next_safety ? next_prune : next_safety;
		long long timeout = (wake - now) * 1000000;
		if (!need_read && seq_gate_waiting(&l->gate))
			timeout = hole_step(l, 0, &need_read, &check_floor);
		if (need_read || check_floor)
			continue;
		if (timeout < 0)
			timeout = 0;
		if (timeout > 1000000000LL)
			timeout = 1000000000LL;
		struct pollfd p[2] = {{.fd = l->pipe[0], .events = POLLIN},
				      {.fd = PQsocket(l->pg), .events = POLLIN}};
		struct timespec ts = {.tv_sec = timeout / 1000000000LL,
				      .tv_nsec = timeout % 1000000000LL};
		int pr = ppoll(p, 2, &ts, NULL);
		if (pr < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			nap(l, 100);
			continue;
		}
		if (p[0].revents) {
			char b[64];
			while (read(l->pipe[0], b, sizeof(b)) > 0) {
			}
		}
		if (p[1].revents) {
			if (!PQconsumeInput(l->pg) || PQstatus(l->pg) == CONNECTION_BAD) {
				drop_conn(l, "socket closed");
				continue;
			}
			on_notifies(l, &need_read, &check_floor);
		}
		now = clock_now_ms();
		if (now >= next_safety) {
			need_read = 1;
			l->why = "safety";
			next_safety = now + SAFETY_READ_MS;
		}
	}
	return NULL;
}

int listener_start(struct listener *l, struct relay *r)
{
	l->relay = r;
	if (pthread_create(&l->thread, NULL, listener_main, l) != 0)
		return -1;
	l->started = 1;
	return 0;
}

void listener_free(struct listener *l)
{
	if (!l)
		return;
	atomic_store(&l->stop, 1);
	if (l->pipe[1] >= 0 && write(l->pipe[1], "x", 1) < 0) {
		/* the pipe is non-blocking; a full pipe already wakes the thread */
	}
	if (l->started)
		pthread_join(l->thread, NULL);
	if (l->pg)
		PQfinish(l->pg);
	db_pool_free(l->db);
	if (l->held)
		for (size_t i = 0; i < HELD_SLOTS; i++)
			PQfreemem(l->held[i].n);
	free(l->held);
	free(l->recent);
	free(l->batch);
	pthread_mutex_destroy(&l->epoch_lock);
	if (l->pipe[0] >= 0)
		close(l->pipe[0]);
	if (l->pipe[1] >= 0)
		close(l->pipe[1]);
	free(l->conninfo);
	free(l);
}
