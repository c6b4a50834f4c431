#include "sse_client.h"

#include "buf.h"
#include "clock.h"
#include "http_client.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sse_client {
	struct http_conn conn;
	struct buf in;	 /* received, not yet parsed */
	size_t off;	 /* parsed up to here */
	size_t scan;	 /* no event ends before here: each byte is searched once */
	struct buf data; /* the current event's data */
};

struct sse_client *sse_client_connect(const char *url, const char *const *headers, int timeout_ms,
				      int insecure, struct err *err)
{
	const char *const no_cache[] = {"Cache-Control: no-cache", NULL};
	struct http_request req = {.method = "GET",
				   .url = url,
				   .accept = "text/event-stream",
				   .headers = no_cache,
				   .more = headers,
				   .timeout_ms = timeout_ms,
				   .max_body = HTTP_CLIENT_REFUSAL_MAX,
				   .insecure = insecure};
	struct sse_client *c = xcalloc(1, sizeof(*c));
	buf_init(&c->in, SSE_CLIENT_MAX_EVENT + 65536);
	buf_init(&c->data, SSE_CLIENT_MAX_EVENT);
	struct http_response resp;
	struct http_parser p;
	long long deadline;
	/* what follows the head is the stream's first bytes: into c->in */
	int ok = http_client_head(&req, &c->conn, &p, &resp, &c->in, &deadline, err) == 0;
	if (ok && resp.status != 200) {
		http_client_refused(&c->conn, &p, &resp, &c->in, url, "the event stream", err);
		ok = 0;
	} else if (ok) {
		const char *ct = http_response_header(&resp, "Content-Type");
		if (!ct || strncasecmp(ct, "text/event-stream", 17) != 0) {
			err_set(err, ERR_BAD_REQUEST, "%.200s is not an event stream", url);
			ok = 0;
		}
	}
	http_parser_release(&p);
	http_response_release(&resp);
	if (!ok) {
		sse_client_free(c);
		return NULL;
	}
	return c;
}

/* Parse one event block [start, end) into ev; 1 if it carried data. */
static int parse_block(struct sse_client *c, const char *start, const char *end,
		       struct sse_event *ev)
{
	snprintf(ev->type, sizeof(ev->type), "message");
	buf_reset(&c->data);
	int has_data = 0;
	for (const char *line = start; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - line);
		if (n && line[n - 1] == '\r')
			n--;
		const char *colon = memchr(line, ':', n);
		size_t fn = colon ? (size_t)(colon - line) : n;
		const char *v = colon ? colon + 1 : le;
		size_t vn = colon ? n - fn - 1 : 0;
		if (vn && *v == ' ')
			v++, vn--;
		if (fn == 5 && memcmp(line, "event", 5) == 0) {
			snprintf(ev->type, sizeof(ev->type), "%.*s", (int)vn, v);
		} else if (fn == 4 && memcmp(line, "data", 4) == 0) {
			if ((has_data && buf_append(&c->data, "\n", 1) < 0) ||
			    buf_append(&c->data, v, vn) < 0)
				return -1;
			has_data = 1;
		} /* id:, retry:, comments: nothing to keep (watch resumes by seq) */
		line = le + 1;
	}
	if (!has_data)
		return 0;
	if (buf_append(&c->data, "", 1) < 0) /* NUL */
		return -1;
	ev->data = c->data.data;
	ev->len = c->data.len - 1;
	return 1;
}

int sse_client_read(struct sse_client *c, int timeout_ms, struct sse_event *ev, struct err *err)
{
	long long deadline = clock_now_ms() + (timeout_ms < 0 ? 1LL << 40 : timeout_ms);
	for (;;) {
		const char *base = c->in.data ? c->in.data : "";
		const char *start = base + c->off, *end = base + c->in.len;
		/* an event ends at a blank line (\n\n; \r\n\r\n is tolerated) */
		const char *sep = NULL;
		for (const char *q = base + (c->scan > c->off ? c->scan : c->off); q + 1 < end;
		     q++) {
			if (q[0] == '\n' &&
			    (q[1] == '\n' || (q[1] == '\r' && q + 2 < end && q[2] == '\n'))) {
				sep = q;
				break;
			}
		}
		if (sep) {
			size_t skip = sep[1] == '\n' ? 2 : 3;
			int rc = parse_block(c, start, sep, ev);
			c->off = c->scan = (size_t)(sep - base) + skip;
			if (rc < 0)
				return err_set(err, ERR_BAD_REQUEST, "event too large");
			if (rc == 1)
				return 1;
			continue;
		}
		/* a blank line may yet end in the last two bytes */
		if (c->in.len > c->off + 2)
			c->scan = c->in.len - 2;
		if (c->off) { /* keep the buffer small: drop what was parsed */
			size_t rest = c->in.len - c->off;
			memmove(c->in.data, c->in.data + c->off, rest);
			c->in.len = rest;
			c->scan = c->scan > c->off ? c->scan - c->off : 0;
			c->off = 0;
		}
		int w = http_conn_wait(&c->conn, deadline);
		if (w == 0)
			return 0;
		if (w < 0)
			return err_set(err, ERR_UNAVAILABLE, "connection lost");
		char tmp[16384];
		ssize_t n = http_conn_read(&c->conn, tmp, sizeof(tmp), err);
		if (n == HTTP_CONN_AGAIN)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return err_set(err, ERR_UNAVAILABLE, "the relay ended the stream");
		if (buf_append(&c->in, tmp, (size_t)n) < 0)
			return err_set(err, ERR_BAD_REQUEST, "event too large");
	}
}

void sse_client_free(struct sse_client *c)
{
	if (!c)
		return;
	http_conn_close(&c->conn);
	buf_release(&c->in);
	buf_release(&c->data);
	free(c);
}
