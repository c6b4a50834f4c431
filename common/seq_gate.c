#include "seq_gate.h"

void seq_gate_init(struct seq_gate *g, long long cursor)
{
	g->cursor = cursor;
	g->hole = 0;
}

size_t seq_gate_advance(struct seq_gate *g, const long long *seqs, size_t n, long long floor)
{
	size_t k = 0;
	g->hole = 0;
	for (; k < n; k++) {
		long long s = seqs[k];
		if (s <= g->cursor)
			continue; /* not expected; never delivered twice */
		/* the holes g->cursor+1 .. s-1 are final when all lie below
		 * the floor, i.e. the highest of them does */
		if (s > g->cursor + 1 && s - 1 >= floor) {
			if (floor - 1 > g->cursor)
				g->cursor = floor - 1; /* the holes below it are final */
			g->hole = g->cursor + 1;
			break;
		}
		g->cursor = s;
	}
	return k;
}

int seq_gate_waiting(const struct seq_gate *g)
{
	return g->hole != 0;
}

int seq_gate_take(struct seq_gate *g, long long s)
{
	if (s != g->cursor + 1)
		return 0;
	g->cursor = s;
	if (g->hole && g->hole <= s)
		g->hole = 0;
	return 1;
}

void seq_gate_wait_next(struct seq_gate *g)
{
	g->hole = g->cursor + 1;
}

int seq_gate_floor_passes(const struct seq_gate *g, long long floor)
{
	return g->hole == 0 || g->hole < floor;
}
