/* config: each program describes its options in one table
 * {environment name, --flag, default, type, help}; that table drives the
 * .env file, the environment, getopt_long flags, validation and --help.
 * Precedence: flag > environment > ./.env > default.
 *
 * A program names its options with an enum that indexes its table
 * ([OPT_PORT] = {"PORT", "port", ...}) and reads them by that index,
 * config_num(&cfg, OPT_PORT), so a misspelt option does not compile.
 * The shared groups come as macros taking the enum's prefix:
 * CONFIG_DB_OPTION_IDS(OPT_) in the enum, CONFIG_DB_OPTIONS(OPT_) in the
 * table (likewise CONFIG_LOG_...); common modules find their rows through
 * cfg->shared[] (enum config_shared). Nothing is looked up by name.
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
	CONFIG_BOOL,	   /* a flag without a value ("--json"); env: 1 0 true false yes no */
	CONFIG_RATE,	   /* "100/s", "30/m" or 0 (off); num = the count; config_parse_rate */
	CONFIG_ADDRESSES,  /* comma list of IPv4/IPv6 addresses and CIDR ranges */
};

/* The options of the shared groups below, which common modules read
 * (db_conninfo, config_log_init) wherever a program's table puts them: a
 * group's row names which one it is, config_load records its index in
 * cfg->shared[], and the module reads config_str(cfg,
 * cfg->shared[CONFIG_SHARED_DB_HOST]): by an enum, never by a name. */
enum config_shared {
	CONFIG_SHARED_NONE = 0, /* a program's own option */
	CONFIG_SHARED_DATABASE_URL,
	CONFIG_SHARED_DB_HOST,
	CONFIG_SHARED_DB_PORT,
	CONFIG_SHARED_DB_NAME,
	CONFIG_SHARED_DB_USER,
	CONFIG_SHARED_DB_PASSWORD,
	CONFIG_SHARED_LOG_LEVEL,
	CONFIG_SHARED_LOG_FORMAT,
	CONFIG_SHARED_N
};

struct config_option {
	const char *env;  /* environment and .env name, e.g. "PORT"; NULL: flag only */
	const char *flag; /* long flag without dashes, e.g. "port" */
	const char *def;  /* default text, or NULL for unset */
	enum config_type type;
	const char *help;
	enum config_shared shared; /* set only by the CONFIG_*_OPTIONS macros */
};

struct config_value {
	char *str;     /* NULL when unset */
	long long num; /* parsed number for numeric types */
	int given;     /* 1 when set by a flag, the environment or .env (not the default) */
};

/* How config_load_mode reads argv; all members may be 0. */
struct config_mode {
	/* Stop at the first operand (getopt's "+"): its index is stored
	 * here (argc when there is none) instead of refusing it. */
	int *operand;
	/* Prints --help instead of config_print_help. */
	void (*help)(FILE *out);
	/* Bad values name the flag too: "ORDERS_API_URL: ... (--api)". */
	int name_flag;
};

struct config {
	const char *program;
	const struct config_option *opts;
	size_t n;
	struct config_value *values;
	int shared[CONFIG_SHARED_N]; /* index in opts of each shared option, -1 if absent */
};

/* The options every program that reaches PostgreSQL shares: their enum
 * members and table rows for a prefix P (CONFIG_DB_OPTION_IDS(OPT_) gives
 * OPT_DATABASE_URL, OPT_DB_HOST ... OPT_DB_PASSWORD). */
#define CONFIG_DB_OPTION_IDS(P)                                                                    \
	P##DATABASE_URL, P##DB_HOST, P##DB_PORT, P##DB_NAME, P##DB_USER, P##DB_PASSWORD
#define CONFIG_DB_OPTIONS(P)                                                                       \
	[P##DATABASE_URL] = {"DATABASE_URL",                                                       \
			     "database-url",                                                       \
			     NULL,                                                                 \
			     CONFIG_DB_URL,                                                        \
			     "libpq URI or conninfo; overrides the DB_* five",                     \
			     CONFIG_SHARED_DATABASE_URL},                                          \
	[P##DB_HOST] = {"DB_HOST",     "db-host",	"localhost",                               \
			CONFIG_STRING, "database host", CONFIG_SHARED_DB_HOST},                    \
	[P##DB_PORT] = {"DB_PORT",   "db-port",	      "5432",                                      \
			CONFIG_PORT, "database port", CONFIG_SHARED_DB_PORT},                      \
	[P##DB_NAME] = {"DB_NAME",     "db-name",	"realtime_orders",                         \
			CONFIG_STRING, "database name", CONFIG_SHARED_DB_NAME},                    \
	[P##DB_USER] = {"DB_USER",     "db-user",	"postgres",                                \
			CONFIG_STRING, "database user", CONFIG_SHARED_DB_USER},                    \
	[P##DB_PASSWORD] = {"DB_PASSWORD", "db-password",	NULL,                              \
			    CONFIG_SECRET, "database password", CONFIG_SHARED_DB_PASSWORD}

