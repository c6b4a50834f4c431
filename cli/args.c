#include "args.h"

#include "buf.h"
#include "http_client.h"
#include "order.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct cli_command cli_commands[] = {
    {CMD_LIST,
     "list",
     "[--status S] [--limit N]",
     "list orders, newest first",
     {NULL},
     0,
     0,
     {"--status", "--limit"},
     0,
     0,
     0},
    {CMD_GET, "get", "ID", "show one order", {"ID"}, 1, 1, {NULL}, 0, 1, 0},
    {CMD_CREATE,
     "create",
     "CUSTOMER PRODUCT [--status S]",
     "create an order",
     {"CUSTOMER", "PRODUCT"},
     2,
     2,
     {"--status"},
     0,
     0,
     0},
    {CMD_UPDATE,
     "update",
     "ID [status=S] [customer_name=...] [product_name=...]",
     "change fields of an order",
     {"ID"},
     1,
     1,
     {NULL},
     1,
     1,
     0},
    {CMD_DELETE, "delete", "ID", "delete an order", {"ID"}, 1, 1, {NULL}, 0, 1, 0},
    {CMD_WATCH,
     "watch",
     "[--since SEQ] [--status S] [--id ID] [--operation OPS] [--sse]",
     "follow changes as they happen (Ctrl-C stops; --sse: over HTTP)",
     {NULL},
     0,
     0,
     {"--since", "--status", "--id", "--operation"},
     0,
     0,
     0},
    {CMD_HISTORY,
     "history",
     "[--since SEQ] [--limit N]",
     "list recorded changes, oldest first",
     {NULL},
     0,
     0,
     {"--since", "--limit"},
     0,
     0,
     0},
    {CMD_HEALTH, "health", "", "show the API's health", {NULL}, 0, 0, {NULL}, 0, 0, 0},
    {CMD_HELP,
     "help",
     "[COMMAND]",
     "list commands, or explain one",
     {"COMMAND"},
     0,
     1,
     {NULL},
     0,
     0,
     0},
    {CMD_QUIT, "quit", "", "leave the shell", {NULL}, 0, 0, {NULL}, 0, 0, 1},
    {CMD_EXIT, "exit", "", "leave the shell", {NULL}, 0, 0, {NULL}, 0, 0, 1},
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

const char *cli_flag(const struct cli_parsed *p, const char *name)
{
	for (int i = 0; i < CLI_MAX_FLAGS && p->cmd->flags[i]; i++)
		if (strcmp(p->cmd->flags[i], name) == 0)
			return p->flag[i];
	return NULL;
}

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
		if (!only_pos && cmd->id == CMD_WATCH && strcmp(a, "--sse") == 0) {
			out->sse = 1;
			continue;
		}
		if (!only_pos && a[0] == '-' && a[1] == '-') {
			const char *eq = strchr(a, '=');
			size_t n = eq ? (size_t)(eq - a) : strlen(a);
			int k = -1;
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
	if ((cmd->id == CMD_LIST || cmd->id == CMD_HISTORY) && check_page_flags(out, err) < 0)
		return -1;
	if (cmd->id == CMD_WATCH && check_watch_flags(out, err) < 0)
		return -1;
	if (cmd->id == CMD_HELP && out->npos && !cli_command_find(out->pos[0]))
		return err_set(err, ERR_BAD_REQUEST, "help: unknown command '%.60s'", out->pos[0]);
	return 0;
}

int cli_split(const char *line, char ***argv, struct err *err)
{
	size_t cap = 8, n = 0;
	char **v = xcalloc(cap, sizeof(*v));
	struct buf w;
	buf_init(&w, 0);
	const char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p)
			break;
		buf_reset(&w);
		int in_word = 1;
		while (in_word && *p) {
			char c = *p;
			if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
				in_word = 0;
			} else if (c == '\'') {
				const char *end = strchr(p + 1, '\'');
				if (!end)
					goto unterminated;
				if (buf_append(&w, p + 1, (size_t)(end - p - 1)) < 0)
					goto unterminated;
				p = end + 1;
			} else if (c == '"') {
				p++;
				while (*p && *p != '"') {
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
						p++;
					if (buf_append(&w, p, 1) < 0)
						goto unterminated;
					p++;
				}
				if (*p != '"')
					goto unterminated;
				p++;
			} else if (c == '\\' && p[1]) {
				if (buf_append(&w, p + 1, 1) < 0)
					goto unterminated;
				p += 2;
			} else {
				if (buf_append(&w, p, 1) < 0)
					goto unterminated;
				p++;
			}
		}
		if (n + 2 > cap) {
			cap *= 2;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = xstrdup(w.data ? w.data : "");
		v[n] = NULL;
	}
	buf_release(&w);
	*argv = v;
	return (int)n;
unterminated:
	buf_release(&w);
	v[n] = NULL;
	cli_words_free(v);
	*argv = NULL;
	return err_set(err, ERR_BAD_REQUEST, "unterminated quote");
}

void cli_words_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

