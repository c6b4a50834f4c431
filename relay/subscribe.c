#include "subscribe.h"

#include "auth.h"
#include "catchup.h"
#include "qs.h"
#include "hub.h"
#include "log.h"
#include "stats.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The token a client presents (copied into out), or NULL. */
static const char *presented_token(const struct http_request *req, char *out, size_t cap)
{
	if (qs_param(req->query, "access_token", out, cap) > 0)
		return out;
	const char *b = auth_bearer(http_request_header(req, "Authorization"));
	if (b) {
		snprintf(out, cap, "%s", b);
		return out;
	}
	const char *proto = http_request_header(req, "Sec-WebSocket-Protocol");
	for (const char *p = proto; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ", ");
		if (n > 7 && n - 7 < cap && strncmp(p, "bearer.", 7) == 0) {
			memcpy(out, p + 7, n - 7);
			out[n - 7] = '\0';
			return out;
		}
		p += n;
	}
	return NULL;
}

int subscribe_authorize(struct relay *r, const struct http_request *req, struct err *err)
{
	const char *origin = http_request_header(req, "Origin");
	if (origin && !auth_origin_allowed(&r->auth, origin, http_request_header(req, "Host")))
		return err_set(err, ERR_FORBIDDEN, "origin not allowed");
	char token[300];
	return auth_check(&r->auth, AUTH_READ, presented_token(req, token, sizeof(token)), err);
}

void subscribe_peer(struct relay *r, const struct conn *cn, const struct http_request *req,
		    char *out, size_t cap)
{
	const char *xff[16];
	size_t n = 0;
	for (int i = 0; i < req->nheaders && n < 16; i++)
		if (strcasecmp(req->headers[i].name, "X-Forwarded-For") == 0)
			xff[n++] = req->headers[i].value;
	struct client_ip ip;
	char client[CLIENT_IP_STRLEN];
	if (n && client_addr_resolve(&r->proxies, conn_peer_addr(cn), xff, n, &ip) == 0 &&
	    strcmp(client_ip_format(&ip, client), conn_peer_addr(cn)) != 0)
		snprintf(out, cap, "%s via %s", client, conn_peer(cn));
	else
		snprintf(out, cap, "%s", conn_peer(cn));
}

int subscribe_take_slot(struct relay *r, struct err *err)
{
	/* taken before the client is linked, so handshakes arriving together
	 * cannot pass MAX_CLIENTS */
	if (atomic_fetch_add(&r->slots, 1) >= r->max_clients) {
		atomic_fetch_sub(&r->slots, 1);
		return err_set(err, ERR_UNAVAILABLE, "too many clients (MAX_CLIENTS=%d)",
			       r->max_clients);
	}
	atomic_fetch_add(&relay_stats.connections, 1);
	return 0;
}

void subscribe_start(struct relay *r, struct client *c, const char *transport)
{
	const struct change_query *q = &c->query;
	char since[32] = "";
	if (q->has_since)
		snprintf(since, sizeof(since), " since=%lld", q->since);
	log_info("%s#%lu %s subscribed%s%s", transport, c->id, c->peer, since,
		 q->filter.status_mask || q->filter.op_mask || q->filter.id ? " (filtered)" : "");
	hub_add(r->hub, c, !q->has_since);
	if (q->has_since) {
		/* history comes from the catch-up thread at the client's pace */
		pthread_mutex_lock(&c->lock);
		catchup_add_locked(r->catchup, c, q->since, 1);
		pthread_mutex_unlock(&c->lock);
	}
}

void subscribe_retire(struct relay *r, struct client *c)
{
	atomic_fetch_sub(&r->slots, 1);
	hub_remove(r->hub, c);
	log_info("%s#%lu %s disconnected", c->sse ? "sse" : "ws", c->id, c->peer);
	client_retire(c);
}
