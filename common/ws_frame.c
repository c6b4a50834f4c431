#include "ws_frame.h"

#include "base64.h"
#include "sha1.h"
#include "utf8.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

size_t ws_frame_header(unsigned char *out, int fin, enum ws_opcode op, uint64_t len,
		       const unsigned char *mask)
{
	size_t n = 0;
	out[n++] = (unsigned char)((fin ? 0x80 : 0) | (op & 0x0f));
	unsigned char m = mask ? 0x80 : 0;
	if (len < 126) {
		out[n++] = (unsigned char)(m | len);
	} else if (len <= 0xffff) {
		out[n++] = m | 126;
		out[n++] = (unsigned char)(len >> 8);
		out[n++] = (unsigned char)len;
	} else {
		out[n++] = m | 127;
		for (int i = 7; i >= 0; i--)
			out[n++] = (unsigned char)(len >> (8 * i));
	}
	if (mask) {
		memcpy(out + n, mask, 4);
		n += 4;
	}
	return n;
}

void ws_mask(unsigned char *data, size_t len, const unsigned char mask[4], uint64_t offset)
{
	for (size_t i = 0; i < len; i++)
		data[i] ^= mask[(offset + i) & 3];
}

static int is_control(unsigned op)
{
	return op >= 0x8;
}

int ws_frame_encode(struct buf *out, int fin, enum ws_opcode op, const void *payload, size_t len,
		    const unsigned char *mask)
{
	if (is_control(op) && (!fin || len > WS_CONTROL_MAX))
		return -1;
	unsigned char hdr[WS_FRAME_HEADER_MAX];
	size_t hlen = ws_frame_header(hdr, fin, op, len, mask);
	size_t start = out->len;
	if (buf_append(out, hdr, hlen) < 0)
		return -1;
	if (buf_append(out, payload, len) < 0) {
		out->len = start;
		out->data[start] = '\0';
		return -1;
	}
	if (mask)
		ws_mask((unsigned char *)out->data + start + hlen, len, mask, 0);
	return 0;
}

size_t ws_close_payload(unsigned char *out, unsigned code, const char *reason)
{
	out[0] = (unsigned char)(code >> 8);
	out[1] = (unsigned char)code;
	size_t n = reason ? strlen(reason) : 0;
	if (n > WS_CONTROL_MAX - 2)
		n = WS_CONTROL_MAX - 2;
	/* never cut a UTF-8 sequence in half */
	while (n > 0 && n < strlen(reason) && ((unsigned char)reason[n] & 0xc0) == 0x80)
		n--;
	if (n)
		memcpy(out + 2, reason, n);
	return n + 2;
}

