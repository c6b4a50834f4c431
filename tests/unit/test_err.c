/* err: kind -> HTTP status and machine code; set/clear; field naming. */
#include "err.h"

#include "harness.h"

#include <string.h>

static void test_table(void)
{
	static const struct {
		enum err_kind kind;
		int status;
		const char *code;
	} want[] = {
	    {ERR_INVALID_JSON, 400, "invalid_json"},
	    {ERR_INVALID_QUERY, 400, "invalid_query"},
	    {ERR_BAD_REQUEST, 400, "bad_request"},
	    {ERR_INVALID_ID, 400, "invalid_id"},
	    {ERR_UNAUTHORIZED, 401, "unauthorized"},
	    {ERR_FORBIDDEN, 403, "forbidden"},
	    {ERR_NOT_FOUND, 404, "not_found"},
	    {ERR_METHOD, 405, "method_not_allowed"},
	    {ERR_PRECONDITION, 412, "precondition_failed"},
	    {ERR_TOO_LARGE, 413, "payload_too_large"},
	    {ERR_MEDIA_TYPE, 415, "unsupported_media_type"},
	    {ERR_VALIDATION, 422, "validation_error"},
	    {ERR_RATE_LIMITED, 429, "rate_limited"},
	    {ERR_UNAVAILABLE, 503, "database_unavailable"},
	    {ERR_INTERNAL, 500, "internal_error"},
	    {ERR_SYSTEM, 500, "internal_error"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(err_http_status(want[i].kind) == want[i].status);
		CHECK_STR(err_code(want[i].kind), want[i].code);
	}
	/* every kind has a status >= 400 and a code (except NONE) */
	for (int k = ERR_INVALID_JSON; k <= ERR_SYSTEM; k++) {
		CHECK(err_http_status((enum err_kind)k) >= 400);
		CHECK(err_code((enum err_kind)k) && err_code((enum err_kind)k)[0]);
	}
	/* out-of-range kinds are internal errors, not crashes */
	CHECK(err_http_status((enum err_kind)9999) == 500);
	CHECK_STR(err_code((enum err_kind)9999), "internal_error");
	CHECK(err_http_status((enum err_kind) - 1) == 500);
	CHECK_STR(err_code((enum err_kind) - 1), "internal_error");
}

static void test_set(void)
{
	struct err e;
	err_clear(&e);
	CHECK(e.kind == ERR_NONE && e.field[0] == '\0' && e.msg[0] == '\0');
	CHECK(err_set(&e, ERR_NOT_FOUND, "order %d not found", 5) == -1);
	CHECK(e.kind == ERR_NOT_FOUND);
	CHECK_STR(e.msg, "order 5 not found");
	CHECK(e.field[0] == '\0');
	CHECK(err_set_field(&e, ERR_VALIDATION, "status", "status: %s", "bad") == -1);
	CHECK_STR(e.field, "status");
	CHECK_STR(e.msg, "status: bad");
	/* err_set after err_set_field clears the field */
	CHECK(err_set(&e, ERR_INTERNAL, "x") == -1);
	CHECK(e.field[0] == '\0');
	/* NULL err is allowed */
	CHECK(err_set(NULL, ERR_INTERNAL, "x") == -1);
	CHECK(err_set_field(NULL, ERR_INTERNAL, "f", "x") == -1);
	/* long messages and fields are truncated, NUL-terminated */
	char longs[1000];
	memset(longs, 'm', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	err_set_field(&e, ERR_VALIDATION, longs, "%s", longs);
	CHECK(strlen(e.msg) == ERR_MSG_MAX - 1);
	CHECK(strlen(e.field) == ERR_FIELD_MAX - 1);
	err_set_field(&e, ERR_VALIDATION, NULL, "no field");
	CHECK(e.field[0] == '\0');
	err_clear(&e);
	CHECK(e.kind == ERR_NONE && e.msg[0] == '\0');
}

/* An error answer back to a kind: the code decides among the kinds of one
 * status; without one, a status of one kind gives it, 5xx says "try again
 * later", anything else is a bad request. */
static void test_kind_for_status(void)
{
	CHECK(err_kind_for_status(400, "invalid_query") == ERR_INVALID_QUERY);
	CHECK(err_kind_for_status(400, "invalid_json") == ERR_INVALID_JSON);
	CHECK(err_kind_for_status(400, NULL) == ERR_BAD_REQUEST);
	CHECK(err_kind_for_status(400, "no_such_code") == ERR_BAD_REQUEST);
	CHECK(err_kind_for_status(401, NULL) == ERR_UNAUTHORIZED);
	CHECK(err_kind_for_status(403, "forbidden") == ERR_FORBIDDEN);
	CHECK(err_kind_for_status(404, NULL) == ERR_NOT_FOUND);
	CHECK(err_kind_for_status(405, NULL) == ERR_METHOD);
	CHECK(err_kind_for_status(422, "validation_error") == ERR_VALIDATION);
	/* a code that belongs to another status does not count */
	CHECK(err_kind_for_status(404, "unauthorized") == ERR_NOT_FOUND);
	CHECK(err_kind_for_status(503, NULL) == ERR_UNAVAILABLE);
	CHECK(err_kind_for_status(503, "shutting_down") == ERR_SHUTTING_DOWN);
	CHECK(err_kind_for_status(500, NULL) == ERR_UNAVAILABLE);
	CHECK(err_kind_for_status(502, NULL) == ERR_UNAVAILABLE); /* a proxy without its upstream */
	CHECK(err_kind_for_status(429, NULL) == ERR_RATE_LIMITED);
	CHECK(err_kind_for_status(200, "ok") == ERR_BAD_REQUEST); /* ERR_NONE is never an answer */
	/* every kind with a code of its own comes back from its status and code */
	for (int k = ERR_INVALID_JSON; k <= ERR_SHUTTING_DOWN; k++)
		CHECK(err_kind_for_status(err_http_status((enum err_kind)k),
					  err_code((enum err_kind)k)) == (enum err_kind)k);
}

int main(void)
{
	test_table();
	test_kind_for_status();
	test_set();
	HARNESS_END();
}
