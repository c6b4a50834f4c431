#include "http_client.h"

#include "clock.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int http_url_parse(const char *url, struct http_url *out, struct err *err)
{
	static const struct {
		const char *scheme;
		const char *port;
	} schemes[] = {{"http", "80"}, {"ws", "80"}};
	memset(out, 0, sizeof(*out));
	const char *p = strstr(url, "://");
	if (!p)
		return err_set(err, ERR_BAD_REQUEST, "not a URL: '%.200s'", url);
	size_t slen = (size_t)(p - url);
	const char *def_port = NULL;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strlen(schemes[i].scheme) == slen &&
		    strncasecmp(url, schemes[i].scheme, slen) == 0) {
			snprintf(out->scheme, sizeof(out->scheme), "%s", schemes[i].scheme);
			def_port = schemes[i].port;
		}
	}
	if (!def_port) {
		if ((slen == 5 && strncasecmp(url, "https", 5) == 0) ||
		    (slen == 3 && strncasecmp(url, "wss", 3) == 0))
			return err_set(err, ERR_BAD_REQUEST,
				       "'%.200s': TLS is not supported, use a plain http:// or "
				       "ws:// URL (or a TLS-terminating proxy)",
				       url);
		return err_set(err, ERR_BAD_REQUEST, "unsupported URL scheme in '%.200s'", url);
	}
	p += 3;
	const char *host = p, *host_end;
	if (*p == '[') {
		host = ++p;
		while (*p && *p != ']')
			p++;
		if (*p != ']')
			return err_set(err, ERR_BAD_REQUEST, "bad IPv6 address in '%.200s'", url);
		host_end = p++;
	} else {
		while (*p && (isalnum((unsigned char)*p) || strchr(".-_", *p)))
			p++;
		host_end = p;
	}
	if (host_end == host || (size_t)(host_end - host) >= sizeof(out->host))
		return err_set(err, ERR_BAD_REQUEST, "missing or bad host in '%.200s'", url);
	memcpy(out->host, host, (size_t)(host_end - host));
	if (*p == ':') {
		const char *port = ++p;
		long v = 0;
		while (isdigit((unsigned char)*p) && v <= 65535)
			v = v * 10 + (*p++ - '0');
		if (p == port || v < 1 || v > 65535 || isdigit((unsigned char)*p))
			return err_set(err, ERR_BAD_REQUEST, "bad port in '%.200s'", url);
		snprintf(out->port, sizeof(out->port), "%ld", v);
	} else {
		snprintf(out->port, sizeof(out->port), "%s", def_port);
	}
	if (*p && *p != '/' && *p != '?')
		return err_set(err, ERR_BAD_REQUEST, "unexpected '%c' in URL '%.200s'", *p, url);
	for (const char *q = p; *q; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f || *q == '#')
			return err_set(err, ERR_BAD_REQUEST, "bad character in URL '%.200s'", url);
	int n = snprintf(out->target, sizeof(out->target), "%s%s", *p == '/' ? "" : "/", p);
	if (n < 0 || (size_t)n >= sizeof(out->target))
		return err_set(err, ERR_BAD_REQUEST, "URL too long");
	return 0;
}

int http_url_encode(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p)) {
			if (buf_append(out, p, 1) < 0)
				return -1;
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			if (buf_append(out, e, 3) < 0)
				return -1;
		}
	}
	return 0;
}

void http_response_init(struct http_response *r, size_t body_cap)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, body_cap);
}

void http_response_release(struct http_response *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->nheaders = 0;
	buf_release(&r->body);
}

const char *http_response_header(const struct http_response *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

void http_parser_init(struct http_parser *p, struct http_response *resp, int head_only)
{
	memset(p, 0, sizeof(*p));
	p->state = HTTP_P_HEAD;
	p->head_only = head_only;
	p->resp = resp;
	buf_init(&p->line, HTTP_CLIENT_HEAD_MAX);
}

void http_parser_release(struct http_parser *p)
{
	buf_release(&p->line);
}

/* 1 if the comma list `value` contains token (case-insensitive). */
static int has_token(const char *value, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = value; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *start = p;
		while (*p && *p != ',')
			p++;
		const char *end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if ((size_t)(end - start) == n && strncasecmp(start, token, n) == 0)
			return 1;
	}
	return 0;
}

