/* sender: a small pool of threads that write queued messages to clients.
 * Clients with something to send wait on a FIFO ready queue; a sender takes
 * one, writes everything queued (up to a cap) in one mg_write, and puts the
 * client back at the tail if more arrived. Civetweb writes block, so a
 * client that stops reading holds only the sender writing to it: the pool
 * grows (up to `max` threads) when every sender is busy and one of them has
 * been stuck in a write for a while. Thread-safe. */
#ifndef RELAY_SENDER_H
#define RELAY_SENDER_H

struct client;
struct sender_pool;

/* Start `min` threads; never more than `max`. */
struct sender_pool *sender_pool_new(int min, int max);
/* Stop and join every thread, releasing clients still queued. */
void sender_pool_free(struct sender_pool *p);

/* Put c on the ready queue; c->lock held, c->in_ready 0. Takes a ref. */
void sender_schedule(struct sender_pool *p, struct client *c);
/* Grow the pool if every sender has been stuck for a while (called by the
 * ticker too, so a stuck pool grows even when nothing new is queued). */
void sender_pool_check(struct sender_pool *p);

#endif
