/* rate_limit: token buckets per address, Retry-After, bounded table. */
#include "rate_limit.h"

#include "harness.h"

#include <stdio.h>
#include <string.h>

#define SEC 1000000000LL

static struct client_ip ip(const char *s)
{
	struct client_ip a;
	memset(&a, 0, sizeof(a));
	if (client_ip_parse(s, strlen(s), 0, &a) < 0)
		fprintf(stderr, "bad test address %s\n", s);
	return a;
}

static void test_off(void)
{
	CHECK(rate_limit_new(0, 1000, 100) == NULL);
	struct client_ip a = ip("192.0.2.1");
	for (int i = 0; i < 1000; i++)
		CHECK(rate_limit_take(NULL, &a, SEC) == 0);
	rate_limit_free(NULL);
}

static void test_per_second(void)
{
	struct rate_limit *rl = rate_limit_new(5, 1000, 64);
	struct client_ip a = ip("192.0.2.1"), b = ip("192.0.2.2");
	long long t = 100 * SEC;
	/* a burst of the full count passes, the next write waits */
	for (int i = 0; i < 5; i++)
		CHECK(rate_limit_take(rl, &a, t) == 0);
	CHECK(rate_limit_take(rl, &a, t) == 1);
	CHECK(rate_limit_take(rl, &a, t) == 1); /* a refusal takes nothing */
	/* another address is not affected */
	for (int i = 0; i < 5; i++)
		CHECK(rate_limit_take(rl, &b, t) == 0);
	/* one token is back after 1/5 s, not two */
	CHECK(rate_limit_take(rl, &a, t + SEC / 5) == 0);
	CHECK(rate_limit_take(rl, &a, t + SEC / 5) == 1);
	/* a full second refills the bucket, but never beyond its size */
	t += 10 * SEC;
	for (int i = 0; i < 5; i++)
		CHECK(rate_limit_take(rl, &a, t) == 0);
	CHECK(rate_limit_take(rl, &a, t) == 1);
	/* a steady rate at the limit passes */
	for (int i = 1; i <= 50; i++)
		CHECK(rate_limit_take(rl, &a, t + i * (SEC / 5)) == 0);
	rate_limit_free(rl);
}

static void test_per_minute(void)
{
	struct rate_limit *rl = rate_limit_new(2, 60 * 1000, 64);
	struct client_ip a = ip("2001:db8::1");
	long long t = SEC;
	CHECK(rate_limit_take(rl, &a, t) == 0);
	CHECK(rate_limit_take(rl, &a, t) == 0);
	CHECK(rate_limit_take(rl, &a, t) == 30); /* whole seconds until a token */
	CHECK(rate_limit_take(rl, &a, t + 29 * SEC + SEC / 2) == 1);
	CHECK(rate_limit_take(rl, &a, t + 30 * SEC) == 0);
	/* IPv6: one /64 is one client */
	struct client_ip same64 = ip("2001:db8::ffff:1"), other64 = ip("2001:db8:0:1::1");
	CHECK(rate_limit_take(rl, &same64, t + 30 * SEC) == 30);
	CHECK(rate_limit_take(rl, &other64, t + 30 * SEC) == 0);
	rate_limit_free(rl);
}

/* Memory is fixed whatever the number of addresses; a flood of addresses
 * can only push out entries, which gives their owners a fresh bucket. */
static void test_bounded(void)
{
	struct rate_limit *rl = rate_limit_new(1, 1000, 1000);
	size_t cap = rate_limit_capacity(rl);
	CHECK(cap >= 1000 && cap <= 2048);
	struct client_ip victim = ip("198.51.100.7");
	long long t = SEC;
	CHECK(rate_limit_take(rl, &victim, t) == 0);
	CHECK(rate_limit_take(rl, &victim, t) == 1);
	char s[32];
	for (unsigned i = 0; i < 200000; i++) {
		snprintf(s, sizeof(s), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		struct client_ip a = ip(s);
		(void)rate_limit_take(rl, &a, t);
	}
	CHECK(rate_limit_capacity(rl) == cap);
	long long w = rate_limit_take(rl, &victim, t);
	CHECK(w == 0 || w == 1);
	/* a recently limited address survives a modest number of others */
	struct rate_limit *small = rate_limit_new(1, 1000, 4096);
	CHECK(rate_limit_take(small, &victim, t) == 0);
	for (unsigned i = 0; i < 100; i++) {
		snprintf(s, sizeof(s), "10.0.%u.%u", (i >> 8) & 255, i & 255);
		struct client_ip a = ip(s);
		(void)rate_limit_take(small, &a, t);
	}
	CHECK(rate_limit_take(small, &victim, t) == 1);
	rate_limit_free(small);
	rate_limit_free(rl);
}

static void test_large_rates(void)
{
	/* 1000000/s: one token per microsecond, a burst of a million */
	struct rate_limit *rl = rate_limit_new(1000000, 1000, 8);
	struct client_ip a = ip("192.0.2.1");
	for (int i = 0; i < 1000; i++)
		CHECK(rate_limit_take(rl, &a, SEC) == 0);
	rate_limit_free(rl);
	/* 7/m: intervals that do not divide evenly */
	rl = rate_limit_new(7, 60000, 8);
	for (int i = 0; i < 7; i++)
		CHECK(rate_limit_take(rl, &a, SEC) == 0);
	long long w = rate_limit_take(rl, &a, SEC);
	CHECK(w == 9); /* 60/7 = 8.57 s, rounded up */
	rate_limit_free(rl);
}

int main(void)
{
	test_off();
	test_per_second();
	test_per_minute();
	test_bounded();
	test_large_rates();
	HARNESS_END();
}
