/* changes: a change-log row (change_log.h) as the relay fans it out: the
 * framed event, built once and shared by every client that gets it. The
 * listener (live stream) and replay (since=) both use it, so both send
 * byte-identical events. */
#ifndef RELAY_CHANGES_H
#define RELAY_CHANGES_H

#include "change_log.h"
#include "hub.h"

/* Decode row `row` of page p into ch with a new framed message stamped with
 * the current time. 0, or -1 when the row cannot be decoded (the caller
 * must not skip it silently). */
int change_from_page(const struct change_log_page *p, int row, struct change *ch)
    __attribute__((warn_unused_result));
void change_release(struct change *ch);

#endif
