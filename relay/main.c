/* orders-relay: a gapless, resumable WebSocket stream of order changes.
 * main parses options, wires listener, hub, senders and civetweb, runs the
 * liveness ticker and tears down in reverse. */
#include "catchup.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "hub.h"
#include "listener.h"
#include "log.h"
#include "relay.h"
#include "routes.h"
#include "sender.h"
#include "sse.h"
#include "stats.h"
#include "ws.h"
#include "xalloc.h"

#include <civetweb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define THREAD_STACK (512 * 1024) /* sanitizers need bigger frames */
#else
#define THREAD_STACK (128 * 1024)
#endif
/* Worker threads kept for plain HTTP (/health, /metrics) beyond MAX_CLIENTS. */
#define HTTP_THREADS 8
#define TICK_MS	     50

#define STR_(x) #x
#define STR(x)	STR_(x)

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
	OPT_SENDER_THREADS,
	OPT_WRITE_TIMEOUT,
	OPT_API_TOKEN,
	OPT_READ_TOKEN,
	OPT_ALLOWED_ORIGINS,
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
    [OPT_MAX_CLIENTS] = {"MAX_CLIENTS", "max-clients", "1000", CONFIG_COUNT,
			 "most WebSocket connections; each holds one server thread with a "
			 "128 KiB stack, plus " STR(
			     HTTP_THREADS) " threads for HTTP, so N allows N clients "
					   "(at most pid_max - 2000)"},
    [OPT_SENDER_THREADS] =
	{"SENDER_THREADS", "sender-threads", "64", CONFIG_COUNT,
	 "most threads writing to clients; a client that stops reading holds one "
	 "until its write times out, the others go on"},
    [OPT_WRITE_TIMEOUT] = {"WRITE_TIMEOUT", "write-timeout", "10s", CONFIG_DURATION,
			   "a write blocked this long drops the client"},
    [OPT_API_TOKEN] = {"API_TOKEN", "api-token", NULL, CONFIG_TOKEN,
		       "with READ_TOKEN: either token lets a client subscribe"},
    [OPT_READ_TOKEN] = {"READ_TOKEN", "read-token", NULL, CONFIG_TOKEN,
			"when set, the stream needs READ_TOKEN or API_TOKEN (access_token=, "
			"Authorization: Bearer, or the subprotocol bearer.<token>)"},
    [OPT_ALLOWED_ORIGINS] =
	{"ALLOWED_ORIGINS", "allowed-origins", NULL, CONFIG_ORIGINS,
	 "browser origins allowed to connect (default: same host as the relay, any port)"},
};
/* civetweb 1.15 closes a WebSocket after this many unanswered pings
 * (MG_MAX_UNANSWERED_PING in its source). */
#define CIVETWEB_UNANSWERED_PINGS 5

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int civet_log(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	log_warn("civetweb: %s", message);
	return 1;
}

static long read_pid_max(void)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
	long v = 32768;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 32768;
		fclose(f);
	}
	return v;
}

/* Threads and file descriptors for MAX_CLIENTS; exits 2 when impossible. */
static int prepare_limits(long max_clients, struct err *err)
{
	long pid_max = read_pid_max();
	if (max_clients > pid_max - 2000)
		return err_set(err, ERR_CONFIG,
			       "MAX_CLIENTS: each client needs a thread; at most %ld here "
			       "(pid_max %ld), got '%ld'",
			       pid_max - 2000, pid_max, max_clients);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (long)rl.rlim_cur < max_clients + 64)
		log_warn("open file limit %ld is below MAX_CLIENTS + 64; raise ulimit -n",
			 (long)rl.rlim_cur);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	pthread_setattr_default_np(&attr);
	pthread_attr_destroy(&attr);
	return 0;
}

