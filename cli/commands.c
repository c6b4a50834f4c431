/* commands: run one parsed command: a REST row's request against the API
 * and its answer printed, or the row's own run function; help and quit. */
#include "cli.h"

#include "http_client.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

void cli_print_commands(FILE *out, const struct cli_command *cmd, int shell)
{
	if (cmd) {
		fprintf(out, "usage: %s%s%s\n  %s\n", cmd->name, *cmd->synopsis ? " " : "",
			cmd->synopsis, cmd->help);
		if (cmd->json_from)
			fprintf(out, "  --json prints the %s's JSON instead of a table\n",
				cmd->json_from);
		if (cmd->help_more)
			fputs(cmd->help_more, out);
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
	    .insecure = c->insecure,
	};
	if (http_client_request(&hr, &resp, &err) < 0) {
		cli_error("%s", err.msg);
		goto out;
	}
	int ok = resp.status >= 200 && resp.status < 300;
	int shown = p->cmd->shown_status && resp.status == p->cmd->shown_status;
	if (!ok && !shown) {
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
		if (p->cmd->format(doc, &o, &out) == 0) {
			if (p->cmd->done)
				fprintf(stderr, "%s order %s\n", p->cmd->done,
					fmt_member(doc, "id"));
			fflush(stderr);
			if (out.len) /* {} from health prints nothing; data is NULL then */
				fwrite(out.data, 1, out.len, stdout);
		}
		buf_release(&out);
		if (p->cmd->more_note && http_response_header(&resp, "Link"))
			fprintf(stderr, "%s\n", p->cmd->more_note);
	}
	fflush(stdout);
	json_object_put(doc);
	rc = shown ? CLI_FAIL : CLI_OK;
out:
	free(url);
	cli_request_release(&req);
	http_response_release(&resp);
	return rc;
}

int cli_help(struct cli *c, const struct cli_parsed *p)
{
	cli_print_commands(stdout, p->npos ? cli_command_find(p->pos[0]) : NULL, c->interactive);
	fflush(stdout);
	return CLI_OK;
}

int cli_quit(struct cli *c, const struct cli_parsed *p)
{
	(void)p;
	c->quit = 1;
	return CLI_OK;
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
	c->quit = 0;
	int rc = p.cmd->run ? p.cmd->run(c, &p) : run_rest(c, &p);
	*quit = c->quit;
	return rc;
}
