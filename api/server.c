#include "server.h"

#include "clock.h"
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

/* Every request comes here first (civetweb's begin_request). Returns the
 * status sent; civetweb then does nothing more with the request. */
static int dispatch(struct mg_connection *c)
{
	long long t0 = clock_now_ns();
	const struct mg_request_info *ri = mg_get_request_info(c);
	struct api *api = ri->user_data;
	const char *path = ri->local_uri_raw ? ri->local_uri_raw : "";
	const char *route_label = "unmatched";
	char allow_header[96] = "";
	struct err err;
	err_clear(&err);
	int status = -1;
	struct security_request sec; /* until security_begin, logs show the peer */
	snprintf(sec.client_text, sizeof(sec.client_text), "%s", ri->remote_addr);

	mg_set_user_connection_data(c, NULL);
	atomic_fetch_add(&api->inflight, 1);
	if (atomic_load(&api->draining)) {
		mg_disable_connection_keep_alive(c);
		err_set(&err, ERR_SHUTTING_DOWN, "the server is shutting down; retry shortly");
		goto done;
	}
	if (http_check_framing(c, &err) < 0) {
		mg_disable_connection_keep_alive(c);
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
	if (status < 0)
		status = http_send_error(c, &err, allow_header[0] ? allow_header : NULL);
	double secs = (double)(clock_now_ns() - t0) / 1e9;
	metrics_http_observe(api->metrics, route_label, ri->request_method, status, secs);
	if (status >= 500)
		log_warn("%s %s %s -> %d %s", sec.client_text, ri->request_method, path, status,
			 err.msg);
	else
		log_debug("%s %s %s -> %d (%.2f ms)", sec.client_text, ri->request_method, path,
			  status, secs * 1e3);
	mg_set_user_connection_data(c, NULL);
	atomic_fetch_sub(&api->inflight, 1);
	return status;
}

/* Errors civetweb answers by itself (a request line it cannot parse, a bad
 * Content-Length) get the contract's JSON shape too. */
static int civetweb_error(struct mg_connection *c, int status, const char *errmsg)
{
	(void)errmsg; /* may echo raw request bytes */
	char body[160];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"code\":\"%s\"}",
			 http_status_text(status),
			 status == 413	 ? "payload_too_large"
			 : status >= 500 ? "internal_error"
					 : "bad_request");
	mg_disable_connection_keep_alive(c);
	http_send_json(c, status, body, (size_t)n, "Connection: close\r\n");
	return 0;
}

static int log_civetweb(const struct mg_connection *c, const char *message)
{
	(void)c;
	log_warn("civetweb: %s", message);
	return 1;
}

struct mg_context *server_start(struct api *api, const struct server_options *opt, struct err *err)
{
	char ports[300], threads[16];
	if (strchr(opt->host, ':'))
		snprintf(ports, sizeof(ports), "[%s]:%d", opt->host, opt->port);
	else
		snprintf(ports, sizeof(ports), "%s:%d", opt->host, opt->port);
	snprintf(threads, sizeof(threads), "%d", opt->threads);
	const char *options[] = {
	    "listening_ports",
	    ports,
	    "num_threads",
	    threads,
	    "enable_keep_alive",
	    "yes",
	    "keep_alive_timeout_ms",
	    "30000",
	    "request_timeout_ms",
	    "10000",
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
	struct mg_init_data init = {
	    .callbacks = &cb, .user_data = api, .configuration_options = options};
	char etext[256] = "";
	unsigned code = 0;
	struct mg_error_data edata = {
	    .code = &code, .text = etext, .text_buffer_size = sizeof(etext)};
	struct mg_context *ctx = mg_start2(&init, &edata);
	if (!ctx)
		err_set(err, ERR_SYSTEM, "cannot listen on %s: %s", ports,
			etext[0] ? etext : "civetweb failed to start");
	return ctx;
}

void server_drain(struct api *api, int timeout_ms)
{
	atomic_store(&api->draining, 1);
	for (int waited = 0; atomic_load(&api->inflight) > 0 && waited < timeout_ms; waited += 10)
		usleep(10 * 1000);
}

void server_stop(struct mg_context *ctx)
{
	if (ctx)
		mg_stop(ctx);
}
