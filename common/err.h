/* err: a caller-owned error record (kind + field + message), filled by
 * fallible functions that return -1 or NULL. One function maps kinds to
 * HTTP statuses and machine codes, so every program reports the same error
 * the same way. */
#ifndef ORDERS_ERR_H
#define ORDERS_ERR_H

#define ERR_MSG_MAX   256
#define ERR_FIELD_MAX 64

enum err_kind {
	ERR_NONE = 0,
	ERR_INVALID_JSON,  /* 400 invalid_json */
	ERR_INVALID_QUERY, /* 400 invalid_query, field = parameter */
	ERR_BAD_REQUEST,   /* 400 bad_request */
	ERR_INVALID_ID,	   /* 400 invalid_id */
	ERR_UNAUTHORIZED,  /* 401 unauthorized */
	ERR_FORBIDDEN,	   /* 403 forbidden */
	ERR_NOT_FOUND,	   /* 404 not_found */
	ERR_METHOD,	   /* 405 method_not_allowed */
	ERR_PRECONDITION,  /* 412 precondition_failed */
	ERR_TOO_LARGE,	   /* 413 payload_too_large */
	ERR_MEDIA_TYPE,	   /* 415 unsupported_media_type */
	ERR_VALIDATION,	   /* 422 validation_error, field = offending field */
	ERR_RATE_LIMITED,  /* 429 rate_limited (with Retry-After) */
	ERR_UNAVAILABLE,   /* 503 database_unavailable */
	ERR_SHUTTING_DOWN, /* 503 shutting_down */
	ERR_INTERNAL,	   /* 500 internal_error */
	ERR_CONFIG,	   /* start-up configuration error: exit 2 */
	ERR_SYSTEM,	   /* an OS call failed */
};

struct err {
	enum err_kind kind;
	char field[ERR_FIELD_MAX]; /* empty when no field applies */
	char msg[ERR_MSG_MAX];
};

/* Fill *e (if not NULL) and return -1, so `return err_set(...)` is one
 * line: err_set(e, kind, fmt, ...). */
#define err_set(e, kind, ...) err_set_field(e, kind, NULL, __VA_ARGS__)
/* As err_set, naming the offending field or parameter (NULL: none). */
int err_set_field(struct err *e, enum err_kind kind, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Empty *e (NULL does nothing). */
void err_clear(struct err *e);

/* The HTTP status and machine code for a kind (static strings). */
int err_http_status(enum err_kind kind);
const char *err_code(enum err_kind kind);
/* The other way, for a client reading an error answer: the kind whose
 * status and machine code (the body's "code", NULL when none) both match;
 * else for a status only one kind has, that kind; else ERR_UNAVAILABLE
 * for any 5xx (the server cannot serve now: worth a retry) and
 * ERR_BAD_REQUEST for anything else. */
enum err_kind err_kind_for_status(int status, const char *code);

#endif
