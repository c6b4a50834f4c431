/* relay/http_request.c: the relay's request-head parser, which reads what
 * any peer sends. Checks: an answer is a head length within the input, a
 * wait for more, or one of the statuses the header promises; a parsed head
 * has a method, a path starting with '/', at most 64 headers with token
 * names and values without CR, LF or NUL; and the head alone (cut at the
 * length returned) parses to the same length. */
#include "fuzz.h"

#include "http_request.h"

static int is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 2 * HTTP_HEAD_MAX)
		return 0;
	char *buf = malloc(size + 1);
	if (!buf)
		abort();
	if (size)
		memcpy(buf, data, size);
	buf[size] = '\0';
	struct http_request req;
	const char *why = NULL;
	int rc = http_request_parse(buf, size, &req, &why);
	FUZZ_ASSERT(why != NULL);
	if (rc < 0) {
		FUZZ_ASSERT(rc == -400 || rc == -414 || rc == -431 || rc == -505);
		FUZZ_ASSERT(why[0]);
	} else if (rc == 0) {
		FUZZ_ASSERT(size < HTTP_HEAD_MAX);
		FUZZ_ASSERT(memcmp(buf, data, size) == 0); /* untouched while incomplete */
	} else {
		FUZZ_ASSERT((size_t)rc <= size && rc <= HTTP_HEAD_MAX);
		FUZZ_ASSERT(req.method && req.method[0] && req.path && req.path[0] == '/');
		FUZZ_ASSERT(req.query && (req.minor == 0 || req.minor == 1));
		FUZZ_ASSERT(req.nheaders >= 0 && req.nheaders <= HTTP_HEADERS_MAX);
		for (int i = 0; i < req.nheaders; i++) {
			const char *n = req.headers[i].name, *v = req.headers[i].value;
			FUZZ_ASSERT(n[0]);
			for (const char *p = n; *p; p++)
				FUZZ_ASSERT(is_tchar((unsigned char)*p));
			FUZZ_ASSERT(!strpbrk(v, "\r\n"));
			FUZZ_ASSERT(http_request_header(&req, n) != NULL);
		}
		if (req.minor == 1)
			FUZZ_ASSERT(http_request_header(&req, "Host") != NULL);
		/* the head alone gives the same answer */
		char *again = malloc((size_t)rc + 1);
		if (!again)
			abort();
		memcpy(again, data, (size_t)rc);
		again[rc] = '\0';
		struct http_request r2;
		FUZZ_ASSERT(http_request_parse(again, (size_t)rc, &r2, &why) == rc);
		FUZZ_ASSERT(r2.nheaders == req.nheaders && strcmp(r2.path, req.path) == 0);
		free(again);
	}
	free(buf);
	return 0;
}
