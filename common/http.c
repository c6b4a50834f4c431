#include "http.h"

#include "qs.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *http_connection_headers(const struct mg_connection *c)
{
	const char *h = mg_get_user_connection_data(c);
	return h ? h : "";
}

int http_send_json(struct mg_connection *c, int status, const char *json, size_t len,
		   const char *extra_headers)
{
	char head[1024];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\n"
			 "Content-Type: " HTTP_JSON_TYPE "\r\n"
			 "Content-Length: %zu\r\n"
			 "Cache-Control: no-store\r\n"
			 "X-Content-Type-Options: nosniff\r\n"
			 "%s%s\r\n",
			 status, http_status_text(status), len, extra_headers ? extra_headers : "",
			 http_connection_headers(c));
	if (n < 0 || (size_t)n >= sizeof(head)) {
		/* extra headers too long: a programming error; answer without them */
		n = snprintf(head, sizeof(head),
			     "HTTP/1.1 %d %s\r\nContent-Type: " HTTP_JSON_TYPE
			     "\r\nContent-Length: %zu\r\n\r\n",
			     status, http_status_text(status), len);
	}
	/* One write per response: headers and body in separate segments would
	 * meet Nagle's algorithm and the peer's delayed ACK (40 ms stalls). */
	if (len <= 64 * 1024) {
		char *one = xmalloc((size_t)n + len);
		memcpy(one, head, (size_t)n);
		memcpy(one + n, json, len);
		mg_write(c, one, (size_t)n + len);
		free(one);
	} else {
		mg_write(c, head, (size_t)n);
		mg_write(c, json, len);
	}
	return status;
}

int http_send_error(struct mg_connection *c, const struct err *e, const char *extra_headers)
{
	struct buf b;
	buf_init(&b, 4096);
	int status = err_http_status(e->kind);
	if (http_error_json(&b, e) == 0)
		http_send_json(c, status, b.data, b.len, extra_headers);
	else
		http_send_json(c, 500, HTTP_INTERNAL_ERROR_JSON, strlen(HTTP_INTERNAL_ERROR_JSON),
			       NULL);
	buf_release(&b);
	return status;
}

int http_check_framing(struct mg_connection *c, struct err *err)
{
	const char *te = mg_get_header(c, "Transfer-Encoding");
	const char *cl = mg_get_header(c, "Content-Length");
	const struct mg_request_info *ri = mg_get_request_info(c);
	int lengths = 0, encodings = 0;
	for (int i = 0; i < ri->num_headers; i++) {
		lengths += strcasecmp(ri->http_headers[i].name, "Content-Length") == 0;
		encodings += strcasecmp(ri->http_headers[i].name, "Transfer-Encoding") == 0;
	}
	if (lengths > 1 || encodings > 1)
		return err_set(err, ERR_BAD_REQUEST, "request repeats a framing header");
	if (te && cl)
		return err_set(err, ERR_BAD_REQUEST,
			       "request has both Transfer-Encoding and Content-Length");
	if (cl) {
		const char *p = cl;
		while (*p == ' ')
			p++;
		if (!*p)
			return err_set(err, ERR_BAD_REQUEST, "invalid Content-Length");
		for (; *p; p++)
			if (!isdigit((unsigned char)*p) && *p != ' ')
				return err_set(err, ERR_BAD_REQUEST, "invalid Content-Length");
	}
	if (te && strcasecmp(te, "chunked") != 0)
		return err_set(err, ERR_BAD_REQUEST, "unsupported Transfer-Encoding");
	return 0;
}

int http_read_body(struct mg_connection *c, size_t cap, struct buf *out, struct err *err)
{
	buf_reset(out);
	const struct mg_request_info *ri = mg_get_request_info(c);
	if (ri->content_length > (long long)cap)
		return err_set(err, ERR_TOO_LARGE, "request body over %zu bytes", cap);
	char chunk[8192];
	for (;;) {
		int n = mg_read(c, chunk, sizeof(chunk));
		if (n < 0)
			return err_set(err, ERR_BAD_REQUEST, "could not read the request body");
		if (n == 0)
			break;
		if (out->len + (size_t)n > cap) {
			/* drain nothing more: the connection is closed after the reply */
			mg_disable_connection_keep_alive(c);
			return err_set(err, ERR_TOO_LARGE, "request body over %zu bytes", cap);
		}
		if (buf_append(out, chunk, (size_t)n) < 0)
			return err_set(err, ERR_TOO_LARGE, "request body over %zu bytes", cap);
	}
	return 0;
}

int http_is_json_request(struct mg_connection *c)
{
	const char *ct = mg_get_header(c, "Content-Type");
	if (!ct)
		return 0;
	while (*ct == ' ')
		ct++;
	size_t n = strlen("application/json");
	return strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}
