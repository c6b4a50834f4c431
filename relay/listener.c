#include "listener.h"

#include "changes.h"
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
#define HOLE_RECHECK_MS 15
#define SAFETY_READ_MS	5000
#define BACKOFF_MAX_MS	5000
#define PRUNE_BATCH	5000

struct listener {
	char *conninfo;
	long long retention_ms;
	long long prune_every_ms;
	PGconn *pg;
	struct relay *relay;
	struct seq_gate gate;
	pthread_t thread;
	int started;
	int pipe[2];
	atomic_int stop;
	atomic_int connected;
	int ever_lost;
};

static const char READ_SQL[] = "SELECT pg_current_snapshot()::text, " CHANGES_COLUMNS
			       " FROM order_changes WHERE seq > $1 ORDER BY seq LIMIT $2";

static const char PRUNE_SQL[] =
    "WITH d AS (DELETE FROM order_changes WHERE seq IN (SELECT seq FROM order_changes "
    "WHERE changed_at < now() - $1::interval AND seq <= $3 ORDER BY seq LIMIT $2) "
    "RETURNING seq), "
    "u AS (UPDATE order_changes_pruned SET pruned_through = "
    "GREATEST(pruned_through, (SELECT max(seq) FROM d)) "
    "WHERE EXISTS (SELECT 1 FROM d) RETURNING 1) "
    "SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM u)";

static void first_line(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
	char *nl = strchr(dst, '\n');
	if (nl)
		*nl = '\0';
}

/* Sleep up to ms, waking early on stop. */
static void nap(struct listener *l, long ms)
{
	struct pollfd p = {.fd = l->pipe[0], .events = POLLIN};
	if (!atomic_load(&l->stop))
		(void)poll(&p, 1, (int)ms);
}

/* An xid newer than every xid assigned so far (ours, committed at once). */
static int fetch_xid(struct listener *l, uint64_t *out)
{
	PGresult *r = PQexec(l->pg, "SELECT pg_current_xact_id()::text");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return -1;
	}
	*out = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

/* Highest seq once the transactions open at that moment have ended. */
static int find_start(struct listener *l, long long *out, volatile int *stop, struct err *err)
{
	/* an empty log after pruning still starts after what was pruned */
	PGresult *r = PQexec(l->pg, "SELECT greatest(coalesce(max(seq), 0), (SELECT "
				    "pruned_through FROM order_changes_pruned)), "
				    "pg_current_snapshot()::text FROM order_changes");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		char msg[200];
		first_line(msg, sizeof(msg), PQresultErrorMessage(r));
		PQclear(r);
		return err_set(err, ERR_UNAVAILABLE, "cannot read the change log: %s", msg);
	}
	*out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	struct seq_snapshot snap;
	int rc = seq_snapshot_parse(PQgetvalue(r, 0, 1), &snap);
	PQclear(r);
	if (rc < 0)
		return err_set(err, ERR_INTERNAL, "cannot parse pg_current_snapshot()");
	/* wait for the transactions running at that snapshot: the listed ones
	 * and the unlisted ones above xmax, bounded by an xid assigned now */
	struct seq_gate g;
	seq_gate_init(&g, 0);
	g.hole = 1;
	g.wait = snap.xip;
	g.nwait = snap.nxip;
	g.lo = snap.xmax;
	g.need_bound = 1;
	snap.xip = NULL;
	uint64_t bound;
	if (fetch_xid(l, &bound) < 0) {
		seq_gate_release(&g);
		return err_set(err, ERR_UNAVAILABLE, "lost the database at start-up");
	}
	seq_gate_set_bound(&g, bound);
	if (g.nwait || g.lo < g.hi)
		log_info("start at seq %lld once the transactions open now end", *out);
	long long one = 2; /* a visible row above the pretend hole at 1 */
	for (;;) {
		r = PQexec(l->pg, "SELECT pg_current_snapshot()::text");
		if (PQresultStatus(r) != PGRES_TUPLES_OK ||
		    seq_snapshot_parse(PQgetvalue(r, 0, 0), &snap) < 0) {
			PQclear(r);
			seq_gate_release(&g);
			return err_set(err, ERR_UNAVAILABLE, "lost the database at start-up");
		}
		PQclear(r);
		size_t passed = seq_gate_advance(&g, &one, 1, &snap);
		seq_snapshot_release(&snap);
		if (passed == 1)
			break;
		if (*stop) {
			seq_gate_release(&g);
			return err_set(err, ERR_SHUTTING_DOWN, "stopped during start-up");
		}
		usleep(20 * 1000);
	}
	seq_gate_release(&g);
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
	long long start = 0;
	if (find_start(l, &start, stop, err) < 0)
		goto fail;
	seq_gate_init(&l->gate, start);
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

