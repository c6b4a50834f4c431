#include "latency_hist.h"

#include <string.h>

/* Below 2*SUB microseconds one bucket per microsecond; above, the top
 * seven bits of the value select the bucket within its power of two. */
static unsigned bucket_of(uint64_t us)
{
	if (us < 2 * LATENCY_HIST_SUB)
		return (unsigned)us;
	unsigned shift = (unsigned)(63 - __builtin_clzll(us)) - 6;
	uint64_t i = (uint64_t)shift * LATENCY_HIST_SUB + (us >> shift);
	return i < LATENCY_HIST_BUCKETS ? (unsigned)i : LATENCY_HIST_BUCKETS - 1;
}

static double bucket_mid_us(unsigned i)
{
	if (i < 2 * LATENCY_HIST_SUB)
		return (double)i;
	unsigned shift = i / LATENCY_HIST_SUB - 1;
	uint64_t m = i - (uint64_t)shift * LATENCY_HIST_SUB;
	return (double)(m << shift) + (double)(1ULL << shift) / 2;
}

void latency_hist_add(struct latency_hist *h, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	h->buckets[bucket_of((uint64_t)ns / 1000)]++;
	h->count++;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

int64_t latency_hist_quantile(const struct latency_hist *h, double q)
{
	if (!h->count)
		return 0;
	uint64_t want = (uint64_t)(q * (double)h->count + 0.999999), acc = 0;
	if (want < 1)
		want = 1;
	for (unsigned i = 0; i < LATENCY_HIST_BUCKETS; i++) {
		acc += h->buckets[i];
		if (acc >= want) {
			int64_t ns = (int64_t)(bucket_mid_us(i) * 1000);
			return ns < h->max_ns ? ns : h->max_ns;
		}
	}
	return h->max_ns;
}
