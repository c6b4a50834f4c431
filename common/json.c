#include "json.h"

#include "xalloc.h"

#include <string.h>

struct json_object *json_parse(const char *text, size_t len, struct err *err)
{
	if (len > (size_t)INT32_MAX) {
		err_set(err, ERR_INVALID_JSON, "body is too large to parse");
		return NULL;
	}
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok) {
		err_set(err, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		err_set(err, ERR_INVALID_JSON, "malformed JSON: unexpected end of input");
		goto fail;
	}
	if (jerr != json_tokener_success) {
		err_set(err, ERR_INVALID_JSON, "malformed JSON at byte %zu: %s", used,
			json_tokener_error_desc(jerr));
		goto fail;
	}
	for (size_t i = used; i < len; i++) {
		if (!strchr(" \t\r\n", text[i])) {
			err_set(err, ERR_INVALID_JSON,
				"malformed JSON at byte %zu: unexpected data after the value", i);
			goto fail;
		}
	}
	json_tokener_free(tok);
	if (!obj)
		err_set(err, ERR_INVALID_JSON, "expected a JSON object, got null");
	return obj;
fail:
	json_object_put(obj);
	json_tokener_free(tok);
	return NULL;
}

struct json_object *json_parse_object(const char *text, size_t len, struct err *err)
{
	struct json_object *obj = json_parse(text, len, err);
	if (obj && !json_object_is_type(obj, json_type_object)) {
		err_set(err, ERR_INVALID_JSON, "expected a JSON object, got %s",
			json_type_to_name(json_object_get_type(obj)));
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

char *json_dup_string(struct json_object *obj)
{
	return xstrdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
}

int json_valid_utf8(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned cp;
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			n = 1, cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			n = 2, cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			n = 3, cp = c & 0x07;
		} else {
			return 0;
		}
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += n + 1;
	}
	return 1;
}

size_t json_utf8_length(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}
