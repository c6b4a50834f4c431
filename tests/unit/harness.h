/* A tiny unit-test harness: CHECK records a failure and goes on; each test
 * binary ends with "N passed, N failed" and exits non-zero on failure. */
#ifndef ORDERS_TEST_HARNESS_H
#define ORDERS_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

static int harness_passed, harness_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (cond) {                                                                        \
			harness_passed++;                                                          \
		} else {                                                                           \
			harness_failed++;                                                          \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *ca_ = (a), *cb_ = (b);                                                 \
		if (ca_ && cb_ && strcmp(ca_, cb_) == 0) {                                         \
			harness_passed++;                                                          \
		} else {                                                                           \
			harness_failed++;                                                          \
			fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__,          \
				__LINE__, cb_ ? cb_ : "(null)", ca_ ? ca_ : "(null)");             \
		}                                                                                  \
	} while (0)

#define HARNESS_END()                                                                              \
	do {                                                                                       \
		printf("%s: %d passed, %d failed\n", __FILE__, harness_passed, harness_failed);    \
		return harness_failed ? 1 : 0;                                                     \
	} while (0)

#endif
