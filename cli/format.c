#include "format.h"

#include "utf8.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESET	 "\033[0m"
#define BOLD	 "\033[1m"
#define DIM	 "\033[2m"
#define ELLIPSIS "\xe2\x80\xa6"

const char *fmt_status_color(const char *status)
{
	static const struct {
		const char *name;
		const char *color;
	} colors[] = {
	    {"pending", "\033[33m"},   {"processing", "\033[34m"}, {"shipped", "\033[36m"},
	    {"delivered", "\033[32m"}, {"cancelled", "\033[31m"},
	};
	for (size_t i = 0; status && i < sizeof(colors) / sizeof(colors[0]); i++)
		if (strcmp(status, colors[i].name) == 0)
			return colors[i].color;
	return "";
}

static int two(const char *s)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

int fmt_parse_time(const char *iso, time_t *out)
{
	if (!iso || strlen(iso) < 19)
		return -1;
	int y = 0;
	for (int i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)iso[i]))
			return -1;
		y = y * 10 + (iso[i] - '0');
	}
	int mo = two(iso + 5), d = two(iso + 8), h = two(iso + 11), mi = two(iso + 14),
	    s = two(iso + 17);
	if (iso[4] != '-' || iso[7] != '-' || (iso[10] != 'T' && iso[10] != ' ') ||
	    iso[13] != ':' || iso[16] != ':' || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60)
		return -1;
	const char *p = iso + 19;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	long off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		int oh = two(p + 1), om = 0;
		if (oh < 0)
			return -1;
		p += 3;
		if (*p == ':')
			p++;
		if (isdigit((unsigned char)*p)) {
			om = two(p);
			if (om < 0)
				return -1;
			p += 2;
		}
		off = sign * (oh * 3600L + om * 60L);
	} else {
		return -1;
	}
	if (*p)
		return -1;
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	*out = timegm(&tm) - off;
	return 0;
}

void fmt_time(const char *iso, const struct fmt_opts *o, int short_today, char *out, size_t n)
{
	time_t t;
	if (fmt_parse_time(iso, &t) < 0) {
		snprintf(out, n, "%s", iso ? iso : "");
		return;
	}
	struct tm tm, now;
	localtime_r(&t, &tm);
	localtime_r(&o->now, &now);
	if (short_today && tm.tm_year == now.tm_year && tm.tm_yday == now.tm_yday)
		strftime(out, n, "%H:%M:%S", &tm);
	else
		strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
}

void fmt_ago(time_t t, time_t now, char *out, size_t n)
{
	long long d = (long long)now - (long long)t;
	const char *fmt = d < 0 ? "in %lld%s" : "%lld%s ago";
	long long a = d < 0 ? -d : d;
	if (a < 5)
		snprintf(out, n, "just now");
	else if (a < 60)
		snprintf(out, n, fmt, a, "s");
	else if (a < 3600)
		snprintf(out, n, fmt, a / 60, "m");
	else if (a < 86400)
		snprintf(out, n, fmt, a / 3600, "h");
	else
		snprintf(out, n, fmt, a / 86400, "d");
}

size_t fmt_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

void fmt_table_init(struct fmt_table *t, size_t ncols, const char *const *headers,
		    const int *shrink, int status_col)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->headers = headers;
	t->shrink = shrink;
	t->status_col = status_col;
}

void fmt_table_add(struct fmt_table *t, const char *const *row)
{
	t->cells = xrealloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*t->cells));
	for (size_t c = 0; c < t->ncols; c++) {
		/* control characters would break the layout */
		t->cells[t->nrows * t->ncols + c] = fmt_clean(row[c]);
	}
	t->nrows++;
}

