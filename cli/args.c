#include "args.h"

#include "cli.h"
#include "format.h"
#include "order.h"
#include "request.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_seq(const char *flag, const char *v, struct err *err)
{
	const char *p = v;
	if (!*p)
		goto bad;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			goto bad;
	if (strlen(v) > 18)
		goto bad;
	return 0;
bad:
	return err_set(err, ERR_BAD_REQUEST, "%s: must be a whole number >= 0, got '%.40s'", flag,
		       v);
}

/* The rows' checks. */

/* --limit and --since of list and history: a typo is a usage error (exit
 * 2) whatever command it is given to, not a request the server refuses. */
static int check_page_flags(const struct cli_parsed *p, struct err *err)
{
	const char *v;
	if ((v = cli_flag(p, "--since")) && parse_seq("--since", v, err) < 0)
		return -1;
	if ((v = cli_flag(p, "--limit"))) {
		long long n = 0;
		const char *q = v;
		for (; *q >= '0' && *q <= '9' && n <= 1000; q++)
			n = n * 10 + (*q - '0');
		if (!*v || *q || n < 1 || n > 1000)
			return err_set(err, ERR_BAD_REQUEST,
				       "--limit: must be a whole number 1..1000, got '%.40s'", v);
	}
	return 0;
}

/* Checks done before any request: things the server would refuse as a
 * malformed request rather than report usefully (the relay cannot return a
 * JSON error on a WebSocket handshake). */
static int check_watch_flags(const struct cli_parsed *p, struct err *err)
{
	const char *v;
	if ((v = cli_flag(p, "--since")) && parse_seq("--since", v, err) < 0)
		return -1;
	if ((v = cli_flag(p, "--id"))) {
		long long id;
		if (order_parse_id(v, &id, err) < 0)
			return err_set(err, ERR_BAD_REQUEST,
				       "--id: must be a positive integer, got '%.40s'", v);
	}
	if ((v = cli_flag(p, "--status"))) {
		char *copy = xstrdup(v), *save = NULL;
		int rc = *v ? 0 : -1;
		for (char *t = strtok_r(copy, ",", &save); t && rc == 0;
		     t = strtok_r(NULL, ",", &save))
			if (order_status_parse(t) < 0)
				rc = -1;
		free(copy);
		if (rc < 0)
			return err_set(err, ERR_BAD_REQUEST,
				       "--status: must be a comma list of " ORDER_STATUS_LIST
				       ", got '%.60s'",
				       v);
	}
	if ((v = cli_flag(p, "--operation"))) {
		char *copy = xstrdup(v), *save = NULL;
		int rc = *v ? 0 : -1;
		for (char *t = strtok_r(copy, ",", &save); t && rc == 0;
		     t = strtok_r(NULL, ",", &save))
			if (strcasecmp(t, "INSERT") && strcasecmp(t, "UPDATE") &&
			    strcasecmp(t, "DELETE"))
				rc = -1;
		free(copy);
		if (rc < 0)
			return err_set(err, ERR_BAD_REQUEST,
				       "--operation: must be a comma list of INSERT, UPDATE, "
				       "DELETE, got '%.60s'",
				       v);
	}
	return 0;
}

