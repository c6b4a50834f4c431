/* config: each program describes its options in one table
 * {environment name, --flag, default, type, help}; that table drives the
 * .env file, the environment, getopt_long flags, validation and --help.
 * Precedence: flag > environment > ./.env > default.
 *
 * A bad value is reported in one line naming the variable
 * ("PORT: must be a port number 1..65535, got '70000'"); the program then
 * exits with code 2. */
#ifndef ORDERS_CONFIG_H
#define ORDERS_CONFIG_H

#include "err.h"

#include <stddef.h>
#include <stdio.h>

enum config_type {
	CONFIG_STRING,	   /* any text */
	CONFIG_HOST,	   /* a bind address or host name */
	CONFIG_PORT,	   /* 1..65535 */
	CONFIG_COUNT,	   /* a positive integer */
	CONFIG_DURATION,   /* "30s", "250ms", "24h", "7d"; bare = seconds; num = milliseconds */
	CONFIG_SIZE,	   /* "8MiB", "512KiB", "1GiB", "100B"; bare = bytes; num = bytes */
	CONFIG_LOG_LEVEL,  /* debug info warn error; num = enum log_level */
	CONFIG_LOG_FORMAT, /* text json; num = enum log_format */
	CONFIG_HTTP_URL,   /* http:// or https:// URL */
	CONFIG_WS_URL,	   /* ws:// or wss:// URL */
	CONFIG_DB_URL,	   /* a libpq URI or conninfo string (secret: never printed) */
	CONFIG_TOKEN,	   /* 16..256 of A-Z a-z 0-9 . _ ~ - (secret: never printed) */
	CONFIG_ORIGINS,	   /* comma list of scheme://host[:port] */
	CONFIG_SECRET,	   /* any text, never printed */
};

struct config_option {
	const char *env;  /* environment and .env name, e.g. "PORT" */
	const char *flag; /* long flag without dashes, e.g. "port" */
	const char *def;  /* default text, or NULL for unset */
	enum config_type type;
	const char *help;
};

struct config_value {
	char *str;     /* NULL when unset */
	long long num; /* parsed number for numeric types */
	int given;     /* 1 when set by a flag, the environment or .env (not the default) */
};

struct config {
	const char *program;
	const struct config_option *opts;
	size_t n;
	struct config_value *values;
};

/* The options every program that reaches PostgreSQL shares. */
#define CONFIG_DB_OPTIONS                                                                          \
	{"DATABASE_URL", "database-url", NULL, CONFIG_DB_URL,                                      \
	 "libpq URI or conninfo; overrides the DB_* five"},                                        \
	    {"DB_HOST", "db-host", "localhost", CONFIG_STRING, "database host"},                   \
	    {"DB_PORT", "db-port", "5432", CONFIG_PORT, "database port"},                          \
	    {"DB_NAME", "db-name", "realtime_orders", CONFIG_STRING, "database name"},             \
	    {"DB_USER", "db-user", "postgres", CONFIG_STRING, "database user"},                    \
	{                                                                                          \
		"DB_PASSWORD", "db-password", NULL, CONFIG_SECRET, "database password"             \
	}

/* The logging options of the servers; start the logger with config_log_init. */
#define CONFIG_LOG_OPTION                                                                          \
	{"LOG_LEVEL", "log-level", "info", CONFIG_LOG_LEVEL,                                       \
	 "debug, info, warn or error (stderr)"},                                                   \
	{                                                                                          \
		"LOG_FORMAT", "log-format", "text", CONFIG_LOG_FORMAT,                             \
		    "text, or json: one JSON object per line"                                      \
	}

/* Load the configuration. argv is read with getopt_long; `usage` is the
 * first line of --help and `about` the paragraph under it.
 * Returns 0 to run, 1 when --help or --version was printed (exit 0), or
 * -1 with err set (print it and exit 2). Release with config_release(). */
int config_load(struct config *cfg, const char *program, const char *usage, const char *about,
		const struct config_option *opts, size_t n, int argc, char **argv, struct err *err)
    __attribute__((warn_unused_result));
void config_release(struct config *cfg);

/* Borrowed string of an option by environment name, NULL if unset. */
const char *config_str(const struct config *cfg, const char *env);
/* Parsed number (milliseconds, bytes, port...), 0 if unset. */
long long config_num(const struct config *cfg, const char *env);
/* 1 when the option was set by a flag, the environment or ./.env (a
 * non-empty value), 0 when it holds its default or is unset. */
int config_given(const struct config *cfg, const char *env);
/* Start the logger from LOG_LEVEL and LOG_FORMAT (a CONFIG_LOG_OPTION
 * table): text lines carry tag (borrowed, e.g. "api"), json lines the
 * program name given to config_load. */
void config_log_init(const struct config *cfg, const char *tag);

/* Print --help for a table to out. */
void config_print_help(FILE *out, const char *program, const char *usage, const char *about,
		       const struct config_option *opts, size_t n);

/* Pure parsers, exposed for the CLI and for unit tests. */
int config_parse_duration(const char *s, long long *ms) __attribute__((warn_unused_result));
int config_parse_size(const char *s, long long *bytes) __attribute__((warn_unused_result));
int config_parse_port(const char *s, long long *port) __attribute__((warn_unused_result));
int config_valid_token(const char *s);
/* Check one value against a type; on success *num holds the parsed number. */
int config_check_value(const char *env, enum config_type type, const char *value, long long *num,
		       struct err *err) __attribute__((warn_unused_result));

/* Read KEY=VALUE lines of a .env file into the environment without
 * overriding variables already set. Missing file is not an error; a line
 * without "=" or over 4095 bytes is (ERR_CONFIG naming file:line). */
int config_read_env_file(const char *path, struct err *err) __attribute__((warn_unused_result));

#endif