/* Read and deliver pages until caught up or stopped at a hole. 0 or -1
 * (connection trouble). */
static int read_changes(struct listener *l)
{
	struct change *ch = xcalloc(PAGE_ROWS, sizeof(*ch));
	long long *seqs = xcalloc(PAGE_ROWS, sizeof(*seqs));
	int rc = 0;
	for (;;) {
		char cur[32], lim[16];
		snprintf(cur, sizeof(cur), "%lld", l->gate.cursor);
		snprintf(lim, sizeof(lim), "%d", PAGE_ROWS);
		const char *params[2] = {cur, lim};
		PGresult *r = PQexecParams(l->pg, READ_SQL, 2, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			char msg[200];
			first_line(msg, sizeof(msg), PQresultErrorMessage(r));
			if (PQstatus(l->pg) != CONNECTION_BAD)
				log_error("reading the change log failed: %s", msg);
			PQclear(r);
			rc = -1;
			break;
		}
		int n = PQntuples(r);
		if (n == 0) {
			seq_gate_advance(&l->gate, NULL, 0, NULL);
			PQclear(r);
			break;
		}
		struct seq_snapshot snap;
		if (seq_snapshot_parse(PQgetvalue(r, 0, 0), &snap) < 0) {
			log_error("cannot parse snapshot '%s'", PQgetvalue(r, 0, 0));
			PQclear(r);
			rc = -1;
			break;
		}
		for (int i = 0; i < n; i++)
			seqs[i] = strtoll(PQgetvalue(r, i, 1), NULL, 10);
		long long before = l->gate.cursor;
		size_t k = seq_gate_advance(&l->gate, seqs, (size_t)n, &snap);
		seq_snapshot_release(&snap);
		size_t m = 0;
		for (size_t i = 0; i < k; i++) {
			if (seqs[i] <= before)
				continue;
			if (change_from_row(r, (int)i, 1, &ch[m]) < 0) {
				log_error("skipping malformed change log row seq %lld", seqs[i]);
				continue;
			}
			m++;
		}
		PQclear(r);
		if (m || l->gate.cursor > before) {
			log_debug("deliver %zu change(s) %lld..%lld, cursor %lld -> %lld%s", m,
				  m ? ch[0].seq : 0, m ? ch[m - 1].seq : 0, before, l->gate.cursor,
				  seq_gate_waiting(&l->gate) ? " (waiting at a hole)" : "");
			hub_broadcast(l->relay->hub, ch, m, l->gate.cursor);
		}
		for (size_t i = 0; i < m; i++)
			change_release(&ch[i]);
		if (seq_gate_needs_bound(&l->gate)) {
			/* transactions running above the snapshot's xmax are not in
			 * its xip: bound them by an xid assigned now, then re-read */
			uint64_t bound;
			if (fetch_xid(l, &bound) < 0) {
				rc = -1;
				break;
			}
			seq_gate_set_bound(&l->gate, bound);
			continue;
		}
		if (seq_gate_waiting(&l->gate) || n < PAGE_ROWS || atomic_load(&l->stop))
			break;
	}
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
			first_line(msg, sizeof(msg), PQresultErrorMessage(r));
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
	int need_read = 1;
	long long now = relay_now_ms();
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
		now = relay_now_ms();
		if (now >= next_prune) {
			if (prune(l) < 0) {
				drop_conn(l, "prune failed");
				continue;
			}
			next_prune = relay_now_ms() + l->prune_every_ms;
		}
		/* notifications that arrived during a query wait inside libpq */
		if (drain_notifies(l)) {
			need_read = 1;
			continue;
		}
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
		now = relay_now_ms();
		if (pr == 0 && seq_gate_waiting(&l->gate))
			need_read = 1;
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
	seq_gate_release(&l->gate);
	if (l->pipe[0] >= 0)
		close(l->pipe[0]);
	if (l->pipe[1] >= 0)
		close(l->pipe[1]);
	free(l->conninfo);
	free(l);
}
