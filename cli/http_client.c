#include "http_client.h"

#include "clock.h"
#include "json.h"
#include "utf8.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Append each "Name: value" of a NULL-terminated list (or NULL) as a line. */
static int put_lines(struct buf *out, const char *const *lines)
{
	for (; lines && *lines; lines++)
		if (buf_printf(out, "%s\r\n", *lines) < 0)
			return -1;
	return 0;
}

int http_request_format(struct buf *out, const struct http_request *req, const struct http_url *u)
{
	const char *accept = req->accept ? req->accept : "application/json";
	if (buf_printf(out, "%s %s HTTP/1.1\r\nHost: ", req->method, u->target) < 0 ||
	    http_url_authority(out, u) < 0 ||
	    buf_printf(out, "\r\nUser-Agent: orders/" ORDERS_VERSION "\r\n%s%s%sConnection: %s\r\n",
		       *accept ? "Accept: " : "", accept, *accept ? "\r\n" : "",
		       req->connection ? req->connection : "close") < 0)
		return -1;
	if (req->token && *req->token &&
	    buf_printf(out, "Authorization: Bearer %s\r\n", req->token) < 0)
		return -1;
	if (put_lines(out, req->headers) < 0 || put_lines(out, req->more) < 0)
		return -1;
	if (req->body) {
		if (buf_printf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n",
			       req->content_type ? req->content_type : "application/json",
			       req->body_len) < 0)
			return -1;
	} else if (strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
		   strcmp(req->method, "PATCH") == 0) {
		if (buf_append_str(out, "Content-Length: 0\r\n") < 0)
			return -1;
	}
	if (buf_append_str(out, "\r\n") < 0)
		return -1;
	if (req->body && buf_append(out, req->body, req->body_len) < 0)
		return -1;
	return 0;
}

/* Read from conn into p until it has parsed all it wants (1), the peer
 * closed (what http_parser_finish says) or the deadline passed. Bytes
 * after the end go to rest when given. 0 or -1 with err. */
static int read_until_parsed(struct http_conn *conn, struct http_parser *p, struct buf *rest,
			     long long deadline, struct err *err)
{
	char chunk[16384];
	for (;;) {
		int w = http_conn_wait(conn, deadline);
		if (w < 0)
			return err_set(err, ERR_UNAVAILABLE, "%s: poll failed: %s", conn->where,
				       strerror(errno));
		if (w == 0) {
			if (clock_now_ms() < deadline)
				continue;
			return err_set(err, ERR_UNAVAILABLE, "%s: timed out waiting for the answer",
				       conn->where);
		}
		ssize_t n = http_conn_read(conn, chunk, sizeof(chunk), err);
		if (n == HTTP_CONN_AGAIN)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return http_parser_finish(p, err) < 0 ? -1 : 0;
		size_t used;
		int r = http_parser_feed(p, chunk, (size_t)n, &used, err);
		if (r < 0)
			return -1;
		if (r == 1) {
			if (rest && buf_append(rest, chunk + used, (size_t)n - used) < 0)
				return err_set(err, ERR_TOO_LARGE, "%s: answer too large",
					       conn->where);
			return 0;
		}
	}
}

int http_client_head(const struct http_request *req, struct http_conn *conn, struct http_parser *p,
		     struct http_response *resp, struct buf *rest, long long *deadline,
		     struct err *err)
{
	struct http_url u;
	struct buf out;
	int rc = -1;
	*conn = (struct http_conn)HTTP_CONN_INIT;
	http_response_init(resp, req->max_body ? req->max_body : HTTP_CLIENT_BODY_MAX);
	http_parser_init(p, resp, 1);
	buf_init(&out, 0);
	*deadline =
	    clock_now_ms() + (req->timeout_ms > 0 ? req->timeout_ms : HTTP_CLIENT_TIMEOUT_MS);
	if (http_url_parse(req->url, &u, err) < 0 ||
	    http_conn_open(conn, &u, req->insecure, *deadline, err) < 0)
		goto out;
	if (http_request_format(&out, req, &u) < 0) {
		err_set(err, ERR_INTERNAL, "cannot format the request");
		goto out;
	}
	if (http_conn_send(conn, out.data, out.len, *deadline, err) < 0 ||
	    read_until_parsed(conn, p, rest, *deadline, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		http_conn_close(conn);
	buf_release(&out);
	return rc;
}

int http_client_request(const struct http_request *req, struct http_response *resp, struct err *err)
{
	struct http_conn conn = HTTP_CONN_INIT;
	struct http_parser parser;
	struct http_url u;
	struct buf rest;
	long long deadline;
	int rc = -1;
	buf_init(&rest, 0);
	int bad = http_url_parse(req->url, &u, err) < 0;
	if (!bad && strncmp(u.scheme, "http", 4) != 0)
		bad = err_set(err, ERR_BAD_REQUEST, "not an http:// or https:// URL: '%.200s'",
			      req->url);
	if (bad) {
		http_response_init(resp, 0);
		http_parser_init(&parser, resp, 1);
		goto out;
	}
	if (http_client_head(req, &conn, &parser, resp, &rest, &deadline, err) < 0)
		goto out;
	if (strcmp(req->method, "HEAD") != 0) {
		size_t used;
		int r = http_parser_read_body(&parser, err);
		if (r == 0 && rest.len && parser.state != HTTP_P_DONE)
			r = http_parser_feed(&parser, rest.data, rest.len, &used, err) < 0 ? -1 : 0;
		if (r == 0 && parser.state != HTTP_P_DONE)
			r = read_until_parsed(&conn, &parser, NULL, deadline, err);
		if (r < 0)
			goto out;
	}
	rc = 0;
out:
	http_conn_close(&conn);
	buf_release(&rest);
	http_parser_release(&parser);
	return rc;
}

void http_client_refused(struct http_conn *conn, struct http_parser *p, struct http_response *resp,
			 const struct buf *rest, const char *url, const char *wanted,
			 struct err *err)
{
	/* the body, when one comes quickly: the server's own words */
	size_t used;
	int r = http_parser_read_body(p, NULL);
	if (r == 0 && rest->len && p->state != HTTP_P_DONE)
		r = http_parser_feed(p, rest->data, rest->len, &used, NULL) < 0 ? -1 : 0;
	if (r == 0 && p->state != HTTP_P_DONE)
		(void)read_until_parsed(conn, p, NULL, clock_now_ms() + 1000, NULL);
	const char *text = NULL, *code = NULL;
	struct json_object *doc = NULL, *e = NULL, *c = NULL;
	if (resp->body.len)
		doc = json_parse_object(resp->body.data, resp->body.len, NULL);
	if (doc && json_object_object_get_ex(doc, "error", &e) &&
	    json_object_is_type(e, json_type_string))
		text = json_object_get_string(e);
	if (doc && json_object_object_get_ex(doc, "code", &c) &&
	    json_object_is_type(c, json_type_string))
		code = json_object_get_string(c);
	/* the server's words reach the terminal: printable text only */
	char reason[sizeof(resp->reason)], clean[ERR_MSG_MAX];
	utf8_printable(reason, sizeof(reason), resp->reason, strlen(resp->reason));
	if (text)
		utf8_printable(clean, sizeof(clean), text, strlen(text));
	err_set(err, err_kind_for_status(resp->status, code), "%.200s refused %s: %d %s%s%s", url,
		wanted, resp->status, reason, text ? ": " : "", text ? clean : "");
	json_object_put(doc);
}
