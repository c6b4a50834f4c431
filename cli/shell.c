/* shell: the interactive face (libedit: prompt, history, completion) and
 * the script face (one command per line from a pipe or file). */
#include "cli.h"

#include "complete.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#define HISTORY_FILE ".orders_cli_history"
#define HISTORY_SIZE 1000

/* Run one line: split it into words, run them. */
static int run_line(struct cli *c, const char *line, int *quit)
{
	char **argv;
	struct err err;
	int argc = cli_split(line, &argv, &err);
	if (argc < 0) {
		cli_error("%s", err.msg);
		return CLI_USAGE;
	}
	int rc = argc ? cli_run(c, argc, argv, quit) : CLI_OK;
	cli_words_free(argv);
	return rc;
}

int cli_script(struct cli *c, FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	int rc = CLI_OK, quit = 0;
	while (!quit && !cli_terminated && getline(&line, &cap, in) >= 0) {
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#')
			continue;
		int r = run_line(c, p, &quit);
		if (r != CLI_OK)
			rc = r;
	}
	free(line);
	return rc;
}

static char *history_path(void)
{
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	return home ? xasprintf("%s/%s", home, HISTORY_FILE) : NULL;
}

/* Save the history readable by its owner only. */
static void history_save(History *h, const char *path)
{
	HistEvent ev;
	if (!path)
		return;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (fchmod(fd, 0600) < 0)
			fprintf(stderr, "warning: cannot restrict %s: %s\n", path, strerror(errno));
		close(fd);
	}
	if (history(h, &ev, H_SAVE, path) < 0)
		fprintf(stderr, "warning: cannot save history to %s\n", path);
}

static const char *prompt(EditLine *el)
{
	(void)el;
	return "orders> ";
}

/* Tab: complete the word left of the cursor from the command table. */
static unsigned char complete(EditLine *el, int ch)
{
	(void)ch;
	struct cli *c = NULL;
	el_get(el, EL_CLIENTDATA, &c);
	const LineInfo *li = el_line(el);
	char *left = xstrndup(li->buffer, (size_t)(li->cursor - li->buffer));
	struct cli_matches m;
	cli_complete(left, (const char *const *)c->ids, c->nids, &m);
	free(left);
	unsigned char rc = CC_REFRESH;
	if (m.n == 0) {
		rc = CC_REFRESH_BEEP;
	} else if (m.n == 1) {
		const char *w = m.v[0];
		size_t wl = strlen(w);
		char *ins = xasprintf("%s%s", w + m.prefix, wl && w[wl - 1] == '=' ? "" : " ");
		if (*ins && el_insertstr(el, ins) < 0)
			rc = CC_ERROR;
		free(ins);
	} else {
		size_t common = cli_matches_common(&m);
		if (common > m.prefix) {
			char *ins = xstrndup(m.v[0] + m.prefix, common - m.prefix);
			if (el_insertstr(el, ins) < 0)
				rc = CC_ERROR;
			free(ins);
		} else {
			fputc('\n', stdout);
			for (size_t i = 0; i < m.n; i++)
				fprintf(stdout, "%s%s", i ? "  " : "", m.v[i]);
			fputc('\n', stdout);
			fflush(stdout);
			rc = CC_REDISPLAY;
		}
	}
	cli_matches_release(&m);
	return rc;
}

static void on_sigint(int sig)
{
	(void)sig;
	cli_stop = 1;
}

int cli_shell(struct cli *c)
{
	HistEvent ev;
	char *hpath = history_path();
	History *h = history_init();
	history(h, &ev, H_SETSIZE, HISTORY_SIZE);
	history(h, &ev, H_SETUNIQUE, 1);
	if (hpath)
		history(h, &ev, H_LOAD, hpath);

	EditLine *el = el_init("orders-cli", stdin, stdout, stderr);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_SIGNAL, 1);
	el_set(el, EL_PROMPT, prompt);
	el_set(el, EL_HIST, history, h);
	el_set(el, EL_CLIENTDATA, c);
	/* the wide variant: el_set's EL_ADDFN leaks its wcsdup'ed copies */
	el_wset(el, EL_ADDFN, L"orders-complete", L"complete an orders-cli word", complete);
	el_set(el, EL_BIND, "^I", "orders-complete", NULL);
	el_source(el, NULL);

	/* Ctrl-C at the prompt: el_gets returns with EINTR and the line is
	 * dropped; during a command it stops watch (see watch.c). */
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);

	c->interactive = 1;
	fprintf(stderr,
		"orders-cli %s: API %s, relay %s. Type 'help' for commands, Ctrl-D to "
		"leave.\n",
		ORDERS_VERSION, c->api, c->relay);
	int quit = 0, rc = CLI_OK;
	while (!quit && !cli_terminated) {
		int count = 0;
		cli_stop = 0;
		errno = 0;
		const char *line = el_gets(el, &count);
		if (!line) {
			if (count < 0 && (errno == EINTR || cli_stop)) {
				fputc('\n', stdout);
				fflush(stdout);
				continue;
			}
			fputc('\n', stdout);
			break;
		}
		char *copy = xstrdup(line);
		size_t n = strlen(copy);
		while (n && (copy[n - 1] == '\n' || copy[n - 1] == '\r'))
			copy[--n] = '\0';
		const char *p = copy;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p) {
			history(h, &ev, H_ENTER, copy);
			history_save(h, hpath);
			rc = run_line(c, p, &quit);
		}
		free(copy);
	}
	sigaction(SIGINT, &old, NULL);
	history_save(h, hpath);
	el_end(el);
	history_end(h);
	free(hpath);
	(void)rc;
	return CLI_OK;
}
