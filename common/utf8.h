/* utf8: the one UTF-8 decoder. Validation (no overlongs, no surrogates,
 * nothing above U+10FFFF), character counts, and a copy of untrusted text
 * that is safe to print on a terminal. Pure functions, thread-safe. */
#ifndef ORDERS_UTF8_H
#define ORDERS_UTF8_H

#include <stddef.h>

/* Length (1..4) of the valid UTF-8 character at p, reading at most avail
 * bytes, or 0 if the bytes there are not one (or avail is 0). A NUL byte
 * is a character of length 1; on a NUL-terminated string any avail >= 4
 * is safe, since no continuation byte is NUL. */
size_t utf8_char_len(const void *p, size_t avail);

/* 1 if s[0..len) is valid UTF-8; NUL bytes allowed (WebSocket text). */
int utf8_valid(const void *s, size_t len);

/* 1 if s[0..len) is valid UTF-8 without NUL bytes: text that fits a C
 * string (JSON input, order names). */
int utf8_valid_text(const char *s, size_t len);

/* Number of characters in valid UTF-8 s[0..len). */
size_t utf8_length(const char *s, size_t len);

/* Copy src[0..len) to dst (cap > 0, always NUL-terminated, cut at a
 * character boundary) keeping only printable text: tabs and line breaks
 * become blanks; other C0 and C1 controls, DEL and bytes that are not
 * UTF-8 become '?' (so a reader sees that something was there). For text
 * from a server that reaches a terminal (escape sequences could retitle
 * it, clear it, write the clipboard). The copy is never longer than src:
 * cap = len + 1 holds all of it. Returns dst. */
char *utf8_printable(char *dst, size_t cap, const char *src, size_t len);

#endif
