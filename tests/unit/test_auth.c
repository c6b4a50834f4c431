/* auth: token rules, bearer parsing, origin matching. */
#include "auth.h"

#include "harness.h"

static void test_rules(void)
{
	struct auth a;
	struct err e;
	CHECK(auth_init(&a, NULL, NULL, NULL, &e) == 0);
	CHECK(auth_open(&a));
	CHECK(auth_check(&a, AUTH_WRITE, NULL, &e) == 0);

	CHECK(auth_init(&a, "writer-token-0123456", NULL, NULL, &e) == 0);
	CHECK(!auth_open(&a));
	CHECK(auth_check(&a, AUTH_READ, NULL, &e) == 0);
	CHECK(auth_check(&a, AUTH_WRITE, NULL, &e) < 0 && e.kind == ERR_UNAUTHORIZED);
	CHECK(auth_check(&a, AUTH_WRITE, "writer-token-012345", &e) < 0 &&
	      e.kind == ERR_UNAUTHORIZED);
	CHECK(auth_check(&a, AUTH_WRITE, "writer-token-01234567", &e) < 0);
	CHECK(auth_check(&a, AUTH_WRITE, "writer-token-0123456", &e) == 0);

	CHECK(auth_init(&a, "writer-token-0123456", "reader-token-0123456", NULL, &e) == 0);
	CHECK(auth_check(&a, AUTH_READ, NULL, &e) < 0 && e.kind == ERR_UNAUTHORIZED);
	CHECK(auth_check(&a, AUTH_READ, "reader-token-0123456", &e) == 0);
	CHECK(auth_check(&a, AUTH_READ, "writer-token-0123456", &e) == 0);
	CHECK(auth_check(&a, AUTH_WRITE, "reader-token-0123456", &e) < 0 &&
	      e.kind == ERR_FORBIDDEN);

	CHECK(auth_init(&a, NULL, "reader-token-0123456", NULL, &e) < 0 && e.kind == ERR_CONFIG);
	CHECK(auth_init(&a, "same-token-012345678", "same-token-012345678", NULL, &e) < 0);
}

static void test_bearer(void)
{
	CHECK_STR(auth_bearer("Bearer abc"), "abc");
	CHECK_STR(auth_bearer("bearer   abc"), "abc");
	CHECK(auth_bearer("Basic abc") == NULL);
	CHECK(auth_bearer("Bearer ") == NULL);
	CHECK(auth_bearer(NULL) == NULL);
	CHECK(auth_bearer("abc") == NULL);
}

static void test_origins(void)
{
	struct auth a;
	struct err e;
	CHECK(auth_init(&a, NULL, NULL, NULL, &e) == 0);
	CHECK(auth_origin_allowed(&a, NULL, "x"));
	CHECK(auth_origin_allowed(&a, "http://localhost:3000", "localhost:3000"));
	CHECK(auth_origin_allowed(&a, "http://localhost:5173", "localhost:3000"));
	CHECK(auth_origin_allowed(&a, "https://LOCALHOST", "localhost"));
	CHECK(!auth_origin_allowed(&a, "http://evil.test", "localhost:3000"));
	CHECK(!auth_origin_allowed(&a, "http://localhost.evil.test", "localhost:3000"));
	CHECK(!auth_origin_allowed(&a, "http://localhost", NULL));
	CHECK(auth_origin_allowed(&a, "http://[::1]:9", "[::1]:3000"));
	/* origin and Host are read by http_url's parser: nothing loose */
	CHECK(!auth_origin_allowed(&a, "null", "null"));
	CHECK(!auth_origin_allowed(&a, "http://evil example", "evil example"));
	CHECK(!auth_origin_allowed(&a, "http://localhost/path", "localhost"));
	CHECK(!auth_origin_allowed(&a, "http://localhost", "localhost:0"));
	CHECK(!auth_origin_allowed(&a, "http://[::1]", "::1"));

	CHECK(auth_init(&a, NULL, NULL, "https://a.example, http://b.example:8000", &e) == 0);
	CHECK(a.norigins == 2);
	CHECK(auth_origin_allowed(&a, "https://a.example", "localhost:3000"));
	CHECK(auth_origin_allowed(&a, "http://b.example:8000", "x"));
	CHECK(!auth_origin_allowed(&a, "http://b.example", "b.example"));
	CHECK(!auth_origin_allowed(&a, "http://localhost:3000", "localhost:3000"));
}

int main(void)
{
	test_rules();
	test_bearer();
	test_origins();
	HARNESS_END();
}
