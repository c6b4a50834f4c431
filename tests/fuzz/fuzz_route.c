/* api/route.c: a request line "METHOD PATH" matched against the api's
 * table (a copy of api/server.c's) and a few patterns with more captures. */
#include "fuzz.h"

#include "route.h"

static const struct route_def routes[] = {
    {"/api/orders", ROUTE_GET | ROUTE_POST, 1},
    {"/api/orders/:id", ROUTE_GET | ROUTE_PUT | ROUTE_PATCH | ROUTE_DELETE, 2},
    {"/api/changes", ROUTE_GET, 3},
    {"/api/config", ROUTE_GET, 4},
    {"/health", ROUTE_GET, 5},
    {"/metrics", ROUTE_GET, 6},
    {"/a/:x/b", ROUTE_HEAD | ROUTE_OPTIONS, 7},
    {"/:x", ROUTE_DELETE, 8},
    {"/a/:x/:y", 0x7f, 9},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *line = fuzz_cstr(data, size);
	char *path = strchr(line, ' ');
	if (path)
		*path++ = '\0';
	else
		path = line + strlen(line);
	struct route_match m;
	/* no rows, the api's rows, and all of them */
	static const size_t counts[] = {0, 6, NROUTES};
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		size_t n = counts[c];
		enum route_status st = route_match(routes, n, line, path, &m);
		FUZZ_ASSERT(fuzz_terminated(m.param, sizeof(m.param)));
		FUZZ_ASSERT(fuzz_terminated(m.allow, sizeof(m.allow)));
		switch (st) {
		case ROUTE_FOUND:
			FUZZ_ASSERT(m.def >= routes && m.def < routes + n);
			FUZZ_ASSERT(m.def->methods & route_method_bit(line));
			FUZZ_ASSERT(strchr(m.def->pattern, ':') || !m.param[0]);
			FUZZ_ASSERT(!strchr(m.param, '/'));
			break;
		case ROUTE_BAD_METHOD:
			FUZZ_ASSERT(!m.def && m.allow[0]);
			break;
		case ROUTE_NOT_FOUND:
			FUZZ_ASSERT(!m.def);
			break;
		default:
			FUZZ_ASSERT(!"unknown route status");
		}
	}
	free(line);
	return 0;
}
