/* orders-api: REST CRUD for orders, the change log for polling clients,
 * health and metrics, and the web UI's files. main wires the modules:
 * configuration, database pool, static files, civetweb; then waits for
 * SIGINT/SIGTERM and tears down in reverse. */
#include "api.h"

#include "config.h"
#include "db.h"
#include "host.h"
#include "log.h"
#include "migrate.h"
#include "paths.h"
#include "rate_limit.h"
#include "server.h"
#include "static_files.h"
#include "utf8.h"
#include "xalloc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

/* Client addresses WRITE_RATE_LIMIT tracks at once: 32 bytes each, 2 MiB
 * in all; past it the oldest make room (rate_limit.h). */
#define RATE_LIMIT_ENTRIES 65536

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* The options, by their index in the table below. */
enum api_option {
	CONFIG_DB_OPTION_IDS(OPT_),
	OPT_HOST,
	OPT_PORT,
	OPT_WS_PORT,
	OPT_RELAY_HOST,
	OPT_RELAY_PUBLIC_URL,
	OPT_WWW_DIR,
	OPT_API_THREADS,
	OPT_DB_POOL_SIZE,
	OPT_API_TOKEN,
	OPT_READ_TOKEN,
	OPT_ALLOWED_ORIGINS,
	OPT_WRITE_RATE_LIMIT,
	OPT_TRUSTED_PROXIES,
	CONFIG_LOG_OPTION_IDS(OPT_),
	N_OPTIONS
};

static const struct config_option options[N_OPTIONS] = {
    CONFIG_DB_OPTIONS(OPT_),
    [OPT_HOST] = {"HOST", "host", "127.0.0.1", CONFIG_HOST, "bind address (0.0.0.0 in containers)"},
    [OPT_PORT] = {"PORT", "port", "3000", CONFIG_PORT, "HTTP port"},
    [OPT_WS_PORT] = {"WS_PORT", "ws-port", "8080", CONFIG_PORT,
		     "the relay's port: /health asks it for connectedClients"},
    [OPT_RELAY_HOST] =
	{"RELAY_HOST", "relay-host", NULL, CONFIG_HOST,
	 "where /health finds the relay (default HOST, or 127.0.0.1 when HOST is 0.0.0.0)"},
    [OPT_RELAY_PUBLIC_URL] =
	{"RELAY_PUBLIC_URL", "relay-public-url", NULL, CONFIG_STRING,
	 "WebSocket URL the web UI connects to (default ws://<host of the page>:WS_PORT), or a "
	 "path such as /ws: the stream on the page's own origin (behind the nginx front)"},
    [OPT_WWW_DIR] =
	{"WWW_DIR", "www-dir", NULL, CONFIG_STRING,
	 "folder of the web UI's files (default: found from the program's location: www/ of its "
	 "build tree, <prefix>/share/orders/www, else " ORDERS_DATADIR "/www; none: no web UI)"},
    [OPT_API_THREADS] =
	{"API_THREADS", "threads", "64", CONFIG_COUNT,
	 "HTTP worker threads: the most requests (and keep-alive connections) served at once"},
    [OPT_DB_POOL_SIZE] = {"DB_POOL_SIZE", "db-pool-size", "8", CONFIG_COUNT,
			  "database connections in the pool"},
    [OPT_API_TOKEN] = {"API_TOKEN", "api-token", NULL, CONFIG_TOKEN,
		       "token that writes need (Authorization: Bearer); unset: open"},
    [OPT_READ_TOKEN] = {"READ_TOKEN", "read-token", NULL, CONFIG_TOKEN,
			"with API_TOKEN: reads need READ_TOKEN or API_TOKEN"},
    [OPT_ALLOWED_ORIGINS] =
	{"ALLOWED_ORIGINS", "allowed-origins", NULL, CONFIG_ORIGINS,
	 "comma list of scheme://host[:port] allowed for CORS (default: an Origin with the "
	 "request's own host when that is loopback, HOST or this machine's name)"},
    [OPT_WRITE_RATE_LIMIT] =
	{"WRITE_RATE_LIMIT", "write-rate-limit", "100/s", CONFIG_RATE,
	 "writes per client address, N/s or N/m (token holders too); past it 429 with "
	 "Retry-After; 0: no limit"},
    [OPT_TRUSTED_PROXIES] =
	{"TRUSTED_PROXIES", "trusted-proxies", NULL, CONFIG_ADDRESSES,
	 "comma list of proxy addresses or CIDR ranges whose X-Forwarded-For names the client "
	 "(rate limit, logs); unset: the peer is the client"},
    CONFIG_LOG_OPTIONS(OPT_),
};

static const char usage[] = "orders-api [OPTION]...\n   or: orders-api migrate [OPTION]...";
static const char about[] =
    "REST API for orders (/api/orders, /api/changes), /health, /metrics, and the web UI.\n"
    "Needs the schema: run 'orders-api migrate' (or 'make setup-db') first; "
    "'orders-api migrate --help' lists its options.";

