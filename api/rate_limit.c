#include "rate_limit.h"

#include "xalloc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define WAYS 8

struct entry {
	unsigned char key[16]; /* the address (IPv6: its /64) */
	int64_t tat;	       /* when the bucket is full again; 0: entry unused */
	int64_t unused_pad;    /* keeps an entry 32 bytes */
};

struct rate_limit {
	pthread_mutex_t lock;
	int64_t interval; /* ns per token */
	int64_t burst;	  /* ns of credit a full bucket holds beyond one token */
	uint64_t seed;
	size_t nsets; /* a power of two */
	struct entry *table;
};

static uint64_t mix(uint64_t x)
{
	/* splitmix64's finaliser */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

struct rate_limit *rate_limit_new(long long count, long long period_ms, size_t entries)
{
	if (count <= 0 || period_ms <= 0)
		return NULL;
	struct rate_limit *rl = xcalloc(1, sizeof(*rl));
	pthread_mutex_init(&rl->lock, NULL);
	int64_t period = (int64_t)period_ms * 1000000;
	rl->interval = period / count > 0 ? period / count : 1;
	rl->burst = rl->interval * (count - 1);
	size_t nsets = 1;
	while (nsets * WAYS < entries && nsets < ((size_t)1 << 24))
		nsets <<= 1;
	rl->nsets = nsets;
	rl->table = xcalloc(nsets * WAYS, sizeof(*rl->table));
	if (getrandom(&rl->seed, sizeof(rl->seed), GRND_NONBLOCK) != sizeof(rl->seed)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		rl->seed = mix((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
			       (uint64_t)(uintptr_t)rl);
	}
	return rl;
}

void rate_limit_free(struct rate_limit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl->table);
	free(rl);
}

size_t rate_limit_capacity(const struct rate_limit *rl)
{
	return rl ? rl->nsets * WAYS : 0;
}

long long rate_limit_take(struct rate_limit *rl, const struct client_ip *who, long long now_ns)
{
	if (!rl)
		return 0;
	unsigned char key[16];
	memcpy(key, who->b, 16);
	if (!client_ip_is_v4(who))
		memset(key + 8, 0, 8); /* an IPv6 host holds its whole /64 */
	uint64_t hi, lo;
	memcpy(&hi, key, 8);
	memcpy(&lo, key + 8, 8);
	uint64_t h = mix(mix(hi ^ rl->seed) ^ lo);
	/* tat 0 marks a free entry: keep real times above it */
	int64_t now = now_ns > 0 ? now_ns : 1;

	pthread_mutex_lock(&rl->lock);
	struct entry *set = rl->table + (h & (rl->nsets - 1)) * WAYS;
	struct entry *e = NULL, *oldest = &set[0];
	for (int i = 0; i < WAYS; i++) {
		if (set[i].tat && memcmp(set[i].key, key, 16) == 0) {
			e = &set[i];
			break;
		}
		if (set[i].tat < oldest->tat)
			oldest = &set[i];
	}
	if (!e) {
		e = oldest;
		memcpy(e->key, key, 16);
		e->tat = now;
	}
	int64_t tat = e->tat > now ? e->tat : now;
	long long wait = 0;
	if (tat - now > rl->burst) {
		int64_t ns = tat - rl->burst - now;
		wait = (long long)((ns + 999999999) / 1000000000);
		if (wait < 1)
			wait = 1;
	} else {
		e->tat = tat + rl->interval;
	}
	pthread_mutex_unlock(&rl->lock);
	return wait;
}
