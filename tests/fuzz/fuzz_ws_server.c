/* common/ws_frame.c's server side: the decoder the relay reads clients'
 * frames with. Input: a seed byte for piece sizes, then the client's
 * bytes. Decoded in one feed and in pieces, they must give the same
 * events; only ping, pong and close come out (never a data message), a
 * violation names 1002, 1003, 1007 or 1009, and nothing larger than the
 * 4 KiB cap is ever accepted. */
#include "fuzz.h"

#include "utf8.h"
#include "ws_frame.h"

#define MAX_EVENTS 256
#define CAP	   4096

struct run {
	enum ws_event ev[MAX_EVENTS];
	size_t len[MAX_EVENTS];
	unsigned code[MAX_EVENTS];
	int n;
};

static void decode(struct run *r, unsigned seed, const unsigned char *in, size_t len)
{
	struct ws_decoder d;
	ws_decoder_init_server(&d, CAP);
	memset(r, 0, sizeof(*r));
	unsigned x = seed * 2654435761u + 1;
	size_t off = 0;
	while (off < len && r->n < MAX_EVENTS) {
		size_t n = len - off;
		if (seed) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			size_t want = (x % 20) + 1;
			n = want < n ? want : n;
		}
		struct ws_message m;
		struct err e;
		size_t used = (size_t)-1;
		enum ws_event ev = ws_decoder_feed(&d, in + off, n, &used, &m, &e);
		FUZZ_ASSERT(used <= n);
		off += used;
		if (ev == WS_EVENT_NONE) {
			FUZZ_ASSERT(used == n);
			continue;
		}
		r->ev[r->n] = ev;
		if (ev == WS_EVENT_ERROR) {
			FUZZ_ASSERT(d.fail_code == WS_CLOSE_PROTOCOL ||
				    d.fail_code == WS_CLOSE_UNSUPPORTED ||
				    d.fail_code == WS_CLOSE_BAD_DATA ||
				    d.fail_code == WS_CLOSE_TOO_BIG);
			r->code[r->n++] = d.fail_code;
			break;
		}
		FUZZ_ASSERT(ev == WS_EVENT_PING || ev == WS_EVENT_PONG || ev == WS_EVENT_CLOSE);
		FUZZ_ASSERT(m.len <= WS_CONTROL_MAX && m.data[m.len] == '\0');
		if (ev == WS_EVENT_CLOSE)
			FUZZ_ASSERT(utf8_valid(m.close_reason, strlen(m.close_reason)));
		r->len[r->n] = m.len;
		r->code[r->n++] = m.close_code;
	}
	/* the decoder never holds more than the cap */
	FUZZ_ASSERT(d.message.len <= CAP);
	ws_decoder_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 64 * 1024)
		return 0;
	static struct run whole, pieces;
	decode(&whole, 0, data + 1, size - 1);
	decode(&pieces, data[0] ? data[0] : 1, data + 1, size - 1);
	FUZZ_ASSERT(whole.n == pieces.n);
	for (int i = 0; i < whole.n; i++)
		FUZZ_ASSERT(whole.ev[i] == pieces.ev[i] && whole.len[i] == pieces.len[i] &&
			    whole.code[i] == pieces.code[i]);
	return 0;
}
