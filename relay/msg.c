#include "msg.h"

#include "buf.h"
#include "ws_frame.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct msg *msg_alloc(enum msg_kind kind, size_t len)
{
	struct msg *m = xmalloc(sizeof(*m) + len);
	atomic_init(&m->refs, 1);
	m->kind = kind;
	m->seq = 0;
	m->changed_at = 0;
	m->close_code = 0;
	m->text_off = 0;
	atomic_init(&m->sse, NULL);
	m->len = len;
	return m;
}

struct msg *msg_new_text(const char *json, size_t len)
{
	unsigned char head[WS_FRAME_HEADER_MAX];
	size_t h = ws_frame_header(head, 1, WS_OP_TEXT, len, NULL);
	struct msg *m = msg_alloc(MSG_TEXT, h + len);
	memcpy(m->bytes, head, h);
	memcpy(m->bytes + h, json, len);
	m->text_off = h;
	return m;
}

struct msg *msg_new_ping(void)
{
	unsigned char head[WS_FRAME_HEADER_MAX];
	size_t h = ws_frame_header(head, 1, WS_OP_PING, 0, NULL);
	struct msg *m = msg_alloc(MSG_PING, h);
	memcpy(m->bytes, head, h);
	return m;
}

struct msg *msg_new_pong(const void *payload, size_t len)
{
	if (len > WS_CONTROL_MAX)
		len = WS_CONTROL_MAX;
	unsigned char head[WS_FRAME_HEADER_MAX];
	size_t h = ws_frame_header(head, 1, WS_OP_PONG, len, NULL);
	struct msg *m = msg_alloc(MSG_PONG, h + len);
	memcpy(m->bytes, head, h);
	if (len)
		memcpy(m->bytes + h, payload, len);
	return m;
}

/* text_off marks the reason inside the frame, for the SSE form. */
struct msg *msg_new_close(int code, const char *reason)
{
	struct buf b;
	buf_init(&b, 256);
	unsigned char payload[WS_CONTROL_MAX];
	size_t plen = ws_close_payload(payload, (unsigned)code, reason);
	if (ws_frame_encode(&b, 1, WS_OP_CLOSE, payload, plen, NULL) < 0)
		abort(); /* 256 bytes always hold a control frame */
	struct msg *m = msg_alloc(MSG_CLOSE, b.len);
	memcpy(m->bytes, b.data, b.len);
	m->close_code = code;
	m->text_off = b.len - (plen > 2 ? plen - 2 : 0); /* the reason's bytes */
	buf_release(&b);
	return m;
}

/* The value of "type" at the start of our JSON objects ({"type":"x",...}). */
static size_t json_type(const char *json, size_t len, const char **type)
{
	static const char prefix[] = "{\"type\":\"";
	size_t p = sizeof(prefix) - 1;
	if (len <= p || memcmp(json, prefix, p) != 0)
		return 0;
	const char *end = memchr(json + p, '"', len - p);
	if (!end)
		return 0;
	*type = json + p;
	return (size_t)(end - (json + p));
}

static struct msg *build_sse(const struct msg *m)
{
	struct buf b;
	buf_init(&b, 0);
	int ok = 1;
	if (m->kind == MSG_TEXT) {
		const char *json = (const char *)m->bytes + m->text_off;
		size_t jlen = m->len - m->text_off;
		const char *type = "message";
		size_t tlen = json_type(json, jlen, &type);
		if (!tlen)
			tlen = strlen(type);
		if (m->seq > 0)
			ok = buf_printf(&b, "id: %lld\n", m->seq) == 0;
		ok = ok && buf_printf(&b, "event: %.*s\ndata: ", (int)tlen, type) == 0;
		/* our JSON is one line; a newline would end the field */
		for (size_t i = 0; ok && i < jlen; i++)
			ok = json[i] == '\n' ? buf_append_str(&b, "\ndata: ") == 0
					     : buf_append(&b, json + i, 1) == 0;
		ok = ok && buf_append_str(&b, "\n\n") == 0;
	} else if (m->kind == MSG_CLOSE) {
		const char *reason = (const char *)m->bytes + m->text_off;
		size_t rlen = m->len - m->text_off;
		ok = buf_printf(&b,
				"event: error\ndata: {\"type\":\"error\",\"code\":%d,\"reason\":",
				m->close_code) == 0;
		char r[WS_CONTROL_MAX];
		snprintf(r, sizeof(r), "%.*s", (int)rlen, reason);
		ok = ok && buf_append_json_string(&b, r) == 0 && buf_append_str(&b, "}\n\n") == 0;
	}
	if (!ok)
		abort(); /* b has no cap */
	struct msg *s = msg_alloc(m->kind, b.len);
	if (b.len)
		memcpy(s->bytes, b.data, b.len);
	s->seq = m->seq;
	s->changed_at = m->changed_at;
	buf_release(&b);
	return s;
}

const struct msg *msg_sse(struct msg *m)
{
	struct msg *s = atomic_load_explicit(&m->sse, memory_order_acquire);
	if (s)
		return s;
	struct msg *fresh = build_sse(m);
	struct msg *expected = NULL;
	if (atomic_compare_exchange_strong(&m->sse, &expected, fresh))
		return fresh;
	free(fresh); /* another thread built it first */
	return expected;
}

void msg_unref(struct msg *m)
{
	if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) {
		free(atomic_load(&m->sse));
		free(m);
	}
}
