/* query: limit/since/before_id/status parameters, no silent clamping. */
#include "query.h"

#include "harness.h"

#include <stdint.h>
#include <string.h>

static int limit_of(const char *q, long long *out, struct err *e)
{
	err_clear(e);
	*out = -999;
	return query_int(q, "limit", 1, QUERY_LIMIT_MAX, QUERY_LIMIT_DEFAULT, out, e);
}

static void expect_bad_limit(const char *q)
{
	struct err e;
	long long v;
	int rc = limit_of(q, &v, &e);
	if (rc == 0)
		fprintf(stderr, "query '%s' accepted: limit %lld\n", q, v);
	CHECK(rc == -1);
	CHECK(e.kind == ERR_INVALID_QUERY);
	CHECK_STR(e.field, "limit");
	CHECK(strstr(e.msg, "limit") != NULL);
}

static void test_limit(void)
{
	struct err e;
	long long v;
	CHECK(limit_of(NULL, &v, &e) == 0 && v == 100);
	CHECK(limit_of("", &v, &e) == 0 && v == 100);
	CHECK(limit_of("status=shipped", &v, &e) == 0 && v == 100);
	CHECK(limit_of("limit=1", &v, &e) == 0 && v == 1);
	CHECK(limit_of("limit=1000", &v, &e) == 0 && v == 1000);
	CHECK(limit_of("limit=50&status=pending", &v, &e) == 0 && v == 50);
	CHECK(limit_of("a=1&limit=7&b=2", &v, &e) == 0 && v == 7);
	CHECK(limit_of("xlimit=0", &v, &e) == 0 && v == 100); /* a different name */
	CHECK(limit_of("limitx=0", &v, &e) == 0 && v == 100);
	static const char *const bad[] = {
	    "limit=0",
	    "limit=1001",
	    "limit=5000",
	    "limit=abc",
	    "limit=-1",
	    "limit=",
	    "limit",
	    "limit=1e3",
	    "limit=+5",
	    "limit=%2B5",
	    /* one spelling per number: the raw text, not its decoding */
	    "limit=%35",
	    "limit=%095", /* a tab, then 5 */
	    "limit=%20%35",
	    "limit=05",
	    "limit=005",
	    "limit=00",
	    "limit=-0",
	    "limit= 5",
	    "limit=5 ",
	    "limit=5x",
	    "limit=1.0",
	    "limit=0x10",
	    "limit=1&limit=2",
	    "limit=5&limit=5",
	    "limit=%00",
	    "limit=5%00",
	    "limit=99999999999999999999",
	    "limit=18446744073709551617",
	    "limit=-9223372036854775808",
	    "limit=1111111111111111111111111111111111111111111111111111111111111111111111111111111"
	    "11111111111111111111111111111111111111111111111111111",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad_limit(bad[i]);
}

static void test_since_before(void)
{
	struct err e;
	long long v;
	err_clear(&e);
	CHECK(query_int("since=0", "since", 0, INT64_MAX, 0, &v, &e) == 0 && v == 0);
	CHECK(query_int("since=9223372036854775807", "since", 0, INT64_MAX, 0, &v, &e) == 0 &&
	      v == INT64_MAX);
	CHECK(query_int("since=9223372036854775808", "since", 0, INT64_MAX, 0, &v, &e) == -1);
	CHECK(query_int("since=abc", "since", 0, INT64_MAX, 0, &v, &e) == -1);
	CHECK_STR(e.field, "since");
	CHECK(e.kind == ERR_INVALID_QUERY);
	CHECK(query_int("since=-1", "since", 0, INT64_MAX, 0, &v, &e) == -1);
	CHECK(query_int("since=-0", "since", 0, INT64_MAX, 0, &v, &e) == -1);
	CHECK_STR(e.field, "since");
	CHECK(query_int("since=00", "since", 0, INT64_MAX, 0, &v, &e) == -1);
	CHECK(query_int("since=%30", "since", 0, INT64_MAX, 0, &v, &e) == -1);
	CHECK(query_int("before_id=01", "before_id", 1, INT64_MAX, INT64_MAX, &v, &e) == -1);
	CHECK_STR(e.field, "before_id");
	/* the message shows the raw value, printable */
	CHECK(query_int("since=%01x", "since", 0, INT64_MAX, 0, &v, &e) == -1 &&
	      strstr(e.msg, "'%01x'") != NULL);
	CHECK(query_int("before_id=0", "before_id", 1, INT64_MAX, INT64_MAX, &v, &e) == -1);
	CHECK_STR(e.field, "before_id");
	CHECK(query_int("before_id=1", "before_id", 1, INT64_MAX, INT64_MAX, &v, &e) == 0 &&
	      v == 1);
	CHECK(query_int(NULL, "before_id", 1, INT64_MAX, INT64_MAX, &v, &e) == 0 && v == INT64_MAX);
}

static void test_status(void)
{
	struct err e;
	const char *s = "x";
	err_clear(&e);
	CHECK(query_status(NULL, &s, &e) == 0 && s == NULL);
	CHECK(query_status("limit=5", &s, &e) == 0 && s == NULL);
	CHECK(query_status("status=shipped", &s, &e) == 0);
	CHECK_STR(s, "shipped");
	CHECK(query_status("limit=5&status=cancelled", &s, &e) == 0);
	CHECK_STR(s, "cancelled");
	static const char *const bad[] = {"status=bogus",
					  "status=",
					  "status",
					  "status=Shipped",
					  "status=shipped%20",
					  "status=shipped,pending",
					  "status=shipped&status=pending",
					  "status=pendingpendingpendingpendingpendingpending"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		s = "x";
		int rc = query_status(bad[i], &s, &e);
		if (rc == 0)
			fprintf(stderr, "'%s' accepted\n", bad[i]);
		CHECK(rc == -1);
		CHECK(e.kind == ERR_INVALID_QUERY);
		CHECK_STR(e.field, "status");
	}
}

int main(void)
{
	test_limit();
	test_since_before();
	test_status();
	HARNESS_END();
}
