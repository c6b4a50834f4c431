/* deadline: total deadlines for the threads of a civetweb server that
 * wait for their clients (a request's head and body, the next request on
 * a kept-alive connection).
 *
 * civetweb 1.15 times out each read on its own: every poll() gets the
 * whole request_timeout_ms again, and a body is read with a fresh timeout
 * per mg_read(), so a client that sends a byte now and then is never cut
 * off. Here each worker thread owns a POSIX timer: armed for a deadline,
 * it sends the thread a signal at the deadline and every few milliseconds
 * after it until the thread disarms it. The handler does nothing; the
 * interrupted poll() fails with EINTR (poll is never restarted, whatever
 * SA_RESTART says), civetweb's read returns an error and the connection
 * is closed. A thread arms its alarm only while it waits for its client,
 * never while it runs handler code (database, logging, writing the
 * response), so nothing else ever sees the signal.
 *
 * The slots of all threads form a registry, so when the server is full a
 * thread can ring the alarm of the one that has waited longest for its
 * client (deadline_evict_oldest) and take its place.
 *
 * A thread that never called deadline_thread_start (the relay, the unit
 * tests, a thread whose timer could not be created) may call every
 * function: they do nothing and deadline_rang() stays 0. */
#ifndef ORDERS_DEADLINE_H
#define ORDERS_DEADLINE_H

#include "err.h"

struct deadline_registry;

/* How often the alarm repeats after the deadline until disarmed. */
#define DEADLINE_REPEAT_MS 20

/* What made the alarm ring since this thread last started waiting. */
enum deadline_cause {
	DEADLINE_NONE = 0,
	DEADLINE_EXPIRED, /* its own deadline passed */
	DEADLINE_EVICTED, /* another thread took its place (deadline_evict_oldest) */
};

/* A registry for up to `slots` threads; installs the (process-wide) signal
 * handler. NULL with err when the signal cannot be set up. */
struct deadline_registry *deadline_registry_new(int slots, struct err *err);
/* Free it once every thread has called deadline_thread_stop. */
void deadline_registry_free(struct deadline_registry *reg);

/* Give the calling thread a slot and a timer: 0, or -1 when the registry
 * is full or the timer cannot be created (the thread then has no
 * deadlines). */
int deadline_thread_start(struct deadline_registry *reg);
/* Release the calling thread's slot and timer. */
void deadline_thread_stop(void);

/* The thread starts waiting for a new request (a new connection, or the
 * next request on a kept-alive one): it becomes evictable, its wait is
 * dated now, and the alarm is armed for alarm_at_ns (CLOCK_MONOTONIC
 * nanoseconds; 0 or a time past: at once). request_by_ns is the request's
 * deadline, which deadline_resume arms for its body. */
void deadline_wait(long long alarm_at_ns, long long request_by_ns);
/* The thread runs its own code: not evictable, alarm off. */
void deadline_pause(void);
/* The thread waits for its client again (a request body) under the
 * deadline of its current request; not dated anew. */
void deadline_resume(void);
/* The thread has no connection: alarm off, not evictable. */
void deadline_idle(void);

/* Why the alarm rang since the last deadline_wait or deadline_resume. */
enum deadline_cause deadline_rang(void);
/* The current request's deadline (0: none). */
long long deadline_current(void);

/* Ring, at once, the alarm of the thread that has waited longest for its
 * client, if it started waiting no later than waited_before_ns. Returns 1
 * when a thread was found (it is closing its connection), else 0. */
int deadline_evict_oldest(struct deadline_registry *reg, long long waited_before_ns);

#endif
