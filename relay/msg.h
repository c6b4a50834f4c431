/* msg: an immutable, refcounted message, framed once for each transport.
 * A change is serialised once and the same bytes are queued on every
 * client that wants it; the last client to send it releases it. The
 * WebSocket frame is built at creation; the Server-Sent Events form
 * (msg_sse) the first time an SSE client needs it, then shared too.
 * Thread-safe refcount and lazy form. */
#ifndef RELAY_MSG_H
#define RELAY_MSG_H

#include <stdatomic.h>
#include <stddef.h>

enum msg_kind {
	MSG_TEXT,  /* one JSON object {"type":...} */
	MSG_PING,  /* a WebSocket ping (SSE clients get nothing: heartbeats suffice) */
	MSG_PONG,  /* a WebSocket pong answering a client's ping (WebSocket only) */
	MSG_CLOSE, /* a close: the last message a client gets */
};

struct msg {
	atomic_int refs;
	enum msg_kind kind;
	long long seq;		   /* change seq, 0 for other messages */
	double changed_at;	   /* epoch seconds of the change (lag metric), 0 if none */
	int close_code;		   /* MSG_CLOSE */
	size_t text_off;	   /* MSG_TEXT: where the JSON starts in bytes */
	_Atomic(struct msg *) sse; /* the SSE form, built on first use; owned */
	size_t len;		   /* of bytes: the WebSocket frame */
	unsigned char bytes[];
};

/* New message: one text frame carrying json[0..len). refs = 1. */
struct msg *msg_new_text(const char *json, size_t len);
/* New message: an empty ping frame. refs = 1. */
struct msg *msg_new_ping(void);
/* New message: a pong carrying the ping's payload (cut to 125 bytes). */
struct msg *msg_new_pong(const void *payload, size_t len);
/* New message: a close frame with code and reason. refs = 1. */
struct msg *msg_new_close(int code, const char *reason);

/* The Server-Sent Events form of m (borrowed; lives as long as m):
 *   id: <seq>            (changes only)
 *   event: <type>
 *   data: <the same JSON object>
 * A close becomes `event: error` with {"type":"error","code":N,"reason":R};
 * a ping has an empty form (len 0). */
const struct msg *msg_sse(struct msg *m);

static inline struct msg *msg_ref(struct msg *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return m;
}

/* Drop one reference; frees on the last. msg_unref(NULL) does nothing. */
void msg_unref(struct msg *m);

#endif
