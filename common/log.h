/* log: one logger for every program. One line per event on stderr, written
 * with a single write() so lines from threads never interleave. Two
 * formats (LOG_FORMAT):
 *   text  2026-11-26T03:00:00.123Z INFO relay ws#12 subscribed since=41
 *   json  {"time":"2026-11-26T03:00:00.123Z","level":"info",
 *          "program":"orders-relay","msg":"ws#12 subscribed since=41"}
 * (json: one object per line; the message is escaped, bytes that are not
 * UTF-8 become U+FFFD.) The level is checked before formatting.
 * Thread-safe once set up: call log_init/log_set_format before starting
 * threads. Never pass secrets. */
#ifndef ORDERS_LOG_H
#define ORDERS_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON };

/* program: short name printed on every text line (borrowed, must outlive
 * logging); it also names json lines until log_set_format gives a name. */
void log_init(const char *program, enum log_level level);
/* Choose the line format; name (borrowed, may be NULL to keep the
 * log_init name) is the "program" of json lines, e.g. "orders-api". */
void log_set_format(enum log_format format, const char *name);
/* The format in use, for output that is not a log line in text mode
 * (orders-api migrate's progress) but should be one in json. */
enum log_format log_get_format(void);
/* Parse "debug", "info", "warn" or "error"; returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);
/* Parse "text" or "json"; returns 0 or -1. */
int log_format_parse(const char *s, enum log_format *out);
int log_enabled(enum log_level level);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_DEBUG))                                                        \
			log_write(LOG_DEBUG, __VA_ARGS__);                                         \
	} while (0)
#define log_info(...)                                                                              \
	do {                                                                                       \
		if (log_enabled(LOG_INFO))                                                         \
			log_write(LOG_INFO, __VA_ARGS__);                                          \
	} while (0)
#define log_warn(...)                                                                              \
	do {                                                                                       \
		if (log_enabled(LOG_WARN))                                                         \
			log_write(LOG_WARN, __VA_ARGS__);                                          \
	} while (0)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
