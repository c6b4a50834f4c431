/* deadline: the alarm interrupts a blocked poll() at the deadline (and not
 * while paused), and eviction rings the longest-waiting thread's alarm. */
#include "deadline.h"

#include "clock.h"
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#define MS 1000000LL

/* poll a pipe nobody writes to: returns how it ended and after how long */
static int wait_on(int fd, int timeout_ms, long long *took_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	long long t0 = clock_now_ms();
	int rc = poll(&p, 1, timeout_ms);
	int e = errno;
	*took_ms = clock_now_ms() - t0;
	return rc < 0 ? -e : rc;
}

static void test_no_slot(void)
{
	/* a thread that never started: everything is a no-op */
	deadline_wait(1, 1);
	deadline_resume();
	deadline_pause();
	deadline_idle();
	CHECK(deadline_rang() == DEADLINE_NONE);
	CHECK(deadline_current() == 0);
}

static void test_alarm(struct deadline_registry *reg, int fd)
{
	CHECK(deadline_thread_start(reg) == 0);
	long long took, now = clock_now_ns();
	deadline_wait(now + 50 * MS, now + 300 * MS);
	CHECK(deadline_current() == now + 300 * MS);
	CHECK(wait_on(fd, 2000, &took) == -EINTR);
	CHECK(took >= 40 && took < 1000);
	CHECK(deadline_rang() == DEADLINE_EXPIRED);
	/* paused: no signal, the poll runs to its own timeout */
	deadline_pause();
	CHECK(wait_on(fd, 100, &took) == 0);
	/* resumed: the request's deadline (300 ms after the start) */
	deadline_resume();
	CHECK(deadline_rang() == DEADLINE_NONE);
	CHECK(wait_on(fd, 2000, &took) == -EINTR);
	CHECK(clock_now_ns() - now >= 280 * MS);
	CHECK(deadline_rang() == DEADLINE_EXPIRED);
	/* the alarm repeats after the deadline until paused */
	CHECK(wait_on(fd, 2000, &took) == -EINTR);
	CHECK(took < 500);
	deadline_idle();
	CHECK(wait_on(fd, 60, &took) == 0);
}

struct waiter {
	struct deadline_registry *reg;
	int fd;
	int started;
	int result;
	enum deadline_cause cause;
	pthread_mutex_t lock;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	deadline_thread_start(w->reg);
	long long took, now = clock_now_ns();
	deadline_wait(now + 10000 * MS, now + 10000 * MS);
	pthread_mutex_lock(&w->lock);
	w->started = 1;
	pthread_mutex_unlock(&w->lock);
	w->result = wait_on(w->fd, 5000, &took);
	w->cause = deadline_rang();
	deadline_idle();
	deadline_thread_stop();
	return NULL;
}

static void test_evict(struct deadline_registry *reg, int fd)
{
	struct waiter w = {.reg = reg, .fd = fd};
	pthread_mutex_init(&w.lock, NULL);
	pthread_t t;
	pthread_create(&t, NULL, waiter_main, &w);
	for (int started = 0; !started; usleep(1000)) {
		pthread_mutex_lock(&w.lock);
		started = w.started;
		pthread_mutex_unlock(&w.lock);
	}
	usleep(20 * 1000);
	/* it has not waited since before its start: not evicted */
	CHECK(deadline_evict_oldest(reg, clock_now_ns() - 10000 * MS) == 0);
	/* the caller itself is never chosen; the waiter is */
	long long now = clock_now_ns();
	deadline_wait(now + 10000 * MS, now + 10000 * MS);
	CHECK(deadline_evict_oldest(reg, clock_now_ns()) == 1);
	pthread_join(t, NULL);
	CHECK(w.result == -EINTR);
	CHECK(w.cause == DEADLINE_EVICTED);
	CHECK(deadline_rang() == DEADLINE_NONE);
	/* nobody else waits now */
	CHECK(deadline_evict_oldest(reg, clock_now_ns()) == 0);
	deadline_idle();
	pthread_mutex_destroy(&w.lock);
}

int main(void)
{
	int p[2];
	if (pipe(p) < 0)
		return 1;
	test_no_slot();
	struct err err;
	struct deadline_registry *reg = deadline_registry_new(2, &err);
	CHECK(reg != NULL);
	test_alarm(reg, p[0]);
	test_evict(reg, p[0]);
	/* a thread that stopped may start again, in another registry */
	struct deadline_registry *full = deadline_registry_new(1, &err);
	deadline_thread_stop();
	CHECK(deadline_thread_start(full) == 0);
	deadline_thread_stop();
	deadline_registry_free(full);
	deadline_registry_free(reg);
	close(p[0]);
	close(p[1]);
	HARNESS_END();
}
