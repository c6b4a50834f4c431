#include "changes.h"

#include "buf.h"
#include "change_event.h"
#include "change_filter.h"
#include "order.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int change_from_row(const PGresult *r, int row, int col0, struct change *ch)
{
	memset(ch, 0, sizeof(*ch));
	ch->seq = strtoll(PQgetvalue(r, row, col0), NULL, 10);
	ch->op = change_op_parse(PQgetvalue(r, row, col0 + 1));
	ch->order_id = strtoll(PQgetvalue(r, row, col0 + 2), NULL, 10);
	ch->status = order_status_parse(PQgetvalue(r, row, col0 + 3));
	ch->old_status =
	    PQgetisnull(r, row, col0 + 4) ? -1 : order_status_parse(PQgetvalue(r, row, col0 + 4));
	const char *data = PQgetvalue(r, row, col0 + 5);
	const char *old = PQgetisnull(r, row, col0 + 6) ? NULL : PQgetvalue(r, row, col0 + 6);
	double changed_at = strtod(PQgetvalue(r, row, col0 + 7), NULL);
	if (ch->seq <= 0 || ch->op < 0)
		return -1;

	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char ts[CHANGE_EVENT_TIME_MAX];
	change_event_time(&now, ts);
	struct buf b;
	buf_init(&b, 0);
	if (change_event_format(&b, ch->seq, data, old, ts) < 0) {
		buf_release(&b);
		return -1;
	}
	ch->msg = msg_new_text(b.data, b.len);
	ch->msg->seq = ch->seq;
	ch->msg->changed_at = changed_at;
	buf_release(&b);
	return 0;
}

void change_release(struct change *ch)
{
	msg_unref(ch->msg);
	ch->msg = NULL;
}
