#include "msg.h"

#include "buf.h"
#include "ws_frame.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static struct msg *msg_alloc(size_t len)
{
	struct msg *m = xmalloc(sizeof(*m) + len);
	atomic_init(&m->refs, 1);
	m->seq = 0;
	m->changed_at = 0;
	m->len = len;
	return m;
}

struct msg *msg_new_raw(const void *bytes, size_t len)
{
	struct msg *m = msg_alloc(len);
	memcpy(m->bytes, bytes, len);
	return m;
}

struct msg *msg_new_text(const char *json, size_t len)
{
	unsigned char head[WS_FRAME_HEADER_MAX];
	size_t h = ws_frame_header(head, 1, WS_OP_TEXT, len, NULL);
	struct msg *m = msg_alloc(h + len);
	memcpy(m->bytes, head, h);
	memcpy(m->bytes + h, json, len);
	return m;
}

struct msg *msg_new_close(int code, const char *reason)
{
	struct buf b;
	buf_init(&b, 256);
	unsigned char payload[WS_CONTROL_MAX];
	size_t plen = ws_close_payload(payload, (unsigned)code, reason);
	if (ws_frame_encode(&b, 1, WS_OP_CLOSE, payload, plen, NULL) < 0)
		abort(); /* 256 bytes always hold a control frame */
	struct msg *m = msg_new_raw(b.data, b.len);
	buf_release(&b);
	return m;
}

void msg_unref(struct msg *m)
{
	if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		free(m);
}
