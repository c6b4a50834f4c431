/* route: matching, 404 vs 405 with Allow, parameters, long parameters. */
#include "route.h"

#include "harness.h"

#include <string.h>

enum { R_ORDERS, R_ORDER, R_CHANGES, R_HEALTH, R_ITEM_SUB };

static const struct route_def table[] = {
    {"/api/orders", ROUTE_GET | ROUTE_POST, R_ORDERS},
    {"/api/orders/:id", ROUTE_GET | ROUTE_PUT | ROUTE_PATCH | ROUTE_DELETE, R_ORDER},
    {"/api/changes", ROUTE_GET, R_CHANGES},
    {"/health", ROUTE_GET, R_HEALTH},
    {"/api/items/:id/sub", ROUTE_GET, R_ITEM_SUB},
};
#define N (sizeof(table) / sizeof(table[0]))

static enum route_status match(const char *method, const char *path, struct route_match *m)
{
	return route_match(table, N, method, path, m);
}

static void test_methods(void)
{
	CHECK(route_method_bit("GET") == ROUTE_GET);
	CHECK(route_method_bit("POST") == ROUTE_POST);
	CHECK(route_method_bit("PUT") == ROUTE_PUT);
	CHECK(route_method_bit("PATCH") == ROUTE_PATCH);
	CHECK(route_method_bit("DELETE") == ROUTE_DELETE);
	CHECK(route_method_bit("HEAD") == ROUTE_HEAD);
	CHECK(route_method_bit("OPTIONS") == ROUTE_OPTIONS);
	CHECK(route_method_bit("get") == 0);
	CHECK(route_method_bit("") == 0);
	CHECK(route_method_bit("PROPFIND") == 0);
}

static void test_found(void)
{
	struct route_match m;
	CHECK(match("GET", "/api/orders", &m) == ROUTE_FOUND);
	CHECK(m.def && m.def->id == R_ORDERS && m.param[0] == '\0');
	CHECK(match("POST", "/api/orders", &m) == ROUTE_FOUND && m.def->id == R_ORDERS);
	CHECK(match("GET", "/api/orders/42", &m) == ROUTE_FOUND);
	CHECK(m.def->id == R_ORDER);
	CHECK_STR(m.param, "42");
	CHECK(match("PATCH", "/api/orders/abc", &m) == ROUTE_FOUND);
	CHECK_STR(m.param, "abc"); /* validation is the handler's job */
	CHECK(match("DELETE", "/api/orders/7", &m) == ROUTE_FOUND && m.def->id == R_ORDER);
	CHECK(match("GET", "/api/items/9/sub", &m) == ROUTE_FOUND && m.def->id == R_ITEM_SUB);
	CHECK_STR(m.param, "9");
	CHECK(match("GET", "/health", &m) == ROUTE_FOUND && m.def->id == R_HEALTH);
}

static void test_not_found(void)
{
	struct route_match m;
	static const char *const paths[] = {
	    "/",
	    "",
	    "/api",
	    "/api/",
	    "/api/order",
	    "/api/orders/",
	    "/api/orders//",
	    "/api/orders/1/",
	    "/api/orders/1/x",
	    "/api/ordersx",
	    "/API/orders",
	    "//api/orders",
	    "/api/orders/1/2",
	    "/api/items//sub",
	    "/api/items/1",
	    "/api/items/1/subx",
	    "/healthz",
	    "/health/",
	    "/nope",
	    "/api/changes/1",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		enum route_status s = match("GET", paths[i], &m);
		if (s != ROUTE_NOT_FOUND)
			fprintf(stderr, "GET '%s' -> %d\n", paths[i], s);
		CHECK(s == ROUTE_NOT_FOUND);
		CHECK(m.def == NULL);
		/* an unknown path is 404 whatever the method */
		CHECK(match("DELETE", paths[i], &m) == ROUTE_NOT_FOUND);
	}
}

static void test_bad_method(void)
{
	struct route_match m;
	CHECK(match("DELETE", "/api/orders", &m) == ROUTE_BAD_METHOD);
	CHECK_STR(m.allow, "GET, POST");
	CHECK(m.def == NULL);
	CHECK(match("POST", "/api/orders/1", &m) == ROUTE_BAD_METHOD);
	CHECK_STR(m.allow, "GET, PUT, PATCH, DELETE");
	CHECK(match("POST", "/api/changes", &m) == ROUTE_BAD_METHOD);
	CHECK_STR(m.allow, "GET");
	CHECK(match("PUT", "/health", &m) == ROUTE_BAD_METHOD);
	CHECK_STR(m.allow, "GET");
	CHECK(match("HEAD", "/api/changes", &m) == ROUTE_BAD_METHOD);
	CHECK(match("BREW", "/api/orders", &m) == ROUTE_BAD_METHOD);
	CHECK_STR(m.allow, "GET, POST");
	CHECK(match("get", "/api/orders", &m) == ROUTE_BAD_METHOD);

	/* the Allow list of every method fits */
	static const struct route_def all[] = {
	    {"/x", ROUTE_GET | ROUTE_POST | ROUTE_PUT | ROUTE_PATCH | ROUTE_DELETE | ROUTE_HEAD, 0},
	};
	CHECK(route_match(all, 1, "OPTIONS", "/x", &m) == ROUTE_BAD_METHOD);
	CHECK_STR(m.allow, "GET, POST, PUT, PATCH, DELETE, HEAD");
}

static void test_long_params(void)
{
	struct route_match m;
	char path[300];
	char seg[ROUTE_PARAM_MAX + 10];
	/* ROUTE_PARAM_MAX-1 characters fit exactly */
	memset(seg, '7', ROUTE_PARAM_MAX - 1);
	seg[ROUTE_PARAM_MAX - 1] = '\0';
	snprintf(path, sizeof(path), "/api/orders/%s", seg);
	CHECK(match("GET", path, &m) == ROUTE_FOUND);
	CHECK_STR(m.param, seg);
	/* one more: still matches, but the parameter is the invalid marker,
	 * never a prefix of the segment */
	memset(seg, '7', ROUTE_PARAM_MAX);
	seg[ROUTE_PARAM_MAX] = '\0';
	snprintf(path, sizeof(path), "/api/orders/%s", seg);
	CHECK(match("GET", path, &m) == ROUTE_FOUND);
	CHECK(strncmp(m.param, "777", 3) != 0);
	CHECK(strlen(m.param) < ROUTE_PARAM_MAX);
	/* very long */
	char huge[5000];
	memset(huge, '1', sizeof(huge));
	memcpy(huge, "/api/orders/", 12);
	huge[sizeof(huge) - 1] = '\0';
	CHECK(match("GET", huge, &m) == ROUTE_FOUND);
	CHECK(strncmp(m.param, "111", 3) != 0);
	CHECK(match("POST", huge, &m) == ROUTE_BAD_METHOD);
	/* long segment in the middle of a pattern */
	memset(seg, 'z', ROUTE_PARAM_MAX + 5);
	seg[ROUTE_PARAM_MAX + 5] = '\0';
	snprintf(path, sizeof(path), "/api/items/%s/sub", seg);
	CHECK(match("GET", path, &m) == ROUTE_FOUND);
	CHECK(strchr(m.param, 'z') == NULL);
}

int main(void)
{
	test_methods();
	test_found();
	test_not_found();
	test_bad_method();
	test_long_params();
	HARNESS_END();
}