/* Parse the complete head in p->line: status line, headers, framing. */
static int parse_head(struct http_parser *p, struct err *err)
{
	struct http_response *r = p->resp;
	char *s = p->line.data;
	char *eol = strstr(s, "\r\n");
	*eol = '\0';
	if (strncmp(s, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)s[7]) || s[8] != ' ' ||
	    !isdigit((unsigned char)s[9]) || !isdigit((unsigned char)s[10]) ||
	    !isdigit((unsigned char)s[11]) || (s[12] != ' ' && s[12] != '\0'))
		return err_set(err, ERR_BAD_REQUEST, "malformed HTTP status line '%.80s'", s);
	r->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	snprintf(r->reason, sizeof(r->reason), "%s", s[12] ? s + 13 : "");
	for (char *line = eol + 2; *line; line = eol + 2) {
		eol = strstr(line, "\r\n");
		*eol = '\0';
		if (!*line)
			break;
		char *colon = strchr(line, ':');
		if (!colon || colon == line || line[0] == ' ' || line[0] == '\t')
			return err_set(err, ERR_BAD_REQUEST, "malformed HTTP header line '%.80s'",
				       line);
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		char *end = v + strlen(v);
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		r->headers = xrealloc(r->headers, (r->nheaders + 1) * sizeof(*r->headers));
		r->headers[r->nheaders].name = xstrdup(line);
		r->headers[r->nheaders].value = xstrdup(v);
		r->nheaders++;
	}
	if (p->head_only || r->status == 204 || r->status == 304 || r->status / 100 == 1) {
		p->state = HTTP_P_DONE;
		return 0;
	}
	const char *te = http_response_header(r, "Transfer-Encoding");
	const char *cl = http_response_header(r, "Content-Length");
	if (te) {
		if (!has_token(te, "chunked"))
			return err_set(err, ERR_BAD_REQUEST,
				       "unsupported Transfer-Encoding '%.40s'", te);
		p->state = HTTP_P_CHUNK_SIZE;
	} else if (cl) {
		char *end;
		errno = 0;
		if (!isdigit((unsigned char)*cl))
			return err_set(err, ERR_BAD_REQUEST, "bad Content-Length '%.40s'", cl);
		unsigned long long v = strtoull(cl, &end, 10);
		if (errno || *end)
			return err_set(err, ERR_BAD_REQUEST, "bad Content-Length '%.40s'", cl);
		if (r->body.cap && v > r->body.cap)
			return err_set(err, ERR_TOO_LARGE,
				       "response body of %llu bytes is over %zu", v, r->body.cap);
		p->remaining = v;
		p->state = v ? HTTP_P_BODY_LENGTH : HTTP_P_DONE;
	} else {
		p->state = HTTP_P_BODY_EOF;
	}
	return 0;
}

static int append_body(struct http_parser *p, const char *data, size_t n, struct err *err)
{
	if (buf_append(&p->resp->body, data, n) < 0)
		return err_set(err, ERR_TOO_LARGE, "response body is over %zu bytes",
			       p->resp->body.cap);
	return 0;
}

/* Collect one CRLF-terminated line into p->line; 1 when complete. */
static int collect_line(struct http_parser *p, const char *data, size_t len, size_t *i,
			struct err *err)
{
	while (*i < len) {
		char c = data[(*i)++];
		if (buf_append(&p->line, &c, 1) < 0)
			return err_set(err, ERR_BAD_REQUEST, "HTTP line too long");
		if (c == '\n') {
			if (p->line.len < 2 || p->line.data[p->line.len - 2] != '\r')
				return err_set(err, ERR_BAD_REQUEST, "bare LF in HTTP framing");
			p->line.len -= 2;
			p->line.data[p->line.len] = '\0';
			return 1;
		}
	}
	return 0;
}