void fmt_table_release(struct fmt_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

/* Append s cut to at most w columns (with an ellipsis when cut), padded to
 * w unless last. */
static int put_cell(struct buf *out, const char *s, size_t w, int last, const char *color)
{
	size_t sw = fmt_width(s);
	size_t bytes = strlen(s), shown = sw;
	int cut = 0;
	if (sw > w) {
		/* keep w-1 characters and add the ellipsis */
		size_t chars = 0, i = 0;
		while (i < bytes && chars < (w ? w - 1 : 0)) {
			i++;
			while (i < bytes && ((unsigned char)s[i] & 0xc0) == 0x80)
				i++;
			chars++;
		}
		bytes = i;
		shown = w;
		cut = 1;
	}
	int ok = (!*color || buf_append_str(out, color) == 0) && buf_append(out, s, bytes) == 0 &&
		 (!cut || !w || buf_append_str(out, ELLIPSIS) == 0) &&
		 (!*color || buf_append_str(out, RESET) == 0);
	for (size_t k = shown; ok && !last && k < w; k++)
		ok = buf_append(out, " ", 1) == 0;
	return ok ? 0 : -1;
}

int fmt_table_render(const struct fmt_table *t, const struct fmt_opts *o, struct buf *out)
{
	size_t *w = xcalloc(t->ncols, sizeof(*w));
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = fmt_width(t->headers[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t cw = fmt_width(t->cells[r * t->ncols + c]);
			if (cw > w[c])
				w[c] = cw;
		}
	}
	if (o->width > 0) {
		size_t total = 2 * (t->ncols - 1);
		for (size_t c = 0; c < t->ncols; c++)
			total += w[c];
		while (total > (size_t)o->width) {
			size_t best = t->ncols;
			for (size_t c = 0; c < t->ncols; c++)
				if (t->shrink && t->shrink[c] && w[c] > 8 &&
				    (best == t->ncols || w[c] > w[best]))
					best = c;
			if (best == t->ncols)
				break;
			w[best]--;
			total--;
		}
	}
	int rc = 0;
	for (size_t c = 0; rc == 0 && c < t->ncols; c++) {
		if (c && buf_append_str(out, "  ") < 0)
			rc = -1;
		else
			rc = put_cell(out, t->headers[c], w[c], c + 1 == t->ncols,
				      o->color ? BOLD : "");
	}
	if (rc == 0)
		rc = buf_append_str(out, "\n");
	for (size_t r = 0; rc == 0 && r < t->nrows; r++) {
		for (size_t c = 0; rc == 0 && c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			const char *color = "";
			if (o->color && (int)c == t->status_col)
				color = fmt_status_color(cell);
			if (c && buf_append_str(out, "  ") < 0)
				rc = -1;
			else
				rc = put_cell(out, cell, w[c], c + 1 == t->ncols, color);
		}
		if (rc == 0)
			rc = buf_append_str(out, "\n");
	}
	free(w);
	return rc;
}

char *fmt_clean(const char *s)
{
	size_t len = s ? strlen(s) : 0;
	return utf8_printable(xmalloc(len + 1), len + 1, s ? s : "", len);
}

const char *fmt_member(struct json_object *obj, const char *key)
{
	struct json_object *v;
	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || !v)
		return NULL;
	const char *s = json_object_get_string(v);
	if (!json_object_is_type(v, json_type_string))
		return s;
	/* replace the member with a cleaned copy when it differs: human
	 * output reads server values here */
	char *clean = fmt_clean(s);
	if (strcmp(clean, s) != 0) {
		json_object_object_add(obj, key, json_object_new_string(clean));
		json_object_object_get_ex(obj, key, &v);
		s = json_object_get_string(v);
	}
	free(clean);
	return s;
}

/* Render t, then "(N <noun>s)"; releases t. */
static int render_counted(struct fmt_table *t, const struct fmt_opts *o, struct buf *out,
			  const char *noun)
{
	size_t n = t->nrows;
	int rc = fmt_table_render(t, o, out);
	fmt_table_release(t);
	if (rc == 0)
		rc = buf_printf(out, "(%zu %s%s)\n", n, noun, n == 1 ? "" : "s");
	return rc;
}

static const char *const order_headers[] = {"ID", "CUSTOMER", "PRODUCT", "STATUS", "UPDATED"};
static const int order_shrink[] = {0, 1, 1, 0, 0};

int fmt_orders(struct json_object *orders, const struct fmt_opts *o, struct buf *out)
{
	struct fmt_table t;
	fmt_table_init(&t, 5, order_headers, order_shrink, 3);
	size_t n =
	    json_object_is_type(orders, json_type_array) ? json_object_array_length(orders) : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *ord = json_object_array_get_idx(orders, i);
		char when[64];
		fmt_time(fmt_member(ord, "updated_at"), o, 0, when, sizeof(when));
		const char *row[] = {fmt_member(ord, "id"), fmt_member(ord, "customer_name"),
				     fmt_member(ord, "product_name"), fmt_member(ord, "status"),
				     when};
		fmt_table_add(&t, row);
	}
	return render_counted(&t, o, out, "order");
}

int fmt_order(struct json_object *order, const struct fmt_opts *o, struct buf *out)
{
	static const char *const keys[] = {"id",     "customer_name", "product_name",
					   "status", "created_at",    "updated_at"};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = fmt_member(order, keys[i]);
		if (!v)
			continue;
		rc = buf_printf(out, "%-14s ", keys[i]);
		if (rc == 0 && strcmp(keys[i], "status") == 0 && o->color && *fmt_status_color(v))
			rc = buf_printf(out, "%s%s%s\n", fmt_status_color(v), v, RESET);
		else if (rc == 0 && strstr(keys[i], "_at")) {
			char when[64], ago[32];
			time_t t;
			fmt_time(v, o, 0, when, sizeof(when));
			if (fmt_parse_time(v, &t) == 0) {
				fmt_ago(t, o->now, ago, sizeof(ago));
				rc = buf_printf(out, "%s (%s)\n", when, ago);
			} else {
				rc = buf_printf(out, "%s\n", when);
			}
		} else if (rc == 0) {
			rc = buf_printf(out, "%s\n", v);
		}
	}
	return rc;
}

