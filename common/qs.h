/* qs: query strings ("a=1&b=x%20y"), pure and shared by the api's query
 * parameters and the relay's subscription parameters. Thread-safe. */
#ifndef ORDERS_QS_H
#define ORDERS_QS_H

#include <stddef.h>

struct qs_pair {
	const char *key; /* borrowed from the query string, not terminated */
	size_t klen;
	const char *val; /* "" when the pair has no '=' */
	size_t vlen;
};

/* The next key=value pair at *p, advancing *p past it; 0 at the end. */
int qs_next(const char **p, struct qs_pair *pair);
/* 1 if the pair's key is name. */
int qs_key_is(const struct qs_pair *pair, const char *name);
/* Percent-decode s[0..n) ('+' is a space) into out; -1 for a malformed
 * escape, a NUL byte, or a value that does not fit in cap bytes. */
int qs_decode(const char *s, size_t n, char *out, size_t cap);
/* Find the pair whose key is name: 1 found (*pair filled, value raw, not
 * decoded), 0 absent, -1 given more than once. */
int qs_find(const char *query, const char *name, struct qs_pair *pair);
/* A number written canonically in s[0..n): decimal digits only, no sign,
 * no percent-encoding, no leading zero (but "0" itself), at most max.
 * 0 with *out, or -1. */
int qs_parse_uint(const char *s, size_t n, long long max, long long *out);

/* Look up parameter `name` of a query string (NULL: none) and decode it
 * into out. 1 if present, 0 if absent, -1 if present but repeated,
 * malformed, holding a NUL byte or longer than outlen-1. */
int qs_param(const char *query, const char *name, char *out, size_t outlen);

#endif
