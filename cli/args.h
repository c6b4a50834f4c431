/* args: the CLI's command table and parsing a command's words against
 * its row, with no I/O. A row says everything about one command: its
 * arguments and flags, the checks past those, and either how to build its
 * REST request and print the answer, or the function that runs it; adding
 * a command is adding a row and its functions. Word splitting is in
 * words.h, request building in request.h. Unit-tested by
 * tests/unit/test_args.c. */
#ifndef ORDERS_CLI_ARGS_H
#define ORDERS_CLI_ARGS_H

#include "buf.h"
#include "err.h"

#include <stddef.h>

struct cli;
struct cli_parsed;
struct fmt_opts;
struct json_object;

#define CLI_MAX_FLAGS 4
#define CLI_MAX_BOOLS 2
#define CLI_MAX_POS   2

/* One row of the command table: drives parsing, dispatch, help and
 * completion. Rows use designated initialisers; members left out are 0. */
struct cli_command {
	const char *name;
	const char *synopsis;	      /* arguments, for help and usage lines */
	const char *help;	      /* one line */
	const char *help_more;	      /* more lines for "help NAME", or NULL */
	const char *pos[CLI_MAX_POS]; /* names of positional arguments */
	int npos_required;
	int npos_max;
	const char *flags[CLI_MAX_FLAGS]; /* "--status" ...; each takes a value */
	const char *bools[CLI_MAX_BOOLS]; /* "--sse" ...; each takes none */
	int takes_fields;		  /* update: key=value words */
	int id_arg;			  /* first positional is an order id (parsed, completed) */
	int command_arg;		  /* first positional is a command name (help) */
	int shell_only;			  /* listed only inside the shell */
	const char *json_from;		  /* "API", "relay": --json prints its JSON (help) */
	/* Checks of flag values past the table's, or NULL: 0, or -1 with
	 * err (ERR_BAD_REQUEST). */
	int (*check)(const struct cli_parsed *p, struct err *err);
	/* A command that is not one REST request: runs it, returns an exit
	 * code (CLI_OK...). NULL for REST commands, which have: */
	int (*run)(struct cli *c, const struct cli_parsed *p);
	const char *method; /* "GET" ... */
	/* Append the request path (and JSON body, if any) to the buffers. */
	int (*build)(const struct cli_parsed *p, struct buf *path, struct buf *body);
	/* Print a successful answer for people (not --json). */
	int (*format)(struct json_object *doc, const struct fmt_opts *o, struct buf *out);
	const char *done;      /* "created": stderr "created order ID" after success */
	int shown_status;      /* a failing status still formatted, exit 1 (health: 503) */
	const char *more_note; /* stderr line when the answer has a Link header */
};

extern const struct cli_command cli_commands[];
extern const size_t cli_ncommands;

/* The command called name, or NULL. */
const struct cli_command *cli_command_find(const char *name);

/* Update fields, by slot. */
enum cli_field { CLI_FIELD_CUSTOMER, CLI_FIELD_PRODUCT, CLI_FIELD_STATUS, CLI_NFIELDS };
extern const char *const cli_field_names[CLI_NFIELDS];

/* A parsed command; strings are borrowed from the argv it came from. */
struct cli_parsed {
	const struct cli_command *cmd;
	const char *pos[CLI_MAX_POS];
	int npos;
	const char *flag[CLI_MAX_FLAGS]; /* value by index in cmd->flags, NULL if absent */
	int on[CLI_MAX_BOOLS];		 /* by index in cmd->bools: 1 if given */
	const char *field[CLI_NFIELDS];	 /* update values, NULL if absent */
	int json;			 /* --json given after the command */
	long long id;			 /* parsed order id, for id_arg commands */
};

/* Parse argv[0..argc) where argv[0] is the command name. Returns 0, or -1
 * with err (ERR_BAD_REQUEST: a usage error, exit code 2) saying what is
 * wrong: unknown command, unknown flag, missing or extra argument, bad id,
 * unknown update field, or what the row's check refuses. Both "--flag
 * value" and "--flag=value" work; --json is accepted by every command. */
int cli_parse(int argc, char **argv, struct cli_parsed *out, struct err *err)
    __attribute__((warn_unused_result));

/* Value of a flag of the parsed command by name ("--status"), or NULL. */
const char *cli_flag(const struct cli_parsed *p, const char *name);
/* 1 if the boolean flag name ("--sse") was given, else 0. */
int cli_bool(const struct cli_parsed *p, const char *name);

#endif
