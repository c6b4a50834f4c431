#include "complete.h"

#include "args.h"
#include "order.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static void add(struct cli_matches *m, const char *word, const char *typed)
{
	if (strncmp(word, typed, strlen(typed)) != 0)
		return;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i], word) == 0)
			return;
	m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
	m->v[m->n++] = xstrdup(word);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Complete the last item of a comma list (--status a,b,<tab>). */
static void add_list(struct cli_matches *m, const char *typed, const char *const *values,
		     size_t nvalues)
{
	const char *comma = strrchr(typed, ',');
	size_t keep = comma ? (size_t)(comma - typed + 1) : 0;
	for (size_t i = 0; i < nvalues; i++) {
		char *w = xasprintf("%.*s%s", (int)keep, typed, values[i]);
		add(m, w, typed);
		free(w);
	}
}

void cli_complete(const char *line, const char *const *ids, size_t nids, struct cli_matches *m)
{
	memset(m, 0, sizeof(*m));
	char *copy = xstrdup(line);
	char *words[64];
	size_t nw = 0;
	char *save = NULL;
	for (char *t = strtok_r(copy, " \t", &save); t && nw < 64; t = strtok_r(NULL, " \t", &save))
		words[nw++] = t;
	size_t len = strlen(line);
	int fresh = len == 0 || line[len - 1] == ' ' || line[len - 1] == '\t';
	const char *typed = fresh ? "" : words[nw - 1];
	size_t index = fresh ? nw : nw - 1; /* index of the word being completed */
	m->prefix = strlen(typed);
	const char *statuses[ORDER_STATUS_COUNT];
	for (int i = 0; i < ORDER_STATUS_COUNT; i++)
		statuses[i] = order_status_name((enum order_status)i);
	static const char *const ops[] = {"INSERT", "UPDATE", "DELETE"};

	if (index == 0) {
		for (size_t i = 0; i < cli_ncommands; i++)
			add(m, cli_commands[i].name, typed);
		goto out;
	}
	const struct cli_command *cmd = cli_command_find(words[0]);
	if (!cmd)
		goto out;
	const char *prev = words[index - 1];
	if (cmd->command_arg) {
		if (index == 1)
			for (size_t i = 0; i < cli_ncommands; i++)
				add(m, cli_commands[i].name, typed);
		goto out;
	}
	if (index >= 2 && strcmp(prev, "--status") == 0) {
		add_list(m, typed, statuses, ORDER_STATUS_COUNT);
		goto out;
	}
	if (index >= 2 && strcmp(prev, "--operation") == 0) {
		add_list(m, typed, ops, 3);
		goto out;
	}
	if (index >= 2 && strcmp(prev, "--id") == 0) {
		for (size_t i = 0; i < nids; i++)
			add(m, ids[i], typed);
		goto out;
	}
	if (index >= 2 && (strcmp(prev, "--since") == 0 || strcmp(prev, "--limit") == 0))
		goto out;
	if (typed[0] == '-') {
		for (int i = 0; i < CLI_MAX_FLAGS && cmd->flags[i]; i++)
			add(m, cmd->flags[i], typed);
		for (int i = 0; i < CLI_MAX_BOOLS && cmd->bools[i]; i++)
			add(m, cmd->bools[i], typed);
		if (cmd->json_from)
			add(m, "--json", typed);
		goto out;
	}
	if (cmd->id_arg && index == 1) {
		for (size_t i = 0; i < nids; i++)
			add(m, ids[i], typed);
		goto out;
	}
	if (cmd->takes_fields && index >= 2) {
		if (strncmp(typed, "status=", 7) == 0) {
			for (int i = 0; i < ORDER_STATUS_COUNT; i++) {
				char *w = xasprintf("status=%s", statuses[i]);
				add(m, w, typed);
				free(w);
			}
		} else {
			for (int i = 0; i < CLI_NFIELDS; i++) {
				char *w = xasprintf("%s=", cli_field_names[i]);
				add(m, w, typed);
				free(w);
			}
		}
	}
out:
	if (m->n > 1)
		qsort(m->v, m->n, sizeof(*m->v), cmp);
	free(copy);
}

void cli_matches_release(struct cli_matches *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i]);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

size_t cli_matches_common(const struct cli_matches *m)
{
	if (!m->n)
		return 0;
	size_t n = strlen(m->v[0]);
	for (size_t i = 1; i < m->n; i++) {
		size_t k = 0;
		while (k < n && m->v[i][k] == m->v[0][k])
			k++;
		n = k;
	}
	return n;
}
