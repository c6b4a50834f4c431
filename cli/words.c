#include "words.h"

#include "buf.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

int cli_split(const char *line, char ***argv, struct err *err)
{
	size_t cap = 8, n = 0;
	char **v = xcalloc(cap, sizeof(*v));
	struct buf w;
	buf_init(&w, 0);
	const char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p)
			break;
		buf_reset(&w);
		int in_word = 1;
		while (in_word && *p) {
			char c = *p;
			if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
				in_word = 0;
			} else if (c == '\'') {
				const char *end = strchr(p + 1, '\'');
				if (!end)
					goto unterminated;
				if (buf_append(&w, p + 1, (size_t)(end - p - 1)) < 0)
					goto unterminated;
				p = end + 1;
			} else if (c == '"') {
				p++;
				while (*p && *p != '"') {
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
						p++;
					if (buf_append(&w, p, 1) < 0)
						goto unterminated;
					p++;
				}
				if (*p != '"')
					goto unterminated;
				p++;
			} else if (c == '\\' && p[1]) {
				if (buf_append(&w, p + 1, 1) < 0)
					goto unterminated;
				p += 2;
			} else {
				if (buf_append(&w, p, 1) < 0)
					goto unterminated;
				p++;
			}
		}
		if (n + 2 > cap) {
			cap *= 2;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = xstrdup(w.data ? w.data : "");
		v[n] = NULL;
	}
	buf_release(&w);
	*argv = v;
	return (int)n;
unterminated:
	buf_release(&w);
	v[n] = NULL;
	cli_words_free(v);
	*argv = NULL;
	return err_set(err, ERR_BAD_REQUEST, "unterminated quote");
}

void cli_words_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}