int ws_close_code_valid(unsigned code)
{
	if (code >= 3000 && code <= 4999)
		return 1;
	return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

void ws_decoder_init(struct ws_decoder *d, size_t max_message)
{
	memset(d, 0, sizeof(*d));
	d->max_message = max_message;
	d->state = WS_DEC_HEADER;
	d->hdr_need = 2;
	buf_init(&d->message, max_message);
}

void ws_decoder_init_server(struct ws_decoder *d, size_t max_frame)
{
	ws_decoder_init(d, max_frame);
	d->server = 1;
}

void ws_decoder_release(struct ws_decoder *d)
{
	buf_release(&d->message);
}

static enum ws_event fail(struct ws_decoder *d, unsigned code, struct err *err, const char *what)
{
	d->state = WS_DEC_FAILED;
	d->fail_code = code;
	err_set(err, ERR_BAD_REQUEST, "websocket: %s", what);
	return WS_EVENT_ERROR;
}

/* The header is complete: check it and set up the payload. */
static enum ws_event header_done(struct ws_decoder *d, struct err *err)
{
	unsigned b0 = d->hdr[0], b1 = d->hdr[1];
	d->fin = (b0 & 0x80) != 0;
	d->op = (enum ws_opcode)(b0 & 0x0f);
	d->masked = (b1 & 0x80) != 0;
	if (b0 & 0x70)
		return fail(d, WS_CLOSE_PROTOCOL, err, "reserved bits set");
	switch (d->op) {
	case WS_OP_CONTINUATION:
		if (!d->msg_op)
			return fail(d, WS_CLOSE_PROTOCOL, err, "continuation without a message");
		break;
	case WS_OP_TEXT:
	case WS_OP_BINARY:
		if (d->msg_op)
			return fail(d, WS_CLOSE_PROTOCOL, err,
				    "new message inside a fragmented one");
		break;
	case WS_OP_CLOSE:
	case WS_OP_PING:
	case WS_OP_PONG:
		if (!d->fin)
			return fail(d, WS_CLOSE_PROTOCOL, err, "fragmented control frame");
		break;
	default:
		return fail(d, WS_CLOSE_PROTOCOL, err, "unknown opcode");
	}
	if (d->masked && !d->server)
		return fail(d, WS_CLOSE_PROTOCOL, err, "server frame masked");
	if (!d->masked && d->server)
		return fail(d, WS_CLOSE_PROTOCOL, err, "client frame not masked");
	unsigned len7 = b1 & 0x7f;
	const unsigned char *p = d->hdr + 2;
	if (len7 < 126) {
		d->payload_len = len7;
	} else if (len7 == 126) {
		d->payload_len = (uint64_t)p[0] << 8 | p[1];
		p += 2;
	} else {
		d->payload_len = 0;
		for (int i = 0; i < 8; i++)
			d->payload_len = d->payload_len << 8 | p[i];
		p += 8;
		if (d->payload_len >> 63)
			return fail(d, WS_CLOSE_PROTOCOL, err, "payload length out of range");
	}
	if (d->masked)
		memcpy(d->mask, p, 4);
	if (d->server) {
		/* the size first: a huge frame is refused before anything else */
		if (d->payload_len > d->max_message)
			return fail(d, WS_CLOSE_TOO_BIG, err, "frame too big");
		if (!is_control(d->op))
			return fail(d, WS_CLOSE_UNSUPPORTED, err, "data frames are not accepted");
	}
	if (is_control(d->op)) {
		if (d->payload_len > WS_CONTROL_MAX)
			return fail(d, WS_CLOSE_PROTOCOL, err, "control frame over 125 bytes");
	} else if (d->payload_len > d->max_message - d->message.len) {
		return fail(d, WS_CLOSE_TOO_BIG, err, "message too big");
	}
	if (!d->msg_op && !is_control(d->op)) {
		d->msg_op = d->op;
		buf_reset(&d->message);
	}
	d->payload_have = 0;
	d->state = WS_DEC_PAYLOAD;
	return WS_EVENT_NONE;
}

/* The payload is complete: produce the event, if any. */
static enum ws_event frame_done(struct ws_decoder *d, struct ws_message *msg, struct err *err)
{
	d->state = WS_DEC_HEADER;
	d->hdr_have = 0;
	d->hdr_need = 2;
	memset(msg, 0, sizeof(*msg));
	if (is_control(d->op)) {
		size_t n = (size_t)d->payload_len;
		d->control[n] = '\0';
		msg->opcode = d->op;
		msg->data = d->control;
		msg->len = n;
		if (d->op == WS_OP_PING)
			return WS_EVENT_PING;
		if (d->op == WS_OP_PONG)
			return WS_EVENT_PONG;
		msg->close_code = WS_CLOSE_NO_STATUS;
		msg->close_reason = "";
		if (n == 1)
			return fail(d, WS_CLOSE_PROTOCOL, err, "close frame of one byte");
		if (n >= 2) {
			msg->close_code = (unsigned)d->control[0] << 8 | d->control[1];
			if (!ws_close_code_valid(msg->close_code))
				return fail(d, WS_CLOSE_PROTOCOL, err, "invalid close code");
			if (!utf8_valid(d->control + 2, n - 2))
				return fail(d, WS_CLOSE_BAD_DATA, err, "close reason not UTF-8");
			msg->close_reason = (const char *)d->control + 2;
		}
		return WS_EVENT_CLOSE;
	}
	if (!d->fin)
		return WS_EVENT_NONE;
	msg->opcode = d->msg_op;
	d->msg_op = 0;
	if (msg->opcode == WS_OP_TEXT && !utf8_valid(d->message.data, d->message.len))
		return fail(d, WS_CLOSE_BAD_DATA, err, "text message not UTF-8");
	if (!d->message.data && buf_append(&d->message, "", 0) < 0)
		return fail(d, WS_CLOSE_TOO_BIG, err, "message too big");
	msg->data = (const unsigned char *)d->message.data;
	msg->len = d->message.len;
	d->msg_done = 1;
	return WS_EVENT_MESSAGE;
}

/* Bytes of header needed after the first two, from the length code and mask bit. */
static size_t header_length(const unsigned char *hdr)
{
	unsigned len7 = hdr[1] & 0x7f;
	size_t n = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
	return n + ((hdr[1] & 0x80) ? 4 : 0);
}

enum ws_event ws_decoder_feed(struct ws_decoder *d, const void *in, size_t len, size_t *used,
			      struct ws_message *msg, struct err *err)
{
	const unsigned char *p = in;
	size_t i = 0;
	enum ws_event ev = WS_EVENT_NONE;
	if (d->msg_done) {
		buf_reset(&d->message);
		d->msg_done = 0;
	}
	if (d->state == WS_DEC_FAILED) {
		*used = 0;
		err_set(err, ERR_BAD_REQUEST, "websocket: connection already failed");
		return WS_EVENT_ERROR;
	}
	while (ev == WS_EVENT_NONE) {
		if (d->state == WS_DEC_HEADER) {
			while (d->hdr_have < d->hdr_need && i < len)
				d->hdr[d->hdr_have++] = p[i++];
			if (d->hdr_have < d->hdr_need)
				break;
			if (d->hdr_need == 2) {
				d->hdr_need = header_length(d->hdr);
				if (d->hdr_have < d->hdr_need)
					continue;
			}
			ev = header_done(d, err);
			if (ev == WS_EVENT_ERROR)
				break;
		}
		/* WS_DEC_PAYLOAD */
		uint64_t want = d->payload_len - d->payload_have;
		size_t n = len - i < want ? len - i : (size_t)want;
		if (n) {
			unsigned char *dst;
			if (is_control(d->op)) {
				dst = d->control + d->payload_have;
				memcpy(dst, p + i, n);
			} else {
				size_t at = d->message.len;
				if (buf_append(&d->message, p + i, n) < 0) {
					ev = fail(d, WS_CLOSE_TOO_BIG, err, "message too big");
					break;
				}
				dst = (unsigned char *)d->message.data + at;
			}
			if (d->masked)
				ws_mask(dst, n, d->mask, d->payload_have);
			d->payload_have += n;
			i += n;
		}
		if (d->payload_have < d->payload_len)
			break;
		ev = frame_done(d, msg, err);
		if (ev == WS_EVENT_NONE && i == len)
			break;
	}
	*used = i;
	return ev;
}

void ws_accept_key(const char *key, char *out)
{
	struct sha1_ctx c;
	unsigned char digest[SHA1_DIGEST_LEN];
	sha1_init(&c);
	sha1_update(&c, key, strlen(key));
	sha1_update(&c, WS_GUID, strlen(WS_GUID));
	sha1_final(&c, digest);
	base64_encode(digest, sizeof(digest), out);
}

static int random_bytes(void *out, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom((char *)out + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

int ws_client_key(char *out)
{
	unsigned char raw[16];
	if (random_bytes(raw, sizeof(raw)) < 0)
		return -1;
	base64_encode(raw, sizeof(raw), out);
	return 0;
}

int ws_random_mask(unsigned char mask[4])
{
	return random_bytes(mask, 4);
}
