/* metrics: Prometheus text-format counters and latency histograms.
 * Histograms are lock-free (atomic counters per bucket); the request table
 * of the api takes a short mutex. Thread-safe. */
#ifndef ORDERS_METRICS_H
#define ORDERS_METRICS_H

#include "buf.h"

#include <stdatomic.h>

#define METRICS_BUCKETS 14

/* Bucket upper bounds in seconds, shared by every histogram. */
extern const double metrics_bucket_bounds[METRICS_BUCKETS];

struct metrics_hist {
	atomic_ullong buckets[METRICS_BUCKETS + 1]; /* last = +Inf */
	atomic_ullong count;
	atomic_ullong sum_ns;
};

void metrics_hist_observe(struct metrics_hist *h, double seconds);
/* Append the _bucket/_sum/_count lines; labels is "" or `a="b",c="d"`. */
int metrics_hist_render(struct buf *out, const char *name, const char *labels,
			const struct metrics_hist *h) __attribute__((warn_unused_result));

/* Requests by route, method and status, with latency per route. */
struct metrics_http;
struct metrics_http *metrics_http_new(const char *prefix);
void metrics_http_free(struct metrics_http *m);
/* route must be a static string (the route pattern, not the raw path). */
void metrics_http_observe(struct metrics_http *m, const char *route, const char *method, int status,
			  double seconds);
int metrics_http_render(struct metrics_http *m, struct buf *out)
    __attribute__((warn_unused_result));

#endif
