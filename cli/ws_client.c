#include "ws_client.h"

#include "buf.h"
#include "clock.h"
#include "http_client.h"
#include "utf8.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ws_client {
	struct http_conn conn;
	struct ws_decoder dec;
	char in[16384]; /* received bytes not yet decoded: in[in_off..in_len) */
	size_t in_off, in_len;
	int closed_sent, closed_received, dead;
};

struct ws_client *ws_client_connect(const char *url, const char *const *headers, int timeout_ms,
				    int insecure, struct err *err)
{
	struct http_url u;
	if (http_url_parse(url, &u, err) < 0)
		return NULL;
	if (strncmp(u.scheme, "ws", 2) != 0) {
		err_set(err, ERR_BAD_REQUEST, "not a ws:// or wss:// URL: '%.200s'", url);
		return NULL;
	}
	char key[WS_KEY_LEN + 1], accept[WS_ACCEPT_LEN + 1], key_line[WS_KEY_LEN + 32];
	if (ws_client_key(key) < 0) {
		err_set(err, ERR_SYSTEM, "no random bytes for the WebSocket key");
		return NULL;
	}
	ws_accept_key(key, accept);
	snprintf(key_line, sizeof(key_line), "Sec-WebSocket-Key: %s", key);
	const char *const handshake[] = {"Upgrade: websocket", key_line,
					 "Sec-WebSocket-Version: 13", NULL};
	struct http_request req = {.method = "GET",
				   .url = url,
				   .accept = "",
				   .connection = "Upgrade",
				   .headers = handshake,
				   .more = headers,
				   .timeout_ms = timeout_ms,
				   .max_body = HTTP_CLIENT_REFUSAL_MAX,
				   .insecure = insecure};
	struct ws_client *c = xcalloc(1, sizeof(*c));
	struct http_response resp;
	struct http_parser parser;
	struct buf rest;
	long long deadline;
	buf_init(&rest, sizeof(c->in));
	int ok = http_client_head(&req, &c->conn, &parser, &resp, &rest, &deadline, err) == 0;
	if (ok && resp.status != 101) {
		http_client_refused(&c->conn, &parser, &resp, &rest, url, "the WebSocket handshake",
				    err);
		ok = 0;
	}
	if (ok) {
		const char *upgrade = http_response_header(&resp, "Upgrade");
		const char *acc = http_response_header(&resp, "Sec-WebSocket-Accept");
		if (!upgrade || strcasecmp(upgrade, "websocket") != 0 || !acc ||
		    strcmp(acc, accept) != 0) {
			err_set(err, ERR_BAD_REQUEST, "%.200s: bad WebSocket handshake answer",
				url);
			ok = 0;
		}
	}
	if (ok) {
		/* frames that came with the head */
		memcpy(c->in, rest.data ? rest.data : "", rest.len);
		c->in_len = rest.len;
		ws_decoder_init(&c->dec, WS_CLIENT_MAX_MESSAGE);
	}
	buf_release(&rest);
	http_parser_release(&parser);
	http_response_release(&resp);
	if (!ok) {
		http_conn_close(&c->conn);
		free(c);
		return NULL;
	}
	return c;
}

int ws_client_send(struct ws_client *c, enum ws_opcode op, const void *data, size_t len,
		   struct err *err)
{
	unsigned char mask[4];
	struct buf out;
	if (c->dead || c->closed_sent)
		return err_set(err, ERR_UNAVAILABLE, "connection already closed");
	if (ws_random_mask(mask) < 0)
		return err_set(err, ERR_SYSTEM, "no random bytes for the frame mask");
	buf_init(&out, 0);
	int rc = ws_frame_encode(&out, 1, op, data, len, mask);
	if (rc < 0)
		err_set(err, ERR_BAD_REQUEST, "frame cannot be encoded");
	else
		rc = http_conn_send(&c->conn, out.data, out.len, clock_now_ms() + 5000, err);
	buf_release(&out);
	if (rc < 0)
		c->dead = 1;
	if (rc == 0 && op == WS_OP_CLOSE)
		c->closed_sent = 1;
	return rc;
}

