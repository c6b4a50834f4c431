#include "ws_client.h"

#include "buf.h"
#include "clock.h"
#include "http_client.h"
#include "json.h"
#include "utf8.h"
#include "xalloc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct ws_client {
	int fd;
	struct ws_decoder dec;
	char in[16384]; /* received bytes not yet decoded: in[in_off..in_len) */
	size_t in_off, in_len;
	int closed_sent, closed_received, dead;
};

/* The handshake answer was not 101: report the status and the body's error text. */
static void handshake_refused(struct http_response *resp, const char *url, int fd, const char *rest,
			      size_t rest_len, struct err *err)
{
	/* read what body we can (the server may send it after the head) */
	struct http_parser p;
	struct http_response full;
	http_response_init(&full, 64 * 1024);
	http_parser_init(&p, &full, 0);
	struct buf head;
	buf_init(&head, 0);
	int ok = buf_printf(&head, "HTTP/1.1 %d %s\r\n", resp->status, resp->reason) == 0;
	for (size_t i = 0; ok && i < resp->nheaders; i++)
		ok = buf_printf(&head, "%s: %s\r\n", resp->headers[i].name,
				resp->headers[i].value) == 0;
	ok = ok && buf_append_str(&head, "\r\n") == 0;
	size_t used;
	int r = ok ? http_parser_feed(&p, head.data, head.len, &used, NULL) : -1;
	if (r == 0 && rest_len)
		r = http_parser_feed(&p, rest, rest_len, &used, NULL);
	long long deadline = clock_now_ms() + 1000;
	while (r == 0 && http_wait_readable(fd, deadline) > 0) {
		char chunk[4096];
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
		if (n <= 0) {
			r = http_parser_finish(&p, NULL);
			break;
		}
		r = http_parser_feed(&p, chunk, (size_t)n, &used, NULL);
	}
	const char *text = NULL, *code = NULL;
	struct json_object *obj = NULL, *e = NULL, *c = NULL;
	if (full.body.len)
		obj = json_parse(full.body.data, full.body.len, NULL);
	if (obj && json_object_is_type(obj, json_type_object) &&
	    json_object_object_get_ex(obj, "error", &e) && json_object_is_type(e, json_type_string))
		text = json_object_get_string(e);
	if (obj && json_object_object_get_ex(obj, "code", &c) &&
	    json_object_is_type(c, json_type_string))
		code = json_object_get_string(c);
	/* the server's words reach the terminal: printable text only */
	char reason[sizeof(resp->reason)], clean[ERR_MSG_MAX];
	utf8_printable(reason, sizeof(reason), resp->reason, strlen(resp->reason));
	if (text)
		utf8_printable(clean, sizeof(clean), text, strlen(text));
	err_set(err, err_kind_for_status(resp->status, code),
		"%s refused the WebSocket handshake: %d %s%s%s", url, resp->status, reason,
		text ? ": " : "", text ? clean : "");
	json_object_put(obj);
	buf_release(&head);
	http_parser_release(&p);
	http_response_release(&full);
}

