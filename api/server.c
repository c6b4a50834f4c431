#include "server.h"

#include "clock.h"
#include "deadline.h"
#include "http.h"
#include "log.h"
#include "security.h"
#include "static_files.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum route_id { R_ORDERS, R_ORDER, R_CHANGES, R_HEALTH, R_METRICS, R_CONFIG };

static const struct route_def routes[] = {
    {"/api/orders", ROUTE_GET | ROUTE_POST, R_ORDERS},
    {"/api/orders/:id", ROUTE_GET | ROUTE_PUT | ROUTE_PATCH | ROUTE_DELETE, R_ORDER},
    {"/api/changes", ROUTE_GET, R_CHANGES},
    {"/api/config", ROUTE_GET, R_CONFIG},
    {"/health", ROUTE_GET, R_HEALTH},
    {"/metrics", ROUTE_GET, R_METRICS},
};

static api_handler handler_for(enum route_id id, unsigned method)
{
	switch (id) {
	case R_ORDERS:
		return method == ROUTE_GET ? api_orders_list : api_orders_create;
	case R_ORDER:
		return method == ROUTE_GET	? api_orders_get
		       : method == ROUTE_DELETE ? api_orders_delete
						: api_orders_update;
	case R_CHANGES:
		return api_changes_list;
	case R_CONFIG:
		return api_config;
	case R_HEALTH:
		return api_health;
	case R_METRICS:
		return api_metrics;
	}
	return NULL;
}

/* Section 6: writes need API_TOKEN; reads need a token only when
 * READ_TOKEN is set; /health, /metrics and the page's bootstrap
 * (/api/config) never do. */
static int authorize(struct mg_connection *c, struct api *api, enum route_id id, const char *method,
		     struct err *err)
{
	if (id == R_HEALTH || id == R_METRICS || id == R_CONFIG)
		return 0;
	enum auth_need need = strcmp(method, "GET") == 0 ? AUTH_READ : AUTH_WRITE;
	return auth_check(&api->auth, need, auth_bearer(mg_get_header(c, "Authorization")), err);
}

/* This worker's connection was answered 503 at the door
 * (on_connection_open): nothing more is read or written on it. */
static _Thread_local int refused;

/* Every request comes here first (civetweb's begin_request). Returns the
 * status sent; civetweb then does nothing more with the request. */
static int dispatch(struct mg_connection *c)
{
	long long t0 = clock_now_ns();
	deadline_pause();
	const struct mg_request_info *ri = mg_get_request_info(c);
	struct api *api = ri->user_data;
	if (refused) {
		mg_disable_connection_keep_alive(c);
		return 503;
	}
	const char *path = ri->local_uri_raw ? ri->local_uri_raw : "";
	const char *route_label = "unmatched";
	char allow_header[96] = "";
	struct err err;
	err_clear(&err);
	int status = -1;
	struct security_request sec; /* until security_begin, logs show the peer */
	snprintf(sec.client_text, sizeof(sec.client_text), "%s", ri->remote_addr);
	struct http_request_state st;

	http_request_begin(c, &st);
	atomic_fetch_add(&api->inflight, 1);
	if (atomic_load(&api->draining)) {
		http_close_after(c);
		err_set(&err, ERR_SHUTTING_DOWN, "the server is shutting down; retry shortly");
		goto done;
	}
	/* a head civetweb read only in part, or a framing it would get wrong,
	 * ends the connection after the one response */
	if (http_check_head(ri, &err) < 0 || http_check_framing(c, &err) < 0) {
		http_close_after(c);
		route_label = "malformed";
		goto done;
	}
	/* Host, client address, CORS, security headers (security.h) */
	if (security_begin(c, api, &sec, &err) < 0)
		goto done;
	if (ri->content_length > 64 * 1024)
		mg_disable_connection_keep_alive(c);

	struct route_match m;
	switch (
	    route_match(routes, sizeof(routes) / sizeof(routes[0]), ri->request_method, path, &m)) {
	case ROUTE_FOUND:
		route_label = m.def->pattern;
		if (strcmp(ri->request_method, "GET") != 0 &&
		    security_check_write(api, &sec, allow_header, sizeof(allow_header), &err) < 0)
			break;
		if (authorize(c, api, (enum route_id)m.def->id, ri->request_method, &err) < 0) {
			if (err.kind == ERR_UNAUTHORIZED)
				snprintf(allow_header, sizeof(allow_header),
					 "WWW-Authenticate: Bearer realm=\"orders\"\r\n");
			break;
		}
		status = handler_for((enum route_id)m.def->id,
				     route_method_bit(ri->request_method))(c, api, &m, &err);
		break;
	case ROUTE_BAD_METHOD:
		if (strcmp(ri->request_method, "OPTIONS") == 0) {
			route_label = "preflight";
			status = security_preflight(c, &sec, m.allow);
			break;
		}
		route_label = "method_not_allowed";
		snprintf(allow_header, sizeof(allow_header), "Allow: %s\r\n", m.allow);
		err_set(&err, ERR_METHOD, "method %s not allowed on %s (allowed: %s)",
			ri->request_method, path, m.allow);
		break;
	case ROUTE_NOT_FOUND:
		if (strncmp(path, "/api/", 5) != 0 && strcmp(path, "/api") != 0) {
			int head = strcmp(ri->request_method, "HEAD") == 0;
			if (head || strcmp(ri->request_method, "GET") == 0) {
				security_use_page_headers(c, api, &sec);
				status = static_files_serve(api->www, c, path, head);
				if (status) {
					route_label = "static";
					break;
				}
			}
		}
		status = -1;
		err_set(&err, ERR_NOT_FOUND, "no such resource: %s %s", ri->request_method, path);
		break;
	}
done:
	if (status < 0) {
		const char *extra = allow_header[0] ? allow_header : NULL;
		if (err.kind == ERR_OVERLOADED)
			extra = "Retry-After: 1\r\n";
		status = http_send_error(c, &err, extra);
	}
	double secs = (double)(clock_now_ns() - t0) / 1e9;
	metrics_http_observe(api->metrics, route_label, ri->request_method, status, secs);
	if (status >= 500)
		log_warn("%s %s %s -> %d %s", sec.client_text, ri->request_method, path, status,
			 err.msg);
	else
		log_debug("%s %s %s -> %d (%.2f ms)", sec.client_text, ri->request_method, path,
			  status, secs * 1e3);
	int close = st.close;
	http_request_end(c);
	atomic_fetch_sub(&api->inflight, 1);
	/* kept alive: the next request's head must come within the keep-alive
	 * time, all of it within REQUEST_TIMEOUT */
	if (!close) {
		long long now = clock_now_ns();
		deadline_wait(now + api->keepalive_ns, now + api->request_timeout_ns);
	}
	return status;
}

