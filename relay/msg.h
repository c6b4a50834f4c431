/* msg: an immutable, refcounted, already framed WebSocket message. A change
 * is serialised once and the same bytes are queued on every client that
 * wants it; the last client to send it releases it. Thread-safe refcount. */
#ifndef RELAY_MSG_H
#define RELAY_MSG_H

#include <stdatomic.h>
#include <stddef.h>

struct msg {
	atomic_int refs;
	long long seq;	   /* change seq, 0 for control messages */
	double changed_at; /* epoch seconds of the change (lag metric), 0 if none */
	size_t len;
	unsigned char bytes[];
};

/* New message holding a copy of bytes (already framed); refs = 1. */
struct msg *msg_new_raw(const void *bytes, size_t len);
/* New message: one text frame carrying json[0..len). refs = 1. */
struct msg *msg_new_text(const char *json, size_t len);
/* New message: a close frame with code and reason. refs = 1. */
struct msg *msg_new_close(int code, const char *reason);

static inline struct msg *msg_ref(struct msg *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return m;
}

/* Drop one reference; frees on the last. msg_unref(NULL) does nothing. */
void msg_unref(struct msg *m);

#endif
