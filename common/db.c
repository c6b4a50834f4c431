#include "db.h"

#include "clock.h"
#include "log.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int conninfo_quote(char *dst, size_t cap, const char *key, const char *val)
{
	size_t n = (size_t)snprintf(dst, cap, "%s='", key);
	for (; *val && n + 3 < cap; val++) {
		if (*val == '\'' || *val == '\\')
			dst[n++] = '\\';
		dst[n++] = *val;
	}
	if (n + 3 >= cap)
		return -1;
	dst[n++] = '\'';
	dst[n++] = ' ';
	dst[n] = '\0';
	return (int)n;
}

char *db_conninfo(const struct config *cfg, struct err *err)
{
	const char *url = config_str(cfg, cfg->shared[CONFIG_SHARED_DATABASE_URL]);
	if (url && *url)
		return xstrdup(url);
	static const struct {
		const char *key; /* libpq's */
		enum config_shared opt;
	} map[] = {{"host", CONFIG_SHARED_DB_HOST},
		   {"port", CONFIG_SHARED_DB_PORT},
		   {"dbname", CONFIG_SHARED_DB_NAME},
		   {"user", CONFIG_SHARED_DB_USER},
		   {"password", CONFIG_SHARED_DB_PASSWORD}};
	char out[DB_CONNINFO_MAX];
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		int at = cfg->shared[map[i].opt];
		const char *v = config_str(cfg, at);
		if (!v)
			continue;
		int k = conninfo_quote(out + n, sizeof(out) - n, map[i].key, v);
		if (k < 0) {
			/* a connection string without the password (or the user)
			 * would connect as someone else, or fail for a reason
			 * nobody can see: refuse it */
			const char *name = cfg->opts[at].env;
			err_set_field(
			    err, ERR_CONFIG, name,
			    "%s: the connection string would be over %d bytes (too long); "
			    "use DATABASE_URL",
			    name, DB_CONNINFO_MAX - 1);
			return NULL;
		}
		n += (size_t)k;
	}
	return xstrdup(out);
}

char *db_error_line(char *dst, size_t cap, const char *pq_message)
{
	snprintf(dst, cap, "%s", pq_message ? pq_message : "");
	dst[strcspn(dst, "\n")] = '\0';
	return dst;
}

char *db_describe(PGconn *conn)
{
	const char *host = PQhost(conn);
	return xasprintf("%s:%s/%s", host && *host ? host : "localhost", PQport(conn), PQdb(conn));
}

