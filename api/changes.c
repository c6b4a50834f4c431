/* GET /api/changes?since=SEQ&limit=N: the change log for polling clients.
 *
 * A polling client resumes from the last seq it saw, so this endpoint must
 * never return a change past a gap that a still-open transaction may fill
 * (the client would skip it for good). A gap below a row b is final when b
 * was logged before every transaction now holding a transaction id began:
 * seqs are taken in time order, so nothing still open took a seq below b.
 * The open transactions are read first, in their own statement, and capped
 * by that statement's clock, so a transaction that begins between the two
 * statements is covered too. */
#include "api.h"

#include "http.h"
#include "query.h"

#include <stdint.h>
#include <stdio.h>

enum { ST_OLDEST = 20, ST_CHANGES };

static const struct db_stmt st_oldest = {
    ST_OLDEST, "changes_oldest_open",
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_prepared_xacts) THEN '-infinity'::timestamptz "
    /* without the right to see other sessions' transactions (a snapshot's
     * xip list does not show every running one), a gap is taken as final
     * once it is a minute old; the api warns about this at start */
    "WHEN NOT (pg_has_role('pg_read_all_stats', 'MEMBER') OR "
    "  (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)) THEN "
    "  clock_timestamp() - interval '1 minute' "
    "ELSE least(clock_timestamp(), min(xact_start) FILTER (WHERE backend_xid IS NOT NULL "
    "AND pid <> pg_backend_pid())) END FROM pg_stat_activity",
    0, 1};

static const struct db_stmt st_changes = {
    ST_CHANGES, "changes_list",
    "WITH c AS (SELECT seq, data, old, changed_at, "
    "  seq - $1::bigint - row_number() OVER (ORDER BY seq) AS holes "
    "  FROM order_changes WHERE seq > $1 ORDER BY seq LIMIT $2) "
    "SELECT coalesce(json_agg(json_strip_nulls(json_build_object("
    "  'type', 'order_change', 'seq', seq, 'data', data, 'old', old, "
    "  'timestamp', changed_at)) ORDER BY seq)::text, '[]') FROM c "
    "WHERE holes <= coalesce((SELECT max(holes) FROM c WHERE changed_at < $3), 0)",
    3, 1};

int api_changes_list(struct mg_connection *c, struct api *api, const struct route_match *m,
		     struct err *err)
{
	(void)m;
	const char *q = mg_get_request_info(c)->query_string;
	long long since, limit;
	if (query_int(q, "since", 0, INT64_MAX, 0, &since, err) < 0 ||
	    query_int(q, "limit", 1, QUERY_LIMIT_MAX, QUERY_LIMIT_DEFAULT, &limit, err) < 0)
		return -1;
	char since_s[24], limit_s[24];
	snprintf(since_s, sizeof(since_s), "%lld", since);
	snprintf(limit_s, sizeof(limit_s), "%lld", limit);

	struct db_conn *conn = db_pool_get(api->pool, err);
	if (!conn)
		return -1;
	int rc = -1;
	PGresult *r = db_exec(conn, &st_oldest, NULL, err);
	if (!r)
		goto out;
	const char *params[] = {since_s, limit_s, PQgetvalue(r, 0, 0)};
	PGresult *rows = db_exec(conn, &st_changes, params, err);
	PQclear(r);
	r = rows;
	if (r)
		rc =
		    http_send_json(c, 200, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), NULL);
out:
	PQclear(r);
	db_pool_put(api->pool, conn);
	return rc;
}
