#include "routes.h"

#include "buf.h"
#include "catchup.h"
#include "http.h"
#include "hub.h"
#include "listener.h"
#include "stats.h"

#include <stdio.h>
#include <string.h>

static int method_get(struct mg_connection *conn)
{
	const char *m = mg_get_request_info(conn)->request_method;
	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		return 1;
	struct err err = {0};
	err_set(&err, ERR_METHOD, "method %s not allowed", m);
	http_send_error(conn, &err, "Allow: GET, HEAD\r\n");
	return 0;
}

static int health(struct mg_connection *conn, void *cbdata)
{
	struct relay *r = cbdata;
	if (!method_get(conn))
		return 405;
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
	return http_send_json(conn, 200, body, (size_t)n, NULL);
}

static int metrics(struct mg_connection *conn, void *cbdata)
{
	struct relay *r = cbdata;
	if (!method_get(conn))
		return 405;
	struct buf b;
	buf_init(&b, 1 << 20);
	struct hub_lag lag;
	hub_lag(r->hub, &lag);
	if (stats_render(&b, hub_last(r->hub), listener_connected(r->listener),
			 catchup_count(r->catchup), &lag) < 0) {
		buf_release(&b);
		struct err err = {0};
		err_set(&err, ERR_INTERNAL, "metrics too large");
		return http_send_error(conn, &err, NULL);
	}
	mg_printf(conn,
		  "HTTP/1.1 200 OK\r\n"
		  "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		  "Content-Length: %zu\r\n"
		  "Cache-Control: no-store\r\n\r\n",
		  b.len);
	mg_write(conn, b.data, b.len);
	buf_release(&b);
	return 200;
}

void routes_register(struct mg_context *ctx, struct relay *r)
{
	mg_set_request_handler(ctx, "/health", health, r);
	mg_set_request_handler(ctx, "/metrics", metrics, r);
}
