/* clock: the two clocks the programs read. Monotonic milliseconds for
 * timeouts, deadlines and durations (never goes back, unaffected by the
 * wall clock being set), and wall-clock timestamps in ISO-8601 UTC with
 * milliseconds, as logs and change events carry them. Thread-safe: no
 * state, gmtime_r only. */
#ifndef ORDERS_CLOCK_H
#define ORDERS_CLOCK_H

#include <time.h>

/* "2026-11-26T03:00:00.123Z" and its NUL. */
#define CLOCK_ISO_MAX 32

/* Milliseconds of CLOCK_MONOTONIC. */
long long clock_now_ms(void);

/* Nanoseconds of CLOCK_MONOTONIC, for latencies. */
long long clock_now_ns(void);

/* Milliseconds from the CLOCK_MONOTONIC time *t to now. */
long long clock_ms_since(const struct timespec *t);

/* ts (CLOCK_REALTIME) as ISO-8601 UTC with milliseconds into out. */
void clock_iso8601(const struct timespec *ts, char out[CLOCK_ISO_MAX]);

/* The current wall-clock time, as clock_iso8601. */
void clock_iso8601_now(char out[CLOCK_ISO_MAX]);

#endif
