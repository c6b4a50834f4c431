/* change_filter: the query of a change-stream subscription
 * (`since=SEQ&status=a,b&id=N&operation=INSERT,UPDATE`) and the test of one
 * change against it. Pure functions, thread-safe; no allocation. */
#ifndef ORDERS_CHANGE_FILTER_H
#define ORDERS_CHANGE_FILTER_H

#include "err.h"

enum change_op {
	CHANGE_OP_INSERT,
	CHANGE_OP_UPDATE,
	CHANGE_OP_DELETE,
	CHANGE_OP_TRUNCATE, /* no order id or status: passes those filters */
	CHANGE_OP_COUNT
};

/* Longest epoch a client may name (the schema makes 32 hex digits). */
#define CHANGE_EPOCH_MAX 64

struct change_filter {
	unsigned status_mask; /* bit per enum order_status; 0 = any */
	unsigned op_mask;     /* bit per enum change_op; 0 = any */
	long long id;	      /* order id; 0 = any */
};

struct change_query {
	struct change_filter filter;
	int has_since;
	long long since;	      /* >= 0 when has_since */
	char epoch[CHANGE_EPOCH_MAX]; /* the client's epoch; "" = the current one */
};

/* "INSERT" -> CHANGE_OP_INSERT (case-insensitive), or -1. */
int change_op_parse(const char *s);

/* Parse a raw (URL-encoded) query string; NULL or "" is an empty query.
 * Parameters other than since, epoch, status, id and operation are ignored
 * (the access-control layer reads access_token). An epoch is 1 to 63 of
 * A-Z a-z 0-9 - _. A repeated, empty or invalid
 * parameter fails with ERR_INVALID_QUERY naming it in err->field. */
int change_query_parse(const char *query, struct change_query *out, struct err *err)
    __attribute__((warn_unused_result));

/* The largest seq or id a client may send (18 digits). */
#define CHANGE_SEQ_MAX 999999999999999999LL

/* A seq or id as clients send it (since=, id=, Last-Event-ID): 1 to 18
 * decimal digits, no sign or spaces, no leading zero (but "0" itself).
 * In a query string the raw text must be that (no percent-encoding).
 * 0 with *out set, or -1. */
int change_seq_parse(const char *s, long long *out) __attribute__((warn_unused_result));

/* 1 if s can be an epoch (see change_query_parse). */
int change_epoch_valid(const char *s);

/* 1 if a change matches: status matches the new or the old status
 * (old_status -1 when none), id and operation match. A TRUNCATE matches
 * every status and id filter (it empties the client's table). */
int change_filter_match(const struct change_filter *f, int op, int status, int old_status,
			long long id);

#endif