struct ws_client *ws_client_connect(const char *url, const char *const *headers, int timeout_ms,
				    struct err *err)
{
	struct http_url u;
	struct ws_client *c = NULL;
	struct buf req;
	struct http_response resp;
	struct http_parser parser;
	int fd = -1;
	buf_init(&req, 0);
	http_response_init(&resp, 0);
	http_parser_init(&parser, &resp, 1);
	if (http_url_parse(url, &u, err) < 0)
		goto fail;
	if (strncmp(u.scheme, "ws", 2) != 0) {
		err_set(err, ERR_BAD_REQUEST, "not a ws:// URL: '%.200s'", url);
		goto fail;
	}
	if (u.tls) {
		err_set(err, ERR_BAD_REQUEST, "'%.200s': TLS is not supported yet", url);
		goto fail;
	}
	long long deadline =
	    clock_now_ms() + (timeout_ms > 0 ? timeout_ms : HTTP_CLIENT_TIMEOUT_MS);
	struct err cerr;
	fd = http_connect(u.host, u.port, deadline, &cerr);
	if (fd < 0) {
		err_set(err, ERR_UNAVAILABLE, "cannot reach %s: %s", url, cerr.msg);
		goto fail;
	}
	char key[WS_KEY_LEN + 1], accept[WS_ACCEPT_LEN + 1];
	if (ws_client_key(key) < 0) {
		err_set(err, ERR_SYSTEM, "no random bytes for the WebSocket key");
		goto fail;
	}
	ws_accept_key(key, accept);
	int ok =
	    buf_printf(&req, "GET %s HTTP/1.1\r\nHost: ", u.target) == 0 &&
	    http_url_authority(&req, &u) == 0 &&
	    buf_printf(&req,
		       "\r\nUpgrade: websocket\r\n"
		       "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
		       "Sec-WebSocket-Version: 13\r\nUser-Agent: orders/" ORDERS_VERSION "\r\n",
		       key) == 0;
	for (const char *const *h = headers; ok && h && *h; h++)
		ok = buf_printf(&req, "%s\r\n", *h) == 0;
	if (!ok || buf_append_str(&req, "\r\n") < 0) {
		err_set(err, ERR_INTERNAL, "cannot format the handshake");
		goto fail;
	}
	if (http_send_all(fd, req.data, req.len, deadline, err) < 0)
		goto fail;
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	ws_decoder_init(&c->dec, WS_CLIENT_MAX_MESSAGE);
	for (;;) {
		int w = http_wait_readable(fd, deadline);
		if (w < 0 || (w == 0 && clock_now_ms() >= deadline)) {
			err_set(err, ERR_UNAVAILABLE, "%s: no answer to the WebSocket handshake",
				url);
			goto fail;
		}
		if (w == 0)
			continue;
		ssize_t n = recv(fd, c->in, sizeof(c->in), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			err_set(err, ERR_UNAVAILABLE, "%s: connection closed during the handshake",
				url);
			goto fail;
		}
		size_t used;
		int r = http_parser_feed(&parser, c->in, (size_t)n, &used, err);
		if (r < 0)
			goto fail;
		if (r == 1) {
			c->in_off = used;
			c->in_len = (size_t)n;
			break;
		}
	}
	if (resp.status != 101) {
		handshake_refused(&resp, url, fd, c->in + c->in_off, c->in_len - c->in_off, err);
		goto fail;
	}
	const char *upgrade = http_response_header(&resp, "Upgrade");
	const char *acc = http_response_header(&resp, "Sec-WebSocket-Accept");
	if (!upgrade || strcasecmp(upgrade, "websocket") != 0 || !acc || strcmp(acc, accept) != 0) {
		err_set(err, ERR_BAD_REQUEST, "%s: bad WebSocket handshake answer", url);
		goto fail;
	}
	buf_release(&req);
	http_parser_release(&parser);
	http_response_release(&resp);
	return c;
fail:
	if (c) {
		ws_decoder_release(&c->dec);
		free(c);
	}
	if (fd >= 0)
		close(fd);
	buf_release(&req);
	http_parser_release(&parser);
	http_response_release(&resp);
	return NULL;
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
		rc = http_send_all(c->fd, out.data, out.len, clock_now_ms() + 5000, err);
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
		int w;
		if (deadline < 0) {
			struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
			w = poll(&pfd, 1, -1);
			if (w < 0 && errno == EINTR)
				return 0;
		} else {
			w = http_wait_readable(c->fd, deadline);
			if (w == 0)
				return 0;
		}
		if (w < 0) {
			c->dead = 1;
			return err_set(err, ERR_UNAVAILABLE, "poll failed: %s", strerror(errno));
		}
		ssize_t n = recv(c->fd, c->in, sizeof(c->in), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n <= 0) {
			c->dead = 1;
			return err_set(err, ERR_UNAVAILABLE, "connection lost%s%s",
				       n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
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
	shutdown(c->fd, SHUT_RDWR);
	c->dead = 1;
}

void ws_client_free(struct ws_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	ws_decoder_release(&c->dec);
	free(c);
}
