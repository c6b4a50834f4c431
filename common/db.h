/* db: PostgreSQL access shared by the programs.
 *
 * - db_conninfo() builds the libpq connection string from the config
 *   (DATABASE_URL, else the DB_* five).
 * - db_connect() opens one connection with the session settings every
 *   program relies on (TimeZone UTC, application_name).
 * - A db_pool hands connections to many threads (civetweb workers); a
 *   broken connection is replaced on the next checkout, so the api recovers
 *   by itself after PostgreSQL restarts.
 * - Statements are parameterised and prepared once per connection.
 * Every `struct err *err` may be NULL when the caller needs no detail.
 */
#ifndef ORDERS_DB_H
#define ORDERS_DB_H

#include "config.h"
#include "err.h"

#include <libpq-fe.h>

/* The newest migration in schema/ the programs need (its number). */
#define DB_SCHEMA_VERSION "005"
/* Most statements a program may register with db_stmt (ids 0..63). */
#define DB_MAX_STMTS 64

/* A parameterised statement; id is unique per program and < DB_MAX_STMTS. */
struct db_stmt {
	int id;
	const char *name;
	const char *sql;
	int nparams;
	int read_only; /* safe to retry on a fresh connection */
};

/* Most bytes of a connection string built from the DB_* five, NUL included. */
#define DB_CONNINFO_MAX 2048

/* Connection string for the config (a table with the CONFIG_DB_OPTIONS
 * rows, read through cfg->shared); caller frees. DATABASE_URL as it is
 * when set; else the DB_* five quoted, or NULL with ERR_CONFIG naming the
 * variable that would pass DB_CONNINFO_MAX ("too long"): never a string
 * missing a key. */
char *db_conninfo(const struct config *cfg, struct err *err) __attribute__((warn_unused_result));
/* The first line of a libpq error message (PQerrorMessage,
 * PQresultErrorMessage; NULL gives "") into dst[cap]; returns dst. */
char *db_error_line(char *dst, size_t cap, const char *pq_message);
/* The target without secrets, for logs: "127.0.0.1:5432/realtime_orders". Caller frees. */
char *db_describe(PGconn *conn);

/* One connection attempt. Returns a connection or NULL with err
 * (ERR_UNAVAILABLE). Caller closes with PQfinish(). */
PGconn *db_connect(const char *conninfo, const char *app, struct err *err);
/* Connect, retrying with capped exponential backoff (100 ms doubling to
 * 5 s) until it succeeds, *stop becomes non-zero or max_wait_ms passes
 * (0 = forever). */
PGconn *db_connect_retry(const char *conninfo, const char *app, volatile int *stop,
			 long max_wait_ms, struct err *err);
/* 0 if the schema migrations are applied and the seq sequence has CACHE 1,
 * else -1 with a one-line message (ERR_CONFIG, or ERR_UNAVAILABLE). */
int db_check_schema(PGconn *conn, struct err *err) __attribute__((warn_unused_result));

struct db_conn;
struct db_pool;

/* A pool of up to `size` connections, opened lazily. Thread-safe. */
struct db_pool *db_pool_new(const char *conninfo, const char *app, int size);
void db_pool_free(struct db_pool *pool);
/* Borrow a connection (waits while all are busy). NULL with
 * ERR_UNAVAILABLE when the database cannot be reached. */
struct db_conn *db_pool_get(struct db_pool *pool, struct err *err);
void db_pool_put(struct db_pool *pool, struct db_conn *conn);
/* 1 when the last connection attempt or query found the database up. */
int db_pool_healthy(struct db_pool *pool);

/* Run a statement with text parameters (NULL = SQL NULL). Returns a result
 * with PGRES_TUPLES_OK or PGRES_COMMAND_OK that the caller PQclear()s, or
 * NULL with err: ERR_UNAVAILABLE when the connection broke (the connection
 * is then reopened on next use; read-only statements are retried once at
 * once), ERR_VALIDATION for a check-constraint violation, ERR_INTERNAL
 * otherwise. */
PGresult *db_exec(struct db_conn *conn, const struct db_stmt *st, const char *const *params,
		  struct err *err) __attribute__((warn_unused_result));
/* Run a fixed statement without parameters (BEGIN, LISTEN...); 0 or -1. */
int db_exec_simple(PGconn *conn, const char *sql, struct err *err)
    __attribute__((warn_unused_result));

#endif
