/* The /api/orders handlers. PostgreSQL renders the JSON (row_to_json), so a
 * response is one prepared statement and one copy; validation happens here
 * first so bad input never reaches the database. */
#include "api.h"

#include "buf.h"
#include "http.h"
#include "json.h"
#include "order.h"
#include "query.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX (64 * 1024)

/* The columns of an order, and its ETag: the update time in microseconds. */
#define ORDER_COLS "id, customer_name, product_name, status, created_at, updated_at"
#define ORDER_ETAG "'\"' || (extract(epoch FROM updated_at) * 1000000)::bigint || '\"'"
/* $n matches when the If-Match list names the current ETag (or is "*"). */
#define IF_MATCH(n)                                                                                \
	"($" #n "::text IS NULL OR btrim($" #n ") = '*' OR " ORDER_ETAG                            \
	" = ANY (string_to_array(regexp_replace($" #n ", '\\s', '', 'g'), ',')))"

enum {
	ST_GET = 1,
	ST_LIST_ALL,
	ST_LIST_STATUS,
	ST_INSERT,
	ST_UPDATE,
	ST_DELETE,
	ST_EXISTS,
};

/* SELECT text of one order as JSON, its id and ETag, from a relation r. */
#define ORDER_ROW_FROM(rel)                                                                        \
	"SELECT row_to_json(o)::text, o.id, " ORDER_ETAG " FROM (SELECT " ORDER_COLS " FROM " rel  \
	") o"

static const struct db_stmt st_get = {ST_GET, "orders_get",
				      "SELECT row_to_json(o)::text, o.id, " ORDER_ETAG
				      " FROM (SELECT " ORDER_COLS " FROM orders WHERE id = $1) o",
				      1, 1};

/* A page, newest first, and whether older rows exist. */
#define LIST_SQL(where)                                                                            \
	"WITH page AS (SELECT " ORDER_COLS " FROM orders WHERE " where                             \
	" ORDER BY id DESC LIMIT $2) "                                                             \
	"SELECT coalesce((SELECT json_agg(p ORDER BY p.id DESC) FROM page p)::text, '[]'), "       \
	"(SELECT min(id) FROM page), "                                                             \
	"EXISTS (SELECT 1 FROM orders WHERE " where " AND id < (SELECT min(id) FROM page))"

static const struct db_stmt st_list_all = {ST_LIST_ALL, "orders_list_all", LIST_SQL("id < $1"), 2,
					   1};
static const struct db_stmt st_list_status = {
    ST_LIST_STATUS, "orders_list_status",
    "WITH page AS (SELECT " ORDER_COLS " FROM orders WHERE status = $3 AND id < $1"
    " ORDER BY id DESC LIMIT $2) "
    "SELECT coalesce((SELECT json_agg(p ORDER BY p.id DESC) FROM page p)::text, '[]'), "
    "(SELECT min(id) FROM page), "
    "EXISTS (SELECT 1 FROM orders WHERE status = $3 AND id < (SELECT min(id) FROM page))",
    3, 1};

static const struct db_stmt st_insert = {
    ST_INSERT, "orders_insert",
    "WITH ins AS (INSERT INTO orders (customer_name, product_name, status) "
    "VALUES ($1, $2, coalesce($3, 'pending')) RETURNING *) " ORDER_ROW_FROM("ins"),
    3, 0};

static const struct db_stmt st_update = {
    ST_UPDATE, "orders_update",
    "WITH upd AS (UPDATE orders SET customer_name = coalesce($2, customer_name), "
    "product_name = coalesce($3, product_name), status = coalesce($4, status) "
    "WHERE id = $1 AND " IF_MATCH(5) " RETURNING *) " ORDER_ROW_FROM("upd"),
    5, 0};

static const struct db_stmt st_delete = {
    ST_DELETE, "orders_delete",
    "WITH del AS (DELETE FROM orders WHERE id = $1 AND " IF_MATCH(
	2) " RETURNING *) " ORDER_ROW_FROM("del"),
    2, 0};

static const struct db_stmt st_exists = {ST_EXISTS, "orders_exists",
					 "SELECT 1 FROM orders WHERE id = $1", 1, 1};

/* Send one order row (columns: json, id, etag) with its ETag. */
static int send_order(struct mg_connection *c, PGresult *r, int status, int with_location)
{
	char headers[256];
	int n = snprintf(headers, sizeof(headers), "ETag: %s\r\n", PQgetvalue(r, 0, 2));
	if (with_location)
		snprintf(headers + n, sizeof(headers) - (size_t)n, "Location: /api/orders/%s\r\n",
			 PQgetvalue(r, 0, 1));
	return http_send_json(c, status, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0),
			      headers);
}

