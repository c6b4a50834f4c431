/* stats: the relay's counters for /metrics (Prometheus text). Lock-free
 * atomics, updated from any thread. */
#ifndef RELAY_STATS_H
#define RELAY_STATS_H

#include "buf.h"
#include "metrics.h"

#include <stdatomic.h>

struct relay_stats {
	atomic_llong clients;	     /* connected WebSocket clients */
	atomic_ullong connections;   /* accepted since start */
	atomic_ullong events;	     /* changes read from the log and fanned out */
	atomic_ullong messages_sent; /* frames written to clients */
	atomic_ullong bytes_sent;
	atomic_ullong writes;	   /* socket writes (one per batch) */
	atomic_ullong slow_closes; /* closed with 1008 slow consumer */
	atomic_ullong db_reconnects;
	atomic_ullong replayed; /* events sent from history (since=) */
	atomic_ullong resyncs;
	atomic_ullong catchups; /* live clients that fell behind and read the log instead */
	atomic_ullong pruned_rows;
	atomic_ullong protocol_closes; /* WebSocket clients closed for a bad frame */
	atomic_ullong silent_drops;    /* WebSocket clients that answered no ping */
	struct metrics_hist lag;       /* change to socket write, seconds */
	/* of events, those sent from their notification, without a change log
	 * read (the listener's fast path) */
	atomic_ullong fast_path_events;
};

extern struct relay_stats relay_stats;

/* Append the metrics text; last_seq and db_up are sampled by the caller. */
struct hub_lag;
int stats_render(struct buf *out, long long last_seq, int db_up, int catching_up,
		 const struct hub_lag *lag) __attribute__((warn_unused_result));

#endif