/* Errors civetweb answers by itself get the contract's JSON shape too: a
 * request line or head it cannot parse, a bad Content-Length, a head over
 * its buffer (431), and a head that did not arrive in time (the deadline
 * alarm interrupted its read: 408, or 503 when evicted to make room). The
 * connection is closed after them. */
static int civetweb_error(struct mg_connection *c, int status, const char *errmsg)
{
	(void)errmsg; /* may echo raw request bytes */
	deadline_pause();
	if (refused)
		return 0; /* answered 503 already */
	struct err err;
	err_clear(&err);
	const char *extra = "Connection: close\r\n";
	switch (deadline_rang()) {
	case DEADLINE_EVICTED:
		err_set(&err, ERR_OVERLOADED,
			"the server is full and this connection was the slowest; retry");
		extra = "Retry-After: 1\r\nConnection: close\r\n";
		break;
	case DEADLINE_EXPIRED:
		err_set(&err, ERR_TIMEOUT, "request not complete within REQUEST_TIMEOUT");
		break;
	case DEADLINE_NONE:
		if (status == 413) /* not sent by 1.15, but by later civetweb */
			err_set(&err, ERR_HEADERS, "request head over %d bytes", HTTP_HEAD_MAX);
		else if (status == 400)
			/* civetweb says the same for both */
			err_set(&err, ERR_BAD_REQUEST,
				"malformed request (a control character in its head?), or a "
				"head over %d bytes",
				HTTP_HEAD_MAX);
		else {
			/* 411, 505...: civetweb's status, in the contract's shape */
			char body[160];
			int n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"code\":\"%s\"}",
					 http_status_text(status),
					 status >= 500 && status != 505 ? "internal_error"
									: "bad_request");
			mg_disable_connection_keep_alive(c);
			http_send_json(c, status, body, (size_t)n, extra);
			return 0;
		}
		break;
	}
	mg_disable_connection_keep_alive(c);
	http_send_error(c, &err, extra);
	return 0;
}

/* A worker takes a new connection. Its first request must arrive within
 * REQUEST_TIMEOUT. Past the capacity, the connection that has waited
 * longest for its client (idle, trickling, kept alive) is closed to make
 * room; when none has waited EVICT_AFTER_MS (a client's request is
 * normally there when a worker takes its connection), or every worker is
 * busy with a request, this one is answered 503 at once and closed
 * without reading anything. */
#define EVICT_AFTER_MS 10

static int on_connection_open(const struct mg_connection *cc, void **conn_data)
{
	(void)conn_data;
	/* civetweb hands a const connection to this callback; writing on it
	 * is what its own error path does at this stage */
	struct mg_connection *c = (struct mg_connection *)cc;
	struct api *api = mg_get_user_data(mg_get_context(c));
	long long now = clock_now_ns();
	refused = 0;
	deadline_wait(now + api->request_timeout_ns, now + api->request_timeout_ns);
	int open = atomic_fetch_add(&api->conn_stats.open, 1) + 1;
	if (open <= api->capacity)
		return 0;
	if (deadline_evict_oldest(api->deadlines, now - EVICT_AFTER_MS * 1000000LL)) {
		atomic_fetch_add(&api->conn_stats.evicted, 1);
		return 0;
	}
	refused = 1;
	atomic_fetch_add(&api->conn_stats.refused, 1);
	static const char body[] = "{\"error\":\"the server is busy: too many connections; "
				   "retry shortly\",\"code\":\"server_busy\"}";
	http_send_json(c, 503, body, sizeof(body) - 1, "Retry-After: 1\r\nConnection: close\r\n");
	/* ring at once: civetweb's read of the request gives up */
	deadline_wait(now, now);
	return 0;
}

