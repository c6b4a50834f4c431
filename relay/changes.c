#include "changes.h"

#include "buf.h"
#include "change_event.h"
#include "change_filter.h"
#include "clock.h"
#include "order.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int status_or_none(const char *s)
{
	return s ? order_status_parse(s) : -1;
}

int change_from_page(const struct change_log_page *p, int row, struct change *ch)
{
	memset(ch, 0, sizeof(*ch));
	const char *op = change_log_col(p, row, CHANGE_COL_OP);
	const char *id = change_log_col(p, row, CHANGE_COL_ORDER_ID);
	const char *data = change_log_col(p, row, CHANGE_COL_DATA);
	const char *at = change_log_col(p, row, CHANGE_COL_CHANGED_AT);
	ch->seq = change_log_seq(p, row);
	ch->op = op ? change_op_parse(op) : -1;
	ch->order_id = id ? strtoll(id, NULL, 10) : 0;
	ch->status = status_or_none(change_log_col(p, row, CHANGE_COL_STATUS));
	ch->old_status = status_or_none(change_log_col(p, row, CHANGE_COL_OLD_STATUS));
	if (ch->seq <= 0 || ch->op < 0 || !data || !at)
		return -1;
	if (ch->op != CHANGE_OP_TRUNCATE && (!id || ch->status < 0))
		return -1;

	char ts[CLOCK_ISO_MAX];
	clock_iso8601_now(ts);
	struct buf b;
	buf_init(&b, 0);
	if (change_event_format(&b, ch->seq, data, change_log_col(p, row, CHANGE_COL_OLD), ts) <
	    0) {
		buf_release(&b);
		return -1;
	}
	ch->msg = msg_new_text(b.data, b.len);
	ch->msg->seq = ch->seq;
	ch->msg->changed_at = strtod(at, NULL);
	buf_release(&b);
	return 0;
}

void change_release(struct change *ch)
{
	msg_unref(ch->msg);
	ch->msg = NULL;
}
