#include "seq_gate.h"

#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int parse_u64(const char **p, uint64_t *out)
{
	if (!isdigit((unsigned char)**p))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(*p, &end, 10);
	if (errno)
		return -1;
	*out = v;
	*p = end;
	return 0;
}

int seq_snapshot_parse(const char *text, struct seq_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	const char *p = text;
	if (parse_u64(&p, &snap->xmin) < 0 || *p++ != ':' || parse_u64(&p, &snap->xmax) < 0 ||
	    *p++ != ':')
		return -1;
	size_t cap = 0;
	while (*p) {
		uint64_t x;
		if (parse_u64(&p, &x) < 0)
			goto fail;
		if (snap->nxip == cap) {
			cap = cap ? cap * 2 : 8;
			snap->xip = xrealloc(snap->xip, cap * sizeof(*snap->xip));
		}
		snap->xip[snap->nxip++] = x;
		if (*p == ',')
			p++;
		else if (*p)
			goto fail;
	}
	return 0;
fail:
	seq_snapshot_release(snap);
	return -1;
}

void seq_snapshot_release(struct seq_snapshot *snap)
{
	free(snap->xip);
	snap->xip = NULL;
	snap->nxip = 0;
}

int seq_snapshot_in_progress(const struct seq_snapshot *snap, uint64_t xid)
{
	if (xid >= snap->xmax)
		return 1;
	if (xid < snap->xmin)
		return 0;
	for (size_t i = 0; i < snap->nxip; i++)
		if (snap->xip[i] == xid)
			return 1;
	return 0;
}

void seq_gate_init(struct seq_gate *g, long long cursor)
{
	memset(g, 0, sizeof(*g));
	g->cursor = cursor;
}

void seq_gate_release(struct seq_gate *g)
{
	free(g->wait);
	g->wait = NULL;
	g->nwait = 0;
	g->hole = 0;
}

size_t seq_gate_still_running(uint64_t *set, size_t *n, const struct seq_snapshot *snap)
{
	size_t k = 0;
	for (size_t i = 0; i < *n; i++)
		if (seq_snapshot_in_progress(snap, set[i]))
			set[k++] = set[i];
	*n = k;
	return k;
}

static void gate_clear(struct seq_gate *g)
{
	g->hole = 0;
	g->nwait = 0;
	g->lo = g->hi = 0;
	g->need_bound = 0;
}

/* Narrow the unlisted range [lo, hi) with a later snapshot. */
static void range_narrow(struct seq_gate *g, const struct seq_snapshot *snap)
{
	if (g->hi == 0 || g->lo >= g->hi)
		return;
	if (snap->xmin > g->lo)
		g->lo = snap->xmin;
	if (g->lo >= g->hi)
		return;
	if (snap->xmax < g->hi)
		return; /* some xid of the range may still be running above xmax */
	for (size_t i = 0; i < snap->nxip; i++)
		if (snap->xip[i] >= g->lo && snap->xip[i] < g->hi)
			return;
	g->lo = g->hi; /* none of the range is in progress */
}

int seq_gate_needs_bound(const struct seq_gate *g)
{
	return g->hole != 0 && g->need_bound;
}

void seq_gate_set_bound(struct seq_gate *g, uint64_t xid)
{
	if (!g->need_bound)
		return;
	g->hi = xid > g->lo ? xid : g->lo;
	if (g->hi == 0)
		g->hi = 1;
	g->need_bound = 0;
}

size_t seq_gate_advance(struct seq_gate *g, const long long *seqs, size_t n,
			const struct seq_snapshot *snap)
{
	size_t i = 0;
	for (; i < n; i++) {
		long long expect = g->cursor + 1;
		if (seqs[i] <= g->cursor)
			continue; /* cannot happen with `seq > cursor`; be safe */
		if (seqs[i] == expect) {
			g->cursor = expect;
			if (g->hole && g->hole <= g->cursor)
				gate_clear(g);
			continue;
		}
		/* a hole at expect, below the visible row seqs[i] */
		if (g->hole == expect) {
			seq_gate_still_running(g->wait, &g->nwait, snap);
			range_narrow(g, snap);
		} else {
			g->hole = expect;
			g->wait =
			    xrealloc(g->wait, (snap->nxip ? snap->nxip : 1) * sizeof(*g->wait));
			if (snap->nxip)
				memcpy(g->wait, snap->xip, snap->nxip * sizeof(*g->wait));
			g->nwait = snap->nxip;
			g->lo = snap->xmax;
			g->hi = 0;
			g->need_bound = 1;
		}
		if (g->nwait > 0 || g->need_bound || g->lo < g->hi)
			return i; /* wait: an open transaction may still fill it */
		gate_clear(g);
		g->cursor = seqs[i]; /* pass the hole and deliver this row */
	}
	if (n == 0 || i == n)
		gate_clear(g);
	return i;
}

int seq_gate_waiting(const struct seq_gate *g)
{
	return g->hole != 0;
}
