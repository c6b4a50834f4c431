#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set_field(struct err *e, enum err_kind kind, const char *field, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		e->kind = kind;
		snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

void err_clear(struct err *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

static const struct {
	int status;
	const char *code;
} err_table[] = {
    [ERR_NONE] = {200, "ok"},
    [ERR_INVALID_JSON] = {400, "invalid_json"},
    [ERR_INVALID_QUERY] = {400, "invalid_query"},
    [ERR_BAD_REQUEST] = {400, "bad_request"},
    [ERR_INVALID_ID] = {400, "invalid_id"},
    [ERR_UNAUTHORIZED] = {401, "unauthorized"},
    [ERR_FORBIDDEN] = {403, "forbidden"},
    [ERR_NOT_FOUND] = {404, "not_found"},
    [ERR_METHOD] = {405, "method_not_allowed"},
    [ERR_PRECONDITION] = {412, "precondition_failed"},
    [ERR_TOO_LARGE] = {413, "payload_too_large"},
    [ERR_MEDIA_TYPE] = {415, "unsupported_media_type"},
    [ERR_VALIDATION] = {422, "validation_error"},
    [ERR_RATE_LIMITED] = {429, "rate_limited"},
    [ERR_UNAVAILABLE] = {503, "database_unavailable"},
    [ERR_SHUTTING_DOWN] = {503, "shutting_down"},
    [ERR_INTERNAL] = {500, "internal_error"},
    [ERR_CONFIG] = {500, "config_error"},
    [ERR_SYSTEM] = {500, "internal_error"},
};

#define ERR_NKINDS (sizeof(err_table) / sizeof(err_table[0]))

int err_http_status(enum err_kind kind)
{
	if ((unsigned)kind >= ERR_NKINDS)
		return 500;
	return err_table[kind].status;
}

const char *err_code(enum err_kind kind)
{
	if ((unsigned)kind >= ERR_NKINDS)
		return "internal_error";
	return err_table[kind].code;
}

enum err_kind err_kind_for_status(int status, const char *code)
{
	enum err_kind only = ERR_NONE;
	int kinds = 0;
	for (unsigned k = ERR_NONE + 1; k < ERR_NKINDS; k++) {
		if (err_table[k].status != status)
			continue;
		if (code && strcmp(code, err_table[k].code) == 0)
			return (enum err_kind)k;
		if (!kinds++)
			only = (enum err_kind)k;
	}
	if (status >= 500 && status <= 599)
		return ERR_UNAVAILABLE;
	return kinds == 1 ? only : ERR_BAD_REQUEST;
}
