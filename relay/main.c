/* orders-relay: a gapless, resumable WebSocket stream of order changes.
 * main parses options, wires listener, hub, catch-up and the server, runs
 * the liveness ticker and tears down in reverse. */
#include "catchup.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "hub.h"
#include "listener.h"
#include "log.h"
#include "relay.h"
#include "server.h"
#include "stats.h"
#include "xalloc.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Connections beyond MAX_CLIENTS the relay holds while their requests
 * arrive (each costs a socket and a few hundred bytes until its head
 * arrives, and lives at most REQUEST_TIMEOUT). */
#define PENDING_CONNECTIONS 8192
/* Descriptors kept for PostgreSQL, logs, epoll and spares. */
#define RESERVED_FDS 64
#define TICK_MS	     50

/* The options, by their index in the table below. */
enum relay_option {
	CONFIG_DB_OPTION_IDS(OPT_),
	CONFIG_LOG_OPTION_IDS(OPT_),
	OPT_HOST,
	OPT_WS_PORT,
	OPT_PING_INTERVAL,
	OPT_CHANGES_RETENTION,
	OPT_CLIENT_BACKLOG,
	OPT_MAX_CLIENTS,
	OPT_WRITE_TIMEOUT,
	OPT_REQUEST_TIMEOUT,
	OPT_API_TOKEN,
	OPT_READ_TOKEN,
	OPT_ALLOWED_ORIGINS,
	OPT_TRUSTED_PROXIES,
	NOPTS
};

static const struct config_option options[NOPTS] = {
    CONFIG_DB_OPTIONS(OPT_),
    CONFIG_LOG_OPTIONS(OPT_),
    [OPT_HOST] = {"HOST", "host", "127.0.0.1", CONFIG_HOST, "bind address"},
    [OPT_WS_PORT] = {"WS_PORT", "ws-port", "8080", CONFIG_PORT,
		     "WebSocket, /health and /metrics port"},
    [OPT_PING_INTERVAL] =
	{"PING_INTERVAL", "ping-interval", "30s", CONFIG_DURATION,
	 "WebSocket ping and heartbeat period; a client silent for two is dropped"},
    [OPT_CHANGES_RETENTION] = {"CHANGES_RETENTION", "changes-retention", "24h", CONFIG_DURATION,
			       "how long the change log keeps events (older since= gets resync)"},
    [OPT_CLIENT_BACKLOG] = {"CLIENT_BACKLOG", "client-backlog", "8MiB", CONFIG_SIZE,
			    "unsent data per client before it is closed with 1008 slow consumer"},
    [OPT_MAX_CLIENTS] = {"MAX_CLIENTS", "max-clients", "10000", CONFIG_COUNT,
			 "most stream clients (WebSocket and SSE) at once; more get 503 with "
			 "Retry-After"},
    [OPT_WRITE_TIMEOUT] = {"WRITE_TIMEOUT", "write-timeout", "10s", CONFIG_DURATION,
			   "a client that takes no data this long while data waits is closed "
			   "(1008 slow consumer)"},
    [OPT_REQUEST_TIMEOUT] = {"REQUEST_TIMEOUT", "request-timeout", "10s", CONFIG_DURATION,
			     "a request's line and headers must all arrive within it, else the "
			     "connection is closed"},
    [OPT_API_TOKEN] = {"API_TOKEN", "api-token", NULL, CONFIG_TOKEN,
		       "with READ_TOKEN: either token lets a client subscribe"},
    [OPT_READ_TOKEN] = {"READ_TOKEN", "read-token", NULL, CONFIG_TOKEN,
			"when set, the stream needs READ_TOKEN or API_TOKEN (access_token=, "
			"Authorization: Bearer, or the subprotocol bearer.<token>)"},
    [OPT_ALLOWED_ORIGINS] =
	{"ALLOWED_ORIGINS", "allowed-origins", NULL, CONFIG_ORIGINS,
	 "browser origins allowed to connect (default: the request's own host, any port, when "
	 "that host is loopback, the bound address or this machine's name)"},
    [OPT_TRUSTED_PROXIES] = {"TRUSTED_PROXIES", "trusted-proxies", NULL, CONFIG_ADDRESSES,
			     "comma list of proxy addresses or CIDR ranges whose X-Forwarded-For "
			     "names the client in the logs"},
};
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* File descriptors for every connection: the soft limit raised to the
 * hard one. Returns how many connections fit (MAX_CLIENTS streams plus
 * pending requests), or -1 when not even MAX_CLIENTS do (exit 2). */
static long fit_connections(long max_clients, struct err *err)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return max_clients + PENDING_CONNECTIONS;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return max_clients + PENDING_CONNECTIONS;
	long room = (long)rl.rlim_cur - RESERVED_FDS;
	if (max_clients > room)
		return err_set(err, ERR_CONFIG,
			       "MAX_CLIENTS: each client needs a file descriptor; at most %ld here "
			       "(ulimit -n %ld), got '%ld'",
			       room < 0 ? 0 : room, (long)rl.rlim_cur, max_clients);
	if (room < max_clients + PENDING_CONNECTIONS)
		log_warn("open file limit %ld leaves room for %ld connections waiting for their "
			 "request beside MAX_CLIENTS; raise ulimit -n",
			 (long)rl.rlim_cur, room - max_clients);
	return room < max_clients + PENDING_CONNECTIONS ? room : max_clients + PENDING_CONNECTIONS;
}