int http_parser_feed(struct http_parser *p, const char *data, size_t len, size_t *used,
		     struct err *err)
{
	size_t i = 0;
	int rc = 0;
	while (p->state != HTTP_P_DONE && (i < len || p->state == HTTP_P_HEAD)) {
		switch (p->state) {
		case HTTP_P_HEAD: {
			/* copy up to the end of the head; look for CRLFCRLF */
			while (i < len) {
				if (buf_append(&p->line, data + i, 1) < 0) {
					rc = err_set(err, ERR_BAD_REQUEST,
						     "HTTP response head over %d bytes",
						     HTTP_CLIENT_HEAD_MAX);
					goto out;
				}
				i++;
				if (p->line.len >= 4 &&
				    memcmp(p->line.data + p->line.len - 4, "\r\n\r\n", 4) == 0)
					break;
			}
			if (p->line.len < 4 ||
			    memcmp(p->line.data + p->line.len - 4, "\r\n\r\n", 4) != 0)
				goto out;
			if (parse_head(p, err) < 0) {
				rc = -1;
				goto out;
			}
			buf_reset(&p->line);
			break;
		}
		case HTTP_P_BODY_LENGTH: {
			size_t n = len - i < p->remaining ? len - i : (size_t)p->remaining;
			if (append_body(p, data + i, n, err) < 0) {
				rc = -1;
				goto out;
			}
			i += n;
			p->remaining -= n;
			if (!p->remaining)
				p->state = HTTP_P_DONE;
			break;
		}
		case HTTP_P_BODY_EOF:
			if (append_body(p, data + i, len - i, err) < 0) {
				rc = -1;
				goto out;
			}
			i = len;
			break;
		case HTTP_P_CHUNK_SIZE: {
			int got = collect_line(p, data, len, &i, err);
			if (got < 0) {
				rc = -1;
				goto out;
			}
			if (!got)
				break;
			char *end;
			errno = 0;
			if (!isxdigit((unsigned char)p->line.data[0])) {
				rc = err_set(err, ERR_BAD_REQUEST, "bad chunk size '%.20s'",
					     p->line.data);
				goto out;
			}
			unsigned long long v = strtoull(p->line.data, &end, 16);
			if (errno || (*end && *end != ';' && *end != ' ' && *end != '\t')) {
				rc = err_set(err, ERR_BAD_REQUEST, "bad chunk size '%.20s'",
					     p->line.data);
				goto out;
			}
			buf_reset(&p->line);
			if (p->resp->body.cap && v > p->resp->body.cap) {
				rc = err_set(err, ERR_TOO_LARGE, "response body is over %zu bytes",
					     p->resp->body.cap);
				goto out;
			}
			p->remaining = v;
			p->state = v ? HTTP_P_CHUNK_DATA : HTTP_P_TRAILERS;
			break;
		}
		case HTTP_P_CHUNK_DATA: {
			size_t n = len - i < p->remaining ? len - i : (size_t)p->remaining;
			if (append_body(p, data + i, n, err) < 0) {
				rc = -1;
				goto out;
			}
			i += n;
			p->remaining -= n;
			if (!p->remaining)
				p->state = HTTP_P_CHUNK_CRLF;
			break;
		}
		case HTTP_P_CHUNK_CRLF:
		case HTTP_P_TRAILERS: {
			int got = collect_line(p, data, len, &i, err);
			if (got < 0) {
				rc = -1;
				goto out;
			}
			if (!got)
				break;
			int empty = p->line.len == 0;
			buf_reset(&p->line);
			if (p->state == HTTP_P_CHUNK_CRLF) {
				if (!empty) {
					rc = err_set(err, ERR_BAD_REQUEST,
						     "chunk not followed by CRLF");
					goto out;
				}
				p->state = HTTP_P_CHUNK_SIZE;
			} else if (empty) {
				p->state = HTTP_P_DONE;
			}
			break;
		}
		case HTTP_P_DONE:
			break;
		}
		if (p->state == HTTP_P_HEAD)
			break;
	}
out:
	*used = i;
	if (rc < 0)
		return -1;
	return p->state == HTTP_P_DONE;
}

