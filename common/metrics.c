#include "metrics.h"

#include "xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double metrics_bucket_bounds[METRICS_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

void metrics_hist_observe(struct metrics_hist *h, double seconds)
{
	int i = 0;
	while (i < METRICS_BUCKETS && seconds > metrics_bucket_bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	if (seconds > 0)
		atomic_fetch_add_explicit(&h->sum_ns, (unsigned long long)(seconds * 1e9),
					  memory_order_relaxed);
}

int metrics_hist_render(struct buf *out, const char *name, const char *labels,
			const struct metrics_hist *h)
{
	const char *sep = labels[0] ? "," : "";
	unsigned long long cum = 0;
	for (int i = 0; i <= METRICS_BUCKETS; i++) {
		cum += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
		int rc;
		if (i < METRICS_BUCKETS)
			rc = buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
					metrics_bucket_bounds[i], cum);
		else
			rc = buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
					cum);
		if (rc < 0)
			return -1;
	}
	const char *open = labels[0] ? "{" : "";
	const char *close = labels[0] ? "}" : "";
	return buf_printf(out, "%s_sum%s%s%s %.6f\n%s_count%s%s%s %llu\n", name, open, labels,
			  close, (double)atomic_load(&h->sum_ns) / 1e9, name, open, labels, close,
			  (unsigned long long)atomic_load(&h->count));
}

#define MAX_SERIES 256
#define MAX_ROUTES 64

struct series {
	const char *route;
	char method[8];
	int status;
	unsigned long long count;
};

struct route_hist {
	const char *route;
	struct metrics_hist hist;
};

struct metrics_http {
	pthread_mutex_t lock;
	char *prefix;
	struct series series[MAX_SERIES];
	int nseries;
	struct route_hist routes[MAX_ROUTES];
	int nroutes;
};

struct metrics_http *metrics_http_new(const char *prefix)
{
	struct metrics_http *m = xcalloc(1, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	m->prefix = xstrdup(prefix);
	return m;
}

void metrics_http_free(struct metrics_http *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->prefix);
	free(m);
}

void metrics_http_observe(struct metrics_http *m, const char *route, const char *method, int status,
			  double seconds)
{
	struct metrics_hist *h = NULL;
	pthread_mutex_lock(&m->lock);
	int i;
	for (i = 0; i < m->nseries; i++) {
		struct series *s = &m->series[i];
		if (s->route == route && s->status == status && strcmp(s->method, method) == 0)
			break;
	}
	if (i == m->nseries && m->nseries < MAX_SERIES) {
		struct series *s = &m->series[m->nseries++];
		s->route = route;
		s->status = status;
		snprintf(s->method, sizeof(s->method), "%s", method);
	}
	if (i < MAX_SERIES)
		m->series[i].count++;
	for (i = 0; i < m->nroutes; i++)
		if (m->routes[i].route == route)
			break;
	if (i == m->nroutes && m->nroutes < MAX_ROUTES)
		m->routes[m->nroutes++].route = route;
	if (i < MAX_ROUTES)
		h = &m->routes[i].hist;
	pthread_mutex_unlock(&m->lock);
	if (h)
		metrics_hist_observe(h, seconds);
}

int metrics_http_render(struct metrics_http *m, struct buf *out)
{
	int rc = 0;
	pthread_mutex_lock(&m->lock);
	rc |=
	    buf_printf(out,
		       "# HELP %s_http_requests_total HTTP requests by route, method and status.\n"
		       "# TYPE %s_http_requests_total counter\n",
		       m->prefix, m->prefix);
	for (int i = 0; i < m->nseries && rc == 0; i++) {
		struct series *s = &m->series[i];
		rc |= buf_printf(out,
				 "%s_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} "
				 "%llu\n",
				 m->prefix, s->route, s->method, s->status, s->count);
	}
	rc |= buf_printf(out,
			 "# HELP %s_http_request_duration_seconds Request latency by route.\n"
			 "# TYPE %s_http_request_duration_seconds histogram\n",
			 m->prefix, m->prefix);
	char name[128], labels[128];
	snprintf(name, sizeof(name), "%s_http_request_duration_seconds", m->prefix);
	for (int i = 0; i < m->nroutes && rc == 0; i++) {
		snprintf(labels, sizeof(labels), "route=\"%s\"", m->routes[i].route);
		rc |= metrics_hist_render(out, name, labels, &m->routes[i].hist);
	}
	pthread_mutex_unlock(&m->lock);
	return rc ? -1 : 0;
}
