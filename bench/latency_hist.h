/* latency_hist: a log-linear (HDR-style) histogram of durations for
 * percentiles: exact to the microsecond below 128 us, then 64 buckets per
 * power of two (at most 1.6 % error), up to hours. Fixed size (about 30
 * KiB), no allocation, so adding a sample is a few instructions. For the
 * load tool and tests; the servers' Prometheus histograms are in metrics.
 * Caller-owned storage, empty when zeroed (static, calloc or = {0});
 * not thread-safe. */
#ifndef ORDERS_LATENCY_HIST_H
#define ORDERS_LATENCY_HIST_H

#include <stdint.h>

#define LATENCY_HIST_SUB     64
#define LATENCY_HIST_BUCKETS (LATENCY_HIST_SUB * 60)

struct latency_hist {
	uint64_t buckets[LATENCY_HIST_BUCKETS];
	uint64_t count;
	int64_t max_ns;
};

/* Record one duration; negative values count as 0. */
void latency_hist_add(struct latency_hist *h, int64_t ns);
/* The duration at quantile q (0..1) in nanoseconds (the middle of its
 * bucket, never above the maximum), or 0 when empty. */
int64_t latency_hist_quantile(const struct latency_hist *h, double q);

#endif