/* orders-api migrate: its own table, read from the same places. */
/* The options, by their index in the table below. */
enum migrate_option {
	CONFIG_DB_OPTION_IDS(MIG_),
	MIG_SCHEMA_DIR,
	MIG_MIGRATE_WAIT,
	CONFIG_LOG_OPTION_IDS(MIG_),
	N_MIGRATE_OPTIONS
};

static const struct config_option migrate_options[N_MIGRATE_OPTIONS] = {
    CONFIG_DB_OPTIONS(MIG_),
    [MIG_SCHEMA_DIR] =
	{"SCHEMA_DIR", "schema-dir", NULL, CONFIG_STRING,
	 "folder of the numbered NNN_*.sql migrations (default: found from the program's location: "
	 "schema/ of its build tree, <prefix>/share/orders/schema, else " ORDERS_DATADIR
	 "/schema)"},
    [MIG_MIGRATE_WAIT] = {"MIGRATE_WAIT", "migrate-wait", "60s", CONFIG_DURATION,
			  "how long to keep retrying a database that is not up yet"},
    CONFIG_LOG_OPTIONS(MIG_),
};

static const char migrate_usage[] = "orders-api migrate [OPTION]...";
static const char migrate_about[] =
    "Apply the migrations of SCHEMA_DIR that the database has not recorded yet, each in one\n"
    "transaction under an advisory lock (concurrent runs apply each file once). Prints\n"
    "'migrate: applied FILE' or 'migrate: schema up to date' on stderr; exit 1 when the\n"
    "database cannot be reached or a file fails (nothing of that file is kept).\n"
    "--if-configured: do nothing and exit 3 unless DATABASE_URL or a DB_* variable is set\n"
    "(flag, environment or ./.env); scripts/migrate.sh uses it to pick its private cluster.";

/* RELAY_PUBLIC_URL is a ws:// or wss:// URL, or an absolute path that the
 * page opens on its own origin (ws: or wss: as the page's scheme): a path
 * must not start with "//" (another host), and holds only printable ASCII
 * without backslash, fragment or dot segments. */
static int check_relay_public_url(const char *v, struct err *err)
{
	if (!v)
		return 0;
	/* what the error line shows: control characters as '?', so it stays one line */
	char shown[256];
	utf8_printable(shown, sizeof(shown), v, strlen(v));
	if (v[0] != '/') {
		long long num;
		/* the page's Content-Security-Policy names its host: a plain one */
		const char *auth = strstr(v, "://");
		struct host_port hp;
		if (config_check_value("RELAY_PUBLIC_URL", CONFIG_WS_URL, v, &num, err) == 0 &&
		    auth && host_parse(auth + 3, strcspn(auth + 3, "/?#"), &hp) == 0)
			return 0;
		return err_set(
		    err, ERR_CONFIG,
		    "RELAY_PUBLIC_URL: must be a ws:// or wss:// URL or an absolute path "
		    "such as /ws, got '%s'",
		    shown);
	}
	int ok = v[1] != '/' && strlen(v) < sizeof(shown);
	for (const char *p = v; ok && *p; p++)
		ok = *p > ' ' && *p < 0x7f && *p != '\\' && *p != '#';
	for (const char *p = v; ok && (p = strchr(p, '/')) != NULL; p++) {
		size_t n = strcspn(p + 1, "/?");
		ok = !((n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.'));
	}
	if (!ok)
		return err_set(err, ERR_CONFIG,
			       "RELAY_PUBLIC_URL: a path must be a clean absolute path such as /ws "
			       "(no leading //, spaces, control characters, backslash, # or dot "
			       "segments; under 256 characters), got '%s'",
			       shown);
	return 0;
}

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
	PQfinish(conn);
	return rc;
}

/* Remove every `flag` argument from argv (keeping argv[argc] NULL);
 * returns 1 when there was one. */
static int take_flag(int *argc, char **argv, const char *flag)
{
	int found = 0, kept = 1;
	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], flag) == 0)
			found = 1;
		else
			argv[kept++] = argv[i];
	}
	*argc = kept;
	argv[kept] = NULL;
	return found;
}

/* A database named by a flag, the environment or ./.env (not defaults). */
static int db_configured(const struct config *cfg)
{
	static const enum migrate_option db[] = {CONFIG_DB_OPTION_IDS(MIG_)};
	for (size_t i = 0; i < sizeof(db) / sizeof(db[0]); i++)
		if (config_given(cfg, db[i]))
			return 1;
	return 0;
}

/* orders-api migrate [OPTION]... (argv[0] is "migrate"). Returns the exit
 * code: 0 done, 1 database or migration failure, 2 bad configuration,
 * 3 with --if-configured when no database is configured (nothing done). */
