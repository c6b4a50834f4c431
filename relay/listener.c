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
	return rc;
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
	pthread_mutex_lock(&l->epoch_lock);
	memcpy(l->epoch, h.epoch, sizeof(l->epoch));
	pthread_mutex_unlock(&l->epoch_lock);
	return 0;
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
	if (db_exec_simple(l->pg, "LISTEN order_changes", err) < 0)
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
	if (db_exec_simple(l->pg, "LISTEN order_changes", &err) < 0) {
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
	if (find_start(l, err) < 0)
		return -1;
	char now[CHANGE_EPOCH_MAX];
	listener_epoch(l, now);
	log_warn("%s: epoch %s -> %s, stream continues from seq %lld", why, old, now,
		 l->gate.cursor);
	hub_reset(l->relay->hub, l->gate.cursor, now, "epoch_changed");
	return 0;
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
		if (change_from_page(p, (int)i, &ch[m]) < 0) {
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

/* Read and deliver pages until caught up or stopped at a hole. 0, or -1
 * (database trouble: reconnect and read again). */
static int read_changes(struct listener *l)
{
	struct change *ch = xcalloc(PAGE_ROWS, sizeof(*ch));
	long long *seqs = xcalloc(PAGE_ROWS, sizeof(*seqs));
	struct err err = {0};
	int rc = 0;
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
			break;
		}
		if (n < PAGE_ROWS)
			break;
	}
	if (rc < 0 && err.msg[0])
		log_warn("reading the change log: %s", err.msg);
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

/* Free every pending notification; 1 if there was any. */
static int drain_notifies(struct listener *l)
{
	int any = 0;
	PGnotify *n;
	while ((n = PQnotifies(l->pg))) {
		any = 1;
		PQfreemem(n);
	}
	return any;
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
		}
		if (need_read) {
			if (read_changes(l) < 0) {
				drop_conn(l, "read failed");
				continue;
			}
			need_read = 0;
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
		if (drain_notifies(l)) {
			if (seq_gate_waiting(&l->gate))
				check_floor = 1;
			else
				need_read = 1;
		}
		if (check_floor) {
			/* waiting at a hole: only the writer floor can pass it, and
			 * measuring it is cheaper than reading a page */
			check_floor = 0;
			struct err err = {0};
			if (measure_floor(l, &err) < 0) {
				drop_conn(l, err.msg);
				continue;
			}
			if (seq_gate_floor_passes(&l->gate, l->floor))
				need_read = 1;
		}
		if (need_read)
			continue;
		long long wake = next_prune < next_safety ? next_prune : next_safety;
		long timeout = (long)(wake - now);
		if (seq_gate_waiting(&l->gate))
			timeout = HOLE_RECHECK_MS;
		if (timeout < 0)
			timeout = 0;
		if (timeout > 1000)
			timeout = 1000;
		struct pollfd p[2] = {{.fd = l->pipe[0], .events = POLLIN},
				      {.fd = PQsocket(l->pg), .events = POLLIN}};
		int pr = poll(p, 2, (int)timeout);
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
			if (drain_notifies(l))
				need_read = 1;
		}
		now = clock_now_ms();
		if (seq_gate_waiting(&l->gate) && (pr == 0 || need_read)) {
			need_read = 0;
			check_floor = 1;
		}
		if (now >= next_safety) {
			need_read = 1;
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
	pthread_mutex_destroy(&l->epoch_lock);
	if (l->pipe[0] >= 0)
		close(l->pipe[0]);
	if (l->pipe[1] >= 0)
		close(l->pipe[1]);
	free(l->conninfo);
	free(l);
}
