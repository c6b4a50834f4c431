/* common/http_response.c: the incremental response parser the CLI and the
 * load tool read servers with. Input: a flags byte (HEAD-only, body cap),
 * a seed byte for piece sizes, then the bytes from the server. The bytes
 * are parsed twice, in one feed and in pieces, with the same outcome
 * required: the same verdict, bytes consumed, status, headers and body. */
#include "fuzz.h"

#include "http_response.h"

struct outcome {
	int rc; /* 1 complete, -1 refused */
	size_t consumed;
	struct http_response resp;
};

static size_t body_cap(unsigned flags)
{
	static const size_t caps[] = {0, 16, 4096, 64 * 1024};
	return caps[(flags >> 1) & 3];
}

/* Feed data in pieces of the sizes the seed picks (seed 0: all at once). */
static void parse(struct outcome *o, unsigned flags, unsigned seed, const char *data, size_t len)
{
	struct http_parser p;
	struct err e;
	err_clear(&e);
	http_response_init(&o->resp, body_cap(flags));
	http_parser_init(&p, &o->resp, flags & 1);
	unsigned x = seed * 2654435761u + 1;
	size_t off = 0;
	int rc = 0;
	while (off < len) {
		size_t n = len - off;
		if (seed) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			size_t want = (x % 16) + 1;
			n = want < n ? want : n;
		}
		size_t used = (size_t)-1;
		rc = http_parser_feed(&p, data + off, n, &used, &e);
		FUZZ_ASSERT(rc >= -1 && rc <= 1);
		if (rc < 0) {
			FUZZ_ASSERT(e.msg[0]);
			break;
		}
		FUZZ_ASSERT(used <= n);
		off += used;
		if (rc == 1)
			break;
		FUZZ_ASSERT(used == n);
	}
	if (rc == 0)
		rc = http_parser_finish(&p, &e);
	o->rc = rc;
	o->consumed = off;
	http_parser_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 128 * 1024)
		return 0;
	unsigned flags = data[0], seed = data[1];
	const char *in = (const char *)data + 2;
	size_t len = size - 2;
	struct outcome whole, pieces;
	parse(&whole, flags, 0, in, len);
	parse(&pieces, flags, seed ? seed : 1, in, len);

	FUZZ_ASSERT(whole.rc == pieces.rc);
	if (whole.rc == 1) {
		struct http_response *a = &whole.resp, *b = &pieces.resp;
		FUZZ_ASSERT(whole.consumed == pieces.consumed);
		FUZZ_ASSERT(a->status >= 100 && a->status <= 999 && a->status == b->status);
		FUZZ_ASSERT(strcmp(a->reason, b->reason) == 0 && !strpbrk(a->reason, "\r\n"));
		FUZZ_ASSERT(a->nheaders == b->nheaders);
		for (size_t i = 0; i < a->nheaders; i++) {
			FUZZ_ASSERT(strcmp(a->headers[i].name, b->headers[i].name) == 0);
			FUZZ_ASSERT(strcmp(a->headers[i].value, b->headers[i].value) == 0);
			FUZZ_ASSERT(a->headers[i].name[0] && !strpbrk(a->headers[i].name, ":\r\n"));
			FUZZ_ASSERT(!strpbrk(a->headers[i].value, "\r\n"));
			FUZZ_ASSERT(http_response_header(a, a->headers[i].name) != NULL);
		}
		FUZZ_ASSERT(a->body.len == b->body.len);
		FUZZ_ASSERT(!a->body.len || memcmp(a->body.data, b->body.data, a->body.len) == 0);
		FUZZ_ASSERT(!a->body.cap || a->body.len <= a->body.cap);
		FUZZ_ASSERT(!a->body.data || a->body.data[a->body.len] == '\0');
		if (flags & 1)
			FUZZ_ASSERT(a->body.len == 0);
	}
	http_response_release(&whole.resp);
	http_response_release(&pieces.resp);
	return 0;
}
