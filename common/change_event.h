/* change_event: the JSON of one change (CONTRACT section 5), written by
 * relay/changes.c for the stream and by change_log_render_array() for the
 * api's /api/changes:
 *   {"type":"order_change","seq":42,"data":{...},"old":{...},"timestamp":"..."}
 * data and old are the change log's json columns, embedded as they are;
 * the timestamp comes from clock_iso8601. Pure, thread-safe. */
#ifndef ORDERS_CHANGE_EVENT_H
#define ORDERS_CHANGE_EVENT_H

#include "buf.h"

#include <stddef.h>

/* Append one event object. old_json NULL omits "old" (INSERT, DELETE).
 * Returns 0, or -1 if out's cap would be passed. */
int change_event_format(struct buf *out, long long seq, const char *data_json, const char *old_json,
			const char *timestamp) __attribute__((warn_unused_result));

#endif
