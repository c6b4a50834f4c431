/* xalloc: allocation that cannot fail. Out of memory aborts the process
 * with one line on stderr (as git, tmux and Kore do): a server that cannot
 * allocate a few bytes has no useful way to go on. Thread-safe. */
#ifndef ORDERS_XALLOC_H
#define ORDERS_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Caller frees the copy with free(). xstrdup(NULL) returns NULL. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
