#include "change_event.h"

#include <stdio.h>

void change_event_time(const struct timespec *ts, char out[CHANGE_EVENT_TIME_MAX])
{
	struct tm tm;
	time_t sec = ts->tv_sec;
	gmtime_r(&sec, &tm);
	size_t n = strftime(out, CHANGE_EVENT_TIME_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, CHANGE_EVENT_TIME_MAX - n, ".%03dZ", (int)(ts->tv_nsec / 1000000));
}

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
