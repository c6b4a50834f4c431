#include "sse_client.h"

#include "buf.h"
#include "clock.h"
#include "http_client.h"
#include "json.h"
#include "utf8.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct sse_client {
	int fd;
	struct buf in;	 /* received, not yet parsed */
	size_t off;	 /* parsed up to here */
	struct buf data; /* the current event's data */
};

/* Read the rest of an error answer (bounded) and say what it says. */
static void refused(struct sse_client *c, struct http_response *resp, long long deadline,
		    struct err *err)
{
	char tmp[4096];
	while (c->in.len < 16384 && http_wait_readable(c->fd, deadline) == 1) {
		ssize_t n = read(c->fd, tmp, sizeof(tmp));
		if (n <= 0 || buf_append(&c->in, tmp, (size_t)n) < 0)
			break;
	}
	const char *body = c->in.data ? c->in.data + c->off : "";
	struct json_object *doc = json_parse_object(body, c->in.len - c->off, NULL);
	struct json_object *e = NULL, *code = NULL;
	const char *msg = doc && json_object_object_get_ex(doc, "error", &e) &&
				  json_object_is_type(e, json_type_string)
			      ? json_object_get_string(e)
			      : resp->reason;
	char clean[201]; /* the server's words reach the terminal: printable text only */
	utf8_printable(clean, sizeof(clean), msg, strlen(msg));
	json_object_object_get_ex(doc, "code", &code);
	err_set(err,
		err_kind_for_status(resp->status, json_object_is_type(code, json_type_string)
						      ? json_object_get_string(code)
						      : NULL),
		"the relay answered %d: %s", resp->status, clean);
	json_object_put(doc);
}

struct sse_client *sse_client_connect(const char *url, const char *const *headers, int timeout_ms,
				      struct err *err)
{
	struct http_url u;
	if (http_url_parse(url, &u, err) < 0)
		return NULL;
	if (u.tls) {
		err_set(err, ERR_BAD_REQUEST, "'%.200s': TLS is not supported yet", url);
		return NULL;
	}
	long long deadline = clock_now_ms() + timeout_ms;
	struct sse_client *c = xcalloc(1, sizeof(*c));
	buf_init(&c->in, SSE_CLIENT_MAX_EVENT + 65536);
	buf_init(&c->data, SSE_CLIENT_MAX_EVENT);
	c->fd = http_connect(u.host, u.port, deadline, err);
	struct http_response resp;
	http_response_init(&resp, 0);
	struct http_parser p;
	http_parser_init(&p, &resp, 1);
	struct buf req;
	buf_init(&req, 0);
	const char *extra[34] = {"Accept: text/event-stream", "Cache-Control: no-cache"};
	size_t k = 2;
	for (size_t i = 0; headers && headers[i] && k < 33; i++)
		extra[k++] = headers[i];
	extra[k] = NULL;
	struct http_request r = {.method = "GET", .url = url, .headers = extra};
	int ok = c->fd >= 0 && http_request_format(&req, &r, &u) == 0 &&
		 http_send_all(c->fd, req.data, req.len, deadline, err) == 0;
	int done = 0;
	char tmp[4096];
	while (ok && !done) {
		int w = http_wait_readable(c->fd, deadline);
		if (w <= 0) {
			err_set(err, ERR_UNAVAILABLE, "no answer from %s in time", url);
			ok = 0;
			break;
		}
		ssize_t n = read(c->fd, tmp, sizeof(tmp));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			err_set(err, ERR_UNAVAILABLE, "%s closed the connection", url);
			ok = 0;
			break;
		}
		size_t used = 0;
		int rc = http_parser_feed(&p, tmp, (size_t)n, &used, err);
		if (rc < 0) {
			ok = 0;
			break;
		}
		if (rc == 1) {
			done = 1;
			if (buf_append(&c->in, tmp + used, (size_t)n - used) < 0)
				ok = 0;
		}
	}
	if (ok && resp.status != 200) {
		refused(c, &resp, deadline, err);
		ok = 0;
	} else if (ok) {
		const char *ct = http_response_header(&resp, "Content-Type");
		if (!ct || strncasecmp(ct, "text/event-stream", 17) != 0) {
			err_set(err, ERR_BAD_REQUEST, "%s is not an event stream", url);
			ok = 0;
		}
	}
	buf_release(&req);
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
		for (const char *q = start; q + 1 < end; q++) {
			if (q[0] == '\n' &&
			    (q[1] == '\n' || (q[1] == '\r' && q + 2 < end && q[2] == '\n'))) {
				sep = q;
				break;
			}
		}
		if (sep) {
			size_t skip = sep[1] == '\n' ? 2 : 3;
			int rc = parse_block(c, start, sep, ev);
			c->off = (size_t)(sep - base) + skip;
			if (rc < 0)
				return err_set(err, ERR_BAD_REQUEST, "event too large");
			if (rc == 1)
				return 1;
			continue;
		}
		if (c->off) { /* keep the buffer small: drop what was parsed */
			size_t rest = c->in.len - c->off;
			memmove(c->in.data, c->in.data + c->off, rest);
			c->in.len = rest;
			c->off = 0;
		}
		int w = http_wait_readable(c->fd, deadline);
		if (w == 0)
			return 0;
		if (w < 0)
			return err_set(err, ERR_UNAVAILABLE, "connection lost");
		char tmp[16384];
		ssize_t n = read(c->fd, tmp, sizeof(tmp));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return err_set(err, ERR_UNAVAILABLE, "connection lost: %s",
				       strerror(errno));
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
	if (c->fd >= 0)
		close(c->fd);
	buf_release(&c->in);
	buf_release(&c->data);
	free(c);
}
