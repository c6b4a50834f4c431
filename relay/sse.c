#include "sse.h"

#include "change_filter.h"
#include "client.h"
#include "clock.h"
#include "http.h"
#include "log.h"
#include "subscribe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CORS for an allowed Origin (subscribe_authorize refused the others). */
static void cors_headers(struct mg_connection *conn, char *out, size_t cap)
{
	const char *origin = mg_get_header(conn, "Origin");
	out[0] = '\0';
	if (origin && strlen(origin) < 200 && !strpbrk(origin, "\r\n"))
		snprintf(out, cap, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n", origin);
}

static int refuse(struct mg_connection *conn, const struct err *err, const char *cors)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	log_info("sse refused %s:%d: %s", ri->remote_addr, ri->remote_port, err->msg);
	char extra[512];
	snprintf(extra, sizeof(extra), "Connection: close\r\n%s%s%s", cors,
		 err->kind == ERR_UNAUTHORIZED ? "WWW-Authenticate: Bearer realm=\"orders\"\r\n"
					       : "",
		 err->kind == ERR_UNAVAILABLE ? "Retry-After: 5\r\n" : "");
	return http_send_error(conn, err, extra);
}

static int sse_handler(struct mg_connection *conn, void *cbdata)
{
	struct relay *r = cbdata;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct err err = {0};
	char cors[300] = "";
	if (strcmp(ri->local_uri_raw ? ri->local_uri_raw : "", "/events") != 0) {
		err_set(&err, ERR_NOT_FOUND, "not found");
		return refuse(conn, &err, cors);
	}
	if (strcmp(ri->request_method, "GET") != 0) {
		err_set(&err, ERR_METHOD, "method %s not allowed", ri->request_method);
		return http_send_error(conn, &err, "Allow: GET\r\nConnection: close\r\n");
	}
	int allowed = subscribe_authorize(r, conn, &err);
	if (err.kind != ERR_FORBIDDEN) /* a refused origin gets no CORS at all */
		cors_headers(conn, cors, sizeof(cors));
	if (allowed < 0)
		return refuse(conn, &err, cors);
	struct change_query q;
	if (change_query_parse(ri->query_string, &q, &err) < 0)
		return refuse(conn, &err, cors);
	const char *last_id = mg_get_header(conn, "Last-Event-ID");
	if (last_id) {
		long long seq;
		if (change_seq_parse(last_id, &seq) < 0) {
			err_set_field(&err, ERR_INVALID_QUERY, "Last-Event-ID",
				      "Last-Event-ID: must be a seq the stream sent");
			return refuse(conn, &err, cors);
		}
		/* the browser's reconnect carries the newest seq it saw */
		q.has_since = 1;
		q.since = seq;
	}
	if (subscribe_take_slot(r, &err) < 0)
		return refuse(conn, &err, cors);

	mg_printf(conn,
		  "HTTP/1.1 200 OK\r\n"
		  "Content-Type: text/event-stream; charset=utf-8\r\n"
		  "Cache-Control: no-store\r\n"
		  "X-Accel-Buffering: no\r\n"
		  "Connection: close\r\n"
		  "%s\r\n"
		  "retry: 2000\n\n",
		  cors);
	char peer[64];
	snprintf(peer, sizeof(peer), "%s:%d", ri->remote_addr, ri->remote_port);
	struct client *c = client_new(r, conn, &q, peer);
	c->sse = 1;
	subscribe_start(r, c, "sse");
	/* this worker holds the response open; senders write to it */
	long long stop_seen = 0;
	while (!client_wait_done(c, 1000)) {
		if (*r->stop && !stop_seen)
			stop_seen = clock_now_ms();
		if (stop_seen && clock_now_ms() - stop_seen > 3000)
			break; /* shutting down and the client takes nothing */
	}
	subscribe_retire(r, c);
	return 200;
}

void sse_register(struct mg_context *ctx, struct relay *r)
{
	mg_set_request_handler(ctx, "/events", sse_handler, r);
}
