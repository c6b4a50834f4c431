/* ws_frame: WebSocket framing (RFC 6455) without any I/O, shared by the
 * CLI's client, the relay and the load tool.
 *
 * Encoding: ws_frame_header() writes just the header (so a server can
 * serialise a broadcast payload once and send header + payload), and
 * ws_frame_encode() appends a whole frame to a buf. Clients must mask
 * (pass a 4-byte key); servers must not (pass NULL).
 *
 * Decoding: a struct ws_decoder is fed bytes as they arrive, in pieces of
 * any size; it reassembles fragmented messages, hands out control frames
 * (ping, pong, close) as soon as they are complete (also between the
 * fragments of a message), and enforces the protocol: RSV bits, opcodes,
 * masking (a client must mask, a server must not), control frame size and FIN, a message size
 * cap, UTF-8 in text messages and close payloads, valid close codes. A
 * server-side decoder (ws_decoder_init_server) requires masked frames,
 * unmasks them, and accepts control frames only: any frame announcing more
 * than its cap fails with 1009 at the header, before a byte of payload is
 * read, and a data frame with 1003. On a
 * violation it reports the close code to send (1002, 1007 or 1009); the
 * decoder is then dead and the connection should be closed.
 *
 * Handshake helpers: ws_accept_key() computes Sec-WebSocket-Accept and
 * ws_client_key() makes a random Sec-WebSocket-Key.
 *
 * Everything here is pure (except ws_client_key, which reads the kernel's
 * random source); a decoder belongs to one thread at a time. */
#ifndef ORDERS_WS_FRAME_H
#define ORDERS_WS_FRAME_H

#include "buf.h"
#include "err.h"

#include <stddef.h>
#include <stdint.h>

