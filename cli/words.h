/* words: splitting a shell or script line into words, with no I/O.
 * Unit-tested by tests/unit/test_words.c. */
#ifndef ORDERS_CLI_WORDS_H
#define ORDERS_CLI_WORDS_H

#include "err.h"

/* Split a shell line into words: blanks separate, '...' is literal, "..."
 * allows \" and \\, a backslash outside quotes escapes the next character.
 * Returns the number of words with *argv a NULL-terminated array (free
 * with cli_words_free), or -1 with err for an unterminated quote. */
int cli_split(const char *line, char ***argv, struct err *err) __attribute__((warn_unused_result));
void cli_words_free(char **argv);

#endif
