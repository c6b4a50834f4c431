/* ws_frame: RFC 6455 examples, the handshake keys, framing limits,
 * incremental decoding in pieces of every size, and every protocol
 * violation. */
#include "ws_frame.h"

#include "harness.h"

#include <stdlib.h>

static void test_keys(void)
{
	char acc[WS_ACCEPT_LEN + 1];
	ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", acc); /* RFC 6455 section 1.3 */
	CHECK_STR(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	char k1[WS_KEY_LEN + 1], k2[WS_KEY_LEN + 1];
	CHECK(ws_client_key(k1) == 0 && ws_client_key(k2) == 0);
	CHECK(strlen(k1) == WS_KEY_LEN && strcmp(k1, k2) != 0);
	/* 16 random bytes: 22 base64 characters and "==" */
	CHECK(strspn(k1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") ==
		  22 &&
	      strcmp(k1 + 22, "==") == 0);
}

static void test_encode(void)
{
	unsigned char h[WS_FRAME_HEADER_MAX];
	CHECK(ws_frame_header(h, 1, WS_OP_TEXT, 0, NULL) == 2 && h[0] == 0x81 && h[1] == 0);
	CHECK(ws_frame_header(h, 1, WS_OP_TEXT, 125, NULL) == 2 && h[1] == 125);
	CHECK(ws_frame_header(h, 1, WS_OP_TEXT, 126, NULL) == 4 && h[1] == 126 && h[2] == 0 &&
	      h[3] == 126);
	CHECK(ws_frame_header(h, 0, WS_OP_BINARY, 65535, NULL) == 4 && h[0] == 0x02 &&
	      h[2] == 0xff && h[3] == 0xff);
	CHECK(ws_frame_header(h, 1, WS_OP_TEXT, 65536, NULL) == 10 && h[1] == 127 && h[7] == 1 &&
	      h[8] == 0 && h[9] == 0);
	const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
	CHECK(ws_frame_header(h, 1, WS_OP_TEXT, 5, mask) == 6 && h[1] == 0x85 && h[2] == 0x37);

	/* RFC 6455 5.7: unmasked and masked "Hello" */
	struct buf b;
	buf_init(&b, 0);
	CHECK(ws_frame_encode(&b, 1, WS_OP_TEXT, "Hello", 5, NULL) == 0);
	CHECK(b.len == 7 && memcmp(b.data, "\x81\x05Hello", 7) == 0);
	buf_reset(&b);
	CHECK(ws_frame_encode(&b, 1, WS_OP_TEXT, "Hello", 5, mask) == 0);
	CHECK(b.len == 11 &&
	      memcmp(b.data, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11) == 0);
	buf_reset(&b);
	char big[200];
	memset(big, 'x', sizeof(big));
	CHECK(ws_frame_encode(&b, 1, WS_OP_PING, big, 126, NULL) == -1);
	CHECK(ws_frame_encode(&b, 0, WS_OP_CLOSE, "", 0, NULL) == -1);
	CHECK(b.len == 0);
	struct buf small;
	buf_init(&small, 8);
	CHECK(ws_frame_encode(&small, 1, WS_OP_TEXT, big, 20, NULL) == -1);
	CHECK(small.len == 0);
	buf_release(&small);
	buf_release(&b);

	unsigned char cp[WS_CONTROL_MAX];
	size_t n = ws_close_payload(cp, 1008, "slow consumer");
	CHECK(n == 15 && cp[0] == 0x03 && cp[1] == 0xf0 &&
	      memcmp(cp + 2, "slow consumer", 13) == 0);
	char longr[300];
	memset(longr, 'r', sizeof(longr));
	longr[299] = '\0';
	CHECK(ws_close_payload(cp, 1000, longr) == WS_CONTROL_MAX);
	CHECK(ws_close_code_valid(1000) && ws_close_code_valid(1008) && ws_close_code_valid(4000));
	CHECK(!ws_close_code_valid(1005) && !ws_close_code_valid(1006) &&
	      !ws_close_code_valid(999) && !ws_close_code_valid(5000) &&
	      !ws_close_code_valid(1016));
}

/* Feed all of data in pieces of `step` bytes; collect events in order. */
struct collected {
	int nev;
	enum ws_event ev[16];
	char text[16][256];
	unsigned code[16];
};

static void feed_all(struct ws_decoder *d, const void *data, size_t len, size_t step,
		     struct collected *out)
{
	const unsigned char *p = data;
	size_t off = 0;
	memset(out, 0, sizeof(*out));
	while (off < len && out->nev < 16) {
		size_t n = len - off < step ? len - off : step;
		size_t pos = 0;
		while (pos < n && out->nev < 16) {
			size_t used;
			struct ws_message m;
			struct err err;
			enum ws_event ev =
			    ws_decoder_feed(d, p + off + pos, n - pos, &used, &m, &err);
			pos += used;
			if (ev == WS_EVENT_NONE)
				break;
			out->ev[out->nev] = ev;
			if (ev == WS_EVENT_ERROR) {
				out->code[out->nev++] = d->fail_code;
				return;
			}
			snprintf(out->text[out->nev], 256, "%.*s", (int)m.len,
				 (const char *)m.data);
			out->code[out->nev] = m.close_code;
			out->nev++;
		}
		off += n;
	}
}

static void test_decode_client(void)
{
	/* server frames (unmasked): fragmented text with a ping in the middle,
	 * then a binary message, a pong and a close */
	static const unsigned char stream[] = "\x01\x03Hel"
					      "\x89\x04ping"
					      "\x80\x02lo"
					      "\x82\x00"
					      "\x8a\x00"
					      "\x88\x0f\x03\xf0slow consumer";
	size_t len = sizeof(stream) - 1;
	for (size_t step = 1; step <= len; step++) {
		struct ws_decoder d;
		struct collected c;
		ws_decoder_init(&d, 1024);
		feed_all(&d, stream, len, step, &c);
		int ok = c.nev == 5 && c.ev[0] == WS_EVENT_PING && strcmp(c.text[0], "ping") == 0 &&
			 c.ev[1] == WS_EVENT_MESSAGE && strcmp(c.text[1], "Hello") == 0 &&
			 c.ev[2] == WS_EVENT_MESSAGE && c.text[2][0] == '\0' &&
			 c.ev[3] == WS_EVENT_PONG && c.ev[4] == WS_EVENT_CLOSE &&
			 c.code[4] == 1008 && strcmp(c.text[4], "\x03\xf0slow consumer") == 0;
		CHECK(ok);
		if (!ok)
			fprintf(stderr, "  step %zu: %d events\n", step, c.nev);
		ws_decoder_release(&d);
	}
	/* close without a code, close reason visible */
	struct ws_decoder d;
	struct ws_message m;
	struct err err;
	size_t used;
	ws_decoder_init(&d, 64);
	CHECK(ws_decoder_feed(&d, "\x88\x00", 2, &used, &m, &err) == WS_EVENT_CLOSE &&
	      m.close_code == WS_CLOSE_NO_STATUS && used == 2);
	ws_decoder_release(&d);
	ws_decoder_init(&d, 64);
	CHECK(ws_decoder_feed(&d,
			      "\x88\x05\x03\xe8"
			      "bye",
			      7, &used, &m, &err) == WS_EVENT_CLOSE &&
	      m.close_code == 1000 && strcmp(m.close_reason, "bye") == 0);
	ws_decoder_release(&d);
	/* two messages in one feed: the first returns, the rest stays unread */
	ws_decoder_init(&d, 64);
	CHECK(ws_decoder_feed(&d,
			      "\x81\x01"
			      "a\x81\x01"
			      "b",
			      6, &used, &m, &err) == WS_EVENT_MESSAGE &&
	      used == 3 && m.len == 1 && m.data[0] == 'a' && m.data[1] == '\0');
	CHECK(ws_decoder_feed(&d,
			      "\x81\x01"
			      "b",
			      3, &used, &m, &err) == WS_EVENT_MESSAGE &&
	      m.data[0] == 'b');
	ws_decoder_release(&d);
	/* 64-bit length */
	size_t big = 70000;
	struct buf b;
	buf_init(&b, 0);
	char *payload = malloc(big);
	memset(payload, 'z', big);
	CHECK(ws_frame_encode(&b, 1, WS_OP_BINARY, payload, big, NULL) == 0);
	ws_decoder_init(&d, 100000);
	CHECK(ws_decoder_feed(&d, b.data, b.len, &used, &m, &err) == WS_EVENT_MESSAGE &&
	      m.len == big && m.opcode == WS_OP_BINARY && used == b.len);
	ws_decoder_release(&d);
	/* ... over the cap */
	ws_decoder_init(&d, 1000);
	CHECK(ws_decoder_feed(&d, b.data, b.len, &used, &m, &err) == WS_EVENT_ERROR &&
	      d.fail_code == WS_CLOSE_TOO_BIG);
	CHECK(ws_decoder_feed(&d, "\x81\x00", 2, &used, &m, &err) == WS_EVENT_ERROR);
	ws_decoder_release(&d);
	free(payload);
	buf_release(&b);
}

static unsigned violation(const char *frame, size_t len, size_t max)
{
	struct ws_decoder d;
	struct collected c;
	ws_decoder_init(&d, max);
	feed_all(&d, frame, len, len, &c);
	ws_decoder_release(&d);
	for (int i = 0; i < c.nev; i++)
		if (c.ev[i] == WS_EVENT_ERROR)
			return c.code[i];
	return 0;
}

static void test_violations(void)
{
	CHECK(violation("\xc1\x00", 2, 64) == WS_CLOSE_PROTOCOL);	  /* RSV1 */
	CHECK(violation("\x83\x00", 2, 64) == WS_CLOSE_PROTOCOL);	  /* opcode 3 */
	CHECK(violation("\x8b\x00", 2, 64) == WS_CLOSE_PROTOCOL);	  /* opcode 0xB */
	CHECK(violation("\x80\x00", 2, 64) == WS_CLOSE_PROTOCOL);	  /* lone continuation */
	CHECK(violation("\x01\x00\x01\x00", 4, 64) == WS_CLOSE_PROTOCOL); /* text inside text */
	CHECK(violation("\x09\x00", 2, 64) == WS_CLOSE_PROTOCOL);	  /* fragmented ping */
	CHECK(violation("\x89\x7e\x00\x7e", 4, 64) == WS_CLOSE_PROTOCOL); /* ping of 126 */
	CHECK(violation("\x81\x81\x00\x00\x00\x00"
			"a",
			7, 64) == WS_CLOSE_PROTOCOL); /* masked */
	CHECK(violation("\x81\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10, 64) ==
	      WS_CLOSE_PROTOCOL);					      /* length MSB */
	CHECK(violation("\x81\x02\xc3\x28", 4, 64) == WS_CLOSE_BAD_DATA);     /* bad UTF-8 */
	CHECK(violation("\x01\x01\xc3\x80\x01\xa9", 6, 64) == 0);	      /* split é is fine */
	CHECK(violation("\x88\x01\x03", 3, 64) == WS_CLOSE_PROTOCOL);	      /* close of 1 byte */
	CHECK(violation("\x88\x02\x03\xed", 4, 64) == WS_CLOSE_PROTOCOL);     /* close code 1005 */
	CHECK(violation("\x88\x03\x03\xe8\xff", 5, 64) == WS_CLOSE_BAD_DATA); /* bad reason */
	CHECK(violation("\x81\x0aHelloHello", 12, 5) == WS_CLOSE_TOO_BIG);
	CHECK(violation("\x01\x03Hel\x80\x03lo!", 10, 5) == WS_CLOSE_TOO_BIG);
	CHECK(violation("\x81\x05Hello", 7, 5) == 0); /* exactly the cap */
}

static unsigned server_violation(const char *frame, size_t len)
{
	struct ws_decoder d;
	struct collected c;
	ws_decoder_init_server(&d, 4096);
	feed_all(&d, frame, len, len, &c);
	ws_decoder_release(&d);
	for (int i = 0; i < c.nev; i++)
		if (c.ev[i] == WS_EVENT_ERROR)
			return c.code[i];
	return 0;
}

/* The relay's side: masked control frames only, bounded before reading. */
static void test_decode_server(void)
{
	const unsigned char mask[4] = {0x11, 0x22, 0x33, 0x44};
	struct buf b;
	buf_init(&b, 0);
	CHECK(ws_frame_encode(&b, 1, WS_OP_PING, "are you there", 13, mask) == 0);
	CHECK(ws_frame_encode(&b, 1, WS_OP_PONG, "", 0, mask) == 0);
	unsigned char cp[WS_CONTROL_MAX];
	size_t cn = ws_close_payload(cp, 1000, "bye");
	CHECK(ws_frame_encode(&b, 1, WS_OP_CLOSE, cp, cn, mask) == 0);
	for (size_t step = 1; step <= b.len; step++) {
		struct ws_decoder d;
		struct collected c;
		ws_decoder_init_server(&d, 4096);
		feed_all(&d, b.data, b.len, step, &c);
		int ok = c.nev == 3 && c.ev[0] == WS_EVENT_PING &&
			 strcmp(c.text[0], "are you there") == 0 && c.ev[1] == WS_EVENT_PONG &&
			 c.ev[2] == WS_EVENT_CLOSE && c.code[2] == 1000 &&
			 strcmp(c.text[2], "\x03\xe8"
					   "bye") == 0;
		CHECK(ok);
		if (!ok)
			fprintf(stderr, "  server step %zu: %d events\n", step, c.nev);
		ws_decoder_release(&d);
	}
	buf_release(&b);
	/* unmasked */
	CHECK(server_violation("\x89\x00", 2) == WS_CLOSE_PROTOCOL);
	/* data frames, even small and masked */
	CHECK(server_violation("\x81\x80\x01\x02\x03\x04", 6) == WS_CLOSE_UNSUPPORTED);
	CHECK(server_violation("\x82\x80\x01\x02\x03\x04", 6) == WS_CLOSE_UNSUPPORTED);
	CHECK(server_violation("\x80\x80\x01\x02\x03\x04", 6) == WS_CLOSE_PROTOCOL);
	/* 1 GiB announced: refused at the header, no payload needed */
	CHECK(server_violation("\x82\xff\x00\x00\x00\x00\x40\x00\x00\x00\x01\x02\x03\x04", 14) ==
	      WS_CLOSE_TOO_BIG);
	/* 4097 bytes: over the cap; 70 000-byte ping: over the cap too */
	CHECK(server_violation("\x82\xfe\x10\x01\x01\x02\x03\x04", 8) == WS_CLOSE_TOO_BIG);
	CHECK(server_violation("\x89\xff\x00\x00\x00\x00\x00\x01\x11\x70\x01\x02\x03\x04", 14) ==
	      WS_CLOSE_TOO_BIG);
	/* a ping of 126..4096 bytes: a control frame over 125 */
	CHECK(server_violation("\x89\xfe\x00\x7e\x01\x02\x03\x04", 8) == WS_CLOSE_PROTOCOL);
	/* RSV bits, reserved opcodes, fragmented control */
	CHECK(server_violation("\xc9\x80\x01\x02\x03\x04", 6) == WS_CLOSE_PROTOCOL);
	CHECK(server_violation("\x83\x80\x01\x02\x03\x04", 6) == WS_CLOSE_PROTOCOL);
	CHECK(server_violation("\x8f\x80\x01\x02\x03\x04", 6) == WS_CLOSE_PROTOCOL);
	CHECK(server_violation("\x09\x80\x01\x02\x03\x04", 6) == WS_CLOSE_PROTOCOL);
	/* a masked close with invalid UTF-8 in its reason */
	struct buf cb;
	buf_init(&cb, 0);
	CHECK(ws_frame_encode(&cb, 1, WS_OP_CLOSE, "\x03\xe8\xff", 3, mask) == 0);
	CHECK(server_violation(cb.data, cb.len) == WS_CLOSE_BAD_DATA);
	buf_release(&cb);
}

int main(void)
{
	test_keys();
	test_encode();
	test_decode_client();
	test_violations();
	test_decode_server();
	HARNESS_END();
}
