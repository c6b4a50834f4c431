/* orders-cli: parse the global options, then run one command, the
 * interactive shell (stdin is a terminal) or a script (stdin is not). */
#include "cli.h"

#include "config.h"
#include "err.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The options table: drives getopt_long and --help. */
static const struct cli_option {
	const char *flag;
	const char *env; /* NULL: flag only */
	const char *def;
	enum config_type type;
	const char *meta;
	const char *help;
} options[] = {
    {"api", "ORDERS_API_URL", "http://localhost:3000", CONFIG_HTTP_URL, "URL",
     "orders-api base URL"},
    {"relay", "ORDERS_RELAY_URL", "ws://localhost:8080", CONFIG_WS_URL, "URL",
     "orders-relay WebSocket URL"},
    {"token", "ORDERS_TOKEN", NULL, CONFIG_TOKEN, "TOKEN",
     "bearer token (falls back to API_TOKEN)"},
    {"json", NULL, NULL, CONFIG_STRING, NULL, "print the API's JSON (watch: one message a line)"},
    {"no-color", NULL, NULL, CONFIG_STRING, NULL, "no colours (also NO_COLOR=1)"},
    {"help", NULL, NULL, CONFIG_STRING, NULL, "show this help and exit"},
    {"version", NULL, NULL, CONFIG_STRING, NULL, "show the version and exit"},
};
#define NOPTS (sizeof(options) / sizeof(options[0]))

static void usage(FILE *out)
{
	fprintf(out, "Usage: orders-cli [--api URL] [--relay URL] [--token T] [--json] "
		     "[COMMAND [ARGS...]]\n\n"
		     "Manage orders and watch them change. With a COMMAND, run it and exit; "
		     "without one,\nan interactive shell on a terminal, else one command per "
		     "line from stdin.\n\n");
	cli_print_commands(out, NULL, 0);
	fprintf(out, "\nOptions (flags win over the environment, which wins over ./.env):\n");
	for (size_t i = 0; i < NOPTS; i++) {
		char left[48];
		snprintf(left, sizeof(left), "--%s%s%s", options[i].flag,
			 options[i].meta ? "=" : "", options[i].meta ? options[i].meta : "");
		fprintf(out, "  %-18s %-18s %s", left, options[i].env ? options[i].env : "",
			options[i].help);
		if (options[i].def)
			fprintf(out, " (default %s)", options[i].def);
		fputc('\n', out);
	}
	fprintf(out, "\nExit codes: 0 success (also watch stopped by Ctrl-C or SIGTERM), 1 "
		     "request failed,\n2 usage error. History: ~/.orders_cli_history. "
		     "See orders-cli(1).\n");
}

int main(int argc, char **argv)
{
	struct err err;
	const char *val[NOPTS] = {0};
	int json = 0, no_color = 0;
	struct option lopts[NOPTS + 1];
	memset(lopts, 0, sizeof(lopts));
	for (size_t i = 0; i < NOPTS; i++) {
		lopts[i].name = options[i].flag;
		lopts[i].has_arg = options[i].meta ? required_argument : no_argument;
		lopts[i].val = 1000 + (int)i;
	}
	if (config_read_env_file(".env", &err) < 0) {
		fprintf(stderr, "orders-cli: %s\n", err.msg);
		return CLI_USAGE;
	}
	opterr = 0;
	for (;;) {
		int o = getopt_long(argc, argv, "+h", lopts, NULL);
		if (o == -1)
			break;
		if (o == 'h') {
			usage(stdout);
			return CLI_OK;
		}
		if (o >= 1000 && o < 1000 + (int)NOPTS) {
			const char *f = options[o - 1000].flag;
			if (strcmp(f, "help") == 0) {
				usage(stdout);
				return CLI_OK;
			} else if (strcmp(f, "version") == 0) {
				printf("orders-cli %s\n", ORDERS_VERSION);
				return CLI_OK;
			} else if (strcmp(f, "json") == 0) {
				json = 1;
			} else if (strcmp(f, "no-color") == 0) {
				no_color = 1;
			} else {
				val[o - 1000] = optarg;
			}
			continue;
		}
		if (o == ':' || (o == '?' && optopt >= 1000))
			fprintf(stderr, "orders-cli: option '%s' needs a value\n",
				argv[optind - 1]);
		else
			fprintf(stderr, "orders-cli: unknown option '%s'\n", argv[optind - 1]);
		fprintf(stderr, "Try 'orders-cli --help'.\n");
		return CLI_USAGE;
	}
	for (size_t i = 0; i < NOPTS; i++) {
		if (!options[i].env && !options[i].def)
			continue;
		const char *name = options[i].env;
		if (!val[i] && options[i].env)
			val[i] = getenv(options[i].env);
		if (!val[i] && options[i].type == CONFIG_TOKEN && getenv("API_TOKEN")) {
			val[i] = getenv("API_TOKEN");
			name = "API_TOKEN";
		}
		if (val[i] && !*val[i])
			val[i] = NULL;
		if (!val[i])
			val[i] = options[i].def;
		long long num;
		char label[64];
		snprintf(label, sizeof(label), "%s", name);
		if (val[i] && config_check_value(label, options[i].type, val[i], &num, &err) < 0) {
			fprintf(stderr, "orders-cli: %s (--%s)\n", err.msg, options[i].flag);
			return CLI_USAGE;
		}
	}
	struct cli c;
	memset(&c, 0, sizeof(c));
	c.api = val[0];
	c.relay = val[1];
	c.token = val[2];
	c.json = json;
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	c.color = !no_color && isatty(STDOUT_FILENO) && !(nc && *nc) &&
		  !(term && strcmp(term, "dumb") == 0);

	int rc;
	int quit = 0;
	if (optind < argc)
		rc = cli_run(&c, argc - optind, argv + optind, &quit);
	else if (isatty(STDIN_FILENO))
		rc = cli_shell(&c);
	else
		rc = cli_script(&c, stdin);
	cli_release(&c);
	fflush(stdout);
	return rc;
}