int main(int argc, char **argv)
{
	struct config cfg = {0};
	struct err err = {0};
	int code = 0;
	struct relay r = {0};
	char *conninfo = NULL;

	log_init("relay", LOG_INFO);
	int rc = config_load(&cfg, "orders-relay", "orders-relay [OPTIONS]",
			     "Streams every committed change of the orders table to WebSocket "
			     "clients at ws://HOST:WS_PORT/ (also /ws), gapless and in seq order;\n"
			     "clients resume with ?since=SEQ. Also serves /health and /metrics.",
			     options, NOPTS, argc, argv, &err);
	if (rc == 1) {
		config_release(&cfg);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "orders-relay: %s\nTry 'orders-relay --help'\n", err.msg);
		config_release(&cfg);
		return 2;
	}
	config_log_init(&cfg, "relay");
	r.max_clients = (int)config_num(&cfg, OPT_MAX_CLIENTS);
	r.backlog = (size_t)config_num(&cfg, OPT_CLIENT_BACKLOG);
	r.ping_ms = (long)config_num(&cfg, OPT_PING_INTERVAL);
	r.write_timeout_ms = config_num(&cfg, OPT_WRITE_TIMEOUT);
	r.stop = &stop_flag;
	conninfo = db_conninfo(&cfg, &err);
	if (!conninfo ||
	    auth_init(&r.auth, config_str(&cfg, OPT_API_TOKEN), config_str(&cfg, OPT_READ_TOKEN),
		      config_str(&cfg, OPT_ALLOWED_ORIGINS), &err) < 0 ||
	    trusted_proxies_parse(&r.proxies, config_str(&cfg, OPT_TRUSTED_PROXIES), &err) < 0) {
		fprintf(stderr, "orders-relay: %s\nTry 'orders-relay --help'\n", err.msg);
		free(conninfo);
		config_release(&cfg);
		return 2;
	}
	long max_connections = fit_connections(r.max_clients, &err);
	if (max_connections < 0) {
		fprintf(stderr, "orders-relay: %s\n", err.msg);
		free(conninfo);
		config_release(&cfg);
		return 2;
	}
	auth_set_bind_host(&r.auth, config_str(&cfg, OPT_HOST));
	if (auth_open(&r.auth))
		log_warn("no API_TOKEN set: anyone who can reach the relay may read the stream");
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	r.listener = listener_new(conninfo, config_num(&cfg, OPT_CHANGES_RETENTION), 10000,
				  &stop_flag, &err);
	if (!r.listener) {
		if (err.kind == ERR_SHUTTING_DOWN) {
			log_info("stopped during start-up");
			goto out;
		}
		log_error("%s", err.msg);
		code = 1;
		goto out;
	}
	char epoch[CHANGE_EPOCH_MAX];
	listener_epoch(r.listener, epoch);
	r.hub = hub_new(&r, listener_start_seq(r.listener), epoch);
	r.db = db_pool_new(conninfo, "orders-relay replay", 4);
	r.catchup = catchup_new(&r);
	if (listener_start(r.listener, &r) < 0) {
		log_error("cannot start the listener thread");
		code = 1;
		goto out;
	}
	struct server_config scfg = {
	    .host = config_str(&cfg, OPT_HOST),
	    .port = (int)config_num(&cfg, OPT_WS_PORT),
	    .request_timeout_ms = config_num(&cfg, OPT_REQUEST_TIMEOUT),
	    .max_connections = (int)max_connections,
	};
	r.server = server_new(&r, &scfg, &err);
	if (!r.server || server_start(r.server, &err) < 0) {
		log_error("%s", err.msg);
		code = 1;
		goto out;
	}
	log_info("listening on ws://%s:%lld/ from seq %lld (max %d clients, ping %ld ms, "
		 "backlog %zu bytes, %d I/O threads)",
		 config_str(&cfg, OPT_HOST), config_num(&cfg, OPT_WS_PORT), hub_last(r.hub),
		 r.max_clients, r.ping_ms, r.backlog, server_io_threads(r.server));

	long long next_ping = clock_now_ms() + r.ping_ms;
	while (!stop_flag) {
		usleep(TICK_MS * 1000);
		long long now = clock_now_ms();
		if (now >= next_ping) {
			hub_heartbeat(r.hub);
			next_ping = now + r.ping_ms;
		}
	}
	log_info("shutting down: closing %d client(s)", hub_count(r.hub));
	hub_close_all(r.hub, 1001, "server shutting down");
	for (int i = 0; i < 40 && !hub_drained(r.hub); i++)
		usleep(50 * 1000);
out:
	/* the threads that queue messages first, then the server that
	 * writes them (it retires every client) */
	listener_free(r.listener);
	catchup_free(r.catchup);
	server_free(r.server);
	hub_free(r.hub);
	db_pool_free(r.db);
	free(conninfo);
	config_release(&cfg);
	if (code == 0)
		log_info("stopped");
	return code;
}