PGconn *db_connect(const char *conninfo, const char *app, struct err *err)
{
	/* Settings the programs rely on, added to what the user's URL says:
	 * TimeZone=UTC joins any options it has; application_name and
	 * connect_timeout only when it sets none. */
	const char *user_opts = NULL, *user_app = NULL, *user_timeout = NULL;
	PQconninfoOption *parsed = PQconninfoParse(conninfo, NULL);
	for (PQconninfoOption *o = parsed; o && o->keyword; o++) {
		if (!o->val || !*o->val)
			continue;
		if (strcmp(o->keyword, "options") == 0)
			user_opts = o->val;
		else if (strcmp(o->keyword, "application_name") == 0)
			user_app = o->val;
		else if (strcmp(o->keyword, "connect_timeout") == 0)
			user_timeout = o->val;
	}
	char options[1024];
	/* JIT compiles a plan in ~100 ms the first times a statement runs:
	 * never worth it for these short queries */
	snprintf(options, sizeof(options), "%s%s-c TimeZone=UTC -c jit=off",
		 user_opts ? user_opts : "", user_opts ? " " : "");
	const char *const keys[] = {"dbname",	       "application_name", "options",
				    "connect_timeout", "client_encoding",  NULL};
	const char *const vals[] = {conninfo, user_app ? user_app : app,
				    options,  user_timeout ? user_timeout : "5",
				    "UTF8",   NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	PQconninfoFree(parsed);
	if (!c) {
		err_set(err, ERR_UNAVAILABLE, "database: out of memory");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		char msg[200];
		err_set(err, ERR_UNAVAILABLE, "cannot connect to the database: %s",
			db_error_line(msg, sizeof(msg), PQerrorMessage(c)));
		PQfinish(c);
		return NULL;
	}
	return c;
}

PGconn *db_connect_retry(const char *conninfo, const char *app, volatile int *stop,
			 long max_wait_ms, struct err *err)
{
	long delay = 100, waited = 0;
	struct err local;
	if (!err)
		err = &local; /* the retry log line needs the reason */
	for (;;) {
		PGconn *c = db_connect(conninfo, app, err);
		if (c)
			return c;
		if ((stop && *stop) || (max_wait_ms && waited >= max_wait_ms))
			return NULL;
		log_warn("%s; retrying in %ld ms", err->msg, delay);
		for (long slept = 0; slept < delay && !(stop && *stop); slept += 50)
			usleep(50 * 1000);
		waited += delay;
		delay = delay * 2 > 5000 ? 5000 : delay * 2;
	}
}

int db_check_schema(PGconn *conn, struct err *err)
{
	/* Two statements: a query naming a missing table fails at parse time. */
	static const char *const steps[] = {
	    "SELECT to_regclass('schema_migrations') IS NOT NULL",
	    "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version >= $1)",
	    /* a cache above 1 loses seq values for good when a session ends */
	    "SELECT seqcache = 1 FROM pg_sequence WHERE seqrelid = 'order_changes_seq'::regclass",
	};
	const char *params[] = {DB_SCHEMA_VERSION};
	for (int i = 0; i < 3; i++) {
		PGresult *r = PQexecParams(conn, steps[i], i == 1, NULL, i == 1 ? params : NULL,
					   NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			char msg[200];
			db_error_line(msg, sizeof(msg), PQresultErrorMessage(r));
			PQclear(r);
			return err_set(err, ERR_UNAVAILABLE, "cannot check the schema: %s", msg);
		}
		int ok = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		PQclear(r);
		if (!ok && i == 2)
			return err_set(
			    err, ERR_CONFIG,
			    "sequence order_changes_seq must have CACHE 1 (a larger cache "
			    "loses seq values): ALTER SEQUENCE order_changes_seq CACHE 1");
		if (!ok)
			return err_set(err, ERR_CONFIG,
				       "database has no orders schema (migration %s missing): run "
				       "'make setup-db'",
				       DB_SCHEMA_VERSION);
	}
	return 0;
}

int db_exec_simple(PGconn *conn, const char *sql, struct err *err)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char msg[200];
		db_error_line(msg, sizeof(msg), PQresultErrorMessage(r));
		PQclear(r);
		return err_set(err,
			       PQstatus(conn) == CONNECTION_BAD ? ERR_UNAVAILABLE : ERR_INTERNAL,
			       "database: %s", msg);
	}
	PQclear(r);
	return 0;
}

/* ---- pool ---- */

struct db_conn {
	PGconn *pg;
	unsigned char prepared[DB_MAX_STMTS];
	struct timespec last_attempt;
	unsigned epoch; /* pool epoch when opened */
	struct db_conn *next_free;
	struct db_pool *pool;
};

struct db_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *conninfo;
	char *app;
	int size;
	struct db_conn *conns;
	struct db_conn *free_list;
	int healthy;
	unsigned epoch; /* bumped when a connection is found broken */
};

struct db_pool *db_pool_new(const char *conninfo, const char *app, int size)
{
	struct db_pool *p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->conninfo = xstrdup(conninfo);
	p->app = xstrdup(app);
	p->size = size;
	p->conns = xcalloc((size_t)size, sizeof(*p->conns));
	for (int i = size - 1; i >= 0; i--) {
		p->conns[i].pool = p;
		p->conns[i].next_free = p->free_list;
		p->free_list = &p->conns[i];
	}
	p->healthy = 1;
	return p;
}

void db_pool_free(struct db_pool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->size; i++)
		if (p->conns[i].pg)
			PQfinish(p->conns[i].pg);
	free(p->conns);
	free(p->conninfo);
	free(p->app);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void pool_set_health(struct db_pool *p, int healthy)
{
	pthread_mutex_lock(&p->lock);
	/* one broken connection means the server went away: every connection
	 * opened before now is suspect and is reopened at its next checkout */
	if (!healthy)
		p->epoch++;
	if (p->healthy != healthy) {
		if (healthy)
			log_info("database reachable again");
		else
			log_warn("database unreachable; requests get 503 until it returns");
	}
	p->healthy = healthy;
	pthread_mutex_unlock(&p->lock);
}

