/* changes: reading the change log. One SQL column list and one row
 * decoder, shared by the listener (live stream) and replay (since=), so both
 * produce byte-identical events. */
#ifndef RELAY_CHANGES_H
#define RELAY_CHANGES_H

#include "hub.h"

#include <libpq-fe.h>

/* Columns in the order change_from_row() expects. */
#define CHANGES_COLUMNS                                                                            \
	"seq, operation, order_id, status, old_status, data::text, old::text, "                    \
	"extract(epoch from changed_at)::float8"
#define CHANGES_NCOLS 8

/* Decode row `row` of r, columns starting at col0, into ch with a new
 * framed message stamped with the current time. 0 or -1 (bad row). */
int change_from_row(const PGresult *r, int row, int col0, struct change *ch)
    __attribute__((warn_unused_result));
void change_release(struct change *ch);

#endif
