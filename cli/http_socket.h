/* http_socket: blocking-style I/O on non-blocking TCP sockets under one
 * deadline (CLOCK_MONOTONIC milliseconds, see clock_now_ms), shared by
 * the HTTP, WebSocket and SSE clients. */
#ifndef ORDERS_HTTP_SOCKET_H
#define ORDERS_HTTP_SOCKET_H

#include "err.h"

#include <stddef.h>

/* Connect to host:port within the deadline (CLOCK_MONOTONIC ms, see
 * clock_now_ms). Returns a connected non-blocking socket (close it), or -1
 * with err: ERR_UNAVAILABLE and the reason ("Connection refused"). */
int http_connect(const char *host, const char *port, long long deadline_ms, struct err *err);
/* Send all of data before the deadline; 0 or -1 with err. */
int http_send_all(int fd, const void *data, size_t len, long long deadline_ms, struct err *err)
    __attribute__((warn_unused_result));
/* Wait until fd is readable or the deadline passes: 1 readable, 0 timeout,
 * -1 error (EINTR is reported as 0 so callers can check a stop flag). */
int http_wait_readable(int fd, long long deadline_ms);

#endif
