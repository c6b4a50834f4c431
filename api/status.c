/* /health, /metrics and /api/config: what operators and the web page ask
 * about the service rather than about orders. */
#include "api.h"

#include "buf.h"
#include "clock.h"
#include "csp.h"
#include "http.h"
#include "json.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

enum { ST_PING = 30 };

static const struct db_stmt st_ping = {ST_PING, "health_ping", "SELECT 1", 0, 1};

/* The relay's connectedClients, or -1 when it cannot be asked; *lag its
 * maxLag (events the furthest client is behind), -1 when not given. */
static long long relay_clients(const struct api *api, long long *lag)
{
	*lag = -1;
	char ebuf[128];
	struct mg_connection *rc =
	    mg_connect_client(api->relay_health_host, api->relay_port, 0, ebuf, sizeof(ebuf));
	if (!rc)
		return -1;
	long long clients = -1;
	mg_printf(rc, "GET /health HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n",
		  api->relay_health_host, api->relay_port);
	if (mg_get_response(rc, ebuf, sizeof(ebuf), 1000) >= 0) {
		char body[1024];
		size_t len = 0;
		int n;
		while (len < sizeof(body) - 1 &&
		       (n = mg_read(rc, body + len, sizeof(body) - 1 - len)) > 0)
			len += (size_t)n;
		body[len] = '\0';
		struct err err;
		struct json_object *obj = json_parse_object(body, len, &err);
		struct json_object *v;
		if (obj && json_object_object_get_ex(obj, "connectedClients", &v) &&
		    json_object_is_type(v, json_type_int))
			clients = json_object_get_int64(v);
		if (clients >= 0 && json_object_object_get_ex(obj, "maxLag", &v) &&
		    json_object_is_type(v, json_type_int))
			*lag = json_object_get_int64(v);
		json_object_put(obj);
	}
	mg_close_connection(rc);
	return clients;
}

int api_health(struct mg_connection *c, struct api *api, const struct route_match *m,
	       struct err *err)
{
	(void)m;
	(void)err;
	struct err dberr;
	int db_ok = 0;
	struct db_conn *conn = db_pool_get(api->pool, &dberr);
	if (conn) {
		PGresult *r = db_exec(conn, &st_ping, NULL, &dberr);
		db_ok = r != NULL;
		PQclear(r);
		db_pool_put(api->pool, conn);
	}
	long long lag;
	long long clients = relay_clients(api, &lag);
	char now[CLOCK_ISO_MAX], clients_s[24] = "null", lag_s[24] = "null";
	clock_iso8601_now(now);
	if (clients >= 0)
		snprintf(clients_s, sizeof(clients_s), "%lld", clients);
	if (lag >= 0)
		snprintf(lag_s, sizeof(lag_s), "%lld", lag);
	const char *status = !db_ok ? "unhealthy" : clients < 0 ? "degraded" : "healthy";
	char body[256];
	int n = snprintf(body, sizeof(body),
			 "{\"status\":\"%s\",\"timestamp\":\"%s\",\"connectedClients\":%s,"
			 "\"database\":\"%s\",\"relayLag\":%s}",
			 status, now, clients_s, db_ok ? "connected" : "disconnected", lag_s);
	return http_send_json(c, db_ok ? 200 : 503, body, (size_t)n, NULL);
}

int api_metrics(struct mg_connection *c, struct api *api, const struct route_match *m,
		struct err *err)
{
	(void)m;
	struct buf b;
	buf_init(&b, 1 << 20);
	if (metrics_http_render(api->metrics, &b) < 0 ||
	    buf_printf(&b,
		       "# HELP orders_api_database_up 1 when the last database use succeeded.\n"
		       "# TYPE orders_api_database_up gauge\norders_api_database_up %d\n",
		       db_pool_healthy(api->pool)) < 0) {
		buf_release(&b);
		return err_set(err, ERR_INTERNAL, "metrics too large");
	}
	mg_printf(c,
		  "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		  "Content-Length: %zu\r\nCache-Control: no-store\r\n"
		  "X-Content-Type-Options: nosniff\r\n%s\r\n",
		  b.len, http_connection_headers(c));
	mg_write(c, b.data, b.len);
	buf_release(&b);
	return 200;
}

/* Whether the page came through a front (the relay URL may be a path). */
static int proxied(const struct mg_connection *c)
{
	return mg_get_header(c, "X-Forwarded-For") || mg_get_header(c, "Forwarded");
}

int api_config(struct mg_connection *c, struct api *api, const struct route_match *m,
	       struct err *err)
{
	(void)m;
	struct buf b;
	buf_init(&b, 4096);
	const char *relay_url = csp_page_relay_url(api->relay_public_url, proxied(c));
	int ok = buf_append_str(&b, "{\"relay_url\":") == 0;
	if (ok)
		ok = (relay_url ? buf_append_json_string(&b, relay_url)
				: buf_append_str(&b, "null")) == 0;
	if (ok)
		ok = buf_printf(&b, ",\"ws_port\":%d}", api->relay_port) == 0;
	int rc = ok ? http_send_json(c, 200, b.data, b.len, NULL)
		    : err_set(err, ERR_INTERNAL, "config too large");
	buf_release(&b);
	return rc;
}
