/* change_log: the one reader of the change log, for the relay's live path,
 * its replay and the api's GET /api/changes.
 *
 * A reader measures the writer floor (change_log_floor) in one statement,
 * then reads a page (change_log_read) in the next, and hands the page's seqs
 * and that floor to a seq_gate (seq_gate.h), which says how many leading rows
 * are final. Each page carries, from the same snapshot as its rows, what
 * retention has pruned and the epoch of the history, so a reader can tell a
 * client its history is gone or has changed instead of skipping silently.
 *
 * Functions borrow a pooled connection (db.h) and return 0, or -1 with err
 * as db_exec() sets it. Thread-safe as far as each connection is used by
 * one thread. */
#ifndef ORDERS_CHANGE_LOG_H
#define ORDERS_CHANGE_LOG_H

#include "buf.h"
#include "change_filter.h"
#include "db.h"
#include "err.h"

#include <libpq-fe.h>

/* Columns of a page row, in order. data and old are JSON text; old and the
 * order columns may be NULL (TRUNCATE has neither id nor status). */
enum change_log_col {
	CHANGE_COL_SEQ,
	CHANGE_COL_OP,
	CHANGE_COL_ORDER_ID,
	CHANGE_COL_STATUS,
	CHANGE_COL_OLD_STATUS,
	CHANGE_COL_DATA,
	CHANGE_COL_OLD,
	CHANGE_COL_CHANGED_AT, /* seconds since 1970, as text */
	CHANGE_COL_COUNT
};

struct change_log_page {
	PGresult *res;			   /* owned; rows [0, n) are changes (NULL: see row) */
	int n;				   /* rows read */
	const char *row[CHANGE_COL_COUNT]; /* without res: the one row of a notification
					      (change_log_notice_parse), borrowed */
	long long pruned;		   /* pruned_through: seqs up to it are gone */
	long long next;			   /* the sequence's next value (seq went back if next <= a
					      seq already seen) */
	char epoch[CHANGE_EPOCH_MAX];	   /* the history these seqs belong to */
};

/* What a reader needs at start. */
struct change_log_head {
	long long last;	  /* highest seq in the log (0 when empty) */
	long long pruned; /* pruned_through */
	long long next;	  /* the sequence's next value */
	char epoch[CHANGE_EPOCH_MAX];
};

/* The writer floor now: a missing seq below it is final in any later read
 * (see seq_gate.h). */
int change_log_floor(struct db_conn *c, long long *floor, struct err *err)
    __attribute__((warn_unused_result));

/* Read up to limit (1..1000) rows with seq > after, and seq <= upto when
 * upto > 0, oldest first. Release the page with change_log_page_release(). */
int change_log_read(struct db_conn *c, long long after, long long upto, int limit,
		    struct change_log_page *p, struct err *err) __attribute__((warn_unused_result));
long long change_log_seq(const struct change_log_page *p, int row);
/* Borrowed text of a column of a row, NULL for SQL NULL. */
const char *change_log_col(const struct change_log_page *p, int row, enum change_log_col col);
void change_log_page_release(struct change_log_page *p);

/* Render rows [0, k) of a page as a JSON array of change events (the
 * relay's frames, CONTRACT section 5) stamped with timestamp. -1 with
 * ERR_INTERNAL naming the seq of a row that cannot be decoded. */
int change_log_render_array(const struct change_log_page *p, int k, const char *timestamp,
			    struct buf *out, struct err *err) __attribute__((warn_unused_result));

/* A notification on the change log's private channel (schema/006), in its
 * one fixed form:
 *   {"seq":S,"epoch":"E","changed_at":T,"operation":"OP","id":N|null,
 *    "status":"s"|null,"old_status":"s"|null,"old":{...}|null,"data":{...}}
 * or, when the event did not fit NOTIFY's limit, {"seq":S,"epoch":"E",
 * "changed_at":T}. data and old are the log's json text byte for byte, so a
 * page made from it decodes (relay/changes.c) into the same event as the
 * log's row. Anything else (an epoch renewal, a foreign payload) is
 * CHANGE_NOTICE_OTHER: the reader must go to the log. */
enum change_notice_kind {
	CHANGE_NOTICE_OTHER = -1, /* not a change: read the log */
	CHANGE_NOTICE_SEQ = 0,	  /* seq, epoch and changed_at only: read the row */
	CHANGE_NOTICE_EVENT = 1,  /* the whole row */
};
struct change_log_notice {
	long long seq;
	double changed_at;
	char epoch[CHANGE_EPOCH_MAX];
};
/* Parse payload in place (NULs end its fields; it must outlive p). On
 * CHANGE_NOTICE_EVENT, p is a page of that one row (no PGresult: releasing
 * it frees nothing). Pure. */
enum change_notice_kind change_log_notice_parse(char *payload, struct change_log_notice *nt,
						struct change_log_page *p);

int change_log_head(struct db_conn *c, struct change_log_head *h, struct err *err)
    __attribute__((warn_unused_result));

/* Start a new epoch unless another reader already replaced `expected`;
 * out holds the epoch in force afterwards. */
int change_log_renew_epoch(struct db_conn *c, const char *expected, char out[CHANGE_EPOCH_MAX],
			   struct err *err) __attribute__((warn_unused_result));

#endif
