/* sse_client: follow a Server-Sent Events stream (the relay's /events)
 * over http:// or https://, for orders-cli watch --sse:
 *
 *   struct sse_client *c = sse_client_connect("http://127.0.0.1:8080/events?since=41",
 *                                             headers, 5000, 0, &err);
 *   struct sse_event ev;
 *   while ((rc = sse_client_read(c, 1000, &ev, &err)) >= 0)
 *           if (rc == 1) use(ev.type, ev.data, ev.len);
 *   sse_client_free(c);
 *
 * Events are capped at SSE_CLIENT_MAX_EVENT bytes; comments and retry:
 * lines are skipped. One thread per client. */
#ifndef CLI_SSE_CLIENT_H
#define CLI_SSE_CLIENT_H

#include "err.h"

#include <stddef.h>

#define SSE_CLIENT_MAX_EVENT (16 * 1024 * 1024)

struct sse_client;

struct sse_event {
	char type[32];	  /* the event: line ("message" when none) */
	const char *data; /* the data: lines joined by \n, NUL-terminated; borrowed
			     until the next read */
	size_t len;
};

/* Connect, send the GET and read the response head within timeout_ms.
 * headers: extra "Name: value" lines, NULL-terminated, or NULL. insecure:
 * https:// accepts any certificate (--insecure). Returns a client, or
 * NULL with err: ERR_UNAVAILABLE when the server cannot be reached; for
 * an HTTP error answer the kind err_kind_for_status gives for its status
 * and the body's "code", with the body's "error" text when it has one;
 * ERR_BAD_REQUEST for a bad URL, a failed TLS handshake or certificate
 * check, or an answer that is not text/event-stream. */
struct sse_client *sse_client_connect(const char *url, const char *const *headers, int timeout_ms,
				      int insecure, struct err *err);
/* Wait up to timeout_ms for the next event. 1 with *ev filled, 0 on
 * timeout or a signal, -1 when the stream ended (ERR_UNAVAILABLE) or broke
 * the format (ERR_BAD_REQUEST). */
int sse_client_read(struct sse_client *c, int timeout_ms, struct sse_event *ev, struct err *err)
    __attribute__((warn_unused_result));
void sse_client_free(struct sse_client *c);

#endif