static struct mg_context *start_server(struct relay *r, const struct config *cfg, long long port,
				       struct err *err)
{
	const char *host = config_str(cfg, OPT_HOST);
	char ports[300], threads[32], wtimeout[32];
	if (strchr(host, ':'))
		snprintf(ports, sizeof(ports), "[%s]:%lld", host, port);
	else
		snprintf(ports, sizeof(ports), "%s:%lld", host, port);
	snprintf(threads, sizeof(threads), "%d", r->max_clients + HTTP_THREADS);
	/* a reader that takes nothing for WRITE_TIMEOUT is closed with 1008
	 * by the catch-up thread (catchup.h); the socket write itself gives up
	 * a little later, so the close frame can still reach a reader that
	 * wakes up */
	snprintf(wtimeout, sizeof(wtimeout), "%lld", config_num(cfg, OPT_WRITE_TIMEOUT) + 2000);
	/* A connection is only ever closed by its own worker thread: closing it
	 * from another thread races with the worker leaving its read loop. So
	 * civetweb's own ping/pong drops silent peers: after
	 * CIVETWEB_UNANSWERED_PINGS pings each a websocket_timeout apart go
	 * unanswered, the worker closes the socket - two PING_INTERVALs. */
	char wsidle[32];
	long long idle = 2 * config_num(cfg, OPT_PING_INTERVAL) / CIVETWEB_UNANSWERED_PINGS;
	snprintf(wsidle, sizeof(wsidle), "%lld", idle < 50 ? 50 : idle);
	const char *opts[] = {"listening_ports",
			      ports,
			      "num_threads",
			      threads,
			      "request_timeout_ms",
			      wtimeout,
			      "websocket_timeout_ms",
			      wsidle,
			      "enable_websocket_ping_pong",
			      "yes",
			      "listen_backlog",
			      "1024",
			      "connection_queue",
			      "1024",
			      "max_request_size",
			      "8192",
			      NULL};
	struct mg_callbacks cb;
	memset(&cb, 0, sizeof(cb));
	cb.log_message = civet_log;
	cb.connection_close = ws_connection_closed;
	struct mg_init_data init = {
	    .callbacks = &cb, .user_data = r, .configuration_options = opts};
	char ebuf[256] = "";
	struct mg_error_data edata = {.text = ebuf, .text_buffer_size = sizeof(ebuf)};
	struct mg_context *ctx = mg_start2(&init, &edata);
	if (!ctx) {
		err_set(err, ERR_CONFIG, "cannot listen on %s: %s", ports,
			ebuf[0] ? ebuf : "unknown error");
		return NULL;
	}
	ws_register(ctx, r);
	sse_register(ctx, r);
	routes_register(ctx, r);
	return ctx;
}

int main(int argc, char **argv)
{
	struct config cfg = {0};
	struct err err = {0};
	int code = 0;
	struct relay r = {0};
	struct mg_context *ctx = NULL;
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
		      config_str(&cfg, OPT_ALLOWED_ORIGINS), &err) < 0) {
		fprintf(stderr, "orders-relay: %s\nTry 'orders-relay --help'\n", err.msg);
		free(conninfo);
		config_release(&cfg);
		return 2;
	}
	if (prepare_limits(r.max_clients, &err) < 0) {
		fprintf(stderr, "orders-relay: %s\n", err.msg);
		free(conninfo);
		config_release(&cfg);
		return 2;
	}
	if (auth_open(&r.auth))
		log_warn("no API_TOKEN set: anyone who can reach the relay may read the stream");
	mg_init_library(0);
	if (!mg_check_feature(16)) {
		log_error("this civetweb was built without WebSocket support");
		code = 1;
		goto out;
	}

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
	r.senders = sender_pool_new(2, (int)config_num(&cfg, OPT_SENDER_THREADS));
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
	ctx = start_server(&r, &cfg, config_num(&cfg, OPT_WS_PORT), &err);
	if (!ctx) {
		log_error("%s", err.msg);
		code = 1;
		goto out;
	}
	log_info("listening on ws://%s:%lld/ from seq %lld (max %d clients, ping %ld ms, "
		 "backlog %zu bytes)",
		 config_str(&cfg, OPT_HOST), config_num(&cfg, OPT_WS_PORT), hub_last(r.hub),
		 r.max_clients, r.ping_ms, r.backlog);

	long long next_ping = clock_now_ms() + r.ping_ms;
	while (!stop_flag) {
		usleep(TICK_MS * 1000);
		long long now = clock_now_ms();
		sender_pool_check(r.senders);
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
	if (ctx)
		mg_stop(ctx);
	listener_free(r.listener);
	catchup_free(r.catchup);
	sender_pool_free(r.senders);
	hub_free(r.hub);
	db_pool_free(r.db);
	free(conninfo);
	mg_exit_library();
	config_release(&cfg);
	if (code == 0)
		log_info("stopped");
	return code;
}