/* Open (or reopen) the connection of a slot; 0 or -1 with err. */
static int conn_open(struct db_conn *c, struct err *err)
{
	/* A connection the server closed while it sat in the pool (a restart)
	 * shows up here as end-of-file: reopen it before use, not after a
	 * failed statement. */
	pthread_mutex_lock(&c->pool->lock);
	unsigned epoch = c->pool->epoch;
	pthread_mutex_unlock(&c->pool->lock);
	if (c->pg && c->epoch == epoch && PQstatus(c->pg) == CONNECTION_OK &&
	    PQconsumeInput(c->pg) && PQstatus(c->pg) == CONNECTION_OK)
		return 0;
	if (c->pg) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	memset(c->prepared, 0, sizeof(c->prepared));
	/* While the database is down, fail fast instead of connecting on every request. */
	if (!db_pool_healthy(c->pool) && (c->last_attempt.tv_sec || c->last_attempt.tv_nsec) &&
	    clock_ms_since(&c->last_attempt) < 200)
		return err_set(err, ERR_UNAVAILABLE, "database unavailable");
	clock_gettime(CLOCK_MONOTONIC, &c->last_attempt);
	c->epoch = epoch;
	c->pg = db_connect(c->pool->conninfo, c->pool->app, err);
	pool_set_health(c->pool, c->pg != NULL);
	return c->pg ? 0 : -1;
}

struct db_conn *db_pool_get(struct db_pool *p, struct err *err)
{
	pthread_mutex_lock(&p->lock);
	while (!p->free_list)
		pthread_cond_wait(&p->cond, &p->lock);
	struct db_conn *c = p->free_list;
	p->free_list = c->next_free;
	pthread_mutex_unlock(&p->lock);
	if (conn_open(c, err) < 0) {
		db_pool_put(p, c);
		return NULL;
	}
	return c;
}

void db_pool_put(struct db_pool *p, struct db_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&p->lock);
	c->next_free = p->free_list;
	p->free_list = c;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

int db_pool_healthy(struct db_pool *p)
{
	pthread_mutex_lock(&p->lock);
	int h = p->healthy;
	pthread_mutex_unlock(&p->lock);
	return h;
}

static PGresult *exec_once(struct db_conn *c, const struct db_stmt *st, const char *const *params)
{
	if (!c->prepared[st->id]) {
		PGresult *r = PQprepare(c->pg, st->name, st->sql, st->nparams, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			return r;
		PQclear(r);
		c->prepared[st->id] = 1;
	}
	return PQexecPrepared(c->pg, st->name, st->nparams, params, NULL, NULL, 0);
}

PGresult *db_exec(struct db_conn *c, const struct db_stmt *st, const char *const *params,
		  struct err *err)
{
	for (int attempt = 0;; attempt++) {
		PGresult *r = exec_once(c, st, params);
		ExecStatusType s = PQresultStatus(r);
		if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
			return r;
		if (PQstatus(c->pg) == CONNECTION_BAD) {
			PQclear(r);
			pool_set_health(c->pool, 0);
			if (attempt == 0 && st->read_only && conn_open(c, err) == 0)
				continue;
			if (c->pg) {
				PQfinish(c->pg);
				c->pg = NULL;
			}
			err_set(err, ERR_UNAVAILABLE, "database unavailable");
			return NULL;
		}
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		char msg[200];
		db_error_line(msg, sizeof(msg), PQresultErrorMessage(r));
		if (state && strcmp(state, "23514") == 0) {
			const char *cons = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
			err_set(err, ERR_VALIDATION, "value violates constraint %s",
				cons ? cons : "?");
		} else if (state && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
				     strcmp(state, "57P03") == 0)) {
			err_set(err, ERR_UNAVAILABLE, "database unavailable");
		} else {
			log_error("statement %s failed: %s", st->name, msg);
			err_set(err, ERR_INTERNAL, "internal database error");
		}
		PQclear(r);
		return NULL;
	}
}
