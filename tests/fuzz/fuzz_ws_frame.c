/* common/ws_frame.c: the WebSocket decoder the CLI and the load tool read
 * a server's frames with. Input: a byte choosing the message cap, a seed
 * byte for piece sizes, then the bytes from the server. They are decoded
 * twice, in one feed and in pieces, and must give the same events; every
 * message must keep the decoder's promises (cap, UTF-8, NUL after the
 * data), and must decode again after ws_frame_encode. */
#include "fuzz.h"

#include "utf8.h"
#include "ws_frame.h"

#define MAX_EVENTS 256

struct event {
	enum ws_event ev;
	enum ws_opcode op;
	size_t len;
	uint64_t hash;
	unsigned close_code, fail_code;
};

struct run {
	struct event ev[MAX_EVENTS];
	int n;
	size_t consumed;
};

static uint64_t fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static size_t max_message(unsigned flags)
{
	static const size_t caps[] = {1, WS_CONTROL_MAX, 4096, 1024 * 1024};
	return caps[flags & 3];
}

/* Encode one decoded message or control frame and decode it again. */
static void roundtrip(const struct ws_message *m, size_t cap)
{
	struct buf out;
	buf_init(&out, 0);
	FUZZ_ASSERT(ws_frame_encode(&out, 1, m->opcode, m->data, m->len, NULL) == 0);
	struct ws_decoder d;
	ws_decoder_init(&d, cap);
	struct ws_message again;
	struct err e;
	size_t used;
	enum ws_event ev = ws_decoder_feed(&d, out.data, out.len, &used, &again, &e);
	FUZZ_ASSERT(ev != WS_EVENT_NONE && ev != WS_EVENT_ERROR && used == out.len);
	FUZZ_ASSERT(again.opcode == m->opcode && again.len == m->len);
	FUZZ_ASSERT(!m->len || memcmp(again.data, m->data, m->len) == 0);
	ws_decoder_release(&d);

	/* a masked frame is a protocol error from a server */
	static const unsigned char key[4] = {1, 2, 3, 4};
	buf_reset(&out);
	FUZZ_ASSERT(ws_frame_encode(&out, 1, m->opcode, m->data, m->len, key) == 0);
	ws_decoder_init(&d, cap);
	ev = ws_decoder_feed(&d, out.data, out.len, &used, &again, &e);
	FUZZ_ASSERT(ev == WS_EVENT_ERROR && d.fail_code == WS_CLOSE_PROTOCOL);
	ws_decoder_release(&d);
	buf_release(&out);
}

static void decode(struct run *r, unsigned flags, unsigned seed, const unsigned char *in,
		   size_t len, int check)
{
	struct ws_decoder d;
	size_t cap = max_message(flags);
	ws_decoder_init(&d, cap);
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
		struct event *out = &r->ev[r->n++];
		out->ev = ev;
		if (ev == WS_EVENT_ERROR) {
			out->fail_code = d.fail_code;
			FUZZ_ASSERT(d.fail_code == WS_CLOSE_PROTOCOL ||
				    d.fail_code == WS_CLOSE_BAD_DATA ||
				    d.fail_code == WS_CLOSE_TOO_BIG);
			FUZZ_ASSERT(e.msg[0]);
			break;
		}
		out->op = m.opcode;
		out->len = m.len;
		FUZZ_ASSERT(m.data && m.data[m.len] == '\0');
		out->hash = fnv(m.data, m.len);
		switch (ev) {
		case WS_EVENT_MESSAGE:
			FUZZ_ASSERT(m.opcode == WS_OP_TEXT || m.opcode == WS_OP_BINARY);
			FUZZ_ASSERT(m.len <= cap);
			if (m.opcode == WS_OP_TEXT)
				FUZZ_ASSERT(utf8_valid(m.data, m.len));
			break;
		case WS_EVENT_CLOSE:
			out->close_code = m.close_code;
			FUZZ_ASSERT(m.close_code == WS_CLOSE_NO_STATUS ||
				    ws_close_code_valid(m.close_code));
			FUZZ_ASSERT(m.close_reason &&
				    utf8_valid(m.close_reason, strlen(m.close_reason)));
			/* fall through */
		case WS_EVENT_PING:
		case WS_EVENT_PONG:
			FUZZ_ASSERT(m.len <= WS_CONTROL_MAX);
			break;
		default:
			FUZZ_ASSERT(!"unknown event");
		}
		if (check)
			roundtrip(&m, cap);
	}
	r->consumed = off;
	ws_decoder_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 256 * 1024)
		return 0;
	static struct run whole, pieces;
	decode(&whole, data[0], 0, data + 2, size - 2, 1);
	decode(&pieces, data[0], data[1] ? data[1] : 1, data + 2, size - 2, 0);
	FUZZ_ASSERT(whole.n == pieces.n);
	for (int i = 0; i < whole.n; i++) {
		const struct event *a = &whole.ev[i], *b = &pieces.ev[i];
		FUZZ_ASSERT(a->ev == b->ev && a->op == b->op && a->len == b->len);
		FUZZ_ASSERT(a->hash == b->hash && a->close_code == b->close_code);
		FUZZ_ASSERT(a->fail_code == b->fail_code);
	}
	if (whole.n < MAX_EVENTS)
		FUZZ_ASSERT(whole.consumed == pieces.consumed);
	return 0;
}
