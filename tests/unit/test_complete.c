/* complete: shell completion of commands, flags, status values, update
 * fields, operations and order ids from the command table. */
#include "complete.h"

#include "buf.h"
#include "harness.h"

/* Completion of line: the candidates joined by spaces. */
static void expect_complete(const char *line, const char *want)
{
	static const char *const ids[] = {"7", "12", "120"};
	struct cli_matches m;
	struct buf b;
	buf_init(&b, 0);
	cli_complete(line, ids, 3, &m);
	for (size_t i = 0; i < m.n; i++)
		CHECK(buf_printf(&b, "%s%s", i ? " " : "", m.v[i]) == 0);
	CHECK_STR(b.data ? b.data : "", want);
	cli_matches_release(&m);
	buf_release(&b);
}

static void test_complete(void)
{
	expect_complete("", "create delete exit get health help history list quit update watch");
	expect_complete("h", "health help history");
	expect_complete("li", "list");
	expect_complete("list -", "--json --limit --status");
	expect_complete("list --st", "--status");
	expect_complete("list --status ", "cancelled delivered pending processing shipped");
	expect_complete("list --status p", "pending processing");
	expect_complete("watch --status pending,s", "pending,shipped");
	expect_complete("watch --operation ", "DELETE INSERT UPDATE");
	expect_complete("get 1", "12 120");
	expect_complete("watch --id ", "12 120 7");
	expect_complete("update 7 ", "customer_name= product_name= status=");
	expect_complete("update 7 status=sh", "status=shipped");
	expect_complete("help up", "update");
	expect_complete("bogus ", "");
	expect_complete("create Ann ", "");
	struct cli_matches m;
	cli_complete("list --status p", NULL, 0, &m);
	CHECK(m.prefix == 1 && cli_matches_common(&m) == 1);
	cli_matches_release(&m);
	cli_complete("h", NULL, 0, &m);
	CHECK(cli_matches_common(&m) == 1);
	cli_matches_release(&m);
	cli_complete("his", NULL, 0, &m);
	CHECK(m.n == 1 && m.prefix == 3 && cli_matches_common(&m) == 7);
	cli_matches_release(&m);
}

int main(void)
{
	test_complete();
	HARNESS_END();
}
