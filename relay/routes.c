#include "routes.h"

#include "buf.h"
#include "catchup.h"
#include "http_error.h"
#include "hub.h"
#include "listener.h"
#include "sse.h"
#include "stats.h"
#include "ws.h"

#include <stdio.h>
#include <string.h>

static int method_get(struct conn *cn, const struct http_request *req)
{
	if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
		return 1;
	struct err err = {0};
	err_set(&err, ERR_METHOD, "method %s not allowed", req->method);
	conn_respond_error(cn, &err, "Allow: GET, HEAD\r\n");
	return 0;
}

static void health(struct relay *r, struct conn *cn)
{
	int up = listener_connected(r->listener);
	struct hub_lag lag;
	hub_lag(r->hub, &lag);
	char body[256];
	int n = snprintf(body, sizeof(body),
			 "{\"status\":\"%s\",\"connectedClients\":%d,\"seq\":%lld,"
			 "\"database\":\"%s\",\"maxLag\":%lld}",
			 up ? "healthy" : "degraded", hub_count(r->hub), hub_last(r->hub),
			 up ? "connected" : "reconnecting",
			 lag.max[0] > lag.max[1] ? lag.max[0] : lag.max[1]);
	conn_respond(cn, 200, HTTP_JSON_TYPE, NULL, body, (size_t)n);
}

static void metrics(struct relay *r, struct conn *cn)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	struct hub_lag lag;
	hub_lag(r->hub, &lag);
	if (stats_render(&b, hub_last(r->hub), listener_connected(r->listener),
			 catchup_count(r->catchup), &lag) < 0) {
		struct err err = {0};
		err_set(&err, ERR_INTERNAL, "metrics too large");
		conn_respond_error(cn, &err, NULL);
	} else {
		conn_respond(cn, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.data,
			     b.len);
	}
	buf_release(&b);
}

void routes_dispatch(struct relay *r, struct conn *cn, const struct http_request *req)
{
	const char *p = req->path;
	if (strcmp(p, "/") == 0 || strcmp(p, "/ws") == 0) {
		ws_open(r, cn, req);
	} else if (strcmp(p, "/events") == 0) {
		sse_open(r, cn, req);
	} else if (strcmp(p, "/health") == 0) {
		if (method_get(cn, req))
			health(r, cn);
	} else if (strcmp(p, "/metrics") == 0) {
		if (method_get(cn, req))
			metrics(r, cn);
	} else {
		struct err err = {0};
		err_set(&err, ERR_NOT_FOUND,
			"not found: the relay serves /, /ws, /events, /health "
			"and /metrics");
		conn_respond_error(cn, &err, NULL);
	}
}