/* Run st and send its single row, or 404 when there is none. */
static int exec_and_send(struct mg_connection *c, struct api *api, const struct db_stmt *st,
			 const char *const *params, int status, int with_location, struct err *err)
{
	struct db_conn *conn = db_pool_get(api->pool, err);
	if (!conn)
		return -1;
	PGresult *r = db_exec(conn, st, params, err);
	int rc = -1;
	if (!r)
		goto out;
	if (PQntuples(r) == 1) {
		rc = send_order(c, r, status, with_location);
		goto out;
	}
	if (st == &st_update || st == &st_delete) {
		/* no row: absent, or present with a stale If-Match */
		PQclear(r);
		r = db_exec(conn, &st_exists, params, err);
		if (!r)
			goto out;
		if (PQntuples(r) == 1) {
			rc = err_set(err, ERR_PRECONDITION,
				     "order %s was changed since that ETag; fetch it again",
				     params[0]);
			goto out;
		}
	}
	rc = err_set(err, ERR_NOT_FOUND, "order %s not found", params[0]);
out:
	PQclear(r);
	db_pool_put(api->pool, conn);
	return rc;
}

static int parse_id(const struct route_match *m, char out[24], struct err *err)
{
	long long id;
	if (order_parse_id(m->param, &id, err) < 0)
		return -1;
	snprintf(out, 24, "%lld", id);
	return 0;
}

/* Read and validate a JSON object body; caller puts the object. */
static struct json_object *read_body(struct mg_connection *c, enum order_body_kind kind,
				     struct order_fields *f, struct err *err)
{
	if (!http_is_json_request(c)) {
		err_set(err, ERR_MEDIA_TYPE, "Content-Type must be application/json");
		return NULL;
	}
	struct buf body;
	buf_init(&body, BODY_MAX);
	struct json_object *obj = NULL;
	if (http_read_body(c, BODY_MAX, &body, err) == 0)
		obj = json_parse_object(body.data ? body.data : "", body.len, err);
	buf_release(&body);
	if (obj && order_fields_from_json(obj, kind, f, err) < 0) {
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

int api_orders_get(struct mg_connection *c, struct api *api, const struct route_match *m,
		   struct err *err)
{
	char id[24];
	if (parse_id(m, id, err) < 0)
		return -1;
	const char *params[] = {id};
	return exec_and_send(c, api, &st_get, params, 200, 0, err);
}

int api_orders_list(struct mg_connection *c, struct api *api, const struct route_match *m,
		    struct err *err)
{
	(void)m;
	const char *q = mg_get_request_info(c)->query_string;
	long long limit, before;
	const char *status;
	if (query_int(q, "limit", 1, QUERY_LIMIT_MAX, QUERY_LIMIT_DEFAULT, &limit, err) < 0 ||
	    query_int(q, "before_id", 1, INT64_MAX, INT64_MAX, &before, err) < 0 ||
	    query_status(q, &status, err) < 0)
		return -1;
	char before_s[24], limit_s[24];
	snprintf(before_s, sizeof(before_s), "%lld", before);
	snprintf(limit_s, sizeof(limit_s), "%lld", limit);
	const char *params[] = {before_s, limit_s, status};

	struct db_conn *conn = db_pool_get(api->pool, err);
	if (!conn)
		return -1;
	PGresult *r = db_exec(conn, status ? &st_list_status : &st_list_all, params, err);
	db_pool_put(api->pool, conn);
	if (!r)
		return -1;
	char link[256] = "";
	if (strcmp(PQgetvalue(r, 0, 2), "t") == 0)
		snprintf(link, sizeof(link),
			 "Link: </api/orders?limit=%lld&before_id=%s%s%s>; rel=\"next\"\r\n", limit,
			 PQgetvalue(r, 0, 1), status ? "&status=" : "", status ? status : "");
	int rc = http_send_json(c, 200, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), link);
	PQclear(r);
	return rc;
}

int api_orders_create(struct mg_connection *c, struct api *api, const struct route_match *m,
		      struct err *err)
{
	(void)m;
	struct order_fields f;
	struct json_object *obj = read_body(c, ORDER_BODY_CREATE, &f, err);
	if (!obj)
		return -1;
	const char *params[] = {f.customer_name, f.product_name, f.status};
	int rc = exec_and_send(c, api, &st_insert, params, 201, 1, err);
	json_object_put(obj);
	return rc;
}

int api_orders_update(struct mg_connection *c, struct api *api, const struct route_match *m,
		      struct err *err)
{
	char id[24];
	if (parse_id(m, id, err) < 0)
		return -1;
	struct order_fields f;
	struct json_object *obj = read_body(c, ORDER_BODY_UPDATE, &f, err);
	if (!obj)
		return -1;
	const char *params[] = {id, f.customer_name, f.product_name, f.status,
				mg_get_header(c, "If-Match")};
	int rc = exec_and_send(c, api, &st_update, params, 200, 0, err);
	json_object_put(obj);
	return rc;
}

int api_orders_delete(struct mg_connection *c, struct api *api, const struct route_match *m,
		      struct err *err)
{
	char id[24];
	if (parse_id(m, id, err) < 0)
		return -1;
	const char *params[] = {id, mg_get_header(c, "If-Match")};
	return exec_and_send(c, api, &st_delete, params, 200, 0, err);
}
