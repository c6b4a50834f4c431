/* ws_client: a blocking WebSocket client (ws:// and wss://) on top of
 * http_socket's connections and ws_frame's codec.
 *
 *   struct ws_client *c = ws_client_connect("ws://127.0.0.1:8080/?since=41",
 *                                           headers, 5000, 0, &err);
 *   while ((rc = ws_client_read(c, 1000, &msg, &err)) >= 0)
 *           if (rc == 1) use(msg.data, msg.len);
 *   ws_client_close(c, WS_CLOSE_NORMAL, "bye");
 *   ws_client_free(c);
 *
 * Pings are answered with pongs inside ws_client_read; a close from the
 * server is answered and reported as the end of the stream. One client
 * belongs to one thread. */
#ifndef ORDERS_WS_CLIENT_H
#define ORDERS_WS_CLIENT_H

#include "err.h"
#include "ws_frame.h"

#include <stddef.h>

#define WS_CLIENT_MAX_MESSAGE (16 * 1024 * 1024)

struct ws_client;

/* Connect and complete the opening handshake within timeout_ms. headers:
 * extra "Name: value" request lines (e.g. Authorization), NULL-terminated,
 * or NULL. insecure: wss:// accepts any certificate (--insecure). Returns
 * a client (free with ws_client_free) or NULL with err: ERR_UNAVAILABLE
 * when the server cannot be reached or the connection broke;
 * ERR_BAD_REQUEST for a bad URL, a failed TLS handshake or certificate
 * check, or a server that is not a WebSocket endpoint; for an HTTP error answer (401, 403, 404...)
 * the kind err_kind_for_status gives for its status and the body's "code" (ERR_UNAUTHORIZED ...;
 * ERR_UNAVAILABLE for a 5xx), with the body's "error" text when it has one; the status is in the
 * message. Text from the server in err is printable only (no control characters). */
struct ws_client *ws_client_connect(const char *url, const char *const *headers, int timeout_ms,
				    int insecure, struct err *err);

/* Wait up to timeout_ms (-1 = forever) for the next data message.
 * Returns 1 with *msg filled (data borrowed until the next call),
 * 0 on timeout or when a signal interrupted the wait (check your stop
 * flag), -1 when the stream ended: err is ERR_UNAVAILABLE with the reason
 * ("closed by server: 1008 slow consumer", "connection lost"; the
 * server's close reason printable only). */
int ws_client_read(struct ws_client *c, int timeout_ms, struct ws_message *msg, struct err *err)
    __attribute__((warn_unused_result));

/* Send one masked frame. 0 or -1 with err. */
int ws_client_send(struct ws_client *c, enum ws_opcode op, const void *data, size_t len,
		   struct err *err) __attribute__((warn_unused_result));

/* Start the closing handshake: send a close frame and wait briefly
 * (up to 1 s) for the server's close. Safe on a dead connection. */
void ws_client_close(struct ws_client *c, unsigned code, const char *reason);

/* Close the socket and free; NULL does nothing. */
void ws_client_free(struct ws_client *c);

#endif
