#include "stats.h"

#include "hub.h"

struct relay_stats relay_stats;

#define LOAD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

static int render_lag(struct buf *out, const struct hub_lag *lag)
{
	static const char *const transport[2] = {"ws", "sse"};
	int rc =
	    buf_printf(out, "# HELP orders_relay_client_lag_events_max Events not yet sent to the "
			    "client furthest behind the head.\n"
			    "# TYPE orders_relay_client_lag_events_max gauge\n");
	for (int t = 0; rc == 0 && t < 2; t++)
		rc = buf_printf(out, "orders_relay_client_lag_events_max{transport=\"%s\"} %lld\n",
				transport[t], lag->max[t]);
	if (rc == 0)
		rc = buf_printf(out, "# HELP orders_relay_client_lag_events Clients by events not "
				     "yet sent (behind the head).\n"
				     "# TYPE orders_relay_client_lag_events histogram\n");
	for (int t = 0; rc == 0 && t < 2; t++) {
		for (int b = 0; rc == 0 && b < HUB_LAG_NBOUNDS; b++)
			rc = buf_printf(out,
					"orders_relay_client_lag_events_bucket{transport=\"%s\",le="
					"\"%lld\"} %llu\n",
					transport[t], HUB_LAG_BOUNDS[b], lag->le[t][b]);
		if (rc == 0)
			rc = buf_printf(
			    out,
			    "orders_relay_client_lag_events_bucket{transport=\"%s\",le=\"+Inf\"} "
			    "%llu\n"
			    "orders_relay_client_lag_events_sum{transport=\"%s\"} %lld\n"
			    "orders_relay_client_lag_events_count{transport=\"%s\"} %llu\n",
			    transport[t], lag->count[t], transport[t], lag->sum[t], transport[t],
			    lag->count[t]);
	}
	return rc;
}

int stats_render(struct buf *out, long long last_seq, int db_up, int catching_up,
		 const struct hub_lag *lag)
{
	struct relay_stats *s = &relay_stats;
	int rc = buf_printf(
	    out,
	    "# HELP orders_relay_clients Connected WebSocket clients.\n"
	    "# TYPE orders_relay_clients gauge\n"
	    "orders_relay_clients %lld\n"
	    "# HELP orders_relay_connections_total WebSocket connections accepted.\n"
	    "# TYPE orders_relay_connections_total counter\n"
	    "orders_relay_connections_total %llu\n"
	    "# HELP orders_relay_events_total Changes fanned out.\n"
	    "# TYPE orders_relay_events_total counter\n"
	    "orders_relay_events_total %llu\n"
	    "# HELP orders_relay_messages_sent_total WebSocket messages written to clients.\n"
	    "# TYPE orders_relay_messages_sent_total counter\n"
	    "orders_relay_messages_sent_total %llu\n"
	    "# HELP orders_relay_bytes_sent_total Bytes written to WebSocket clients.\n"
	    "# TYPE orders_relay_bytes_sent_total counter\n"
	    "orders_relay_bytes_sent_total %llu\n"
	    "# HELP orders_relay_socket_writes_total Socket writes (one per batch of messages).\n"
	    "# TYPE orders_relay_socket_writes_total counter\n"
	    "orders_relay_socket_writes_total %llu\n"
	    "# HELP orders_relay_slow_consumer_closes_total Clients closed with 1008 slow "
	    "consumer.\n"
	    "# TYPE orders_relay_slow_consumer_closes_total counter\n"
	    "orders_relay_slow_consumer_closes_total %llu\n"
	    "# HELP orders_relay_db_reconnects_total Reconnections to PostgreSQL.\n"
	    "# TYPE orders_relay_db_reconnects_total counter\n"
	    "orders_relay_db_reconnects_total %llu\n"
	    "# HELP orders_relay_replayed_events_total Events sent from history (since=).\n"
	    "# TYPE orders_relay_replayed_events_total counter\n"
	    "orders_relay_replayed_events_total %llu\n"
	    "# HELP orders_relay_catchups_total Live clients that fell behind a burst and read "
	    "the change log at their own pace.\n"
	    "# TYPE orders_relay_catchups_total counter\n"
	    "orders_relay_catchups_total %llu\n"
	    "# HELP orders_relay_catching_up Clients reading history from the change log now.\n"
	    "# TYPE orders_relay_catching_up gauge\n"
	    "orders_relay_catching_up %d\n"
	    "# HELP orders_relay_resyncs_total Resync messages sent (history truncated or "
	    "another epoch).\n"
	    "# TYPE orders_relay_resyncs_total counter\n"
	    "orders_relay_resyncs_total %llu\n"
	    "# HELP orders_relay_pruned_rows_total Change log rows deleted by retention.\n"
	    "# TYPE orders_relay_pruned_rows_total counter\n"
	    "orders_relay_pruned_rows_total %llu\n"
	    "# HELP orders_relay_protocol_closes_total WebSocket clients closed for a frame "
	    "they may not send (1002, 1003, 1007, 1009).\n"
	    "# TYPE orders_relay_protocol_closes_total counter\n"
	    "orders_relay_protocol_closes_total %llu\n"
	    "# HELP orders_relay_silent_drops_total WebSocket clients dropped for answering "
	    "no ping for two intervals.\n"
	    "# TYPE orders_relay_silent_drops_total counter\n"
	    "orders_relay_silent_drops_total %llu\n"
	    "# HELP orders_relay_last_seq Last seq delivered.\n"
	    "# TYPE orders_relay_last_seq gauge\n"
	    "orders_relay_last_seq %lld\n"
	    "# HELP orders_relay_database_up 1 when the listener is connected to PostgreSQL.\n"
	    "# TYPE orders_relay_database_up gauge\n"
	    "orders_relay_database_up %d\n"
	    "# HELP orders_relay_delivery_lag_seconds Time from the change to its socket "
	    "write.\n"
	    "# TYPE orders_relay_delivery_lag_seconds histogram\n",
	    (long long)atomic_load(&s->clients), LOAD(s->connections), LOAD(s->events),
	    LOAD(s->messages_sent), LOAD(s->bytes_sent), LOAD(s->writes), LOAD(s->slow_closes),
	    LOAD(s->db_reconnects), LOAD(s->replayed), LOAD(s->catchups), catching_up,
	    LOAD(s->resyncs), LOAD(s->pruned_rows), LOAD(s->protocol_closes), LOAD(s->silent_drops),
	    last_seq, db_up);
	if (rc < 0 ||
	    metrics_hist_render(out, "orders_relay_delivery_lag_seconds", "", &s->lag) < 0)
		return -1;
	if (render_lag(out, lag) < 0)
		return -1;
	return buf_printf(out,
			  "# HELP orders_relay_fast_path_events_total Changes sent from their "
			  "notification, without a change log read.\n"
			  "# TYPE orders_relay_fast_path_events_total counter\n"
			  "orders_relay_fast_path_events_total %llu\n",
			  LOAD(s->fast_path_events));
}