static void send_close(struct ws_client *c, unsigned code, const char *reason)
{
	unsigned char payload[WS_CONTROL_MAX];
	size_t n = code ? ws_close_payload(payload, code, reason) : 0;
	if (!c->closed_sent && !c->dead && ws_client_send(c, WS_OP_CLOSE, payload, n, NULL) < 0)
		c->dead = 1;
}

int ws_client_read(struct ws_client *c, int timeout_ms, struct ws_message *msg, struct err *err)
{
	long long deadline = timeout_ms < 0 ? -1 : clock_now_ms() + timeout_ms;
	for (;;) {
		if (c->dead || c->closed_received)
			return err_set(err, ERR_UNAVAILABLE, "connection closed");
		while (c->in_off < c->in_len) {
			size_t used;
			struct err derr;
			enum ws_event ev = ws_decoder_feed(
			    &c->dec, c->in + c->in_off, c->in_len - c->in_off, &used, msg, &derr);
			c->in_off += used;
			switch (ev) {
			case WS_EVENT_NONE:
				break;
			case WS_EVENT_MESSAGE:
				return 1;
			case WS_EVENT_PING:
				if (ws_client_send(c, WS_OP_PONG, msg->data, msg->len, NULL) < 0) {
					c->dead = 1;
					return err_set(err, ERR_UNAVAILABLE,
						       "connection lost while answering a ping");
				}
				break;
			case WS_EVENT_PONG:
				break;
			case WS_EVENT_CLOSE:
				c->closed_received = 1;
				send_close(
				    c, msg->close_code == WS_CLOSE_NO_STATUS ? 0 : msg->close_code,
				    "");
				if (msg->close_reason && *msg->close_reason) {
					char why[WS_CONTROL_MAX];
					utf8_printable(why, sizeof(why), msg->close_reason,
						       strlen(msg->close_reason));
					return err_set(err, ERR_UNAVAILABLE,
						       "closed by server: %u %s", msg->close_code,
						       why);
				}
				return err_set(err, ERR_UNAVAILABLE, "closed by server: %u",
					       msg->close_code);
			case WS_EVENT_ERROR:
				send_close(c, c->dec.fail_code, "protocol error");
				c->dead = 1;
				return err_set(err, ERR_UNAVAILABLE, "%s", derr.msg);
			}
		}
		c->in_off = c->in_len = 0;
		int w = http_conn_wait(&c->conn, deadline);
		if (w == 0)
			return 0; /* timeout, or a signal: the caller checks its stop flag */
		if (w < 0) {
			c->dead = 1;
			return err_set(err, ERR_UNAVAILABLE, "poll failed: %s", strerror(errno));
		}
		ssize_t n = http_conn_read(&c->conn, c->in, sizeof(c->in), err);
		if (n == HTTP_CONN_AGAIN)
			continue;
		if (n <= 0) {
			c->dead = 1;
			return n < 0 ? -1 : err_set(err, ERR_UNAVAILABLE, "connection lost");
		}
		c->in_len = (size_t)n;
	}
}

void ws_client_close(struct ws_client *c, unsigned code, const char *reason)
{
	if (!c || c->dead)
		return;
	send_close(c, code, reason);
	long long deadline = clock_now_ms() + 1000;
	while (!c->dead && !c->closed_received && clock_now_ms() < deadline) {
		struct ws_message msg;
		int r = ws_client_read(c, (int)(deadline - clock_now_ms()), &msg, NULL);
		if (r < 0)
			break;
	}
	http_conn_close(&c->conn);
	c->dead = 1;
}

void ws_client_free(struct ws_client *c)
{
	if (!c)
		return;
	http_conn_close(&c->conn);
	ws_decoder_release(&c->dec);
	free(c);
}
