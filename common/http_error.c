#include "http_error.h"

const char *http_status_text(int status)
{
	switch (status) {
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Payload Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Entity";
	case 426:
		return "Upgrade Required";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

int http_error_json(struct buf *b, const struct err *e)
{
	int ok = buf_append_str(b, "{\"error\":") == 0 && buf_append_json_string(b, e->msg) == 0 &&
		 buf_printf(b, ",\"code\":\"%s\"", err_code(e->kind)) == 0;
	if (ok && e->field[0])
		ok = buf_append_str(b, ",\"field\":") == 0 &&
		     buf_append_json_string(b, e->field) == 0;
	return ok && buf_append_str(b, "}") == 0 ? 0 : -1;
}
