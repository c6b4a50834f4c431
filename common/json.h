/* json: helpers over json-c.
 * json_object_new_* hands you a reference; *_add takes it; *_get_ex
 * borrows. Refcounts are not atomic: keep a tree in one thread. */
#ifndef ORDERS_JSON_H
#define ORDERS_JSON_H

#include "err.h"

#include <json-c/json.h>
#include <stddef.h>

/* Nesting deeper than this is refused. */
#define JSON_MAX_DEPTH 32

/* Parse exactly one JSON value from text[0..len) (trailing spaces allowed).
 * Strict RFC 8259: no NaN, comments or single quotes; a \u escape of a
 * lone surrogate and an escaped NUL in an object key are refused (json-c
 * would store U+FFFD, and cut the key at the NUL).
 * Returns a new reference (json_object_put it), or NULL with err
 * ERR_INVALID_JSON saying what is wrong and where. Note: a JSON `null`
 * also yields NULL, with err set to "expected a JSON object". */
struct json_object *json_parse(const char *text, size_t len, struct err *err);
/* As json_parse, and the value must be an object whose keys are distinct. */
struct json_object *json_parse_object(const char *text, size_t len, struct err *err);

/* Compact serialisation of obj copied into a new string; caller frees. */
char *json_dup_string(struct json_object *obj);

#endif
