/* args: the CLI's command table and everything about turning words into a
 * request, with no I/O: splitting a shell line into words, parsing a
 * command's arguments against its table entry, and building the REST
 * request or the relay URL it stands for. Unit-tested by
 * tests/unit/test_args.c. */
#ifndef ORDERS_CLI_ARGS_H
#define ORDERS_CLI_ARGS_H

#include "err.h"

#include <stddef.h>

enum cli_cmd_id {
	CMD_LIST,
	CMD_GET,
	CMD_CREATE,
	CMD_UPDATE,
	CMD_DELETE,
	CMD_WATCH,
	CMD_HISTORY,
	CMD_HEALTH,
	CMD_HELP,
	CMD_QUIT,
	CMD_EXIT,
};

#define CLI_MAX_FLAGS 4
#define CLI_MAX_POS   2

/* One entry of the command table: drives dispatch, help and completion. */
struct cli_command {
	enum cli_cmd_id id;
	const char *name;
	const char *synopsis;	      /* arguments, for help and usage lines */
	const char *help;	      /* one line */
	const char *pos[CLI_MAX_POS]; /* names of positional arguments */
	int npos_required;
	int npos_max;
	const char *flags[CLI_MAX_FLAGS]; /* "--status" ...; each takes a value */
	int takes_fields;		  /* update: key=value words */
	int id_arg;			  /* first positional is an order id (completion) */
	int shell_only;
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
	const char *field[CLI_NFIELDS];	 /* update values, NULL if absent */
	int json;			 /* --json given after the command */
	int sse;			 /* watch --sse: Server-Sent Events, not a WebSocket */
	long long id;			 /* parsed order id, for id_arg commands */
};

/* Parse argv[0..argc) where argv[0] is the command name. Returns 0, or -1
 * with err (ERR_BAD_REQUEST: a usage error, exit code 2) saying what is
 * wrong: unknown command, unknown flag, missing or extra argument, bad id,
 * unknown update field. Both "--flag value" and "--flag=value" work. */
int cli_parse(int argc, char **argv, struct cli_parsed *out, struct err *err)
    __attribute__((warn_unused_result));

/* Value of a flag of the parsed command by name ("--status"), or NULL. */
const char *cli_flag(const struct cli_parsed *p, const char *name);

/* Split a shell line into words: blanks separate, '...' is literal, "..."
 * allows \" and \\, a backslash outside quotes escapes the next character.
 * Returns the number of words with *argv a NULL-terminated array (free
 * with cli_words_free), or -1 with err for an unterminated quote. */
int cli_split(const char *line, char ***argv, struct err *err) __attribute__((warn_unused_result));
void cli_words_free(char **argv);

/* The REST request a parsed command stands for. */
struct cli_request {
	const char *method;
	char *path; /* "/api/orders?status=pending", to append to the API URL */
	char *body; /* JSON text or NULL */
};

/* For list, get, create, update, delete, history and health. 0 or -1
 * with err. Release with cli_request_release. */
int cli_build_request(const struct cli_parsed *p, struct cli_request *req, struct err *err)
    __attribute__((warn_unused_result));
void cli_request_release(struct cli_request *req);

/* The relay URL for `watch`: relay base URL plus since (when >= 0) and the
 * filters. Caller frees. */
char *cli_watch_url(const char *relay, const struct cli_parsed *p, long long since,
		    const char *epoch);

/* Join a base URL (trailing slashes dropped) and a path. Caller frees. */
char *cli_join_url(const char *base, const char *path);

#endif
