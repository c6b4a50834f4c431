/* orders-api: REST CRUD for orders, the change log for polling clients,
 * health and metrics, and the web UI's files. main wires the modules:
 * configuration, database pool, static files, civetweb; then waits for
 * SIGINT/SIGTERM and tears down in reverse. */
#include "api.h"

#include "config.h"
#include "db.h"
#include "log.h"
#include "server.h"
#include "static_files.h"
#include "xalloc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static const struct config_option options[] = {
    CONFIG_DB_OPTIONS,
    {"HOST", "host", "127.0.0.1", CONFIG_HOST, "bind address (0.0.0.0 in containers)"},
    {"PORT", "port", "3000", CONFIG_PORT, "HTTP port"},
    {"WS_PORT", "ws-port", "8080", CONFIG_PORT,
     "the relay's port: /health asks it for connectedClients"},
    {"RELAY_HOST", "relay-host", NULL, CONFIG_HOST,
     "where /health finds the relay (default HOST, or 127.0.0.1 when HOST is 0.0.0.0)"},
    {"RELAY_PUBLIC_URL", "relay-public-url", NULL, CONFIG_WS_URL,
     "WebSocket URL the web UI connects to (default ws://<host of the page>:WS_PORT)"},
    {"WWW_DIR", "www-dir", "www", CONFIG_STRING, "folder of the web UI's files"},
    {"API_THREADS", "threads", "64", CONFIG_COUNT,
     "HTTP worker threads: the most requests (and keep-alive connections) served at once"},
    {"DB_POOL_SIZE", "db-pool-size", "8", CONFIG_COUNT, "database connections in the pool"},
    {"API_TOKEN", "api-token", NULL, CONFIG_TOKEN,
     "token that writes need (Authorization: Bearer); unset: open"},
    {"READ_TOKEN", "read-token", NULL, CONFIG_TOKEN,
     "with API_TOKEN: reads need READ_TOKEN or API_TOKEN"},
    {"ALLOWED_ORIGINS", "allowed-origins", NULL, CONFIG_ORIGINS,
     "comma list of scheme://host[:port] allowed for CORS (default: the api's own host)"},
    CONFIG_LOG_OPTION,
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static const char usage[] = "orders-api [OPTION]...";
static const char about[] =
    "REST API for orders (/api/orders, /api/changes), /health, /metrics, and the web UI.\n"
    "Needs the schema: run 'make setup-db' first.";

/* Connect once to check the schema, waiting up to 30 s for the database. */
static int check_database(const char *conninfo, struct err *err)
{
	volatile int stop = 0;
	PGconn *conn = db_connect_retry(conninfo, "orders-api", &stop, 30000, err);
	if (!conn)
		return -1;
	char *where = db_describe(conn);
	log_info("database %s reachable", where);
	free(where);
	int rc = db_check_schema(conn, err);
	PGresult *r = PQexec(conn, "SELECT pg_has_role('pg_read_all_stats', 'MEMBER') OR "
				   "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)");
	if (rc == 0 && PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "t"))
		log_warn("the database role cannot see other sessions' transactions: "
			 "/api/changes waits a minute before passing a gap in seq; "
			 "GRANT pg_read_all_stats to it for exact answers");
	PQclear(r);
	PQfinish(conn);
	return rc;
}

int main(int argc, char **argv)
{
	struct config cfg = {0};
	struct err err;
	err_clear(&err);
	int rc =
	    config_load(&cfg, "orders-api", usage, about, options, N_OPTIONS, argc, argv, &err);
	if (rc != 0) {
		config_release(&cfg);
		if (rc > 0)
			return 0;
		fprintf(stderr, "orders-api: %s\nTry 'orders-api --help'\n", err.msg);
		return 2;
	}
	log_init("api", (enum log_level)config_num(&cfg, "LOG_LEVEL"));
	signal(SIGPIPE, SIG_IGN);

	int exit_code = 1;
	char *conninfo = db_conninfo(&cfg);
	struct api api = {0};
	struct mg_context *ctx = NULL;
	const char *host = config_str(&cfg, "HOST");
	int port = (int)config_num(&cfg, "PORT");

	if (auth_init(&api.auth, config_str(&cfg, "API_TOKEN"), config_str(&cfg, "READ_TOKEN"),
		      config_str(&cfg, "ALLOWED_ORIGINS"), &err) < 0) {
		fprintf(stderr, "orders-api: %s\nTry 'orders-api --help'\n", err.msg);
		exit_code = 2;
		goto out;
	}
	if (auth_open(&api.auth))
		log_warn(
		    "no API_TOKEN set: anyone who can reach the api may read and write orders");
	if (check_database(conninfo, &err) < 0) {
		fprintf(stderr, "orders-api: %s\n", err.msg);
		goto out;
	}
	api.www = static_files_load(config_str(&cfg, "WWW_DIR"), &err);
	if (!api.www) {
		fprintf(stderr, "orders-api: %s\n", err.msg);
		exit_code = 2;
		goto out;
	}
	api.pool = db_pool_new(conninfo, "orders-api", (int)config_num(&cfg, "DB_POOL_SIZE"));
	api.metrics = metrics_http_new("orders_api");
	api.relay_port = (int)config_num(&cfg, "WS_PORT");
	api.relay_health_host = config_str(&cfg, "RELAY_HOST");
	if (!api.relay_health_host)
		api.relay_health_host =
		    strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ? "127.0.0.1" : host;
	api.relay_public_url = config_str(&cfg, "RELAY_PUBLIC_URL");

	mg_init_library(0);
	struct server_options sopt = {host, port, (int)config_num(&cfg, "API_THREADS")};
	ctx = server_start(&api, &sopt, &err);
	if (!ctx) {
		fprintf(stderr, "orders-api: %s\n", err.msg);
		goto out_lib;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	log_info("listening on http://%s:%d (%zu web files, %lld threads, pool of %lld)", host,
		 port, static_files_count(api.www), config_num(&cfg, "API_THREADS"),
		 config_num(&cfg, "DB_POOL_SIZE"));
	/* a signal may be delivered to any thread: poll the flag rather than
	 * pause() in this one */
	while (!stop_requested)
		usleep(100 * 1000);
	log_info("stopping: finishing requests in flight");
	server_drain(&api, 10000);
	server_stop(ctx);
	exit_code = 0;
out_lib:
	mg_exit_library();
out:
	metrics_http_free(api.metrics);
	db_pool_free(api.pool);
	static_files_free(api.www);
	free(conninfo);
	config_release(&cfg);
	if (exit_code == 0)
		log_info("stopped");
	return exit_code;
}
