#include "change_event.h"

#include <stdio.h>

int change_event_format(struct buf *out, long long seq, const char *data_json, const char *old_json,
			const char *timestamp)
{
	if (buf_printf(out, "{\"type\":\"order_change\",\"seq\":%lld,\"data\":", seq) < 0 ||
	    buf_append_str(out, data_json) < 0)
		return -1;
	if (old_json && (buf_append_str(out, ",\"old\":") < 0 || buf_append_str(out, old_json) < 0))
		return -1;
	return buf_printf(out, ",\"timestamp\":\"%s\"}", timestamp);
}
