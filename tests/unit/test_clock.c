/* clock: monotonic milliseconds and ISO-8601 timestamps. */
#include "clock.h"

#include "harness.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

static void test_iso8601(void)
{
	struct timespec ts = {.tv_sec = 1700000000, .tv_nsec = 123456789};
	char t[CLOCK_ISO_MAX];
	clock_iso8601(&ts, t);
	CHECK_STR(t, "2023-11-14T22:13:20.123Z");
	ts = (struct timespec){.tv_sec = 0, .tv_nsec = 999999999};
	clock_iso8601(&ts, t);
	CHECK_STR(t, "1970-01-01T00:00:00.999Z");
	clock_iso8601_now(t);
	CHECK(strlen(t) == 24 && t[10] == 'T' && t[23] == 'Z');
}

static void test_monotonic(void)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	long long a = clock_now_ms(), an = clock_now_ns();
	usleep(20 * 1000);
	long long b = clock_now_ms(), bn = clock_now_ns();
	CHECK(b - a >= 19);
	CHECK(bn - an >= 19000000 && bn / 1000000 - b <= 1 && b - bn / 1000000 <= 1);
	CHECK(clock_ms_since(&start) >= 19);
}

int main(void)
{
	test_iso8601();
	test_monotonic();
	HARNESS_END();
}
