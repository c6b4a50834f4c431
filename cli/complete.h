/* complete: tab-completion candidates for the shell, from the command
 * table: commands, their flags, status values, update fields, operations
 * and order ids seen in this session. Pure; unit-tested by
 * tests/unit/test_complete.c. */
#ifndef ORDERS_CLI_COMPLETE_H
#define ORDERS_CLI_COMPLETE_H

#include <stddef.h>

struct cli_matches {
	char **v; /* full candidate words, sorted, unique */
	size_t n;
	size_t prefix; /* bytes of the word under the cursor already typed */
};

/* Candidates for the word that ends at the end of `line` (the text left of
 * the cursor). ids: order ids seen so far. Release with
 * cli_matches_release. */
void cli_complete(const char *line, const char *const *ids, size_t nids, struct cli_matches *m);
void cli_matches_release(struct cli_matches *m);
/* Length of the prefix all matches share. */
size_t cli_matches_common(const struct cli_matches *m);

#endif
