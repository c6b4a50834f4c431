#include "json.h"

#include "utf8.h"
#include "xalloc.h"

#include <string.h>

/* A strict RFC 8259 syntax check run before json-c, which accepts NaN,
 * Infinity, single quotes and comments even in its strict mode. */
struct scan {
	const char *s;
	size_t len, pos;
	const char *why;
	size_t top_keys; /* members of the top-level object, duplicates included */
};

static void skip_ws(struct scan *sc)
{
	while (sc->pos < sc->len && strchr(" \t\r\n", sc->s[sc->pos]) && sc->s[sc->pos])
		sc->pos++;
}

static int scan_fail(struct scan *sc, const char *why)
{
	sc->why = why;
	return -1;
}

static int scan_literal(struct scan *sc, const char *word)
{
	size_t n = strlen(word);
	if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
		return scan_fail(sc, "unexpected character");
	sc->pos += n;
	return 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int scan_number(struct scan *sc)
{
	const char *s = sc->s;
	if (sc->pos < sc->len && s[sc->pos] == '-')
		sc->pos++;
	if (sc->pos >= sc->len || !is_digit(s[sc->pos]))
		return scan_fail(sc, "invalid number");
	if (s[sc->pos] == '0') {
		sc->pos++;
	} else {
		while (sc->pos < sc->len && is_digit(s[sc->pos]))
			sc->pos++;
	}
	if (sc->pos < sc->len && s[sc->pos] == '.') {
		sc->pos++;
		if (sc->pos >= sc->len || !is_digit(s[sc->pos]))
			return scan_fail(sc, "invalid number");
		while (sc->pos < sc->len && is_digit(s[sc->pos]))
			sc->pos++;
	}
	if (sc->pos < sc->len && (s[sc->pos] == 'e' || s[sc->pos] == 'E')) {
		sc->pos++;
		if (sc->pos < sc->len && (s[sc->pos] == '+' || s[sc->pos] == '-'))
			sc->pos++;
		if (sc->pos >= sc->len || !is_digit(s[sc->pos]))
			return scan_fail(sc, "invalid number");
		while (sc->pos < sc->len && is_digit(s[sc->pos]))
			sc->pos++;
	}
	return 0;
}

static int hex4(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* A string; key: it is an object's key. json-c would turn a lone
 * surrogate into U+FFFD and cut a key at an escaped NUL ("a\u0000b" read
 * as "a"): both are refused here, so what is stored is what was sent. */
static int scan_string(struct scan *sc, int key)
{
	sc->pos++; /* opening quote */
	while (sc->pos < sc->len) {
		unsigned char c = (unsigned char)sc->s[sc->pos++];
		if (c == '"')
			return 0;
		if (c < 0x20)
			return scan_fail(sc, "control character in a string");
		if (c != '\\')
			continue;
		if (sc->pos >= sc->len)
			break;
		c = (unsigned char)sc->s[sc->pos++];
		if (c == 'u') {
			int u = sc->len - sc->pos >= 4 ? hex4(sc->s + sc->pos) : -1;
			if (u < 0)
				return scan_fail(sc, "invalid \\u escape");
			sc->pos += 4;
			if (u == 0 && key)
				return scan_fail(sc, "\\u0000 in an object key");
			if (u >= 0xDC00 && u <= 0xDFFF)
				return scan_fail(sc, "lone low surrogate in a \\u escape");
			if (u >= 0xD800 && u <= 0xDBFF) {
				int lo = sc->len - sc->pos >= 6 && sc->s[sc->pos] == '\\' &&
						 sc->s[sc->pos + 1] == 'u'
					     ? hex4(sc->s + sc->pos + 2)
					     : -1;
				if (lo < 0xDC00 || lo > 0xDFFF)
					return scan_fail(sc, "lone high surrogate in a \\u escape");
				sc->pos += 6;
			}
		} else if (!strchr("\"\\/bfnrt", c) || !c) {
			return scan_fail(sc, "invalid escape");
		}
	}
	return scan_fail(sc, "unterminated string");
}

static int scan_value(struct scan *sc, int depth)
{
	skip_ws(sc);
	if (sc->pos >= sc->len)
		return scan_fail(sc, "unexpected end of input");
	char c = sc->s[sc->pos];
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		if (depth >= JSON_MAX_DEPTH)
			return scan_fail(sc, "nested too deeply");
		sc->pos++;
		skip_ws(sc);
		if (sc->pos < sc->len && sc->s[sc->pos] == close) {
			sc->pos++;
			return 0;
		}
		for (;;) {
			if (c == '{') {
				skip_ws(sc);
				if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
					return scan_fail(sc, "expected a string key");
				if (scan_string(sc, 1) < 0)
					return -1;
				if (depth == 0)
					sc->top_keys++;
				skip_ws(sc);
				if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
					return scan_fail(sc, "expected ':'");
				sc->pos++;
			}
			if (scan_value(sc, depth + 1) < 0)
				return -1;
			skip_ws(sc);
			if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
				sc->pos++;
				continue;
			}
			if (sc->pos < sc->len && sc->s[sc->pos] == close) {
				sc->pos++;
				return 0;
			}
			return scan_fail(sc,
					 c == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
	if (c == '"')
		return scan_string(sc, 0);
	if (c == '-' || is_digit(c))
		return scan_number(sc);
	if (c == 't')
		return scan_literal(sc, "true");
	if (c == 'f')
		return scan_literal(sc, "false");
	if (c == 'n')
		return scan_literal(sc, "null");
	return scan_fail(sc, "unexpected character");
}

static int json_check_syntax(const char *text, size_t len, size_t *top_keys, struct err *err)
{
	struct scan sc = {text, len, 0, NULL, 0};
	if (scan_value(&sc, 0) == 0) {
		skip_ws(&sc);
		*top_keys = sc.top_keys;
		if (sc.pos == len)
			return 0;
		sc.why = "unexpected data after the value";
	}
	if (sc.pos >= len && strcmp(sc.why, "unexpected data after the value") != 0)
		return err_set(err, ERR_INVALID_JSON, "malformed JSON: %s", sc.why);
	return err_set(err, ERR_INVALID_JSON, "malformed JSON at byte %zu: %s", sc.pos, sc.why);
}

/* json_parse; *top_keys: the members the text gives its top-level object,
 * a repeated key counted each time. */
static struct json_object *parse(const char *text, size_t len, size_t *top_keys, struct err *err)
{
	if (len > (size_t)INT32_MAX) {
		err_set(err, ERR_INVALID_JSON, "body is too large to parse");
		return NULL;
	}
	if (!utf8_valid_text(text, len)) {
		err_set(err, ERR_INVALID_JSON, "malformed JSON: not valid UTF-8 text");
		return NULL;
	}
	if (json_check_syntax(text, len, top_keys, err) < 0)
		return NULL;
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok) {
		err_set(err, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue && !obj) {
		/* a bare number may go on: the end of input ends it */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	}
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

struct json_object *json_parse(const char *text, size_t len, struct err *err)
{
	size_t top_keys;
	return parse(text, len, &top_keys, err);
}

struct json_object *json_parse_object(const char *text, size_t len, struct err *err)
{
	size_t top_keys = 0;
	struct json_object *obj = parse(text, len, &top_keys, err);
	if (obj && !json_object_is_type(obj, json_type_object)) {
		err_set(err, ERR_INVALID_JSON, "expected a JSON object, got %s",
			json_type_to_name(json_object_get_type(obj)));
		json_object_put(obj);
		return NULL;
	}
	/* json-c keeps the last of a repeated key: which one a reader takes
	 * differs between parsers, so a repeated key is refused */
	if (obj && (size_t)json_object_object_length(obj) != top_keys) {
		err_set(err, ERR_INVALID_JSON, "malformed JSON: a key is given more than once");
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
