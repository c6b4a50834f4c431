#include "http_response.h"

#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static int framing(struct http_parser *p, struct err *err);

/* Parse the complete head in p->line: status line, headers, framing. */
static int parse_head(struct http_parser *p, struct err *err)
{
	struct http_response *r = p->resp;
	char *s = p->line.data;
	/* lines end in CRLF; a CR or LF of its own would stay inside the
	 * reason or a header value (the body's framing refuses them too) */
	for (size_t i = 0; i < p->line.len; i++)
		if ((s[i] == '\r' && s[i + 1] != '\n') ||
		    (s[i] == '\n' && (!i || s[i - 1] != '\r')))
			return err_set(err, ERR_BAD_REQUEST, "bare %s in the HTTP response head",
				       s[i] == '\r' ? "CR" : "LF");
	char *eol = strstr(s, "\r\n");
	*eol = '\0';
	/* status codes are 100..599 (RFC 9110 15) */
	if (strncmp(s, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)s[7]) || s[8] != ' ' ||
	    s[9] < '1' || s[9] > '5' || !isdigit((unsigned char)s[10]) ||
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
	if (p->head_only) {
		p->state = HTTP_P_DONE;
		return 0;
	}
	return framing(p, err);
}

/* How the body of the response whose head is parsed is framed. */
static int framing(struct http_parser *p, struct err *err)
{
	struct http_response *r = p->resp;
	if (r->status == 204 || r->status == 304 || r->status / 100 == 1) {
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
		if (c == '\0')
			return err_set(err, ERR_BAD_REQUEST, "NUL byte in HTTP framing");
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

/* Act on the framing line collect_line completed in p->line: a chunk's
 * size, the CRLF after a chunk, or a trailer (an empty one ends the
 * response). */
static int framing_line(struct http_parser *p, struct err *err)
{
	const char *s = p->line.data;
	if (p->state == HTTP_P_CHUNK_SIZE) {
		char *end;
		errno = 0;
		unsigned long long v = isxdigit((unsigned char)s[0]) ? strtoull(s, &end, 16) : 0;
		if (!isxdigit((unsigned char)s[0]) || errno ||
		    (*end && *end != ';' && *end != ' ' && *end != '\t'))
			return err_set(err, ERR_BAD_REQUEST, "bad chunk size '%.20s'", s);
		if (p->resp->body.cap && v > p->resp->body.cap)
			return err_set(err, ERR_TOO_LARGE, "response body is over %zu bytes",
				       p->resp->body.cap);
		p->remaining = v;
		p->state = v ? HTTP_P_CHUNK_DATA : HTTP_P_TRAILERS;
	} else if (p->state == HTTP_P_CHUNK_CRLF) {
		if (p->line.len)
			return err_set(err, ERR_BAD_REQUEST, "chunk not followed by CRLF");
		p->state = HTTP_P_CHUNK_SIZE;
	} else if (!p->line.len) {
		p->state = HTTP_P_DONE;
	}
	buf_reset(&p->line);
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
				/* the head is parsed as C strings: a NUL would cut a
				 * line short of its CRLF */
				if (data[i] == '\0') {
					rc = err_set(err, ERR_BAD_REQUEST,
						     "NUL byte in the HTTP response head");
					goto out;
				}
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
		case HTTP_P_BODY_LENGTH:
		case HTTP_P_CHUNK_DATA: {
			/* a body framed by Content-Length, or one chunk */
			size_t n = len - i < p->remaining ? len - i : (size_t)p->remaining;
			if (append_body(p, data + i, n, err) < 0) {
				rc = -1;
				goto out;
			}
			i += n;
			p->remaining -= n;
			if (!p->remaining)
				p->state = p->state == HTTP_P_BODY_LENGTH ? HTTP_P_DONE
									  : HTTP_P_CHUNK_CRLF;
			break;
		}
		case HTTP_P_BODY_EOF:
			if (append_body(p, data + i, len - i, err) < 0) {
				rc = -1;
				goto out;
			}
			i = len;
			break;
		case HTTP_P_CHUNK_SIZE:
		case HTTP_P_CHUNK_CRLF:
		case HTTP_P_TRAILERS: {
			int got = collect_line(p, data, len, &i, err);
			if (got < 0 || (got && framing_line(p, err) < 0)) {
				rc = -1;
				goto out;
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

int http_parser_read_body(struct http_parser *p, struct err *err)
{
	if (p->state != HTTP_P_DONE || !p->head_only)
		return err_set(err, ERR_INTERNAL, "no response head to read a body after");
	p->head_only = 0;
	return framing(p, err);
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
