#include "change_log.h"

#include "buf.h"
#include "change_event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Statement ids 56..59 are this module's in every program (db.h). */
enum { ST_FLOOR = 56, ST_READ, ST_HEAD, ST_RENEW };

static const struct db_stmt st_floor = {ST_FLOOR, "change_log_floor",
					"SELECT orders_writer_floor()", 0, 1};

/* The rows and, in the same statement (so the same snapshot), what was
 * pruned, the epoch and the sequence's next value, as scalar subqueries:
 * the LEFT JOIN gives one row of NULL changes when the page is empty. A
 * plain range on seq keeps the plan an index scan, generic or not.
 * changed_at is numeric text, as in a notification (schema/006): the same
 * digits whatever a session's extra_float_digits. */
static const struct db_stmt st_read = {
    ST_READ, "change_log_read",
    "SELECT c.seq, c.operation, c.order_id, c.status, c.old_status, c.data::text, "
    "c.old::text, extract(epoch FROM c.changed_at), "
    "(SELECT pruned_through FROM order_changes_pruned), "
    "(SELECT epoch FROM order_changes_epoch), "
    "(SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM order_changes_seq) "
    "FROM (SELECT 1) AS one LEFT JOIN LATERAL "
    "(SELECT * FROM order_changes WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3) c ON true",
    3, 1};

static const struct db_stmt st_head = {
    ST_HEAD, "change_log_head",
    "SELECT (SELECT coalesce(max(seq), 0) FROM order_changes), "
    "(SELECT pruned_through FROM order_changes_pruned), "
    "(SELECT epoch FROM order_changes_epoch), "
    "(SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM order_changes_seq)",
    0, 1};

static const struct db_stmt st_renew = {ST_RENEW, "change_log_renew", "SELECT orders_new_epoch($1)",
					1, 0};

static void copy_epoch(char out[CHANGE_EPOCH_MAX], const char *s)
{
	snprintf(out, CHANGE_EPOCH_MAX, "%s", s ? s : "");
}

