#include "log.h"

#include "clock.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The formatted message is cut at LOG_MSG_MAX - 1 bytes; a json line may
 * grow it by escapes up to LOG_LINE_MAX (then it is cut at a character). */
#define LOG_MSG_MAX  2048
#define LOG_LINE_MAX 6144

static const char *log_program = "orders";
static const char *log_json_name;
static volatile int log_min = LOG_INFO;
static volatile int log_fmt = LOG_FORMAT_TEXT;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
static const char *const level_lower[] = {"debug", "info", "warn", "error"};

void log_init(const char *program, enum log_level level)
{
	log_program = program;
	log_min = level;
}

void log_set_format(enum log_format format, const char *name)
{
	log_fmt = format;
	if (name)
		log_json_name = name;
}

enum log_format log_get_format(void)
{
	return (enum log_format)log_fmt;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(s, level_lower[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int log_format_parse(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else
		return -1;
	return 0;
}

int log_enabled(enum log_level level)
{
	return (int)level >= log_min;
}

/* Append text[0..len) to line if it fits (keeping room for the closing
 * "}\n"); returns 0, or -1 when it does not fit. */
static int put(char *line, size_t *n, const char *text, size_t len)
{
	if (*n + len + 3 > LOG_LINE_MAX)
		return -1;
	memcpy(line + *n, text, len);
	*n += len;
	return 0;
}

/* Append s as the body of a JSON string: quotes, backslashes and control
 * characters escaped, invalid UTF-8 as U+FFFD. Stops at the first
 * character that does not fit. */
static void put_json_string(char *line, size_t *n, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];
		char esc[8];
		size_t k = 1;
		int rc;
		if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c;
			rc = put(line, n, esc, 2);
		} else if (c == '\n' || c == '\r' || c == '\t') {
			esc[0] = '\\', esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			rc = put(line, n, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			rc = put(line, n, esc, 6);
		} else if (c < 0x80) {
			rc = put(line, n, (const char *)p + i, 1);
		} else {
			k = utf8_char_len(p + i, len - i);
			if (k > 1) {
				rc = put(line, n, (const char *)p + i, k);
			} else {
				k = 1;
				rc = put(line, n, "\\ufffd", 6);
			}
		}
		if (rc < 0)
			return;
		i += k;
	}
}

void log_write(enum log_level level, const char *fmt, ...)
{
	char msg[LOG_MSG_MAX];
	char line[LOG_LINE_MAX];
	char stamp[CLOCK_ISO_MAX];
	clock_iso8601_now(stamp);

	va_list ap;
	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);

	size_t n = 0;
	if (log_fmt == LOG_FORMAT_JSON) {
		int k =
		    snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"%s\",\"program\":\"",
			     stamp, level_lower[level]);
		n = k > 0 ? (size_t)k : 0;
		put_json_string(line, &n, log_json_name ? log_json_name : log_program);
		if (put(line, &n, "\",\"msg\":\"", 9) == 0)
			put_json_string(line, &n, msg);
		line[n++] = '"';
		line[n++] = '}';
	} else {
		int k = snprintf(line, sizeof(line) - 1, "%s %s %s %s", stamp, level_names[level],
				 log_program, msg);
		n = k < 0 ? 0 : (size_t)k < sizeof(line) - 1 ? (size_t)k : sizeof(line) - 2;
		/* one event, one line: flatten embedded newlines */
		for (size_t i = 0; i < n; i++)
			if (line[i] == '\n' || line[i] == '\r')
				line[i] = ' ';
	}
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* stderr is gone; nowhere to report it */
	}
}
