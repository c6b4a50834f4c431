/* commands: run one parsed command against the API and print the result. */
#include "cli.h"

#include "http_client.h"
#include "json.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

volatile sig_atomic_t cli_stop;
volatile sig_atomic_t cli_terminated;

void cli_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "error: %s\n", msg);
}

void cli_fmt_opts(const struct cli *c, struct fmt_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->color = c->color;
	o->now = time(NULL);
	struct winsize ws;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		o->width = ws.ws_col;
}

void cli_remember_id(struct cli *c, const char *id)
{
	if (!id)
		return;
	for (size_t i = 0; i < c->nids; i++)
		if (strcmp(c->ids[i], id) == 0)
			return;
	if (c->nids == CLI_MAX_IDS) {
		free(c->ids[0]);
		memmove(c->ids, c->ids + 1, (c->nids - 1) * sizeof(*c->ids));
		c->nids--;
	}
	c->ids = xrealloc(c->ids, (c->nids + 1) * sizeof(*c->ids));
	c->ids[c->nids++] = xstrdup(id);
}

void cli_release(struct cli *c)
{
	for (size_t i = 0; i < c->nids; i++)
		free(c->ids[i]);
	free(c->ids);
	c->ids = NULL;
	c->nids = 0;
}

void cli_print_commands(FILE *out, const struct cli_command *cmd, int shell)
{
	if (cmd) {
		fprintf(out, "usage: %s%s%s\n  %s\n", cmd->name, *cmd->synopsis ? " " : "",
			cmd->synopsis, cmd->help);
		if (!cmd->shell_only && cmd->id != CMD_HELP)
			fprintf(out, "  --json prints the %s's JSON instead of a table\n",
				cmd->id == CMD_WATCH ? "relay" : "API");
		if (cmd->id == CMD_UPDATE)
			fprintf(out,
				"  statuses: pending, processing, shipped, delivered, cancelled\n");
		return;
	}
	fprintf(out, "Commands:\n");
	for (size_t i = 0; i < cli_ncommands; i++) {
		const struct cli_command *k = &cli_commands[i];
		if (k->shell_only && !shell)
			continue;
		char left[96];
		snprintf(left, sizeof(left), "%s %s", k->name, k->synopsis);
		fprintf(out, "  %-60s %s\n", left, k->help);
	}
}

/* Print the API's error text for a failed response. */
static void report_http_error(const struct http_response *r)
{
	struct json_object *obj = NULL, *e = NULL;
	char *text = NULL; /* the server's words, cleaned for the terminal */
	if (r->body.len)
		obj = json_parse(r->body.data, r->body.len, NULL);
	if (obj && json_object_is_type(obj, json_type_object) &&
	    json_object_object_get_ex(obj, "error", &e) && json_object_is_type(e, json_type_string))
		text = fmt_clean(json_object_get_string(e));
	if (text) {
		cli_error("%s", text);
	} else {
		text = fmt_clean(r->reason);
		cli_error("HTTP %d %s", r->status, text);
	}
	free(text);
	json_object_put(obj);
}

static void remember_from(struct cli *c, struct json_object *doc)
{
	if (json_object_is_type(doc, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(doc); i++) {
			struct json_object *item = json_object_array_get_idx(doc, i), *data;
			if (json_object_object_get_ex(item, "data", &data))
				item = data;
			cli_remember_id(c, fmt_member(item, "id"));
		}
	} else {
		cli_remember_id(c, fmt_member(doc, "id"));
	}
}

static int run_rest(struct cli *c, const struct cli_parsed *p)
{
	struct cli_request req;
	struct http_response resp;
	struct err err;
	int rc = CLI_FAIL;
	if (cli_build_request(p, &req, &err) < 0) {
		cli_error("%s", err.msg);
		return CLI_FAIL;
	}
	char *url = cli_join_url(c->api, req.path);
	struct http_request hr = {
	    .method = req.method,
	    .url = url,
	    .body = req.body,
	    .body_len = req.body ? strlen(req.body) : 0,
	    .token = c->token,
	};
	if (http_client_request(&hr, &resp, &err) < 0) {
		cli_error("%s", err.msg);
		goto out;
	}
	int ok = resp.status >= 200 && resp.status < 300;
	int is_health = p->cmd->id == CMD_HEALTH && resp.status == 503;
	if (!ok && !is_health) {
		report_http_error(&resp);
		goto out;
	}
	struct json_object *doc =
	    json_parse(resp.body.data ? resp.body.data : "", resp.body.len, &err);
	if (!doc) {
		cli_error("unexpected answer from %s: %s", c->api, err.msg);
		goto out;
	}
	remember_from(c, doc);
	if (c->json || p->json) {
		fwrite(resp.body.data, 1, resp.body.len, stdout);
		if (!resp.body.len || resp.body.data[resp.body.len - 1] != '\n')
			fputc('\n', stdout);
	} else {
		struct fmt_opts o;
		struct buf out;
		cli_fmt_opts(c, &o);
		buf_init(&out, 0);
		int frc;
		switch (p->cmd->id) {
		case CMD_LIST:
			frc = fmt_orders(doc, &o, &out);
			break;
		case CMD_HISTORY:
			frc = fmt_changes(doc, &o, &out);
			break;
		case CMD_HEALTH:
			frc = fmt_health(doc, &o, &out);
			break;
		default:
			frc = fmt_order(doc, &o, &out);
			break;
		}
		if (frc == 0) {
			if (p->cmd->id == CMD_CREATE)
				fprintf(stderr, "created order %s\n", fmt_member(doc, "id"));
			else if (p->cmd->id == CMD_UPDATE)
				fprintf(stderr, "updated order %s\n", fmt_member(doc, "id"));
			else if (p->cmd->id == CMD_DELETE)
				fprintf(stderr, "deleted order %s\n", fmt_member(doc, "id"));
			fflush(stderr);
			fwrite(out.data, 1, out.len, stdout);
		}
		buf_release(&out);
		if (p->cmd->id == CMD_LIST && http_response_header(&resp, "Link"))
			fprintf(stderr, "(more orders exist: raise --limit to see them)\n");
	}
	fflush(stdout);
	json_object_put(doc);
	rc = is_health ? CLI_FAIL : CLI_OK;
out:
	free(url);
	cli_request_release(&req);
	http_response_release(&resp);
	return rc;
}

int cli_run(struct cli *c, int argc, char **argv, int *quit)
{
	struct cli_parsed p;
	struct err err;
	if (cli_parse(argc, argv, &p, &err) < 0) {
		cli_error("%s", err.msg);
		if (!c->interactive)
			fprintf(stderr, "Try 'orders-cli --help'.\n");
		return CLI_USAGE;
	}
	switch (p.cmd->id) {
	case CMD_HELP:
		cli_print_commands(stdout, p.npos ? cli_command_find(p.pos[0]) : NULL,
				   c->interactive);
		fflush(stdout);
		return CLI_OK;
	case CMD_QUIT:
	case CMD_EXIT:
		*quit = 1;
		return CLI_OK;
	case CMD_WATCH:
		return cli_watch(c, &p);
	default:
		return run_rest(c, &p);
	}
}
