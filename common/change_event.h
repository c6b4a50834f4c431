/* change_event: the JSON of one change as the relay streams it and the api
 * lists it (CONTRACT section 5):
 *   {"type":"order_change","seq":42,"data":{...},"old":{...},"timestamp":"..."}
 * data and old are the change log's json columns, embedded as they are.
 * Pure functions, thread-safe. */
#ifndef ORDERS_CHANGE_EVENT_H
#define ORDERS_CHANGE_EVENT_H

#include "buf.h"

#include <stddef.h>

/* Append one event object. old_json NULL omits "old" (INSERT, DELETE).
 * Returns 0, or -1 if out's cap would be passed. */
int change_event_format(struct buf *out, long long seq, const char *data_json, const char *old_json,
			const char *timestamp) __attribute__((warn_unused_result));

#endif
