/* The CLI's command line as the shell reads it: cli/words.c splits the
 * line into words, cli/args.c parses them against the command table, and
 * cli/request.c builds the REST request or the relay URL from the result:
 * a path and URL with nothing unencoded, a body that is JSON. */
#include "fuzz.h"

#include "args.h"
#include "buf.h"
#include "json.h"
#include "request.h"
#include "utf8.h"
#include "words.h"

static void check_url_text(const char *s)
{
	for (; *s; s++)
		FUZZ_ASSERT((unsigned char)*s > ' ' && (unsigned char)*s < 0x7f);
}

static void check_parsed(const struct cli_parsed *p)
{
	FUZZ_ASSERT(p->cmd && cli_command_find(p->cmd->name) == p->cmd);
	FUZZ_ASSERT(p->npos >= p->cmd->npos_required && p->npos <= p->cmd->npos_max);
	if (p->cmd->id_arg)
		FUZZ_ASSERT(p->id > 0);
	if (p->cmd->build) {
		struct cli_request req;
		struct err e;
		err_clear(&e);
		FUZZ_ASSERT(cli_build_request(p, &req, &e) == 0);
		FUZZ_ASSERT(req.path && req.path[0] == '/');
		check_url_text(req.path);
		if (req.body && utf8_valid_text(req.body, strlen(req.body))) {
			struct json_object *o = json_parse_object(req.body, strlen(req.body), &e);
			FUZZ_ASSERT(o);
			json_object_put(o);
		}
		cli_request_release(&req);
	} else if (strcmp(p->cmd->name, "watch") == 0) {
		char *url = cli_watch_url("ws://localhost:8080", p, 7, "e1");
		check_url_text(url);
		free(url);
	}
}

/* Words quoted back ('...', with '\'' for a quote) split to themselves. */
static void requote(char **argv, int argc)
{
	struct buf line;
	buf_init(&line, 0);
	for (int i = 0; i < argc; i++) {
		FUZZ_ASSERT(buf_append_str(&line, i ? " '" : "'") == 0);
		for (const char *c = argv[i]; *c; c++)
			FUZZ_ASSERT((*c == '\'' ? buf_append_str(&line, "'\\''")
						: buf_append(&line, c, 1)) == 0);
		FUZZ_ASSERT(buf_append_str(&line, "'") == 0);
	}
	char **again = NULL;
	struct err e;
	FUZZ_ASSERT(cli_split(line.data ? line.data : "", &again, &e) == argc);
	for (int i = 0; i < argc; i++)
		FUZZ_ASSERT(strcmp(again[i], argv[i]) == 0);
	cli_words_free(again);
	buf_release(&line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *line = fuzz_cstr(data, size);
	char **argv = NULL;
	struct err e;
	err_clear(&e);
	int argc = cli_split(line, &argv, &e);
	if (argc < 0) {
		FUZZ_ASSERT(!argv && e.kind == ERR_BAD_REQUEST);
		free(line);
		return 0;
	}
	FUZZ_ASSERT(argv && !argv[argc]);
	for (int i = 0; i < argc; i++)
		FUZZ_ASSERT(argv[i] && strlen(argv[i]) <= strlen(line));
	requote(argv, argc);
	struct cli_parsed p;
	err_clear(&e);
	if (cli_parse(argc, argv, &p, &e) == 0)
		check_parsed(&p);
	else
		FUZZ_ASSERT(e.kind == ERR_BAD_REQUEST && e.msg[0]);
	cli_words_free(argv);
	free(line);
	return 0;
}