int http_parser_finish(struct http_parser *p, struct err *err)
{
	if (p->state == HTTP_P_DONE || p->state == HTTP_P_BODY_EOF) {
		p->state = HTTP_P_DONE;
		return 1;
	}
	if (p->state == HTTP_P_HEAD)
		return err_set(err, ERR_UNAVAILABLE,
			       p->line.len ? "connection closed in the middle of the response head"
					   : "connection closed without a response");
	return err_set(err, ERR_UNAVAILABLE,
		       "connection closed in the middle of the response body");
}

int http_request_format(struct buf *out, const struct http_request *req, const struct http_url *u)
{
	int is_default = strcmp(u->port, "80") == 0;
	int v6 = strchr(u->host, ':') != NULL;
	if (buf_printf(out, "%s %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\n", req->method, u->target,
		       v6 ? "[" : "", u->host, v6 ? "]" : "", is_default ? "" : ":",
		       is_default ? "" : u->port) < 0)
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

static int remaining_ms(long long deadline_ms)
{
	long long left = deadline_ms - clock_now_ms();
	if (left < 0)
		return 0;
	return left > 1000000000 ? 1000000000 : (int)left;
}

int http_wait_readable(int fd, long long deadline_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int r = poll(&pfd, 1, remaining_ms(deadline_ms));
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	return r > 0;
}

int http_connect(const char *host, const char *port, long long deadline_ms, struct err *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return err_set(err, ERR_UNAVAILABLE, "cannot resolve host '%s': %s", host,
			       gai_strerror(rc));
	int fd = -1;
	int last = ECONNREFUSED;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			int pr;
			do {
				pr = poll(&pfd, 1, remaining_ms(deadline_ms));
			} while (pr < 0 && errno == EINTR && remaining_ms(deadline_ms) > 0);
			if (pr > 0) {
				int soerr = 0;
				socklen_t sl = sizeof(soerr);
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
				    !soerr)
					break;
				last = soerr ? soerr : errno;
			} else {
				last = ETIMEDOUT;
			}
		} else {
			last = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err_set(err, ERR_UNAVAILABLE, "%s", strerror(last));
	return fd;
}

int http_send_all(int fd, const void *data, size_t len, long long deadline_ms, struct err *err)
{
	const char *p = data;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return err_set(err, ERR_UNAVAILABLE, "send failed: %s", strerror(errno));
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		int left = remaining_ms(deadline_ms);
		if (left == 0)
			return err_set(err, ERR_UNAVAILABLE, "timed out sending the request");
		if (poll(&pfd, 1, left) < 0 && errno != EINTR)
			return err_set(err, ERR_UNAVAILABLE, "poll failed: %s", strerror(errno));
	}
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
	if (strcmp(u.scheme, "http") != 0) {
		err_set(err, ERR_BAD_REQUEST, "not an http:// URL: '%.200s'", req->url);
		goto out;
	}
	long long deadline =
	    clock_now_ms() + (req->timeout_ms > 0 ? req->timeout_ms : HTTP_CLIENT_TIMEOUT_MS);
	char where[300];
	snprintf(where, sizeof(where), "http://%s%s%s:%s", strchr(u.host, ':') ? "[" : "", u.host,
		 strchr(u.host, ':') ? "]" : "", u.port);
	fd = http_connect(u.host, u.port, deadline, err);
	if (fd < 0) {
		char reason[ERR_MSG_MAX];
		snprintf(reason, sizeof(reason), "%s", err->msg);
		err_set(err, ERR_UNAVAILABLE, "cannot reach %s: %s", where, reason);
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
			if (remaining_ms(deadline) > 0)
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