const struct cli_command cli_commands[] = {
    {
	.name = "list",
	.synopsis = "[--status S] [--limit N]",
	.help = "list orders, newest first",
	.flags = {"--status", "--limit"},
	.json_from = "API",
	.check = check_page_flags,
	.method = "GET",
	.build = cli_build_list,
	.format = fmt_orders,
	.more_note = "(more orders exist: raise --limit to see them)",
    },
    {
	.name = "get",
	.synopsis = "ID",
	.help = "show one order",
	.pos = {"ID"},
	.npos_required = 1,
	.npos_max = 1,
	.id_arg = 1,
	.json_from = "API",
	.method = "GET",
	.build = cli_build_order,
	.format = fmt_order,
    },
    {
	.name = "create",
	.synopsis = "CUSTOMER PRODUCT [--status S]",
	.help = "create an order",
	.pos = {"CUSTOMER", "PRODUCT"},
	.npos_required = 2,
	.npos_max = 2,
	.flags = {"--status"},
	.json_from = "API",
	.method = "POST",
	.build = cli_build_create,
	.format = fmt_order,
	.done = "created",
    },
    {
	.name = "update",
	.synopsis = "ID [status=S] [customer_name=...] [product_name=...]",
	.help = "change fields of an order",
	.help_more = "  statuses: pending, processing, shipped, delivered, cancelled\n",
	.pos = {"ID"},
	.npos_required = 1,
	.npos_max = 1,
	.takes_fields = 1,
	.id_arg = 1,
	.json_from = "API",
	.method = "PUT",
	.build = cli_build_update,
	.format = fmt_order,
	.done = "updated",
    },
    {
	.name = "delete",
	.synopsis = "ID",
	.help = "delete an order",
	.pos = {"ID"},
	.npos_required = 1,
	.npos_max = 1,
	.id_arg = 1,
	.json_from = "API",
	.method = "DELETE",
	.build = cli_build_order,
	.format = fmt_order,
	.done = "deleted",
    },
    {
	.name = "watch",
	.synopsis = "[--since SEQ] [--status S] [--id ID] [--operation OPS] [--sse]",
	.help = "follow changes as they happen (Ctrl-C stops; --sse: over HTTP)",
	.flags = {"--since", "--status", "--id", "--operation"},
	.bools = {"--sse"},
	.json_from = "relay",
	.check = check_watch_flags,
	.run = cli_watch,
    },
    {
	.name = "history",
	.synopsis = "[--since SEQ] [--limit N]",
	.help = "list recorded changes, oldest first",
	.flags = {"--since", "--limit"},
	.json_from = "API",
	.check = check_page_flags,
	.method = "GET",
	.build = cli_build_history,
	.format = fmt_changes,
    },
    {
	.name = "health",
	.synopsis = "",
	.help = "show the API's health",
	.json_from = "API",
	.method = "GET",
	.build = cli_build_health,
	.format = fmt_health,
	.shown_status = 503,
    },
    {
	.name = "help",
	.synopsis = "[COMMAND]",
	.help = "list commands, or explain one",
	.pos = {"COMMAND"},
	.npos_max = 1,
	.command_arg = 1,
	.run = cli_help,
    },
    {
	.name = "quit",
	.synopsis = "",
	.help = "leave the shell",
	.shell_only = 1,
	.run = cli_quit,
    },
    {
	.name = "exit",
	.synopsis = "",
	.help = "leave the shell",
	.shell_only = 1,
	.run = cli_quit,
    },
};
const size_t cli_ncommands = sizeof(cli_commands) / sizeof(cli_commands[0]);

const char *const cli_field_names[CLI_NFIELDS] = {"customer_name", "product_name", "status"};

const struct cli_command *cli_command_find(const char *name)
{
	for (size_t i = 0; i < cli_ncommands; i++)
		if (strcmp(cli_commands[i].name, name) == 0)
			return &cli_commands[i];
	return NULL;
}

int cli_bool(const struct cli_parsed *p, const char *name)
{
	for (int i = 0; i < CLI_MAX_BOOLS && p->cmd->bools[i]; i++)
		if (strcmp(p->cmd->bools[i], name) == 0)
			return p->on[i];
	return 0;
}

const char *cli_flag(const struct cli_parsed *p, const char *name)
{
	for (int i = 0; i < CLI_MAX_FLAGS && p->cmd->flags[i]; i++)
		if (strcmp(p->cmd->flags[i], name) == 0)
			return p->flag[i];
	return NULL;
}

