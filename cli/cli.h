/* cli: the state one orders-cli run shares between its modules and the
 * entry points main.c wires together. Who calls whom, one way only:
 * main -> shell -> commands -> (the table's run functions: watch, help,
 * quit); every module -> session (cli_error, cli_fmt_opts, the ids). */
#ifndef ORDERS_CLI_H
#define ORDERS_CLI_H

#include "args.h"
#include "format.h"
#include "request.h"
#include "words.h"

#include <signal.h>
#include <stdio.h>

/* Exit codes of the contract. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

#define CLI_MAX_IDS 1000

struct cli {
	const char *api;   /* base URL of orders-api (borrowed) */
	const char *relay; /* base URL of orders-relay (borrowed) */
	const char *token; /* bearer token or NULL (borrowed, never printed) */
	int insecure;	   /* https://, wss://: accept any certificate (--insecure) */
	int json;	   /* --json before the command */
	int color;	   /* stdout is a terminal and NO_COLOR is unset */
	int interactive;   /* running inside the libedit shell */
	int quit;	   /* set by quit and exit */
	char **ids;	   /* order ids seen, for completion (owned) */
	size_t nids;
};

/* session.c */

/* Set by SIGINT/SIGTERM while a command runs; watch stops when it is set. */
extern volatile sig_atomic_t cli_stop;
/* Set by SIGTERM during watch: the shell and script mode end after it,
 * rather than going on to the next command (Ctrl-C only stops the watch). */
extern volatile sig_atomic_t cli_terminated;

/* Remember an order id for completion. */
void cli_remember_id(struct cli *c, const char *id);
void cli_release(struct cli *c);
/* Format options for stdout right now (width of the terminal, colour). */
void cli_fmt_opts(const struct cli *c, struct fmt_opts *o);
/* Print "error: msg" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* commands.c */

/* Parse and run one command given as words: the row's run function, or
 * its REST request with the answer printed by its format function.
 * Prints results and errors. Returns CLI_OK, CLI_FAIL or CLI_USAGE;
 * *quit is set by quit/exit. */
int cli_run(struct cli *c, int argc, char **argv, int *quit);
/* Help for all commands (cmd NULL) or one. */
void cli_print_commands(FILE *out, const struct cli_command *cmd, int shell);
/* The run functions of help and of quit/exit. */
int cli_help(struct cli *c, const struct cli_parsed *p);
int cli_quit(struct cli *c, const struct cli_parsed *p);

/* watch.c: follow the relay until stopped (cli_stop) or a fatal error. */
int cli_watch(struct cli *c, const struct cli_parsed *p);

/* shell.c: the interactive shell (stdin is a terminal); returns the exit code. */
int cli_shell(struct cli *c);
/* Read one command per line from in; returns the last failing code or 0. */
int cli_script(struct cli *c, FILE *in);

#endif
