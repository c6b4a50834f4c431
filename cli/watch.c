/* watch: follow the relay's change stream, resuming with since=<last seq>
 * after any disconnect so that no event is skipped or printed twice.
 *
 * States: CONNECTING -> STREAMING -> (lost) BACKOFF -> CONNECTING ...;
 * any state -> STOPPED when cli_stop is set (Ctrl-C, SIGTERM). A first
 * connection that fails, or a handshake the server refuses (401, 403,
 * 404), ends the command with exit code 1.
 *
 * The pause before a reconnect doubles from 100 ms to 5 s and starts
 * again at 100 ms only after a connection proved itself: it carried an
 * order_change or a heartbeat, or stayed up WATCH_STABLE_MS. A hello alone
 * proves nothing (a relay that accepts and hangs up says hello too). */
#include "change_filter.h"
#include "cli.h"

#include "clock.h"
#include "http_client.h"
#include "json.h"
#include "sse_client.h"
#include "utf8.h"
#include "ws_client.h"
#include "xalloc.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WATCH_STABLE_MS 10000

static void on_stop(int sig)
{
	cli_stop = 1;
	if (sig == SIGTERM)
		cli_terminated = 1;
}

/* Sleep ms unless stopped; signals cut it short. */
static void pause_ms(int ms)
{
	long long end = clock_now_ms() + ms;
	while (!cli_stop && clock_now_ms() < end)
		poll(NULL, 0, (int)(end - clock_now_ms()));
}

