/* format: what a person reads. Aligned tables that fit a width, status
 * colours, local human timestamps, one line per change event. No I/O: every
 * function appends to a buf, so tests/unit/test_format.c can check the
 * exact text. */
#ifndef ORDERS_CLI_FORMAT_H
#define ORDERS_CLI_FORMAT_H

#include "buf.h"

#include <json-c/json.h>
#include <stddef.h>
#include <time.h>

struct fmt_opts {
	int color; /* ANSI colours (a terminal without NO_COLOR) */
	int width; /* terminal columns; 0 = no limit (pipes) */
	time_t now;
};

/* ANSI colour sequence for a status ("" for unknown ones). */
const char *fmt_status_color(const char *status);

/* Parse ISO-8601 with a zone ("2026-11-26T03:00:00.123Z", "...+01:00",
 * PostgreSQL's "2026-11-26 03:00:00+00"). 0 or -1. */
int fmt_parse_time(const char *iso, time_t *out);
/* Local time "2026-11-26 04:00:00", or just "04:00:00" when short and the
 * date is today. Falls back to the text itself when unparsable. */
void fmt_time(const char *iso, const struct fmt_opts *o, int short_today, char *out, size_t n);
/* "just now", "42s ago", "5m ago", "3h ago", "2d ago" ("in 5s" for the future). */
void fmt_ago(time_t t, time_t now, char *out, size_t n);

/* Display columns of UTF-8 text (code points; continuation bytes skipped). */
size_t fmt_width(const char *s);

/* A table of text cells; the caller-owned storage grows per row. */
struct fmt_table {
	size_t ncols;
	const char *const *headers;
	const int *shrink; /* per column: may be cut with an ellipsis to fit */
	int status_col;	   /* column coloured by status, -1 for none */
	char **cells;	   /* nrows * ncols copies */
	size_t nrows;
};

void fmt_table_init(struct fmt_table *t, size_t ncols, const char *const *headers,
		    const int *shrink, int status_col);
/* Copy one row of ncols cells (NULL cells print empty). */
void fmt_table_add(struct fmt_table *t, const char *const *row);
void fmt_table_release(struct fmt_table *t);
/* Render header and rows, two spaces between columns, no trailing blanks;
 * when o->width is set, shrinkable columns are cut (down to 8 columns
 * each) so that lines fit. */
int fmt_table_render(const struct fmt_table *t, const struct fmt_opts *o, struct buf *out)
    __attribute__((warn_unused_result));

/* A JSON array of orders as a table, then "(N orders)". */
int fmt_orders(struct json_object *orders, const struct fmt_opts *o, struct buf *out)
    __attribute__((warn_unused_result));
/* One order as "field  value" lines. */
int fmt_order(struct json_object *order, const struct fmt_opts *o, struct buf *out)
    __attribute__((warn_unused_result));
/* A JSON array of change events as a table, then "(N changes)". */
int fmt_changes(struct json_object *events, const struct fmt_opts *o, struct buf *out)
    __attribute__((warn_unused_result));
/* One relay message (order_change) as one line:
 *   "12:03:04  #42  UPDATE  order 7  John Doe  Laptop  pending -> shipped" */
int fmt_change_line(struct json_object *msg, const struct fmt_opts *o, struct buf *out)
    __attribute__((warn_unused_result));
/* A health document as "key  value" lines. */
int fmt_health(struct json_object *health, const struct fmt_opts *o, struct buf *out)
    __attribute__((warn_unused_result));

/* The text of a member as a string: strings as they are, numbers and
 * booleans printed, null and absent as NULL. Borrowed from obj. A string
 * that is not printable text is replaced in obj by its fmt_clean copy, so
 * nothing from the server can drive the terminal. */
const char *fmt_member(struct json_object *obj, const char *key);
/* A copy of server text s (NULL reads as "") that cannot drive the
 * terminal: common/utf8's utf8_printable, the one sanitiser (blanks for
 * tabs and line breaks, '?' for other C0 and C1 controls, DEL and bytes
 * that are not UTF-8). Caller frees. */
char *fmt_clean(const char *s);

#endif