static int migrate_main(int argc, char **argv)
{
	struct config cfg = {0};
	struct err err;
	err_clear(&err);
	int exit_code = 2, applied = 0;
	char *conninfo = NULL, *found = NULL;
	const char *schema = NULL;
	int if_configured = take_flag(&argc, argv, "--if-configured");
	int rc = config_load(&cfg, "orders-api", migrate_usage, migrate_about, migrate_options,
			     N_MIGRATE_OPTIONS, argc, argv, &err);
	if (rc != 0) {
		exit_code = rc > 0 ? 0 : 2;
		if (rc < 0)
			fprintf(stderr, "orders-api migrate: %s\nTry 'orders-api migrate --help'\n",
				err.msg);
		goto out;
	}
	config_log_init(&cfg, "migrate");
	if (if_configured && !db_configured(&cfg)) {
		exit_code = 3;
		goto out;
	}
	schema = config_str(&cfg, MIG_SCHEMA_DIR);
	if (!schema)
		schema = found = paths_find_data_dir("schema");
	if (!schema) {
		fprintf(
		    stderr,
		    "orders-api migrate: SCHEMA_DIR: no schema folder next to the program or in "
		    "'%s'; set SCHEMA_DIR\n",
		    ORDERS_DATADIR);
		goto out;
	}
	log_debug("schema folder %s", schema);
	conninfo = db_conninfo(&cfg, &err);
	if (!conninfo) {
		fprintf(stderr, "orders-api migrate: %s\n", err.msg);
		goto out;
	}
	if (migrate_apply(conninfo, schema, (long)config_num(&cfg, MIG_MIGRATE_WAIT), &applied,
			  &err) < 0) {
		exit_code = err.kind == ERR_CONFIG ? 2 : 1;
		if (exit_code == 2)
			fprintf(stderr, "orders-api migrate: %s\n", err.msg);
		else
			migrate_report(LOG_ERROR, "%s", err.msg);
		goto out;
	}
	exit_code = 0;
out:
	free(conninfo);
	free(found);
	config_release(&cfg);
	return exit_code;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "migrate") == 0)
		return migrate_main(argc - 1, argv + 1);
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
	if (check_relay_public_url(config_str(&cfg, OPT_RELAY_PUBLIC_URL), &err) < 0) {
		config_release(&cfg);
		fprintf(stderr, "orders-api: %s\nTry 'orders-api --help'\n", err.msg);
		return 2;
	}
	config_log_init(&cfg, "api");
	signal(SIGPIPE, SIG_IGN);

	int exit_code = 1;
	char *conninfo = db_conninfo(&cfg, &err);
	char *www_found = NULL;
	struct api api = {0};
	struct mg_context *ctx = NULL;
	const char *host = config_str(&cfg, OPT_HOST);
	int port = (int)config_num(&cfg, OPT_PORT);

	if (!conninfo ||
	    auth_init(&api.auth, config_str(&cfg, OPT_API_TOKEN), config_str(&cfg, OPT_READ_TOKEN),
		      config_str(&cfg, OPT_ALLOWED_ORIGINS), &err) < 0 ||
	    trusted_proxies_parse(&api.proxies, config_str(&cfg, OPT_TRUSTED_PROXIES), &err) < 0) {
		fprintf(stderr, "orders-api: %s\nTry 'orders-api --help'\n", err.msg);
		exit_code = 2;
		goto out;
	}
	auth_set_bind_host(&api.auth, host);
	long long rate_count, rate_period;
	if (config_parse_rate(config_str(&cfg, OPT_WRITE_RATE_LIMIT), &rate_count, &rate_period) ==
	    0)
		api.write_limit = rate_limit_new(rate_count, rate_period, RATE_LIMIT_ENTRIES);
	if (!api.write_limit)
		log_warn("WRITE_RATE_LIMIT is 0: writes are not rate limited");
	if (auth_open(&api.auth))
		log_warn(
		    "no API_TOKEN set: anyone who can reach the api may read and write orders");
	if (check_database(conninfo, &err) < 0) {
		fprintf(stderr, "orders-api: %s\n", err.msg);
		goto out;
	}
	/* the web UI is optional: without its files the API still serves */
	const char *www = config_str(&cfg, OPT_WWW_DIR);
	if (!www)
		www = www_found = paths_find_data_dir("www");
	if (!www)
		log_warn("no web UI: no www folder next to the program or in '%s'; set WWW_DIR",
			 ORDERS_DATADIR);
	else if (!(api.www = static_files_load(www, &err)))
		log_warn("no web UI: %s", err.msg);
	else
		log_info("web UI from %s", www);
	api.pool = db_pool_new(conninfo, "orders-api", (int)config_num(&cfg, OPT_DB_POOL_SIZE));
	api.metrics = metrics_http_new("orders_api");
	api.relay_port = (int)config_num(&cfg, OPT_WS_PORT);
	api.relay_health_host = config_str(&cfg, OPT_RELAY_HOST);
	if (!api.relay_health_host)
		api.relay_health_host =
		    strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ? "127.0.0.1" : host;
	api.relay_public_url = config_str(&cfg, OPT_RELAY_PUBLIC_URL);

	mg_init_library(0);
	struct server_options sopt = {host, port, (int)config_num(&cfg, OPT_API_THREADS)};
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
		 port, static_files_count(api.www), config_num(&cfg, OPT_API_THREADS),
		 config_num(&cfg, OPT_DB_POOL_SIZE));
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
	rate_limit_free(api.write_limit);
	db_pool_free(api.pool);
	static_files_free(api.www);
	free(www_found);
	free(conninfo);
	config_release(&cfg);
	if (exit_code == 0)
		log_info("stopped");
	return exit_code;
}
