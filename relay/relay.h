/* relay: the context every relay module shares, wired by main.c. */
#ifndef RELAY_RELAY_H
#define RELAY_RELAY_H

#include "auth.h"
#include "client_addr.h"

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

struct hub;
struct server;
struct db_pool;
struct listener;
struct catchup;

struct relay {
	struct hub *hub;
	struct server *server; /* connections and their I/O (server.h) */
	struct db_pool *db;    /* replay and health queries (not the listener's) */
	struct listener *listener;
	struct catchup *catchup;    /* clients reading the log at their own pace */
	size_t backlog;		    /* CLIENT_BACKLOG: unsent bytes before 1008 */
	long ping_ms;		    /* PING_INTERVAL */
	long long write_timeout_ms; /* WRITE_TIMEOUT: a reader taking nothing this long is cut */
	int max_clients;	    /* MAX_CLIENTS */
	atomic_int slots;	    /* clients accepted and not yet retired */
	struct auth auth;	    /* tokens and origins (section 6), immutable */
	struct trusted_proxies proxies; /* TRUSTED_PROXIES, immutable */
	volatile sig_atomic_t *stop;
};

#endif