int change_log_floor(struct db_conn *c, long long *floor, struct err *err)
{
	PGresult *r = db_exec(c, &st_floor, NULL, err);
	if (!r)
		return -1;
	*floor = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

int change_log_read(struct db_conn *c, long long after, long long upto, int limit,
		    struct change_log_page *p, struct err *err)
{
	memset(p, 0, sizeof(*p));
	char a[24], u[24], l[16];
	snprintf(a, sizeof(a), "%lld", after);
	snprintf(u, sizeof(u), "%lld", upto > 0 ? upto : 0x7fffffffffffffffLL);
	snprintf(l, sizeof(l), "%d", limit);
	const char *params[3] = {a, u, l};
	PGresult *r = db_exec(c, &st_read, params, err);
	if (!r)
		return -1;
	if (PQntuples(r) < 1 || PQgetisnull(r, 0, CHANGE_COL_COUNT) ||
	    PQgetisnull(r, 0, CHANGE_COL_COUNT + 1)) { /* the pruned or epoch row is missing */
		PQclear(r);
		return err_set(err, ERR_INTERNAL, "the change log is not initialised");
	}
	p->res = r;
	p->n = PQgetisnull(r, 0, CHANGE_COL_SEQ) ? 0 : PQntuples(r);
	p->pruned = strtoll(PQgetvalue(r, 0, CHANGE_COL_COUNT), NULL, 10);
	copy_epoch(p->epoch, PQgetvalue(r, 0, CHANGE_COL_COUNT + 1));
	p->next = strtoll(PQgetvalue(r, 0, CHANGE_COL_COUNT + 2), NULL, 10);
	return 0;
}

long long change_log_seq(const struct change_log_page *p, int row)
{
	if (!p->res)
		return strtoll(p->row[CHANGE_COL_SEQ], NULL, 10);
	return strtoll(PQgetvalue(p->res, row, CHANGE_COL_SEQ), NULL, 10);
}

const char *change_log_col(const struct change_log_page *p, int row, enum change_log_col col)
{
	if (!p->res)
		return p->row[col];
	return PQgetisnull(p->res, row, (int)col) ? NULL : PQgetvalue(p->res, row, (int)col);
}

/* The notification parser: a cursor over the payload that takes exactly
 * the expected text, field by field, and ends each value with a NUL: the
 * byte after a value is a ',' or the payload's final '}'. */
struct scan {
	char *s;
	int closed; /* the final '}' was taken */
};

static int take(struct scan *c, const char *lit)
{
	size_t n = strlen(lit);
	if (strncmp(c->s, lit, n) != 0)
		return -1;
	c->s += n;
	return 0;
}

/* The value [start, end) ends at a ',' or at the final '}': NUL it there
 * and step past. NULL when anything else follows. */
static char *cut(struct scan *c, char *start, char *end)
{
	if (*end == ',') {
		c->s = end + 1;
	} else if (*end == '}' && end[1] == '\0') {
		c->s = end + 1;
		c->closed = 1;
	} else {
		return NULL;
	}
	*end = '\0';
	return start;
}

/* At most max bytes of chars. */
static char *take_digits(struct scan *c, const char *chars, size_t max)
{
	char *start = c->s;
	size_t n = strspn(start, chars);
	if (n == 0 || n > max)
		return NULL;
	return cut(c, start, start + n);
}

/* "text" without escapes (operation, status, epoch: plain words), or null
 * (NULL, *ok stays 1). */
static char *take_word(struct scan *c, int nullable, int *ok)
{
	if (nullable && strncmp(c->s, "null", 4) == 0) {
		if (!cut(c, c->s, c->s + 4))
			*ok = 0;
		return NULL;
	}
	if (*c->s != '"') {
		*ok = 0;
		return NULL;
	}
	char *start = c->s + 1;
	size_t n =
	    strspn(start, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
	if (n == 0 || start[n] != '"' || !cut(c, start, start + n + 1)) {
		*ok = 0;
		return NULL;
	}
	start[n] = '\0';
	return start;
}

/* A JSON object as PostgreSQL wrote it (valid JSON): its span, by depth,
 * skipping strings. */
static char *object_end(char *s)
{
	if (*s != '{')
		return NULL;
	int depth = 0;
	for (; *s; s++) {
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++)
				if (*s == '\\' && s[1])
					s++;
			if (!*s)
				return NULL;
		} else if (*s == '{' || *s == '[') {
			depth++;
		} else if ((*s == '}' || *s == ']') && --depth == 0) {
			return s + 1;
		}
	}
	return NULL;
}

enum change_notice_kind change_log_notice_parse(char *payload, struct change_log_notice *nt,
						struct change_log_page *p)
{
	memset(nt, 0, sizeof(*nt));
	memset(p, 0, sizeof(*p));
	struct scan c = {.s = payload, .closed = 0};
	int ok = 1;
	char *seq, *epoch, *at;
	if (take(&c, "{\"seq\":") < 0 || !(seq = take_digits(&c, "0123456789", 18)) ||
	    take(&c, "\"epoch\":") < 0 || !(epoch = take_word(&c, 0, &ok)) ||
	    take(&c, "\"changed_at\":") < 0 || !(at = take_digits(&c, "0123456789.", 40)))
		return CHANGE_NOTICE_OTHER;
	if (strlen(epoch) >= CHANGE_EPOCH_MAX)
		return CHANGE_NOTICE_OTHER;
	nt->seq = strtoll(seq, NULL, 10);
	nt->changed_at = strtod(at, NULL);
	memcpy(nt->epoch, epoch, strlen(epoch) + 1);
	if (nt->seq <= 0)
		return CHANGE_NOTICE_OTHER;
	if (c.closed)
		return CHANGE_NOTICE_SEQ;

