#include "ws.h"

#include "change_filter.h"
#include "client.h"
#include "db.h"
#include "http.h"
#include "hub.h"
#include "log.h"
#include "stats.h"
#include "subscribe.h"
#include "ws_frame.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ws_connect(const struct mg_connection *cconn, void *cbdata)
{
	struct relay *r = cbdata;
	/* civetweb hands a const pointer, but the connection is ours to answer */
	struct mg_connection *conn = (struct mg_connection *)(uintptr_t)cconn;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct change_query q;
	struct err err = {0};
	const char *path = ri->local_uri_raw ? ri->local_uri_raw : "";
	if (strcmp(path, "/") != 0 && strcmp(path, "/ws") != 0) {
		err_set(&err, ERR_NOT_FOUND, "no WebSocket at %s: use / or /ws", path);
		http_send_error(conn, &err, "Connection: close\r\n");
		return 1;
	}
	if (subscribe_authorize(r, conn, &err) < 0) {
		log_info("ws refused %s:%d: %s", ri->remote_addr, ri->remote_port, err.msg);
		http_send_error(
		    conn, &err,
		    err.kind == ERR_UNAUTHORIZED
			? "Connection: close\r\nWWW-Authenticate: Bearer realm=\"orders\"\r\n"
			: "Connection: close\r\n");
		return 1;
	}
	if (change_query_parse(ri->query_string, &q, &err) < 0) {
		log_info("ws refused %s:%d: %s", ri->remote_addr, ri->remote_port, err.msg);
		http_send_error(conn, &err, "Connection: close\r\n");
		return 1;
	}
	if (subscribe_take_slot(r, &err) < 0) {
		log_warn("ws refused %s:%d: %s", ri->remote_addr, ri->remote_port, err.msg);
		http_send_error(conn, &err, "Connection: close\r\nRetry-After: 5\r\n");
		return 1;
	}
	char peer[64];
	snprintf(peer, sizeof(peer), "%s:%d", ri->remote_addr, ri->remote_port);
	struct client *c = client_new(r, conn, &q, peer);
	mg_set_user_connection_data(conn, c);
	return 0;
}

static void ws_ready(struct mg_connection *conn, void *cbdata)
{
	struct client *c = mg_get_user_connection_data(conn);
	if (c)
		subscribe_start(cbdata, c, "ws");
}

static int ws_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
{
	(void)cbdata;
	struct client *c = mg_get_user_connection_data(conn);
	int op = bits & 0x0f;
	if (op == WS_OP_PING) {
		mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_PONG, data,
				   len > WS_CONTROL_MAX ? WS_CONTROL_MAX : len);
	} else if (op == WS_OP_CLOSE) {
		int closing = 0;
		if (c) {
			pthread_mutex_lock(&c->lock);
			closing = c->closing;
			c->closing = 1;
			pthread_mutex_unlock(&c->lock);
		}
		if (!closing) /* echo the peer's close; ours was already sent otherwise */
			mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, data,
					   len >= 2 ? 2 : 0);
		return 0;
	}
	return 1;
}

static void retire(const struct mg_connection *conn, struct relay *r)
{
	struct client *c = mg_get_user_connection_data(conn);
	if (!c)
		return;
	mg_set_user_connection_data(conn, NULL);
	subscribe_retire(r, c);
}

static void ws_close(const struct mg_connection *conn, void *cbdata)
{
	retire(conn, cbdata);
}

void ws_connection_closed(const struct mg_connection *conn)
{
	struct mg_context *ctx = mg_get_context(conn);
	if (ctx && mg_get_user_connection_data(conn))
		retire(conn, mg_get_user_data(ctx));
}

void ws_register(struct mg_context *ctx, struct relay *r)
{
	/* a client offering "orders.v1, bearer.<token>" gets orders.v1 selected */
	static const char *protocols[] = {"orders.v1"};
	static struct mg_websocket_subprotocols subprotocols = {1, protocols};
	mg_set_websocket_handler_with_subprotocols(ctx, "/", &subprotocols, ws_connect, ws_ready,
						   ws_data, ws_close, r);
	mg_set_websocket_handler_with_subprotocols(ctx, "/ws", &subprotocols, ws_connect, ws_ready,
						   ws_data, ws_close, r);
}
