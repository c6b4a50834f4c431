/* args: parsing against the command table; what each row's parse refuses. */
#include "args.h"

#include "words.h"

#include "harness.h"

#include <stdlib.h>

/* Parse a line; returns 0 or -1 and leaves the message in err. */
static int parse_line(const char *line, struct cli_parsed *p, struct err *err, char ***words)
{
	int n = cli_split(line, words, err);
	return n < 0 ? -1 : cli_parse(n, *words, p, err);
}

static void expect_usage(const char *line, const char *needle)
{
	struct cli_parsed p;
	struct err err;
	char **w = NULL;
	int rc = parse_line(line, &p, &err, &w);
	CHECK(rc == -1);
	if (rc == -1 && !strstr(err.msg, needle))
		fprintf(stderr, "  '%s': message '%s' lacks '%s'\n", line, err.msg, needle);
	CHECK(rc == -1 && strstr(err.msg, needle) != NULL);
	cli_words_free(w);
}

static void test_parse(void)
{
	struct cli_parsed p;
	struct err err;
	char **w = NULL;
	CHECK(parse_line("list --json --status=x", &p, &err, &w) == 0 && p.json == 1 &&
	      strcmp(cli_flag(&p, "--status"), "x") == 0 && cli_flag(&p, "--limit") == NULL);
	cli_words_free(w);
	CHECK(parse_line("create -- --dash -x", &p, &err, &w) == 0 &&
	      strcmp(p.pos[0], "--dash") == 0 && strcmp(p.pos[1], "-x") == 0);
	cli_words_free(w);
	CHECK(parse_line("help update", &p, &err, &w) == 0 && p.npos == 1);
	cli_words_free(w);
	/* --sse is an ordinary boolean flag of the watch row, anywhere */
	CHECK(parse_line("watch --sse --since 3", &p, &err, &w) == 0 && cli_bool(&p, "--sse") &&
	      strcmp(cli_flag(&p, "--since"), "3") == 0);
	cli_words_free(w);
	CHECK(parse_line("watch --since 3", &p, &err, &w) == 0 && !cli_bool(&p, "--sse"));
	cli_words_free(w);

	expect_usage("frobnicate", "unknown command 'frobnicate'");
	expect_usage("list --bogus", "unknown option '--bogus'");
	expect_usage("list --status", "needs a value");
	expect_usage("list --limit 1 --limit 2", "given twice");
	expect_usage("list extra", "unexpected argument 'extra'");
	expect_usage("get", "missing argument ID");
	expect_usage("get abc", "cannot parse order id 'abc'");
	expect_usage("get 0", "cannot parse order id '0'");
	expect_usage("get -5", "cannot parse order id '-5'");
	expect_usage("get 1 2", "unexpected argument '2'");
	expect_usage("create OnlyOne", "missing argument PRODUCT");
	expect_usage("update 7", "give at least one of");
	expect_usage("update 7 colour=red", "colour: unknown field");
	expect_usage("update 7 id=3", "id: is read-only");
	expect_usage("update 7 shipped", "expected field=value");
	expect_usage("update 7 status=a status=b", "given twice");
	expect_usage("watch --since abc", "--since: must be a whole number");
	expect_usage("watch --id 0", "--id: must be a positive integer");
	expect_usage("watch --status pending,bogus", "--status: must be a comma list");
	expect_usage("watch --operation INSERT,MERGE", "--operation: must be a comma list");
	expect_usage("help nothing", "help: unknown command 'nothing'");
	expect_usage("watch --sse=1", "option '--sse' takes no value");
	expect_usage("list --sse", "unknown option '--sse'");
}

/* Every row is complete: a REST row builds and formats, any other runs. */
static void test_table(void)
{
	for (size_t i = 0; i < cli_ncommands; i++) {
		const struct cli_command *k = &cli_commands[i];
		CHECK(k->name && k->synopsis && k->help);
		CHECK(cli_command_find(k->name) == k);
		CHECK(k->run ? !k->build && !k->format : k->build && k->format && k->method);
		CHECK(k->npos_required <= k->npos_max && k->npos_max <= CLI_MAX_POS);
	}
}

int main(void)
{
	test_table();
	test_parse();
	HARNESS_END();
}
