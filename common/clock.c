#include "clock.h"

#include <stdio.h>

long long clock_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

long long clock_now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000 + t.tv_nsec;
}

long long clock_ms_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

void clock_iso8601(const struct timespec *ts, char out[CLOCK_ISO_MAX])
{
	struct tm tm;
	time_t sec = ts->tv_sec;
	gmtime_r(&sec, &tm);
	size_t n = strftime(out, CLOCK_ISO_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, CLOCK_ISO_MAX - n, ".%03dZ", (int)(ts->tv_nsec / 1000000));
}

void clock_iso8601_now(char out[CLOCK_ISO_MAX])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	clock_iso8601(&ts, out);
}
