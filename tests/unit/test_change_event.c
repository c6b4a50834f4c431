/* change_event: the event JSON every reader of the change log sends. */
#include "change_event.h"

#include "buf.h"
#include "harness.h"

static void test_event(void)
{
	struct buf b;
	buf_init(&b, 0);
	const char *t = "2023-11-14T22:13:20.123Z";
	CHECK(change_event_format(&b, 42, "{\"id\":7}", "{\"status\":\"pending\"}", t) == 0);
	CHECK_STR(b.data,
		  "{\"type\":\"order_change\",\"seq\":42,\"data\":{\"id\":7},"
		  "\"old\":{\"status\":\"pending\"},\"timestamp\":\"2023-11-14T22:13:20.123Z\"}");
	buf_reset(&b);
	CHECK(change_event_format(&b, 1, "{}", NULL, t) == 0);
	CHECK(strstr(b.data, "\"old\"") == NULL);
	buf_release(&b);
}

int main(void)
{
	test_event();
	HARNESS_END();
}
