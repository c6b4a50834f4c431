#include "ws.h"

#include "change_filter.h"
#include "client.h"
#include "http_error.h"
#include "log.h"
#include "subscribe.h"
#include "ws_frame.h"

#include <stdio.h>
#include <string.h>

/* The subprotocol the relay speaks; a client offering "orders.v1,
 * bearer.<token>" gets it selected. */
#define WS_PROTOCOL "orders.v1"

static void refuse(struct conn *cn, const struct err *err, const char *extra)
{
	log_info("ws refused %s: %s", conn_peer(cn), err->msg);
	conn_respond_error(cn, err, extra);
}

/* A Sec-WebSocket-Key is the base64 of 16 bytes: 22 characters and "==". */
static int key_valid(const char *key)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	return key && strlen(key) == WS_KEY_LEN && strspn(key, b64) == 22 &&
	       strcmp(key + 22, "==") == 0;
}

void ws_open(struct relay *r, struct conn *cn, const struct http_request *req)
{
	struct err err = {0};
	const char *upgrade = http_request_header(req, "Upgrade");
	if (!upgrade || !http_token_list_has(upgrade, "websocket")) {
		err_set(&err, ERR_BAD_REQUEST,
			"this is the WebSocket stream: upgrade to websocket, "
			"or use GET /events for Server-Sent Events");
		struct buf b;
		buf_init(&b, 0);
		if (http_error_json(&b, &err) == 0)
			conn_respond(cn, 426, HTTP_JSON_TYPE, "Upgrade: websocket\r\n", b.data,
				     b.len);
		buf_release(&b);
		return;
	}
	if (strcmp(req->method, "GET") != 0) {
		err_set(&err, ERR_METHOD, "method %s not allowed", req->method);
		refuse(cn, &err, "Allow: GET\r\n");
		return;
	}
	const char *version = http_request_header(req, "Sec-WebSocket-Version");
	const char *key = http_request_header(req, "Sec-WebSocket-Key");
	const char *connection = http_request_header(req, "Connection");
	if (req->minor != 1 || !connection || !http_token_list_has(connection, "upgrade") ||
	    !key_valid(key)) {
		err_set(&err, ERR_BAD_REQUEST, "malformed WebSocket handshake");
		refuse(cn, &err, NULL);
		return;
	}
	if (!version || strcmp(version, "13") != 0) {
		err_set(&err, ERR_BAD_REQUEST, "WebSocket version 13 only");
		struct buf b;
		buf_init(&b, 0);
		if (http_error_json(&b, &err) == 0)
			conn_respond(cn, 426, HTTP_JSON_TYPE, "Sec-WebSocket-Version: 13\r\n",
				     b.data, b.len);
		buf_release(&b);
		return;
	}
	if (subscribe_authorize(r, req, &err) < 0) {
		refuse(cn, &err,
		       err.kind == ERR_UNAUTHORIZED
			   ? "WWW-Authenticate: Bearer realm=\"orders\"\r\n"
			   : NULL);
		return;
	}
	struct change_query q;
	if (change_query_parse(req->query, &q, &err) < 0) {
		refuse(cn, &err, NULL);
		return;
	}
	if (subscribe_take_slot(r, &err) < 0) {
		log_warn("ws refused %s: %s", conn_peer(cn), err.msg);
		conn_respond_error(cn, &err, "Retry-After: 5\r\n");
		return;
	}
	char accept[WS_ACCEPT_LEN + 1];
	ws_accept_key(key, accept);
	const char *offered = http_request_header(req, "Sec-WebSocket-Protocol");
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 101 Switching Protocols\r\n"
			 "Upgrade: websocket\r\n"
			 "Connection: Upgrade\r\n"
			 "Sec-WebSocket-Accept: %s\r\n"
			 "%s\r\n",
			 accept,
			 offered && http_token_list_has(offered, WS_PROTOCOL)
			     ? "Sec-WebSocket-Protocol: " WS_PROTOCOL "\r\n"
			     : "");
	char peer[128];
	subscribe_peer(r, cn, req, peer, sizeof(peer));
	struct client *c = client_new(r, &q, peer);
	conn_stream(cn, c, head, (size_t)n, 1);
	subscribe_start(r, c, "ws");
}