/* "pending -> shipped" for a changed value, else the value; colours the
 * statuses when asked. */
static int put_change(struct buf *out, const char *old, const char *now, int color)
{
	int rc = 0;
	if (old && now && strcmp(old, now) != 0) {
		if (color)
			rc = buf_printf(out, "%s%s%s -> %s%s%s", fmt_status_color(old), old, RESET,
					fmt_status_color(now), now, RESET);
		else
			rc = buf_printf(out, "%s -> %s", old, now);
	} else if (now) {
		if (color && *fmt_status_color(now))
			rc = buf_printf(out, "%s%s%s", fmt_status_color(now), now, RESET);
		else
			rc = buf_append_str(out, now);
	}
	return rc;
}

static const char *change_time(struct json_object *ev)
{
	struct json_object *data = NULL;
	json_object_object_get_ex(ev, "data", &data);
	const char *t = fmt_member(data, "updated_at");
	return t ? t : fmt_member(ev, "timestamp");
}

int fmt_change_line(struct json_object *msg, const struct fmt_opts *o, struct buf *out)
{
	struct json_object *data = NULL, *old = NULL;
	json_object_object_get_ex(msg, "data", &data);
	json_object_object_get_ex(msg, "old", &old);
	const char *op = fmt_member(data, "operation");
	char when[64];
	fmt_time(change_time(msg), o, 1, when, sizeof(when));
	if (op && strcmp(op, "TRUNCATE") == 0)
		return buf_printf(out, "%s  #%s  TRUNCATE  every order removed\n", when,
				  fmt_member(msg, "seq") ? fmt_member(msg, "seq") : "?");
	int rc = buf_printf(out, "%s  #%s  %-6s  order %s  ", when,
			    fmt_member(msg, "seq") ? fmt_member(msg, "seq") : "?", op ? op : "?",
			    fmt_member(data, "id") ? fmt_member(data, "id") : "?");
	const char *fields[] = {"customer_name", "product_name"};
	for (size_t i = 0; rc == 0 && i < 2; i++) {
		const char *was = fmt_member(old, fields[i]);
		const char *now = fmt_member(data, fields[i]);
		if (was && now && strcmp(was, now) != 0)
			rc = buf_printf(out, "%s -> %s  ", was, now);
		else
			rc = buf_printf(out, "%s  ", now ? now : "");
	}
	if (rc == 0)
		rc = put_change(out, fmt_member(old, "status"), fmt_member(data, "status"),
				o->color);
	if (rc == 0 && op && strcmp(op, "DELETE") == 0)
		rc = buf_append_str(out, " (deleted)");
	if (rc == 0)
		rc = buf_append_str(out, "\n");
	return rc;
}

static const char *const change_headers[] = {"SEQ",	 "TIME",    "OP",    "ID",
					     "CUSTOMER", "PRODUCT", "STATUS"};
static const int change_shrink[] = {0, 0, 0, 0, 1, 1, 0};

int fmt_changes(struct json_object *events, const struct fmt_opts *o, struct buf *out)
{
	struct fmt_table t;
	fmt_table_init(&t, 7, change_headers, change_shrink, -1);
	size_t n =
	    json_object_is_type(events, json_type_array) ? json_object_array_length(events) : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *ev = json_object_array_get_idx(events, i), *data = NULL,
				   *old = NULL;
		json_object_object_get_ex(ev, "data", &data);
		json_object_object_get_ex(ev, "old", &old);
		char when[64];
		fmt_time(change_time(ev), o, 0, when, sizeof(when));
		struct buf status;
		buf_init(&status, 0);
		if (put_change(&status, fmt_member(old, "status"), fmt_member(data, "status"), 0) <
		    0)
			buf_reset(&status);
		const char *row[] = {fmt_member(ev, "seq"),
				     when,
				     fmt_member(data, "operation"),
				     fmt_member(data, "id"),
				     fmt_member(data, "customer_name"),
				     fmt_member(data, "product_name"),
				     status.data};
		fmt_table_add(&t, row);
		buf_release(&status);
	}
	return render_counted(&t, o, out, "change");
}

int fmt_health(struct json_object *health, const struct fmt_opts *o, struct buf *out)
{
	int rc = 0;
	if (!json_object_is_type(health, json_type_object))
		return buf_printf(out, "%s\n", json_object_to_json_string(health));
	json_object_object_foreach(health, key, val)
	{
		/* keys and values are the server's text: no escapes through */
		char *k = fmt_clean(key);
		char *v = fmt_clean(val ? json_object_get_string(val) : "null");
		const char *color = "";
		if (o->color && strcmp(k, "status") == 0)
			color = strcmp(v, "healthy") == 0    ? "\033[32m"
				: strcmp(v, "degraded") == 0 ? "\033[33m"
							     : "\033[31m";
		rc = buf_printf(out, "%-18s %s%s%s\n", k, color, v, *color ? RESET : "");
		free(k);
		free(v);
		if (rc < 0)
			break;
	}
	return rc;
}
