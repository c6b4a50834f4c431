#include "migrate.h"

#include "db.h"
#include "log.h"
#include "xalloc.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VERSION_MAX 64
#define STR2(x)	    #x
#define STR(x)	    STR2(x)
#define LOCK_SQL    "SELECT pg_advisory_xact_lock(" STR(MIGRATE_LOCK_KEY) ")"

void migrate_report(enum log_level level, const char *fmt, ...)
{
	char msg[512] = "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_get_format() == LOG_FORMAT_JSON)
		log_write(level, "%s", msg);
	else
		fprintf(stderr, "migrate: %s\n", msg);
}

int migrate_version_of(const char *name, char *out, size_t cap)
{
	size_t len = strlen(name);
	if (len <= 4 || strcmp(name + len - 4, ".sql") != 0 || name[0] < '0' || name[0] > '9')
		return -1;
	size_t v = strcspn(name, "_");
	if (v > len - 4)
		v = len - 4;
	if (v + 1 > cap)
		return -1;
	memcpy(out, name, v);
	out[v] = '\0';
	return 0;
}

static int is_migration(const struct dirent *e)
{
	char v[VERSION_MAX];
	return migrate_version_of(e->d_name, v, sizeof(v)) == 0;
}

/* Plain byte order, whatever the locale: 001 < 002 < 010 < 1000. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* The whole text of dir/name, NUL-terminated; caller frees. NULL with err. */
static char *read_migration(const char *dir, const char *name, struct err *err)
{
	char *path = xasprintf("%s/%s", dir, name);
	char *text = NULL;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		err_set(err, ERR_INTERNAL, "cannot read %s: %s", name, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(err, ERR_INTERNAL, "cannot read %s: not a regular file", name);
		goto out;
	}
	if (st.st_size > MIGRATE_FILE_MAX) {
		err_set(err, ERR_INTERNAL, "cannot read %s: larger than %d bytes", name,
			MIGRATE_FILE_MAX);
		goto out;
	}
	size_t size = (size_t)st.st_size, got = 0;
	text = xmalloc(size + 1);
	while (got < size) {
		ssize_t n = read(fd, text + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	text[got] = '\0';
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return text;
}

/* Run one statement (or a whole file: several statements) with up to one
 * text parameter. Returns the result (caller PQclear()s) or NULL with err
 * naming `what` and libpq's first line. */
static PGresult *run(PGconn *conn, const char *sql, const char *param, const char *what,
		     struct err *err)
{
	PGresult *r =
	    param ? PQexecParams(conn, sql, 1, NULL, &param, NULL, NULL, 0) : PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY)
		return r;
	char line[200];
	db_error_line(line, sizeof(line), r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
	err_set(err, PQstatus(conn) == CONNECTION_BAD ? ERR_UNAVAILABLE : ERR_INTERNAL, "%s: %s",
		what, line);
	PQclear(r);
	return NULL;
}

/* run() for statements whose result is not needed; 0 or -1. */
static int run_simple(PGconn *conn, const char *sql, const char *param, const char *what,
		      struct err *err)
{
	PGresult *r = run(conn, sql, param, what, err);
	PQclear(r);
	return r ? 0 : -1;
}

/* The bookkeeping table, created under the lock so two first runs cannot
 * race on CREATE TABLE. */
static int ensure_table(PGconn *conn, struct err *err)
{
	const char *what = "cannot create schema_migrations";
	int rc = -1;
	if (run_simple(conn, "BEGIN", NULL, what, err) < 0 ||
	    run_simple(conn, LOCK_SQL, NULL, what, err) < 0 ||
	    run_simple(conn,
		       "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, "
		       "applied_at timestamptz NOT NULL DEFAULT now())",
		       NULL, what, err) < 0 ||
	    run_simple(conn, "COMMIT", NULL, what, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0 && PQtransactionStatus(conn) != PQTRANS_IDLE)
		PQclear(PQexec(conn, "ROLLBACK"));
	return rc;
}

/* Apply dir/name unless its version is recorded: one transaction under the
 * advisory lock. Adds 1 to *applied when it ran. 0 or -1 with err. */
static int apply_one(PGconn *conn, const char *dir, const char *name, int *applied, struct err *err)
{
	char version[VERSION_MAX];
	char what[VERSION_MAX + 300];
	PGresult *seen = NULL;
	int rc = -1;
	if (migrate_version_of(name, version, sizeof(version)) < 0)
		return err_set(err, ERR_INTERNAL, "%s: not a migration file name", name);
	snprintf(what, sizeof(what), "cannot apply %s", name);
	char *text = read_migration(dir, name, err);
	if (!text)
		goto out;
	if (run_simple(conn, "BEGIN", NULL, what, err) < 0 ||
	    run_simple(conn, LOCK_SQL, NULL, what, err) < 0)
		goto out;
	seen = run(conn, "SELECT 1 FROM schema_migrations WHERE version = $1", version, what, err);
	if (!seen)
		goto out;
	if (PQntuples(seen) > 0) {
		rc = run_simple(conn, "COMMIT", NULL, what, err);
		goto out;
	}
	if (run_simple(conn, text, NULL, what, err) < 0 ||
	    run_simple(conn, "INSERT INTO schema_migrations (version) VALUES ($1)", version, what,
		       err) < 0 ||
	    run_simple(conn, "COMMIT", NULL, what, err) < 0)
		goto out;
	migrate_report(LOG_INFO, "applied %s", name);
	(*applied)++;
	rc = 0;
out:
	if (rc < 0 && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
		PQclear(PQexec(conn, "ROLLBACK"));
	PQclear(seen);
	free(text);
	return rc;
}

int migrate_apply(const char *conninfo, const char *schema_dir, long wait_ms, int *applied,
		  struct err *err)
{
	struct dirent **files = NULL;
	PGconn *conn = NULL;
	int rc = -1;
	*applied = 0;
	int n = scandir(schema_dir, &files, is_migration, by_name);
	if (n < 0) {
		err_set(err, ERR_CONFIG, "SCHEMA_DIR: cannot read directory '%s': %s", schema_dir,
			strerror(errno));
		goto out;
	}
	if (n == 0) {
		err_set(err, ERR_CONFIG, "SCHEMA_DIR: no migrations ([0-9]*.sql) in '%s'",
			schema_dir);
		goto out;
	}
	conn = db_connect_retry(conninfo, "orders-api migrate", NULL, wait_ms, err);
	if (!conn)
		goto out;
	/* IF NOT EXISTS and RAISE NOTICE chatter stays out of the output */
	if (run_simple(conn, "SET client_min_messages = warning", NULL, "database", err) < 0 ||
	    ensure_table(conn, err) < 0)
		goto out;
	for (int i = 0; i < n; i++)
		if (apply_one(conn, schema_dir, files[i]->d_name, applied, err) < 0)
			goto out;
	if (*applied == 0)
		migrate_report(LOG_INFO, "schema up to date");
	rc = 0;
out:
	PQfinish(conn);
	for (int i = 0; i < n; i++)
		free(files[i]);
	free(files);
	return rc;
}
