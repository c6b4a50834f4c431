/* GET /api/changes?since=SEQ&limit=N&epoch=E: the change log for polling
 * clients, with the stream's own reader and gap rule (change_log.h,
 * seq_gate.h): the writer floor is measured, then a page is read, and only
 * the leading rows the gate passes are returned, so a polling client that
 * resumes from the last seq it saw can never skip a change that an open
 * transaction commits later. Stateless: each request measures its own
 * floor; no privilege beyond reading the log is needed. Events are the
 * relay's frames, byte for byte apart from `timestamp` (the time sent). */
#include "api.h"

#include "change_filter.h"
#include "change_log.h"
#include "clock.h"
#include "http.h"
#include "qs.h"
#include "query.h"
#include "seq_gate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 410 with the current position and epoch: the client reloads and polls on
 * from there. The current seq is the highest below which every change is
 * final, so polling from it skips nothing either. */
static int send_gone(struct mg_connection *c, struct db_conn *conn, long long floor,
		     const char *code, const char *why, struct err *err)
{
	struct change_log_head h;
	if (change_log_head(conn, &h, err) < 0)
		return -1;
	long long seq = h.last < floor - 1 ? h.last : floor - 1;
	if (seq < h.pruned)
		seq = h.pruned;
	char body[512];
	int n = snprintf(body, sizeof(body),
			 "{\"error\":\"%s\",\"code\":\"%s\",\"seq\":%lld,\"epoch\":\"%s\"}", why,
			 code, seq, h.epoch);
	char hdr[128];
	snprintf(hdr, sizeof(hdr), "Orders-Epoch: %s\r\n", h.epoch);
	return http_send_json(c, 410, body, (size_t)n, hdr);
}

int api_changes_list(struct mg_connection *c, struct api *api, const struct route_match *m,
		     struct err *err)
{
	(void)m;
	const char *q = mg_get_request_info(c)->query_string;
	long long since, limit;
	char epoch[CHANGE_EPOCH_MAX] = "";
	if (query_int(q, "since", 0, INT64_MAX, 0, &since, err) < 0 ||
	    query_int(q, "limit", 1, QUERY_LIMIT_MAX, QUERY_LIMIT_DEFAULT, &limit, err) < 0)
		return -1;
	int en = qs_param(q, "epoch", epoch, sizeof(epoch));
	if (en != 0 && (en < 0 || !change_epoch_valid(epoch)))
		return err_set_field(err, ERR_INVALID_QUERY, "epoch",
				     "epoch: must be the epoch a server gave (letters, digits, - "
				     "and _)");

	struct db_conn *conn = db_pool_get(api->pool, err);
	if (!conn)
		return -1;
	int rc = -1;
	long long floor;
	struct change_log_page p = {0};
	if (change_log_floor(conn, &floor, err) < 0 ||
	    change_log_read(conn, since, 0, (int)limit, &p, err) < 0)
		goto out;
	if ((epoch[0] && strcmp(epoch, p.epoch) != 0) || since > p.next - 1) {
		rc = send_gone(c, conn, floor, "epoch_changed",
			       "since belongs to another history of the change log: reload "
			       "/api/orders and poll from seq",
			       err);
		goto out;
	}
	if (p.pruned > since) {
		rc = send_gone(c, conn, floor, "history_truncated",
			       "changes after since were pruned: reload /api/orders and poll from "
			       "seq",
			       err);
		goto out;
	}
	long long *seqs = calloc((size_t)p.n + 1, sizeof(*seqs));
	if (!seqs) {
		err_set(err, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (int i = 0; i < p.n; i++)
		seqs[i] = change_log_seq(&p, i);
	struct seq_gate g;
	seq_gate_init(&g, since);
	size_t k = seq_gate_advance(&g, seqs, (size_t)p.n, floor);
	free(seqs);

	char ts[CLOCK_ISO_MAX];
	clock_iso8601_now(ts);
	struct buf b;
	buf_init(&b, 0);
	if (change_log_render_array(&p, (int)k, ts, &b, err) == 0) {
		char hdr[128];
		snprintf(hdr, sizeof(hdr), "Orders-Epoch: %s\r\n", p.epoch);
		rc = http_send_json(c, 200, b.data, b.len, hdr);
	}
	buf_release(&b);
out:
	change_log_page_release(&p);
	db_pool_put(api->pool, conn);
	return rc;
}
