#include "request.h"

#include "buf.h"
#include "http_client.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Append "?name=value" or "&name=value" when value is set. */
static int add_query(struct buf *b, const char *name, const char *value)
{
	if (!value)
		return 0;
	if (buf_printf(b, "%c%s=", strchr(b->data ? b->data : "", '?') ? '&' : '?', name) < 0)
		return -1;
	return http_url_encode(b, value);
}

int cli_build_list(const struct cli_parsed *p, struct buf *path, struct buf *body)
{
	(void)body;
	return buf_append_str(path, "/api/orders") == 0 &&
		       add_query(path, "status", cli_flag(p, "--status")) == 0 &&
		       add_query(path, "limit", cli_flag(p, "--limit")) == 0
		   ? 0
		   : -1;
}

int cli_build_history(const struct cli_parsed *p, struct buf *path, struct buf *body)
{
	(void)body;
	const char *since = cli_flag(p, "--since");
	return buf_append_str(path, "/api/changes") == 0 &&
		       add_query(path, "since", since ? since : "0") == 0 &&
		       add_query(path, "limit", cli_flag(p, "--limit")) == 0
		   ? 0
		   : -1;
}

/* get and delete: the order's own path */
int cli_build_order(const struct cli_parsed *p, struct buf *path, struct buf *body)
{
	(void)body;
	return buf_printf(path, "/api/orders/%lld", p->id);
}

int cli_build_create(const struct cli_parsed *p, struct buf *path, struct buf *body)
{
	int ok = buf_append_str(path, "/api/orders") == 0 &&
		 buf_append_str(body, "{\"customer_name\":") == 0 &&
		 buf_append_json_string(body, p->pos[0]) == 0 &&
		 buf_append_str(body, ",\"product_name\":") == 0 &&
		 buf_append_json_string(body, p->pos[1]) == 0;
	if (ok && cli_flag(p, "--status"))
		ok = buf_append_str(body, ",\"status\":") == 0 &&
		     buf_append_json_string(body, cli_flag(p, "--status")) == 0;
	return ok && buf_append_str(body, "}") == 0 ? 0 : -1;
}

int cli_build_update(const struct cli_parsed *p, struct buf *path, struct buf *body)
{
	int ok = buf_printf(path, "/api/orders/%lld", p->id) == 0 && buf_append_str(body, "{") == 0;
	for (int f = 0, first = 1; ok && f < CLI_NFIELDS; f++) {
		if (!p->field[f])
			continue;
		ok = buf_printf(body, "%s\"%s\":", first ? "" : ",", cli_field_names[f]) == 0 &&
		     buf_append_json_string(body, p->field[f]) == 0;
		first = 0;
	}
	return ok && buf_append_str(body, "}") == 0 ? 0 : -1;
}

int cli_build_health(const struct cli_parsed *p, struct buf *path, struct buf *body)
{
	(void)p;
	(void)body;
	return buf_append_str(path, "/health");
}

int cli_build_request(const struct cli_parsed *p, struct cli_request *req, struct err *err)
{
	memset(req, 0, sizeof(*req));
	if (!p->cmd->build)
		return err_set(err, ERR_BAD_REQUEST, "%s: not a REST command", p->cmd->name);
	struct buf path, body;
	buf_init(&path, 0);
	buf_init(&body, 0);
	if (p->cmd->build(p, &path, &body) < 0) {
		buf_release(&path);
		buf_release(&body);
		return err_set(err, ERR_INTERNAL, "cannot build the request");
	}
	req->method = p->cmd->method;
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
	struct http_url u;
	int bare = http_url_parse(relay, &u, NULL) == 0 && u.bare;
	int ok = buf_append_str(&b, relay) == 0 && (!bare || buf_append_str(&b, "/") == 0);
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
