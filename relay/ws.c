#include "ws.h"

#include "catchup.h"
#include "change_filter.h"
#include "client.h"
#include "db.h"
#include "http.h"
#include "hub.h"
#include "log.h"
#include "stats.h"
#include "ws_frame.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The token a client presents: the access_token query parameter, an
 * Authorization: Bearer header, or a "bearer.<token>" subprotocol offered
 * beside orders.v1 (browsers cannot set headers). Copied into out. */
static const char *presented_token(struct mg_connection *conn, char *out, size_t cap)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	if (http_query_param(ri->query_string, "access_token", out, cap) > 0)
		return out;
	const char *b = auth_bearer(mg_get_header(conn, "Authorization"));
	if (b) {
		snprintf(out, cap, "%s", b);
		return out;
	}
	const char *proto = mg_get_header(conn, "Sec-WebSocket-Protocol");
	for (const char *p = proto; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ", ");
		if (n > 7 && n - 7 < cap && strncmp(p, "bearer.", 7) == 0) {
			memcpy(out, p + 7, n - 7);
			out[n - 7] = '\0';
			return out;
		}
		p += n;
	}
	return NULL;
}

/* Section 6 on the handshake: a browser Origin must be allowed (403), and
 * with READ_TOKEN set a token is needed (401). */
static int ws_authorize(struct relay *r, struct mg_connection *conn, struct err *err)
{
	const char *origin = mg_get_header(conn, "Origin");
	if (origin && !auth_origin_allowed(&r->auth, origin, mg_get_header(conn, "Host")))
		return err_set(err, ERR_FORBIDDEN, "origin not allowed");
	char token[300];
	return auth_check(&r->auth, AUTH_READ, presented_token(conn, token, sizeof(token)), err);
}

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
	if (ws_authorize(r, conn, &err) < 0) {
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
	/* a slot is taken here, before the client is linked, so handshakes
	 * arriving together cannot pass MAX_CLIENTS; retire() gives it back */
	if (atomic_fetch_add(&r->slots, 1) >= r->max_clients) {
		atomic_fetch_sub(&r->slots, 1);
		err_set(&err, ERR_UNAVAILABLE, "too many clients (MAX_CLIENTS=%d)", r->max_clients);
		log_warn("ws refused %s:%d: %s", ri->remote_addr, ri->remote_port, err.msg);
		http_send_error(conn, &err, "Connection: close\r\nRetry-After: 5\r\n");
		return 1;
	}
	char peer[64];
	snprintf(peer, sizeof(peer), "%s:%d", ri->remote_addr, ri->remote_port);
	struct client *c = client_new(r, conn, &q, peer);
	mg_set_user_connection_data(conn, c);
	atomic_fetch_add(&relay_stats.connections, 1);
	return 0;
}

static void ws_ready(struct mg_connection *conn, void *cbdata)
{
	struct relay *r = cbdata;
	struct client *c = mg_get_user_connection_data(conn);
	if (!c)
		return;
	const struct change_query *q = &c->query;
	char since[32] = "";
	if (q->has_since)
		snprintf(since, sizeof(since), " since=%lld", q->since);
	log_info("ws#%lu %s subscribed%s%s", c->id, c->peer, since,
		 q->filter.status_mask || q->filter.op_mask || q->filter.id ? " (filtered)" : "");
	hub_add(r->hub, c, !q->has_since);
	if (q->has_since) {
		/* history comes from the catch-up thread at the client's pace;
		 * this worker goes on reading the client's frames meanwhile */
		pthread_mutex_lock(&c->lock);
		catchup_add_locked(r->catchup, c, q->since, 1);
		pthread_mutex_unlock(&c->lock);
	}
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
	atomic_fetch_sub(&r->slots, 1);
	hub_remove(r->hub, c);
	log_info("ws#%lu %s disconnected", c->id, c->peer);
	client_retire(c);
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
