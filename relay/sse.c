#include "sse.h"

#include "change_filter.h"
#include "client.h"
#include "log.h"
#include "subscribe.h"

#include <stdio.h>
#include <string.h>

/* CORS for an allowed Origin (subscribe_authorize refused the others). */
static void cors_headers(const struct http_request *req, char *out, size_t cap)
{
	const char *origin = http_request_header(req, "Origin");
	out[0] = '\0';
	if (origin && strlen(origin) < 200)
		snprintf(out, cap, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n", origin);
}

static void refuse(struct conn *cn, const struct err *err, const char *cors)
{
	log_info("sse refused %s: %s", conn_peer(cn), err->msg);
	char extra[512];
	snprintf(extra, sizeof(extra), "%s%s%s", cors,
		 err->kind == ERR_UNAUTHORIZED ? "WWW-Authenticate: Bearer realm=\"orders\"\r\n"
					       : "",
		 err->kind == ERR_UNAVAILABLE ? "Retry-After: 5\r\n" : "");
	conn_respond_error(cn, err, extra);
}

void sse_open(struct relay *r, struct conn *cn, const struct http_request *req)
{
	struct err err = {0};
	char cors[300] = "";
	if (strcmp(req->method, "GET") != 0) {
		err_set(&err, ERR_METHOD, "method %s not allowed", req->method);
		conn_respond_error(cn, &err, "Allow: GET\r\n");
		return;
	}
	int allowed = subscribe_authorize(r, req, &err);
	if (err.kind != ERR_FORBIDDEN) /* a refused origin gets no CORS at all */
		cors_headers(req, cors, sizeof(cors));
	if (allowed < 0) {
		refuse(cn, &err, cors);
		return;
	}
	struct change_query q;
	if (change_query_parse(req->query, &q, &err) < 0) {
		refuse(cn, &err, cors);
		return;
	}
	const char *last_id = http_request_header(req, "Last-Event-ID");
	if (last_id) {
		long long seq;
		if (change_seq_parse(last_id, &seq) < 0) {
			err_set_field(&err, ERR_INVALID_QUERY, "Last-Event-ID",
				      "Last-Event-ID: must be a seq the stream sent");
			refuse(cn, &err, cors);
			return;
		}
		/* the browser's reconnect carries the newest seq it saw */
		q.has_since = 1;
		q.since = seq;
	}
	if (subscribe_take_slot(r, &err) < 0) {
		refuse(cn, &err, cors);
		return;
	}
	char head[600];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 200 OK\r\n"
			 "Content-Type: text/event-stream; charset=utf-8\r\n"
			 "Cache-Control: no-store\r\n"
			 "X-Accel-Buffering: no\r\n"
			 "X-Content-Type-Options: nosniff\r\n"
			 "Connection: close\r\n"
			 "%s\r\n"
			 "retry: 2000\n\n",
			 cors);
	char peer[128];
	subscribe_peer(r, cn, req, peer, sizeof(peer));
	struct client *c = client_new(r, &q, peer);
	c->sse = 1;
	conn_stream(cn, c, head, (size_t)n, 0);
	subscribe_start(r, c, "sse");
}
