/* Helpers shared by the libFuzzer harnesses (tests/fuzz/fuzz_<target>.c).
 * Each harness defines LLVMFuzzerTestOneInput, calls one pure module on
 * bounded input and checks what the module promises with FUZZ_ASSERT: a
 * broken promise aborts, which libFuzzer reports like a crash. */
#ifndef ORDERS_FUZZ_H
#define ORDERS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__,      \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* data[0..size) as a C string (cut at its first NUL byte); free() it. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* 1 if s[0..n) is NUL-terminated within n bytes. */
static inline int fuzz_terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

#endif
