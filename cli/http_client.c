#include "http_client.h"

#include "clock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int http_request_format(struct buf *out, const struct http_request *req, const struct http_url *u)
{
	if (buf_printf(out, "%s %s HTTP/1.1\r\nHost: ", req->method, u->target) < 0 ||
	    http_url_authority(out, u) < 0 || buf_append_str(out, "\r\n") < 0)
		return -1;
	if (buf_append_str(out, "User-Agent: orders/" ORDERS_VERSION "\r\n"
				"Accept: application/json\r\nConnection: close\r\n") < 0)
		return -1;
	if (req->token && *req->token &&
	    buf_printf(out, "Authorization: Bearer %s\r\n", req->token) < 0)
		return -1;
	for (const char *const *h = req->headers; h && *h; h++)
		if (buf_printf(out, "%s\r\n", *h) < 0)
			return -1;
	if (req->body) {
		if (buf_printf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n",
			       req->content_type ? req->content_type : "application/json",
			       req->body_len) < 0)
			return -1;
	} else if (strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
		   strcmp(req->method, "PATCH") == 0) {
		if (buf_append_str(out, "Content-Length: 0\r\n") < 0)
			return -1;
	}
	if (buf_append_str(out, "\r\n") < 0)
		return -1;
	if (req->body && buf_append(out, req->body, req->body_len) < 0)
		return -1;
	return 0;
}

int http_client_request(const struct http_request *req, struct http_response *resp, struct err *err)
{
	struct http_url u;
	struct http_parser parser;
	struct buf out;
	int fd = -1, rc = -1;
	http_response_init(resp, req->max_body ? req->max_body : HTTP_CLIENT_BODY_MAX);
	http_parser_init(&parser, resp, strcmp(req->method, "HEAD") == 0);
	buf_init(&out, 0);
	if (http_url_parse(req->url, &u, err) < 0)
		goto out;
	if (strncmp(u.scheme, "http", 4) != 0) {
		err_set(err, ERR_BAD_REQUEST, "not an http:// URL: '%.200s'", req->url);
		goto out;
	}
	if (u.tls) {
		err_set(err, ERR_BAD_REQUEST, "'%.200s': TLS is not supported yet", req->url);
		goto out;
	}
	long long deadline =
	    clock_now_ms() + (req->timeout_ms > 0 ? req->timeout_ms : HTTP_CLIENT_TIMEOUT_MS);
	char where[300];
	http_url_origin(&u, where, sizeof(where));
	struct err cerr;
	fd = http_connect(u.host, u.port, deadline, &cerr);
	if (fd < 0) {
		err_set(err, ERR_UNAVAILABLE, "cannot reach %s: %s", where, cerr.msg);
		goto out;
	}
	if (http_request_format(&out, req, &u) < 0) {
		err_set(err, ERR_INTERNAL, "cannot format the request");
		goto out;
	}
	if (http_send_all(fd, out.data, out.len, deadline, err) < 0)
		goto out;
	for (;;) {
		int w = http_wait_readable(fd, deadline);
		if (w < 0) {
			err_set(err, ERR_UNAVAILABLE, "%s: poll failed: %s", where,
				strerror(errno));
			goto out;
		}
		if (w == 0) {
			if (clock_now_ms() < deadline)
				continue;
			err_set(err, ERR_UNAVAILABLE, "%s: timed out waiting for the response",
				where);
			goto out;
		}
		char chunk[16384];
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			err_set(err, ERR_UNAVAILABLE, "%s: %s", where, strerror(errno));
			goto out;
		}
		if (n == 0) {
			if (http_parser_finish(&parser, err) < 0)
				goto out;
			break;
		}
		size_t used;
		int r = http_parser_feed(&parser, chunk, (size_t)n, &used, err);
		if (r < 0)
			goto out;
		if (r == 1)
			break;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	buf_release(&out);
	http_parser_release(&parser);
	return rc;
}