	const char **row = p->row;
	row[CHANGE_COL_SEQ] = seq;
	row[CHANGE_COL_CHANGED_AT] = at;
	if (take(&c, "\"operation\":") < 0 || !(row[CHANGE_COL_OP] = take_word(&c, 0, &ok)) ||
	    take(&c, "\"id\":") < 0)
		return CHANGE_NOTICE_OTHER;
	if (strncmp(c.s, "null", 4) == 0)
		ok = ok && cut(&c, c.s, c.s + 4);
	else
		ok = ok && (row[CHANGE_COL_ORDER_ID] = take_digits(&c, "0123456789", 18)) != NULL;
	if (!ok || take(&c, "\"status\":") < 0)
		return CHANGE_NOTICE_OTHER;
	row[CHANGE_COL_STATUS] = take_word(&c, 1, &ok);
	if (!ok || take(&c, "\"old_status\":") < 0)
		return CHANGE_NOTICE_OTHER;
	row[CHANGE_COL_OLD_STATUS] = take_word(&c, 1, &ok);
	if (!ok || take(&c, "\"old\":") < 0)
		return CHANGE_NOTICE_OTHER;
	if (strncmp(c.s, "null", 4) == 0) {
		if (!cut(&c, c.s, c.s + 4))
			return CHANGE_NOTICE_OTHER;
	} else {
		char *start = c.s, *end = object_end(start);
		if (!end || !(row[CHANGE_COL_OLD] = cut(&c, start, end)))
			return CHANGE_NOTICE_OTHER;
	}
	/* data is the last field: the object, then the payload's own '}' */
	if (take(&c, "\"data\":") < 0)
		return CHANGE_NOTICE_OTHER;
	char *start = c.s, *end = object_end(start);
	if (!end || !cut(&c, start, end) || !c.closed)
		return CHANGE_NOTICE_OTHER;
	row[CHANGE_COL_DATA] = start;
	p->n = 1;
	return CHANGE_NOTICE_EVENT;
}

void change_log_page_release(struct change_log_page *p)
{
	PQclear(p->res);
	p->res = NULL;
	p->n = 0;
}

int change_log_render_array(const struct change_log_page *p, int k, const char *timestamp,
			    struct buf *out, struct err *err)
{
	if (buf_append_str(out, "[") < 0)
		return err_set(err, ERR_INTERNAL, "response too large");
	for (int i = 0; i < k; i++) {
		const char *data = change_log_col(p, i, CHANGE_COL_DATA);
		if (!data || (i && buf_append_str(out, ",") < 0) ||
		    change_event_format(out, change_log_seq(p, i), data,
					change_log_col(p, i, CHANGE_COL_OLD), timestamp) < 0)
			return err_set(err, ERR_INTERNAL, "change log row seq %lld cannot be sent",
				       change_log_seq(p, i));
	}
	if (buf_append_str(out, "]") < 0)
		return err_set(err, ERR_INTERNAL, "response too large");
	return 0;
}

int change_log_head(struct db_conn *c, struct change_log_head *h, struct err *err)
{
	PGresult *r = db_exec(c, &st_head, NULL, err);
	if (!r)
		return -1;
	if (PQntuples(r) < 1 || PQgetisnull(r, 0, 1) || PQgetisnull(r, 0, 2)) {
		PQclear(r);
		return err_set(err, ERR_INTERNAL, "the change log is not initialised");
	}
	h->last = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	h->pruned = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	copy_epoch(h->epoch, PQgetvalue(r, 0, 2));
	h->next = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
	PQclear(r);
	return 0;
}

int change_log_renew_epoch(struct db_conn *c, const char *expected, char out[CHANGE_EPOCH_MAX],
			   struct err *err)
{
	const char *params[1] = {expected};
	PGresult *r = db_exec(c, &st_renew, params, err);
	if (!r)
		return -1;
	copy_epoch(out, PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}
