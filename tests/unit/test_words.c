/* words: splitting shell lines into words, quotes and escapes. */
#include "words.h"

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

int main(void)
{
	test_split();
	HARNESS_END();
}
