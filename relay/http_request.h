/* http_request: the relay's HTTP/1.x request-head parser. Pure: it reads
 * the bytes a connection has received so far and either asks for more,
 * returns the parsed head, or says which error status the peer gets.
 *
 * Strict on purpose (the relay sits behind proxies that may read a head
 * differently, and a head read two ways is request smuggling):
 *   - lines end in CRLF; a bare CR or LF is 400
 *   - an obs-fold line (a header line starting with SP or HT) is 400
 *   - header names are RFC 9110 tokens, values visible ASCII, obs-text,
 *     SP or HT; a NUL or other control byte is 400
 *   - more than HTTP_HEADERS_MAX headers, or a head over HTTP_HEAD_MAX
 *     bytes, is 431 (decided as soon as the bytes received show it)
 *   - HTTP/1.1 without Host is 400; a repeated Host, Content-Length,
 *     Transfer-Encoding, Origin, Authorization, Upgrade or Sec-WebSocket-*
 *     header is 400; versions other than 1.0 and 1.1 are 505
 *   - the target is origin-form ("/path?query"), at most HTTP_TARGET_MAX.
 * The relay takes no request bodies: the caller refuses any request that
 * announces one (Content-Length other than 0, Transfer-Encoding). */
#ifndef RELAY_HTTP_REQUEST_H
#define RELAY_HTTP_REQUEST_H

#include <stddef.h>

#define HTTP_HEAD_MAX	 (16 * 1024)
#define HTTP_HEADERS_MAX 64
#define HTTP_TARGET_MAX	 8192

struct http_header {
	const char *name;  /* as sent (case kept); NUL-terminated */
	const char *value; /* leading and trailing whitespace removed */
};

/* Every pointer points into the buffer given to http_request_parse, which
 * must outlive the request. */
struct http_request {
	const char *method;
	const char *path;  /* the target up to '?' (not decoded) */
	const char *query; /* after '?', or "" */
	int minor;	   /* HTTP/1.<minor>: 0 or 1 */
	int nheaders;
	struct http_header headers[HTTP_HEADERS_MAX];
};

/* Parse the head at the start of buf[0..len). Returns:
 *   > 0  the head's length in bytes (through the blank line); *req is
 *        filled and buf is modified in place (NULs end the fields)
 *   0    incomplete: read more (nothing in buf was changed)
 *   < 0  minus the status to answer (400, 414, 431, 505); *why says why in a
 *        few words, for the log and the error body. */
int http_request_parse(char *buf, size_t len, struct http_request *req, const char **why);

/* The value of the first header named `name` (case-insensitive), or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);

/* 1 if the comma list in value contains token (case-insensitive), as in
 * "Connection: keep-alive, Upgrade". */
int http_token_list_has(const char *value, const char *token);

#endif