int cli_parse(int argc, char **argv, struct cli_parsed *out, struct err *err)
{
	memset(out, 0, sizeof(*out));
	if (argc < 1)
		return err_set(err, ERR_BAD_REQUEST, "no command given");
	const struct cli_command *cmd = cli_command_find(argv[0]);
	if (!cmd)
		return err_set(err, ERR_BAD_REQUEST, "unknown command '%.60s' (try 'help')",
			       argv[0]);
	out->cmd = cmd;
	int only_pos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (!only_pos && strcmp(a, "--json") == 0) {
			out->json = 1;
			continue;
		}
		if (!only_pos && a[0] == '-' && a[1] == '-') {
			const char *eq = strchr(a, '=');
			size_t n = eq ? (size_t)(eq - a) : strlen(a);
			int k = -1;
			for (int f = 0; f < CLI_MAX_BOOLS && cmd->bools[f]; f++)
				if (strlen(cmd->bools[f]) == n && strncmp(cmd->bools[f], a, n) == 0)
					k = f;
			if (k >= 0 && eq)
				return err_set(err, ERR_BAD_REQUEST,
					       "%s: option '%s' takes no value", cmd->name,
					       cmd->bools[k]);
			if (k >= 0) {
				out->on[k] = 1;
				continue;
			}
			for (int f = 0; f < CLI_MAX_FLAGS && cmd->flags[f]; f++)
				if (strlen(cmd->flags[f]) == n && strncmp(cmd->flags[f], a, n) == 0)
					k = f;
			if (k < 0)
				return err_set(err, ERR_BAD_REQUEST, "%s: unknown option '%.*s'",
					       cmd->name, (int)(n > 60 ? 60 : n), a);
			const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v)
				return err_set(err, ERR_BAD_REQUEST,
					       "%s: option '%s' needs a value", cmd->name,
					       cmd->flags[k]);
			if (out->flag[k])
				return err_set(err, ERR_BAD_REQUEST, "%s: option '%s' given twice",
					       cmd->name, cmd->flags[k]);
			out->flag[k] = v;
			continue;
		}
		if (!only_pos && a[0] == '-' && a[1] != '\0' && !isdigit((unsigned char)a[1]))
			return err_set(err, ERR_BAD_REQUEST, "%s: unknown option '%.60s'",
				       cmd->name, a);
		if (cmd->takes_fields && out->npos >= cmd->npos_max) {
			const char *eq = strchr(a, '=');
			if (!eq)
				return err_set(err, ERR_BAD_REQUEST,
					       "%s: expected field=value, got '%.60s'", cmd->name,
					       a);
			size_t n = (size_t)(eq - a);
			int k = -1;
			for (int f = 0; f < CLI_NFIELDS; f++)
				if (strlen(cli_field_names[f]) == n &&
				    strncmp(cli_field_names[f], a, n) == 0)
					k = f;
			if (k < 0) {
				char name[64];
				snprintf(name, sizeof(name), "%.*s", (int)(n > 60 ? 60 : n), a);
				struct err ferr;
				if (order_check_field(name, "", &ferr) < 0)
					return err_set(err, ERR_BAD_REQUEST, "%s", ferr.msg);
				return err_set(err, ERR_BAD_REQUEST, "%s: unknown field", name);
			}
			if (out->field[k])
				return err_set(err, ERR_BAD_REQUEST, "%s: field '%s' given twice",
					       cmd->name, cli_field_names[k]);
			out->field[k] = eq + 1;
			continue;
		}
		if (out->npos >= cmd->npos_max)
			return err_set(err, ERR_BAD_REQUEST, "%s: unexpected argument '%.60s'",
				       cmd->name, a);
		out->pos[out->npos++] = a;
	}
	if (out->npos < cmd->npos_required)
		return err_set(err, ERR_BAD_REQUEST, "%s: missing argument %s (usage: %s %s)",
			       cmd->name, cmd->pos[out->npos], cmd->name, cmd->synopsis);
	if (cmd->takes_fields && !out->field[0] && !out->field[1] && !out->field[2])
		return err_set(err, ERR_BAD_REQUEST,
			       "%s: give at least one of status=S, customer_name=..., "
			       "product_name=...",
			       cmd->name);
	if (cmd->id_arg) {
		struct err ierr;
		if (order_parse_id(out->pos[0], &out->id, &ierr) < 0)
			return err_set(err, ERR_BAD_REQUEST, "%s", ierr.msg);
	}
	if (cmd->command_arg && out->npos && !cli_command_find(out->pos[0]))
		return err_set(err, ERR_BAD_REQUEST, "%s: unknown command '%.60s'", cmd->name,
			       out->pos[0]);
	return cmd->check ? cmd->check(out, err) : 0;
}
