/* request: the REST requests and relay URLs parsed commands stand for. */
#include "request.h"

#include "harness.h"
#include "words.h"

#include <stdlib.h>

/* Parse a line; returns 0 or -1 and leaves the message in err. */
static int parse_line(const char *line, struct cli_parsed *p, struct err *err, char ***words)
{
	int n = cli_split(line, words, err);
	return n < 0 ? -1 : cli_parse(n, *words, p, err);
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

static void test_requests(void)
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
	test_requests();
	test_watch_url();
	HARNESS_END();
}
