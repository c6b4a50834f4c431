/* migrate: `orders-api migrate` applies the numbered SQL files of the
 * schema folder ([0-9]*.sql, in name order) that the database has not
 * recorded yet. Each file runs in its own transaction that first takes
 * pg_advisory_xact_lock(MIGRATE_LOCK_KEY), checks schema_migrations for the
 * file's version (the digits before '_': "001" for 001_orders.sql), runs
 * the whole file, records the version and commits; so concurrent migrators
 * apply each file exactly once, and a failing file leaves nothing behind.
 * The table is schema_migrations(version text primary key, applied_at
 * timestamptz), as scripts/migrate.sh has always kept it.
 *
 * Progress goes to stderr as "migrate: applied 004_x.sql" or
 * "migrate: schema up to date" (with LOG_FORMAT=json: log lines with those
 * messages). */
#ifndef ORDERS_MIGRATE_H
#define ORDERS_MIGRATE_H

#include "err.h"
#include "log.h"

#include <stddef.h>

/* The advisory lock key every migrator takes (scripts/migrate.sh's too). */
#define MIGRATE_LOCK_KEY 727001
/* A migration file larger than this is refused. */
#define MIGRATE_FILE_MAX (16 * 1024 * 1024)

/* The version of a migration file name: its leading part before '_' (or
 * before ".sql"), copied into out. Returns 0, or -1 when name does not
 * start with a digit, does not end in ".sql" or the version does not fit. */
int migrate_version_of(const char *name, char *out, size_t cap) __attribute__((warn_unused_result));

/* One line of progress or failure on stderr: "migrate: <message>" in the
 * text log format, a log line of `level` in json. */
void migrate_report(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Apply the pending migrations of schema_dir to the database at conninfo
 * (borrowed), retrying the connection for up to wait_ms (0: forever, as
 * db_connect_retry). Files are listed before connecting. Returns 0 and
 * sets *applied to the number of files applied, or -1 with err:
 * ERR_CONFIG when schema_dir cannot be read or holds no migration,
 * ERR_UNAVAILABLE when the database cannot be reached, ERR_INTERNAL when a
 * file fails ("cannot apply 004_x.sql: ERROR:  ...", libpq's first line). */
int migrate_apply(const char *conninfo, const char *schema_dir, long wait_ms, int *applied,
		  struct err *err) __attribute__((warn_unused_result));

#endif