enum ws_opcode {
	WS_OP_CONTINUATION = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

/* Close codes used by the suite. */
#define WS_CLOSE_NORMAL	     1000
#define WS_CLOSE_GOING_AWAY  1001
#define WS_CLOSE_PROTOCOL    1002
#define WS_CLOSE_UNSUPPORTED 1003 /* a data type the endpoint does not accept */
#define WS_CLOSE_NO_STATUS   1005 /* reported when a close frame had no code */
#define WS_CLOSE_BAD_DATA    1007
#define WS_CLOSE_POLICY	     1008 /* also "slow consumer" */
#define WS_CLOSE_TOO_BIG     1009

#define WS_FRAME_HEADER_MAX 14	/* 2 + 8 (length) + 4 (mask) */
#define WS_CONTROL_MAX	    125 /* payload limit of ping, pong and close */
#define WS_GUID		    "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_LEN	    24 /* base64 of 16 random bytes */
#define WS_ACCEPT_LEN	    28 /* base64 of a SHA-1 digest */

/* Write the header of one frame into out (at least WS_FRAME_HEADER_MAX
 * bytes) and return its length. mask: a 4-byte key (client frames), or
 * NULL (server frames). The payload that follows must already be masked
 * with the same key (ws_mask). */
size_t ws_frame_header(unsigned char *out, int fin, enum ws_opcode op, uint64_t len,
		       const unsigned char *mask);

/* XOR data[0..len) with the key, as if data started at byte `offset` of
 * the payload (so a payload can be masked in pieces). Its own inverse. */
void ws_mask(unsigned char *data, size_t len, const unsigned char mask[4], uint64_t offset);

/* Append one complete frame to out (masked with `mask` when it is not
 * NULL). Returns 0, or -1 if out's cap would be passed (out unchanged).
 * Control frames (close, ping, pong) must be final and at most
 * WS_CONTROL_MAX bytes: -1 otherwise. */
int ws_frame_encode(struct buf *out, int fin, enum ws_opcode op, const void *payload, size_t len,
		    const unsigned char *mask) __attribute__((warn_unused_result));

/* Build a close payload (2-byte code + reason cut to fit 125 bytes) into
 * out[WS_CONTROL_MAX]; returns its length. */
size_t ws_close_payload(unsigned char *out, unsigned code, const char *reason);

/* 1 if code may appear in a close frame on the wire (RFC 6455 7.4). */
int ws_close_code_valid(unsigned code);

/* What the decoder produced. */
enum ws_event {
	WS_EVENT_NONE = 0, /* all input consumed, nothing complete yet */
	WS_EVENT_MESSAGE,  /* a complete text or binary message */
	WS_EVENT_PING,
	WS_EVENT_PONG,
	WS_EVENT_CLOSE,
	WS_EVENT_ERROR, /* protocol violation: see err and ws_decoder.fail_code */
};

/* One decoded event. data is borrowed from the decoder and valid until the
 * next ws_decoder_feed or ws_decoder_release; it is NUL-terminated (the NUL
 * is not counted in len) so text messages can be used as C strings. */
struct ws_message {
	enum ws_opcode opcode; /* TEXT or BINARY for messages, else the control opcode */
	const unsigned char *data;
	size_t len;
	unsigned close_code;	  /* WS_EVENT_CLOSE: the code, or WS_CLOSE_NO_STATUS */
	const char *close_reason; /* WS_EVENT_CLOSE: the reason ("" if none) */
};

enum ws_decoder_state {
	WS_DEC_HEADER,	/* collecting header bytes */
	WS_DEC_PAYLOAD, /* copying payload bytes */
	WS_DEC_FAILED,	/* a violation was reported; feed returns ERROR */
};

/* Caller-owned decoder state; treat the fields as private except
 * fail_code. */
struct ws_decoder {
	size_t max_message; /* most bytes of one (reassembled) message */
	enum ws_decoder_state state;
	unsigned char hdr[WS_FRAME_HEADER_MAX];
	size_t hdr_have, hdr_need;
	int fin;
	enum ws_opcode op;
	uint64_t payload_len, payload_have;
	int masked;	       /* the frame's mask bit */
	int server;	       /* decodes a client's frames: masked, control only */
	unsigned char mask[4]; /* the current frame's key (server side) */
	enum ws_opcode msg_op; /* opcode of the message being reassembled, 0 = none */
	int msg_done;	       /* the last event was a message: reset on next feed */
	struct buf message;    /* reassembled data message */
	unsigned char control[WS_CONTROL_MAX + 1];
	unsigned fail_code; /* close code to send after WS_EVENT_ERROR */
};

/* A client-side decoder: frames from a server, which must be unmasked.
 * max_message: cap on one message. */
void ws_decoder_init(struct ws_decoder *d, size_t max_message);
/* A server-side decoder for a peer that may send only control frames
 * (close, ping, pong), each masked: a data frame fails with 1003, a frame
 * announcing more than max_frame payload bytes with 1009 (checked before
 * its payload is read, so memory stays bounded whatever it claims). */
void ws_decoder_init_server(struct ws_decoder *d, size_t max_frame);
void ws_decoder_release(struct ws_decoder *d);

/* Consume bytes from in[0..len) until one event is complete or the input
 * is used up; *used tells how many bytes were consumed (call again with
 * the rest). Returns the event and fills *msg for every event but NONE and
 * ERROR. On ERROR, err says what was wrong and d->fail_code which close
 * code to send. */
enum ws_event ws_decoder_feed(struct ws_decoder *d, const void *in, size_t len, size_t *used,
			      struct ws_message *msg, struct err *err);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID))
 * into out[WS_ACCEPT_LEN + 1]. */
void ws_accept_key(const char *key, char *out);
/* A fresh random Sec-WebSocket-Key into out[WS_KEY_LEN + 1]; 0 or -1. */
int ws_client_key(char *out) __attribute__((warn_unused_result));
/* Four random bytes for masking a client frame; 0 or -1. */
int ws_random_mask(unsigned char mask[4]) __attribute__((warn_unused_result));

#endif
