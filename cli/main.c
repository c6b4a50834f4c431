/* orders-cli: parse the global options, then run one command, the
 * interactive shell (stdin is a terminal) or a script (stdin is not). */
#include "cli.h"

#include "config.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The options, by their index in the table below; common/config reads
 * them (flag > environment > ./.env > default) and stops at the command. */
enum cli_option { OPT_API, OPT_RELAY, OPT_TOKEN, OPT_INSECURE, OPT_JSON, OPT_NO_COLOR, N_OPTIONS };

static const struct config_option options[N_OPTIONS] = {
    [OPT_API] = {"ORDERS_API_URL", "api", "http://localhost:3000", CONFIG_HTTP_URL,
		 "orders-api base URL (http:// or https://)"},
    [OPT_RELAY] = {"ORDERS_RELAY_URL", "relay", "ws://localhost:8080", CONFIG_WS_URL,
		   "orders-relay WebSocket URL (ws:// or wss://)"},
    [OPT_TOKEN] = {"ORDERS_TOKEN", "token", NULL, CONFIG_TOKEN,
		   "bearer token (falls back to API_TOKEN)"},
    [OPT_INSECURE] = {"ORDERS_INSECURE", "insecure", NULL, CONFIG_BOOL,
		      "https://, wss://: do not verify the server's certificate (a test "
		      "certificate only)"},
    [OPT_JSON] = {NULL, "json", NULL, CONFIG_BOOL,
		  "print the API's JSON (watch: one message a line)"},
    [OPT_NO_COLOR] = {NULL, "no-color", NULL, CONFIG_BOOL, "no colours (also NO_COLOR=1)"},
};

static void usage_line(FILE *out, const char *left, const char *env, const char *help,
		       const char *def)
{
	fprintf(out, "  %-18s %-18s %s", left, env ? env : "", help);
	if (def)
		fprintf(out, " (default %s)", def);
	fputc('\n', out);
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: orders-cli [--api URL] [--relay URL] [--token T] [--json] "
		     "[COMMAND [ARGS...]]\n\n"
		     "Manage orders and watch them change. With a COMMAND, run it and exit; "
		     "without one,\nan interactive shell on a terminal, else one command per "
		     "line from stdin.\n\n");
	cli_print_commands(out, NULL, 0);
	fprintf(out, "\nOptions (flags win over the environment, which wins over ./.env):\n");
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct config_option *o = &options[i];
		char left[48];
		int bool_ = o->type == CONFIG_BOOL;
		snprintf(left, sizeof(left), "--%s%s%s", o->flag, bool_ ? "" : "=",
			 bool_ ? "" : config_type_hint(o->type));
		usage_line(out, left, o->env, o->help, o->def);
	}
	usage_line(out, "--help", NULL, "show this help and exit", NULL);
	usage_line(out, "--version", NULL, "show the version and exit", NULL);
	fprintf(out, "\nhttps:// and wss:// verify the server against the system CA store "
		     "(SSL_CERT_FILE: another\nCA bundle, e.g. a self-signed certificate); "
		     "--insecure skips that, for a test certificate.\n");
	fprintf(out, "\nExit codes: 0 success (also watch stopped by Ctrl-C or SIGTERM), 1 "
		     "request failed,\n2 usage error. History: ~/.orders_cli_history. "
		     "See orders-cli(1).\n");
}

int main(int argc, char **argv)
{
	struct err err;
	struct config cfg = {0};
	int operand = argc;
	const struct config_mode mode = {.operand = &operand, .help = usage, .name_flag = 1};
	/* .env first, alone: its errors are not about the command line */
	if (config_read_env_file(".env", &err) < 0) {
		fprintf(stderr, "orders-cli: %s\n", err.msg);
		return CLI_USAGE;
	}
	int lrc = config_load_mode(&cfg, "orders-cli", NULL, NULL, options, N_OPTIONS, &mode, argc,
				   argv, &err);
	if (lrc != 0) {
		config_release(&cfg);
		if (lrc > 0)
			return CLI_OK;
		fprintf(stderr, "orders-cli: %s\nTry 'orders-cli --help'.\n", err.msg);
		return CLI_USAGE;
	}
	const char *token = config_str(&cfg, OPT_TOKEN);
	const char *api_token = getenv("API_TOKEN");
	if (!token && api_token && *api_token) {
		long long num;
		if (config_check_value("API_TOKEN", CONFIG_TOKEN, api_token, &num, &err) < 0) {
			fprintf(stderr, "orders-cli: %s (--%s)\n", err.msg,
				options[OPT_TOKEN].flag);
			config_release(&cfg);
			return CLI_USAGE;
		}
		token = api_token;
	}
	struct cli c;
	memset(&c, 0, sizeof(c));
	c.api = config_str(&cfg, OPT_API);
	c.relay = config_str(&cfg, OPT_RELAY);
	c.token = token;
	c.insecure = config_num(&cfg, OPT_INSECURE) != 0;
	c.json = config_num(&cfg, OPT_JSON) != 0;
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	c.color = !config_num(&cfg, OPT_NO_COLOR) && isatty(STDOUT_FILENO) && !(nc && *nc) &&
		  !(term && strcmp(term, "dumb") == 0);

	int rc;
	int quit = 0;
	if (operand < argc)
		rc = cli_run(&c, argc - operand, argv + operand, &quit);
	else if (isatty(STDIN_FILENO))
		rc = cli_shell(&c);
	else
		rc = cli_script(&c, stdin);
	cli_release(&c);
	config_release(&cfg);
	fflush(stdout);
	return rc;
}