/* The logging options of the servers; start the logger with config_log_init. */
#define CONFIG_LOG_OPTION_IDS(P) P##LOG_LEVEL, P##LOG_FORMAT
#define CONFIG_LOG_OPTIONS(P)                                                                      \
	[P##LOG_LEVEL] = {"LOG_LEVEL",                                                             \
			  "log-level",                                                             \
			  "info",                                                                  \
			  CONFIG_LOG_LEVEL,                                                        \
			  "debug, info, warn or error (stderr)",                                   \
			  CONFIG_SHARED_LOG_LEVEL},                                                \
	[P##LOG_FORMAT] = {"LOG_FORMAT",                                                           \
			   "log-format",                                                           \
			   "text",                                                                 \
			   CONFIG_LOG_FORMAT,                                                      \
			   "text, or json: one JSON object per line",                              \
			   CONFIG_SHARED_LOG_FORMAT}

/* Load the configuration. argv is read with getopt_long; `usage` is the
 * first line of --help and `about` the paragraph under it.
 * Returns 0 to run, 1 when --help or --version was printed (exit 0), or
 * -1 with err set (print it and exit 2; a table that lists a shared
 * option twice is refused too). Release with config_release(). */
int config_load(struct config *cfg, const char *program, const char *usage, const char *about,
		const struct config_option *opts, size_t n, int argc, char **argv, struct err *err)
    __attribute__((warn_unused_result));
/* The same with a mode (NULL: as config_load). */
int config_load_mode(struct config *cfg, const char *program, const char *usage, const char *about,
		     const struct config_option *opts, size_t n, const struct config_mode *mode,
		     int argc, char **argv, struct err *err) __attribute__((warn_unused_result));
void config_release(struct config *cfg);

/* Reading an option by its index in the table (the program's enum, or
 * cfg->shared[] for a shared option):
 * config_str   borrowed string, NULL if unset;
 * config_num   parsed number (milliseconds, bytes, port...; 1 for a given
 *              boolean), 0 if unset;
 * config_given 1 when set by a flag, the environment or ./.env (a
 *              non-empty value), 0 when it holds its default or is unset.
 * An index outside the table (-1: a shared option the table lacks) reads
 * as unset. There is no lookup by name: a misspelt option does not
 * compile. */
const char *config_str(const struct config *cfg, int opt);
long long config_num(const struct config *cfg, int opt);
int config_given(const struct config *cfg, int opt);
/* Start the logger from LOG_LEVEL and LOG_FORMAT (a CONFIG_LOG_OPTION
 * table): text lines carry tag (borrowed, e.g. "api"), json lines the
 * program name given to config_load. */
void config_log_init(const struct config *cfg, const char *tag);

/* The placeholder --help shows for a type's value ("URL", "DURATION"...). */
const char *config_type_hint(enum config_type type);
/* Print --help for a table to out. */
void config_print_help(FILE *out, const char *program, const char *usage, const char *about,
		       const struct config_option *opts, size_t n);

/* Pure parsers, exposed for the CLI and for unit tests. */
int config_parse_duration(const char *s, long long *ms) __attribute__((warn_unused_result));
int config_parse_size(const char *s, long long *bytes) __attribute__((warn_unused_result));
int config_parse_port(const char *s, long long *port) __attribute__((warn_unused_result));
int config_valid_token(const char *s);
/* "N/s" or "N/m" (N 1..1000000): *count per *period_ms; "0" (or 0/s, 0/m):
 * *count 0, no limit. */
int config_parse_rate(const char *s, long long *count, long long *period_ms)
    __attribute__((warn_unused_result));
/* Check one value against a type; on success *num holds the parsed number. */
int config_check_value(const char *env, enum config_type type, const char *value, long long *num,
		       struct err *err) __attribute__((warn_unused_result));

#define CONFIG_ENV_LINE_MAX 4095	  /* bytes of one .env line, its newline included */
#define CONFIG_ENV_FILE_MAX (1024 * 1024) /* bytes of a whole .env file */

/* Parse .env text[0..len) (name: the file, for messages) and call set(key,
 * value, ctx) for each KEY=VALUE line, in order. Blank lines and lines
 * starting with '#' are skipped; "export " before the key is allowed;
 * blanks around key and value are dropped; a value in '...' or "..." is
 * the text between the quotes, and an unquoted one ends at " #". A line
 * without "=", over CONFIG_ENV_LINE_MAX bytes or holding a NUL byte is
 * ERR_CONFIG naming name:line, after the lines before it were set. set
 * returns 0, or -1 (with err) to stop. Pure: no I/O, no environment. */
int config_parse_env(const char *name, const char *text, size_t len,
		     int (*set)(const char *key, const char *value, void *ctx), void *ctx,
		     struct err *err) __attribute__((warn_unused_result));

/* Read a .env file (config_parse_env) into the environment without
 * overriding variables already set. A missing file is not an error; one
 * over CONFIG_ENV_FILE_MAX bytes is. */
int config_read_env_file(const char *path, struct err *err) __attribute__((warn_unused_result));

#endif
