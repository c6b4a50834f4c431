/* rate_limit: WRITE_RATE_LIMIT, a token bucket per client address in a
 * table of bounded size. Thread-safe.
 *
 * A bucket holds `count` tokens and refills at count per period; each
 * write takes one, and a write that finds none is refused with the whole
 * seconds until a token is back. The bucket is kept as one time (GCRA:
 * when it will be full again), so an entry is 32 bytes and the table's
 * memory is fixed at creation whatever the number of addresses. The
 * table is set-associative: an address hashes (with a secret seed) to a
 * set of 8 entries, and a new address takes the set's oldest entry, the
 * one refilled longest ago (an entry that is full again loses nothing
 * when taken). An IPv6 client is counted by its /64, which one host
 * usually holds whole. */
#ifndef ORDERS_RATE_LIMIT_H
#define ORDERS_RATE_LIMIT_H

#include "client_addr.h"

#include <stddef.h>

struct rate_limit;

/* count writes per period_ms per address; entries: the table's size
 * (rounded up to a power of two, at least 8). NULL when count is 0 (no
 * limit): rate_limit_take(NULL, ...) always allows. */
struct rate_limit *rate_limit_new(long long count, long long period_ms, size_t entries);
void rate_limit_free(struct rate_limit *rl);

/* Take a token for `who` at now_ns (a monotonic clock): 0 when allowed,
 * else the seconds (>= 1) until one is back, for Retry-After. */
long long rate_limit_take(struct rate_limit *rl, const struct client_ip *who, long long now_ns);

/* The table's size in entries (its memory is fixed by it). */
size_t rate_limit_capacity(const struct rate_limit *rl);

#endif
