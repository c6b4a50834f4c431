/* session: the state one orders-cli run keeps across commands (the ids
 * seen, for completion; the stop flags) and the output helpers every
 * command uses. */
#include "cli.h"

#include "xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

volatile sig_atomic_t cli_stop;
volatile sig_atomic_t cli_terminated;

void cli_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "error: %s\n", msg);
}

void cli_fmt_opts(const struct cli *c, struct fmt_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->color = c->color;
	o->now = time(NULL);
	struct winsize ws;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		o->width = ws.ws_col;
}

void cli_remember_id(struct cli *c, const char *id)
{
	if (!id)
		return;
	for (size_t i = 0; i < c->nids; i++)
		if (strcmp(c->ids[i], id) == 0)
			return;
	if (c->nids == CLI_MAX_IDS) {
		free(c->ids[0]);
		memmove(c->ids, c->ids + 1, (c->nids - 1) * sizeof(*c->ids));
		c->nids--;
	}
	c->ids = xrealloc(c->ids, (c->nids + 1) * sizeof(*c->ids));
	c->ids[c->nids++] = xstrdup(id);
}

void cli_release(struct cli *c)
{
	for (size_t i = 0; i < c->nids; i++)
		free(c->ids[i]);
	free(c->ids);
	c->ids = NULL;
	c->nids = 0;
}
