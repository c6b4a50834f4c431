/* args: word splitting, parsing against the command table, and the
 * requests and relay URLs built. */
#include "args.h"

#include "harness.h"

#include <stdlib.h>

static int split(const char *line, char ***argv)
{
	struct err err;
	return cli_split(line, argv, &err);
}

static void test_split(void)
{
	char **v;
	CHECK(split("  create \"John Doe\" 'Laptop Pro'  --status=shipped ", &v) == 4);
	CHECK_STR(v[0], "create");
	CHECK_STR(v[1], "John Doe");
	CHECK_STR(v[2], "Laptop Pro");
	CHECK_STR(v[3], "--status=shipped");
	CHECK(v[4] == NULL);
	cli_words_free(v);
	CHECK(split("update 7 customer_name=O\\'Brien product_name=\"a \\\"b\\\"\"", &v) == 4);
	CHECK_STR(v[2], "customer_name=O'Brien");
	CHECK_STR(v[3], "product_name=a \"b\"");
	cli_words_free(v);
	CHECK(split("x ''", &v) == 2);
	CHECK_STR(v[1], "");
	cli_words_free(v);
	CHECK(split("   ", &v) == 0 && v[0] == NULL);
	cli_words_free(v);
	CHECK(split("create \"unterminated", &v) == -1 && v == NULL);
	CHECK(split("create 'x", &v) == -1);
}

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

static void expect_request(const char *line, const char *method, const char *path, const char *body)
{
	struct cli_parsed p;
	struct cli_request req;
	struct err err;
	char **w = NULL;
	CHECK(parse_line(line, &p, &err, &w) == 0);
	if (w && cli_build_request(&p, &req, &err) == 0) {
		CHECK_STR(req.method, method);
		CHECK_STR(req.path, path);
		if (body)
			CHECK_STR(req.body, body);
		else
			CHECK(req.body == NULL);
		cli_request_release(&req);
	} else {
		CHECK(!"request built");
		fprintf(stderr, "  '%s': %s\n", line, err.msg);
	}
	cli_words_free(w);
}

static void test_parse(void)
{
	expect_request("list", "GET", "/api/orders", NULL);
	expect_request("list --status pending --limit=5", "GET",
		       "/api/orders?status=pending&limit=5", NULL);
	expect_request("list --status 'a b&c'", "GET", "/api/orders?status=a%20b%26c", NULL);
	expect_request("get 42", "GET", "/api/orders/42", NULL);
	expect_request("delete 42 --json", "DELETE", "/api/orders/42", NULL);
	expect_request("create 'John Doe' Laptop", "POST", "/api/orders",
		       "{\"customer_name\":\"John Doe\",\"product_name\":\"Laptop\"}");
	expect_request("create A \"B \\\"q\\\"\" --status shipped", "POST", "/api/orders",
		       "{\"customer_name\":\"A\",\"product_name\":\"B \\\"q\\\"\","
		       "\"status\":\"shipped\"}");
	expect_request("update 7 status=shipped", "PUT", "/api/orders/7",
		       "{\"status\":\"shipped\"}");
	expect_request(
	    "update 7 product_name=Desk customer_name=Ann status=bogus", "PUT", "/api/orders/7",
	    "{\"customer_name\":\"Ann\",\"product_name\":\"Desk\",\"status\":\"bogus\"}");
	expect_request("update 7 product_name=", "PUT", "/api/orders/7", "{\"product_name\":\"\"}");
	expect_request("history", "GET", "/api/changes?since=0", NULL);
	expect_request("history --since 10 --limit 3", "GET", "/api/changes?since=10&limit=3",
		       NULL);
	expect_request("health", "GET", "/health", NULL);

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
}

static void test_watch_url(void)
{
	struct cli_parsed p;
	struct err err;
	char **w = NULL;
	CHECK(parse_line("watch", &p, &err, &w) == 0);
	char *u = cli_watch_url("ws://localhost:8080", &p, -1, "e1");
	CHECK_STR(u, "ws://localhost:8080/");
	free(u);
	u = cli_watch_url("ws://localhost:8080", &p, 0, NULL);
	CHECK_STR(u, "ws://localhost:8080/?since=0");
	free(u);
	cli_words_free(w);
	CHECK(
	    parse_line("watch --status pending,shipped --id 7 --operation insert,update --since 4",
		       &p, &err, &w) == 0);
	u = cli_watch_url("ws://h:1/ws", &p, 12, "ab12");
	CHECK_STR(u, "ws://h:1/ws?since=12&epoch=ab12&status=pending%2Cshipped&id=7&operation="
		     "INSERT%2CUPDATE");
	free(u);
	cli_words_free(w);
	u = cli_join_url("http://h:3000//", "/api/orders");
	CHECK_STR(u, "http://h:3000/api/orders");
	free(u);
}

int main(void)
{
	test_split();
	test_parse();
	test_watch_url();
	HARNESS_END();
}