static long long member_seq(struct json_object *msg)
{
	struct json_object *v;
	if (!json_object_object_get_ex(msg, "seq", &v) || !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}

/* Keep the epoch a hello or resync names, when the message gives a valid
 * one (a hostile relay cannot inject query text). The first hello sets it;
 * a later hello of another epoch means the relay lost the history we hold,
 * which the resync that follows reports. */
static void remember_epoch(char epoch[CHANGE_EPOCH_MAX], struct json_object *msg)
{
	const char *e = fmt_member(msg, "epoch");
	const char *type = fmt_member(msg, "type");
	if (!e || !change_epoch_valid(e))
		return;
	if (!epoch[0] || (type && strcmp(type, "resync") == 0))
		snprintf(epoch, CHANGE_EPOCH_MAX, "%s", e);
}

/* One connection to the stream, over either transport. */
struct stream {
	struct ws_client *ws;
	struct sse_client *sse;
};

/* The relay's /events for a WebSocket URL: ws://h:p/?q -> http://h:p/events?q,
 * wss:// -> https:// (the path / or /ws becomes /events). Caller frees; NULL with err for a
 * URL http_url_parse refuses. */
static char *sse_url(const char *ws_url, struct err *err)
{
	struct http_url u;
	if (http_url_parse(ws_url, &u, err) < 0)
		return NULL;
	const char *query = u.target + strcspn(u.target, "?");
	size_t plen = (size_t)(query - u.target);
	/* drop a trailing "/ws" or "/" */
	if (plen >= 3 && strncmp(u.target + plen - 3, "/ws", 3) == 0)
		plen -= 3;
	else if (plen >= 1 && u.target[plen - 1] == '/')
		plen -= 1;
	snprintf(u.scheme, sizeof(u.scheme), "%s", u.tls ? "https" : "http");
	char origin[300];
	return xasprintf("%s%.*s/events%s", http_url_origin(&u, origin, sizeof(origin)), (int)plen,
			 u.target, query);
}

static int stream_open(struct stream *s, const char *url, int sse, const char *const *headers,
		       int insecure, struct err *err)
{
	memset(s, 0, sizeof(*s));
	if (!sse) {
		s->ws = ws_client_connect(url, headers, 5000, insecure, err);
		return s->ws ? 0 : -1;
	}
	char *u = sse_url(url, err);
	if (!u)
		return -1;
	s->sse = sse_client_connect(u, headers, 5000, insecure, err);
	free(u);
	return s->sse ? 0 : -1;
}

/* Like ws_client_read: 1 with the JSON text of the next message, 0 on
 * timeout, -1 when the stream ended (the relay's own `event: error` too). */
static int stream_read(struct stream *s, const char **data, size_t *len, struct err *err)
{
	if (s->ws) {
		struct ws_message m;
		int r = ws_client_read(s->ws, 1000, &m, err);
		if (r == 1) {
			*data = (const char *)m.data;
			*len = m.len;
		}
		return r;
	}
	struct sse_event ev;
	int r = sse_client_read(s->sse, 1000, &ev, err);
	if (r == 1 && strcmp(ev.type, "error") == 0) {
		struct json_object *doc = json_parse_object(ev.data, ev.len, NULL);
		struct json_object *code = NULL;
		const char *reason = fmt_member(doc, "reason");
		char shown[128];
		utf8_printable(shown, sizeof(shown), reason ? reason : "",
			       reason ? strlen(reason) : 0);
		err_set(err, ERR_UNAVAILABLE, "closed by server: %d %s",
			doc && json_object_object_get_ex(doc, "code", &code)
			    ? json_object_get_int(code)
			    : 0,
			shown);
		json_object_put(doc);
		return -1;
	}
	if (r == 1) {
		*data = ev.data;
		*len = ev.len;
	}
	return r;
}

static void stream_close(struct stream *s, int polite)
{
	if (s->ws && polite)
		ws_client_close(s->ws, WS_CLOSE_NORMAL, "bye");
	ws_client_free(s->ws);
	sse_client_free(s->sse);
	memset(s, 0, sizeof(*s));
}

int cli_watch(struct cli *c, const struct cli_parsed *p)
{
	struct sigaction sa, old_int, old_term;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: waits return at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	long long last = cli_flag(p, "--since") ? strtoll(cli_flag(p, "--since"), NULL, 10) : -1;
	/* the history `last` belongs to: resuming in another one gets resync */
	char epoch[CHANGE_EPOCH_MAX] = "";
	int connected_once = 0, rc = CLI_OK, backoff = 100;
	int json = c->json || p->json;
	char *auth = NULL, *proto = NULL;
	const char *headers[3] = {NULL, NULL, NULL};
	if (c->token) {
		auth = xasprintf("Authorization: Bearer %s", c->token);
		proto = xasprintf("Sec-WebSocket-Protocol: orders.v1, bearer.%s", c->token);
		headers[0] = auth;
		headers[1] = proto;
	}
	while (!cli_stop) {
		struct err err;
		char *url = cli_watch_url(c->relay, p, last, epoch);
		struct stream st;
		int opened =
		    stream_open(&st, url, cli_bool(p, "--sse"), headers, c->insecure, &err);
		free(url);
		if (opened < 0) {
			if (cli_stop)
				break;
			/* a refusal (401, 403, a bad filter) will not heal by itself;
			 * a relay down, restarting or behind a proxy without it (5xx) will */
			if (!connected_once ||
			    (err.kind != ERR_UNAVAILABLE && err.kind != ERR_SHUTTING_DOWN)) {
				cli_error("%s", err.msg);
				rc = CLI_FAIL;
				break;
			}
			fprintf(stderr, "watch: cannot reconnect to %s (%s); retrying in %.1fs\n",
				c->relay, err.msg, backoff / 1000.0);
			pause_ms(backoff);
			backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
			continue;
		}
		if (connected_once)
			fprintf(stderr, "watch: reconnected to %s%s%lld\n", c->relay,
				last >= 0 ? ", resuming after seq " : "", last >= 0 ? last : 0LL);
		else if (!json)
			fprintf(stderr, "watching %s (Ctrl-C to stop)\n", c->relay);
		connected_once = 1;
		/* A half-open connection (the relay's host gone without a FIN)
		 * is silent forever: reconnect after 2.5 heartbeat intervals
		 * without a message, two minutes until the interval is known. */
		long long last_msg = clock_now_ms(), last_beat = 0, silence = 120000;
		long long up_since = last_msg;
		int proven = 0; /* an order_change or heartbeat arrived */
		while (!cli_stop) {
			const char *data = NULL;
			size_t len = 0;
			int r = stream_read(&st, &data, &len, &err);
			if (r == 0 && clock_now_ms() - last_msg > silence) {
				err_set(&err, ERR_UNAVAILABLE, "no heartbeat for %lld s",
					(clock_now_ms() - last_msg) / 1000);
				r = -1;
			}
			if (r == 0)
				continue;
			if (r < 0) {
				if (cli_stop)
					break;
				fprintf(stderr, "watch: lost the relay at %s (%s); reconnecting%s",
					c->relay, err.msg, last >= 0 ? " after seq " : "");
				if (last >= 0)
					fprintf(stderr, "%lld", last);
				fputc('\n', stderr);
				break;
			}
			struct json_object *doc = json_parse_object(data, len, NULL);
			if (!doc)
				continue;
			const char *type = fmt_member(doc, "type");
			long long seq = member_seq(doc);
			int show = 1;
			last_msg = clock_now_ms();
			if (type && strcmp(type, "heartbeat") == 0) {
				if (last_beat && last_msg - last_beat > 100)
					silence = (last_msg - last_beat) * 5 / 2 + 1000;
				last_beat = last_msg;
				proven = 1;
			}
			if (type && strcmp(type, "hello") == 0) {
				if (last < 0 && seq >= 0)
					last = seq;
				remember_epoch(epoch, doc);
			} else if (type && strcmp(type, "order_change") == 0) {
				proven = 1;
				if (seq >= 0 && seq <= last)
					show = 0; /* already printed before a reconnect */
				else if (seq >= 0)
					last = seq;
				struct json_object *row;
				if (json_object_object_get_ex(doc, "data", &row))
					cli_remember_id(c, fmt_member(row, "id"));
			} else if (type && strcmp(type, "resync") == 0) {
				fprintf(
				    stderr,
				    "watch: the relay no longer has the history asked for (%s); "
				    "run 'list' to reload, continuing after seq %lld\n",
				    fmt_member(doc, "reason") ? fmt_member(doc, "reason")
							      : "resync",
				    seq);
				if (seq >= 0)
					last = seq;
				remember_epoch(epoch, doc);
			}
			if (show && json) {
				if (memchr(data, '\n', len)) {
					char *s = json_dup_string(doc);
					puts(s);
					free(s);
				} else {
					fwrite(data, 1, len, stdout);
					fputc('\n', stdout);
				}
			} else if (show && type && strcmp(type, "order_change") == 0) {
				struct fmt_opts o;
				struct buf out;
				cli_fmt_opts(c, &o);
				buf_init(&out, 0);
				if (fmt_change_line(doc, &o, &out) == 0)
					fwrite(out.data, 1, out.len, stdout);
				buf_release(&out);
			}
			fflush(stdout);
			json_object_put(doc);
		}
		stream_close(&st, cli_stop);
		if (proven || clock_now_ms() - up_since >= WATCH_STABLE_MS)
			backoff = 100;
		if (!cli_stop) {
			pause_ms(backoff);
			backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
		}
	}
	if (cli_stop && c->interactive)
		fputc('\n', stderr);
	cli_stop = 0;
	free(auth);
	free(proto);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}