static void on_connection_close(const struct mg_connection *c)
{
	struct api *api = mg_get_user_data(mg_get_context(c));
	deadline_idle();
	if (!refused && deadline_rang() == DEADLINE_EXPIRED)
		atomic_fetch_add(&api->conn_stats.timed_out, 1);
	refused = 0;
	atomic_fetch_sub(&api->conn_stats.open, 1);
}

static void *on_thread_start(const struct mg_context *ctx, int type)
{
	struct api *api = mg_get_user_data(ctx);
	if (type == 1 && deadline_thread_start(api->deadlines) < 0 &&
	    atomic_fetch_add(&api->conn_stats.no_timer, 1) == 0)
		log_warn("a worker thread has no request deadline timer (RLIMIT_SIGPENDING?): "
			 "its clients are timed out per read only");
	return NULL;
}

static void on_thread_exit(const struct mg_context *ctx, int type, void *thread_data)
{
	(void)ctx;
	(void)thread_data;
	if (type == 1)
		deadline_thread_stop();
}

static int log_civetweb(const struct mg_connection *c, const char *message)
{
	(void)c;
	log_warn("civetweb: %s", message);
	return 1;
}

/* Workers kept for answering past the capacity (eviction or 503): a
 * sixteenth of them, 1 to 64. */
static int server_reserve(int threads)
{
	int r = threads / 16;
	return r < 1 ? 1 : r > 64 ? 64 : r;
}

struct mg_context *server_start(struct api *api, const struct server_options *opt, struct err *err)
{
	char ports[300], threads[16], head_max[16], request_ms[24], keepalive_ms[24];
	if (strchr(opt->host, ':'))
		snprintf(ports, sizeof(ports), "[%s]:%d", opt->host, opt->port);
	else
		snprintf(ports, sizeof(ports), "%s:%d", opt->host, opt->port);
	long long keepalive =
	    opt->request_timeout_ms < KEEPALIVE_MAX_MS ? opt->request_timeout_ms : KEEPALIVE_MAX_MS;
	api->request_timeout_ns = opt->request_timeout_ms * 1000000LL;
	api->keepalive_ns = keepalive * 1000000LL;
	api->capacity = opt->threads - server_reserve(opt->threads);
	api->deadlines = deadline_registry_new(opt->threads, err);
	if (!api->deadlines)
		return NULL;
	snprintf(threads, sizeof(threads), "%d", opt->threads);
	snprintf(head_max, sizeof(head_max), "%d", HTTP_HEAD_MAX);
	/* civetweb's own timeouts are the fallback behind the deadline alarms
	 * (deadline.h), a second later so the alarms ring first; civetweb
	 * also gives each write of a response request_timeout_ms */
	snprintf(request_ms, sizeof(request_ms), "%lld", opt->request_timeout_ms + 1000);
	snprintf(keepalive_ms, sizeof(keepalive_ms), "%lld", keepalive + 1000);
	const char *options[] = {
	    "listening_ports",
	    ports,
	    "num_threads",
	    threads,
	    "max_request_size",
	    head_max,
	    "enable_keep_alive",
	    "yes",
	    "keep_alive_timeout_ms",
	    keepalive_ms,
	    "request_timeout_ms",
	    request_ms,
	    "listen_backlog",
	    "1024",
	    "decode_url",
	    "no",
	    NULL,
	};
	struct mg_callbacks cb;
	memset(&cb, 0, sizeof(cb));
	cb.begin_request = dispatch;
	cb.log_message = log_civetweb;
	cb.http_error = civetweb_error;
	cb.init_thread = on_thread_start;
	cb.exit_thread = on_thread_exit;
	cb.init_connection = on_connection_open;
	cb.connection_close = on_connection_close;
	struct mg_init_data init = {
	    .callbacks = &cb, .user_data = api, .configuration_options = options};
	char etext[256] = "";
	unsigned code = 0;
	struct mg_error_data edata = {
	    .code = &code, .text = etext, .text_buffer_size = sizeof(etext)};
	struct mg_context *ctx = mg_start2(&init, &edata);
	if (!ctx) {
		err_set(err, ERR_SYSTEM, "cannot listen on %s: %s", ports,
			etext[0] ? etext : "civetweb failed to start");
		deadline_registry_free(api->deadlines);
		api->deadlines = NULL;
	}
	return ctx;
}

void server_drain(struct api *api, int timeout_ms)
{
	atomic_store(&api->draining, 1);
	for (int waited = 0; atomic_load(&api->inflight) > 0 && waited < timeout_ms; waited += 10)
		usleep(10 * 1000);
}

void server_stop(struct api *api, struct mg_context *ctx)
{
	if (ctx)
		mg_stop(ctx); /* joins the workers: none uses the registry after */
	deadline_registry_free(api->deadlines);
	api->deadlines = NULL;
}
