#include "deadline.h"

#include "clock.h"
#include "xalloc.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id /* glibc spells the Linux field only this way */
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* One thread's alarm. The fields the evicting thread scans without the
 * lock are atomic; every change of the timer happens under `lock`, so an
 * eviction and the owner's own arming never overwrite each other. */
struct slot {
	pthread_mutex_t lock;
	timer_t timer;
	atomic_int used;       /* a live thread owns it */
	atomic_int waiting;    /* the thread waits for its client: evictable */
	atomic_llong since_ns; /* when the current wait for a request began */
	long long deadline_ns; /* the current request's deadline */
	atomic_int evicted;    /* rung by deadline_evict_oldest */
};

struct deadline_registry {
	pthread_mutex_t lock; /* claiming and releasing slots */
	int n;
	struct slot *slots;
};

static int alarm_signal;
static _Thread_local struct slot *self;
static _Thread_local volatile sig_atomic_t rang;

static void on_alarm(int sig)
{
	(void)sig;
	rang = 1;
}

struct deadline_registry *deadline_registry_new(int slots, struct err *err)
{
	alarm_signal = SIGRTMIN + 2;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(alarm_signal, &sa, NULL) < 0) {
		err_set(err, ERR_SYSTEM, "cannot install the request deadline signal");
		return NULL;
	}
	struct deadline_registry *reg = xcalloc(1, sizeof(*reg));
	pthread_mutex_init(&reg->lock, NULL);
	reg->n = slots > 0 ? slots : 1;
	reg->slots = xcalloc((size_t)reg->n, sizeof(reg->slots[0]));
	for (int i = 0; i < reg->n; i++)
		pthread_mutex_init(&reg->slots[i].lock, NULL);
	return reg;
}

void deadline_registry_free(struct deadline_registry *reg)
{
	if (!reg)
		return;
	for (int i = 0; i < reg->n; i++)
		pthread_mutex_destroy(&reg->slots[i].lock);
	pthread_mutex_destroy(&reg->lock);
	free(reg->slots);
	free(reg);
}

int deadline_thread_start(struct deadline_registry *reg)
{
	if (!reg || self)
		return self ? 0 : -1;
	struct slot *s = NULL;
	pthread_mutex_lock(&reg->lock);
	for (int i = 0; i < reg->n && !s; i++)
		if (!atomic_load(&reg->slots[i].used))
			s = &reg->slots[i];
	if (s) {
		struct sigevent sev;
		memset(&sev, 0, sizeof(sev));
		sev.sigev_notify = SIGEV_THREAD_ID;
		sev.sigev_signo = alarm_signal;
		sev.sigev_notify_thread_id = gettid();
		if (timer_create(CLOCK_MONOTONIC, &sev, &s->timer) == 0) {
			atomic_store(&s->waiting, 0);
			atomic_store(&s->used, 1);
			self = s;
		}
	}
	pthread_mutex_unlock(&reg->lock);
	return self ? 0 : -1;
}

void deadline_thread_stop(void)
{
	struct slot *s = self;
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->waiting, 0);
	atomic_store(&s->used, 0);
	timer_delete(s->timer);
	pthread_mutex_unlock(&s->lock);
	self = NULL;
}

/* Arm s's timer for at_ns (0: disarm); the caller holds s->lock. After the
 * deadline the alarm repeats, so a signal that arrives while the thread is
 * between two poll() calls is followed by one that meets the next. */
static void set_alarm(struct slot *s, long long at_ns)
{
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	if (at_ns > 0) {
		its.it_value.tv_sec = (time_t)(at_ns / 1000000000);
		its.it_value.tv_nsec = (long)(at_ns % 1000000000);
		its.it_interval.tv_nsec = DEADLINE_REPEAT_MS * 1000000L;
	}
	timer_settime(s->timer, TIMER_ABSTIME, &its, NULL);
}

void deadline_wait(long long alarm_at_ns, long long request_by_ns)
{
	struct slot *s = self;
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->deadline_ns = request_by_ns;
	atomic_store(&s->since_ns, clock_now_ns());
	atomic_store(&s->evicted, 0);
	rang = 0;
	atomic_store(&s->waiting, 1);
	set_alarm(s, alarm_at_ns > 0 ? alarm_at_ns : 1);
	pthread_mutex_unlock(&s->lock);
}

void deadline_resume(void)
{
	struct slot *s = self;
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->evicted, 0);
	rang = 0;
	atomic_store(&s->waiting, 1);
	set_alarm(s, s->deadline_ns);
	pthread_mutex_unlock(&s->lock);
}

void deadline_pause(void)
{
	struct slot *s = self;
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->waiting, 0);
	set_alarm(s, 0);
	pthread_mutex_unlock(&s->lock);
}

void deadline_idle(void)
{
	struct slot *s = self;
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->waiting, 0);
	s->deadline_ns = 0;
	set_alarm(s, 0);
	pthread_mutex_unlock(&s->lock);
}

enum deadline_cause deadline_rang(void)
{
	if (!self || !rang)
		return DEADLINE_NONE;
	return atomic_load(&self->evicted) ? DEADLINE_EVICTED : DEADLINE_EXPIRED;
}

long long deadline_current(void)
{
	return self ? self->deadline_ns : 0;
}

int deadline_evict_oldest(struct deadline_registry *reg, long long waited_before_ns)
{
	if (!reg)
		return 0;
	/* The scan reads without locks; the choice is checked again under the
	 * victim's lock, and a few retries cover a victim that moved on. */
	for (int attempt = 0; attempt < 3; attempt++) {
		struct slot *best = NULL;
		long long best_since = waited_before_ns;
		for (int i = 0; i < reg->n; i++) {
			struct slot *s = &reg->slots[i];
			if (s == self || !atomic_load(&s->used) || !atomic_load(&s->waiting) ||
			    atomic_load(&s->evicted))
				continue;
			long long since = atomic_load(&s->since_ns);
			if (since <= best_since) {
				best = s;
				best_since = since;
			}
		}
		if (!best)
			return 0;
		pthread_mutex_lock(&best->lock);
		int ok = atomic_load(&best->used) && atomic_load(&best->waiting) &&
			 !atomic_load(&best->evicted) &&
			 atomic_load(&best->since_ns) <= waited_before_ns;
		if (ok) {
			atomic_store(&best->evicted, 1);
			set_alarm(best, 1); /* long past: rings at once */
		}
		pthread_mutex_unlock(&best->lock);
		if (ok)
			return 1;
	}
	return 0;
}
