/* log: one logger for every program. One line per event on stderr, written
 * with a single write() so lines from threads never interleave:
 *   2026-11-26T03:00:00.123Z INFO relay ws#12 subscribed since=41
 * The level is checked before formatting. Thread-safe. Never pass secrets. */
#ifndef ORDERS_LOG_H
#define ORDERS_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* program: short name printed on every line (borrowed, must outlive logging). */
void log_init(const char *program, enum log_level level);
/* Parse "debug", "info", "warn" or "error"; returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);
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