/* Append "?name=value" or "&name=value" when value is set. */
static int add_query(struct buf *b, const char *name, const char *value)
{
	if (!value)
		return 0;
	if (buf_printf(b, "%c%s=", strchr(b->data ? b->data : "", '?') ? '&' : '?', name) < 0)
		return -1;
	return http_url_encode(b, value);
}

int cli_build_request(const struct cli_parsed *p, struct cli_request *req, struct err *err)
{
	struct buf path, body;
	buf_init(&path, 0);
	buf_init(&body, 0);
	memset(req, 0, sizeof(*req));
	int ok = 1;
	switch (p->cmd->id) {
	case CMD_LIST:
		req->method = "GET";
		ok = buf_append_str(&path, "/api/orders") == 0 &&
		     add_query(&path, "status", cli_flag(p, "--status")) == 0 &&
		     add_query(&path, "limit", cli_flag(p, "--limit")) == 0;
		break;
	case CMD_HISTORY:
		req->method = "GET";
		ok = buf_append_str(&path, "/api/changes") == 0 &&
		     add_query(&path, "since",
			       cli_flag(p, "--since") ? cli_flag(p, "--since") : "0") == 0 &&
		     add_query(&path, "limit", cli_flag(p, "--limit")) == 0;
		break;
	case CMD_GET:
	case CMD_DELETE:
		req->method = p->cmd->id == CMD_GET ? "GET" : "DELETE";
		ok = buf_printf(&path, "/api/orders/%lld", p->id) == 0;
		break;
	case CMD_CREATE:
		req->method = "POST";
		ok = buf_append_str(&path, "/api/orders") == 0 &&
		     buf_append_str(&body, "{\"customer_name\":") == 0 &&
		     buf_append_json_string(&body, p->pos[0]) == 0 &&
		     buf_append_str(&body, ",\"product_name\":") == 0 &&
		     buf_append_json_string(&body, p->pos[1]) == 0;
		if (ok && cli_flag(p, "--status"))
			ok = buf_append_str(&body, ",\"status\":") == 0 &&
			     buf_append_json_string(&body, cli_flag(p, "--status")) == 0;
		ok = ok && buf_append_str(&body, "}") == 0;
		break;
	case CMD_UPDATE:
		req->method = "PUT";
		ok = buf_printf(&path, "/api/orders/%lld", p->id) == 0 &&
		     buf_append_str(&body, "{") == 0;
		for (int f = 0, first = 1; ok && f < CLI_NFIELDS; f++) {
			if (!p->field[f])
				continue;
			ok = buf_printf(&body, "%s\"%s\":", first ? "" : ",", cli_field_names[f]) ==
				 0 &&
			     buf_append_json_string(&body, p->field[f]) == 0;
			first = 0;
		}
		ok = ok && buf_append_str(&body, "}") == 0;
		break;
	case CMD_HEALTH:
		req->method = "GET";
		ok = buf_append_str(&path, "/health") == 0;
		break;
	default:
		buf_release(&path);
		buf_release(&body);
		return err_set(err, ERR_BAD_REQUEST, "%s: not a REST command", p->cmd->name);
	}
	if (!ok) {
		buf_release(&path);
		buf_release(&body);
		return err_set(err, ERR_INTERNAL, "cannot build the request");
	}
	req->path = buf_detach(&path, NULL);
	req->body = body.len ? buf_detach(&body, NULL) : NULL;
	buf_release(&body);
	return 0;
}

void cli_request_release(struct cli_request *req)
{
	free(req->path);
	free(req->body);
	req->path = NULL;
	req->body = NULL;
}

char *cli_join_url(const char *base, const char *path)
{
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	return xasprintf("%.*s%s", (int)n, base, path);
}

char *cli_watch_url(const char *relay, const struct cli_parsed *p, long long since,
		    const char *epoch)
{
	struct buf b;
	buf_init(&b, 0);
	/* ws://host:port -> ws://host:port/ ; keep any path the user gave */
	const char *after_scheme = strstr(relay, "://");
	int has_path = after_scheme && strchr(after_scheme + 3, '/');
	int ok = buf_append_str(&b, relay) == 0 && (has_path || buf_append_str(&b, "/") == 0);
	char num[32];
	if (since >= 0) {
		snprintf(num, sizeof(num), "%lld", since);
		ok = ok && add_query(&b, "since", num) == 0;
		if (epoch && *epoch)
			ok = ok && add_query(&b, "epoch", epoch) == 0;
	}
	ok = ok && add_query(&b, "status", cli_flag(p, "--status")) == 0;
	ok = ok && add_query(&b, "id", cli_flag(p, "--id")) == 0;
	if (ok && cli_flag(p, "--operation")) {
		char *ops = xstrdup(cli_flag(p, "--operation"));
		for (char *c = ops; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		ok = add_query(&b, "operation", ops) == 0;
		free(ops);
	}
	(void)ok; /* uncapped buffer: appends cannot fail */
	return buf_detach(&b, NULL);
}
