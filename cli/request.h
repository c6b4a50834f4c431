/* request: the REST request or relay URL a parsed command stands for,
 * with no I/O, and the build functions the command table's REST rows
 * name. Unit-tested by tests/unit/test_request.c. */
#ifndef ORDERS_CLI_REQUEST_H
#define ORDERS_CLI_REQUEST_H

#include "args.h"
#include "buf.h"
#include "err.h"

struct cli_request {
	const char *method;
	char *path; /* "/api/orders?status=pending", to append to the API URL */
	char *body; /* JSON text or NULL */
};

/* For a row with a build function (list, get, create, update, delete,
 * history, health). 0 or -1 with err. Release with cli_request_release. */
int cli_build_request(const struct cli_parsed *p, struct cli_request *req, struct err *err)
    __attribute__((warn_unused_result));
void cli_request_release(struct cli_request *req);

/* The relay URL for `watch`: relay base URL plus since (when >= 0) and the
 * filters. Caller frees. */
char *cli_watch_url(const char *relay, const struct cli_parsed *p, long long since,
		    const char *epoch);

/* Join a base URL (trailing slashes dropped) and a path. Caller frees. */
char *cli_join_url(const char *base, const char *path);

/* The rows' build functions: append path and body; 0 or -1 (buffer full). */
int cli_build_list(const struct cli_parsed *p, struct buf *path, struct buf *body);
int cli_build_history(const struct cli_parsed *p, struct buf *path, struct buf *body);
int cli_build_order(const struct cli_parsed *p, struct buf *path, struct buf *body);
int cli_build_create(const struct cli_parsed *p, struct buf *path, struct buf *body);
int cli_build_update(const struct cli_parsed *p, struct buf *path, struct buf *body);
int cli_build_health(const struct cli_parsed *p, struct buf *path, struct buf *body);

#endif
