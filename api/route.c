#include "route.h"

#include <stdio.h>
#include <string.h>

static const char *const method_names[] = {"GET",    "POST", "PUT",    "PATCH",
					   "DELETE", "HEAD", "OPTIONS"};

unsigned route_method_bit(const char *method)
{
	for (unsigned i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (strcmp(method, method_names[i]) == 0)
			return 1u << i;
	return 0;
}

/* Does path match pattern? Captures the ":x" segment into param. */
static int pattern_match(const char *pattern, const char *path, char *param, size_t cap)
{
	param[0] = '\0';
	while (*pattern && *path) {
		if (*pattern == ':') {
			while (*pattern && *pattern != '/')
				pattern++;
			const char *end = strchr(path, '/');
			size_t len = end ? (size_t)(end - path) : strlen(path);
			if (len == 0)
				return 0;
			if (len >= cap)
				snprintf(param, cap, "%s", "\x01");
			else {
				memcpy(param, path, len);
				param[len] = '\0';
			}
			path += len;
			continue;
		}
		if (*pattern != *path)
			return 0;
		pattern++;
		path++;
	}
	return *pattern == '\0' && *path == '\0';
}

enum route_status route_match(const struct route_def *table, size_t n, const char *method,
			      const char *path, struct route_match *m)
{
	unsigned bit = route_method_bit(method);
	unsigned allowed = 0;
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		char param[ROUTE_PARAM_MAX];
		if (!pattern_match(table[i].pattern, path, param, sizeof(param)))
			continue;
		if (table[i].methods & bit) {
			m->def = &table[i];
			memcpy(m->param, param, sizeof(param));
			return ROUTE_FOUND;
		}
		allowed |= table[i].methods;
	}
	if (!allowed)
		return ROUTE_NOT_FOUND;
	size_t len = 0;
	for (unsigned i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++) {
		if (!(allowed & (1u << i)))
			continue;
		len += (size_t)snprintf(m->allow + len, sizeof(m->allow) - len, "%s%s",
					len ? ", " : "", method_names[i]);
		if (len >= sizeof(m->allow))
			break;
	}
	return ROUTE_BAD_METHOD;
}
