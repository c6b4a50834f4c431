#include "http_request.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 tchar */
static int is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar, SP or HTAB */
static int is_value_char(unsigned char c)
{
	return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

static int fail(const char **why, int status, const char *what)
{
	*why = what;
	return -status;
}

/* Headers that must appear at most once: a second copy is read one way by
 * one hop and another way by the next. */
static const char *const singletons[] = {
    "Host",
    "Content-Length",
    "Transfer-Encoding",
    "Origin",
    "Authorization",
    "Upgrade",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Last-Event-ID",
};

static int is_singleton(const char *name)
{
	for (size_t i = 0; i < sizeof(singletons) / sizeof(singletons[0]); i++)
		if (strcasecmp(name, singletons[i]) == 0)
			return 1;
	return 0;
}

/* The end of the head (index just past CRLF CRLF) in buf[0..len), or 0. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' &&
		    buf[i - 3] == '\r')
			return i + 1;
	return 0;
}

/* Lines (LF) in buf[0..len): enough to tell 431 before the head ends. */
static size_t count_lines(const char *buf, size_t len)
{
	size_t n = 0;
	for (const char *p = buf; (p = memchr(p, '\n', len - (size_t)(p - buf))); p++)
		n++;
	return n;
}

static int parse_request_line(char *line, struct http_request *req, const char **why)
{
	char *sp1 = strchr(line, ' ');
	if (!sp1 || sp1 == line || sp1 - line > 16)
		return fail(why, 400, "malformed request line");
	*sp1 = '\0';
	for (char *p = line; *p; p++)
		if (!is_tchar((unsigned char)*p))
			return fail(why, 400, "malformed method");
	char *target = sp1 + 1;
	char *sp2 = strchr(target, ' ');
	if (!sp2 || sp2 == target)
		return fail(why, 400, "malformed request line");
	*sp2 = '\0';
	if ((size_t)(sp2 - target) > HTTP_TARGET_MAX)
		return fail(why, 414, "request target too long");
	if (target[0] != '/')
		return fail(why, 400, "request target must be a path");
	for (char *p = target; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return fail(why, 400, "malformed request target");
	const char *version = sp2 + 1;
	if (strcmp(version, "HTTP/1.1") == 0)
		req->minor = 1;
	else if (strcmp(version, "HTTP/1.0") == 0)
		req->minor = 0;
	else if (strncmp(version, "HTTP/", 5) == 0 && version[5] >= '0' && version[5] <= '9')
		return fail(why, 505, "HTTP version not supported");
	else
		return fail(why, 400, "malformed HTTP version");
	req->method = line;
	char *q = strchr(target, '?');
	if (q) {
		*q = '\0';
		req->query = q + 1;
	} else {
		req->query = "";
	}
	req->path = target;
	return 0;
}

static int parse_header(char *line, struct http_request *req, const char **why)
{
	if (line[0] == ' ' || line[0] == '\t')
		return fail(why, 400, "obsolete line folding");
	char *colon = strchr(line, ':');
	if (!colon || colon == line)
		return fail(why, 400, "malformed header line");
	*colon = '\0';
	for (char *p = line; *p; p++)
		if (!is_tchar((unsigned char)*p))
			return fail(why, 400, "malformed header name");
	char *v = colon + 1;
	for (char *p = v; *p; p++)
		if (!is_value_char((unsigned char)*p))
			return fail(why, 400, "control character in a header");
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		v[--n] = '\0';
	if (req->nheaders == HTTP_HEADERS_MAX)
		return fail(why, 431, "too many header fields");
	if (is_singleton(line) && http_request_header(req, line))
		return fail(why, 400, "repeated header");
	req->headers[req->nheaders].name = line;
	req->headers[req->nheaders].value = v;
	req->nheaders++;
	return 0;
}

int http_request_parse(char *buf, size_t len, struct http_request *req, const char **why)
{
	*why = "";
	size_t end = head_end(buf, len);
	if (!end) {
		/* a client ending lines with LF alone would wait for the timeout */
		for (size_t i = 0; i < len; i++)
			if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
				return fail(why, 400, "bare LF in the request head");
		if (len >= HTTP_HEAD_MAX)
			return fail(why, 431, "request header section too large");
		if (count_lines(buf, len) > HTTP_HEADERS_MAX + 1)
			return fail(why, 431, "too many header fields");
		return 0;
	}
	if (end > HTTP_HEAD_MAX)
		return fail(why, 431, "request header section too large");
	memset(req, 0, sizeof(*req));
	/* the head holds no NUL and no bare CR or LF: after this, a NUL ends
	 * each line */
	for (size_t i = 0; i < end; i++) {
		char c = buf[i];
		if (c == '\0')
			return fail(why, 400, "NUL in the request head");
		if (c == '\r' && buf[i + 1] != '\n')
			return fail(why, 400, "bare CR in the request head");
		if (c == '\n' && (i == 0 || buf[i - 1] != '\r'))
			return fail(why, 400, "bare LF in the request head");
	}
	char *line = buf;
	char *eol = strstr(line, "\r\n");
	*eol = '\0';
	int rc = parse_request_line(line, req, why);
	if (rc < 0)
		return rc;
	for (line = eol + 2; line < buf + end - 2; line = eol + 2) {
		eol = strstr(line, "\r\n");
		*eol = '\0';
		if ((rc = parse_header(line, req, why)) < 0)
			return rc;
	}
	if (req->minor == 1 && !http_request_header(req, "Host"))
		return fail(why, 400, "HTTP/1.1 request without Host");
	return (int)end;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	for (int i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

int http_token_list_has(const char *value, const char *token)
{
	size_t tn = strlen(token);
	for (const char *p = value; p && *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		size_t n = strcspn(p, ",");
		size_t m = n;
		while (m && (p[m - 1] == ' ' || p[m - 1] == '\t'))
			m--;
		if (m == tn && strncasecmp(p, token, tn) == 0)
			return 1;
		p += n;
	}
	return 0;
}
