/* auth: token rules, bearer parsing, origin matching. */
#include "auth.h"

#include "harness.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* The default rule trusts Host only for hosts this machine answers to for
 * certain: DNS rebinding (Host: evil.example) gets nothing. */
static void test_origin_hosts(void)
{
	struct auth a;
	struct err e;
	CHECK(auth_init(&a, NULL, NULL, NULL, &e) == 0);
	/* loopback names and addresses, any port */
	CHECK(auth_origin_allowed(&a, "http://localhost:8000", "localhost:3000"));
	CHECK(auth_origin_allowed(&a, "http://localhost.", "localhost.:3000"));
	CHECK(auth_origin_allowed(&a, "http://127.0.0.1", "127.0.0.1:3000"));
	CHECK(auth_origin_allowed(&a, "http://127.3.4.5:1", "127.3.4.5"));
	CHECK(auth_origin_allowed(&a, "https://[::1]", "[::1]"));
	CHECK(auth_origin_allowed(&a, "http://[0:0::1]:5", "[::1]:3000"));
	/* DNS rebinding: the host matches, but nothing says it is us */
	CHECK(!auth_origin_allowed(&a, "http://evil.example", "evil.example"));
	CHECK(!auth_origin_allowed(&a, "http://evil.example:3000", "evil.example:3000"));
	CHECK(!auth_origin_allowed(&a, "http://192.0.2.10", "192.0.2.10:3000"));
	CHECK(!auth_origin_allowed(&a, "http://localhost.evil.example", "localhost.evil.example"));
	CHECK(!auth_origin_allowed(&a, "http://sub.localhost", "sub.localhost"));
	CHECK(!auth_origin_allowed(&a, "http://127.0.0.1", "localhost"));
	/* malformed origins and hosts */
	CHECK(!auth_origin_allowed(&a, "null", "localhost"));
	CHECK(!auth_origin_allowed(&a, "ftp://localhost", "localhost"));
	CHECK(!auth_origin_allowed(&a, "http://localhost/", "localhost"));
	CHECK(!auth_origin_allowed(&a, "http://user@localhost", "localhost"));
	CHECK(!auth_origin_allowed(&a, "http://localhost", "localhost:0"));
	CHECK(!auth_origin_allowed(&a, "http://localhost", "localhost, evil.example"));
	CHECK(!auth_origin_allowed(&a, "http://localhost", ""));

	/* the machine's own host name */
	char me[HOST_NAME_MAX_LEN + 1] = "";
	CHECK(gethostname(me, sizeof(me)) == 0);
	struct host_port hp;
	if (me[0] && host_parse(me, strlen(me), &hp) == 0 && !hp.is_ip) {
		char origin[300], host[300];
		snprintf(origin, sizeof(origin), "http://%s:5173", me);
		snprintf(host, sizeof(host), "%s:3000", me);
		CHECK(auth_origin_allowed(&a, origin, host));
		for (char *p = origin; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		memcpy(origin, "http", 4);
		CHECK(auth_origin_allowed(&a, origin, host));
	}

	/* the bind address */
	auth_set_bind_host(&a, "192.0.2.10");
	CHECK(auth_origin_allowed(&a, "http://192.0.2.10", "192.0.2.10:3000"));
	CHECK(!auth_origin_allowed(&a, "http://192.0.2.11", "192.0.2.11:3000"));
	CHECK(!auth_origin_allowed(&a, "http://evil.example", "evil.example"));
	auth_set_bind_host(&a, "2001:db8::7");
	CHECK(auth_origin_allowed(&a, "http://[2001:db8::7]:1", "[2001:DB8:0::7]:3000"));
	CHECK(!auth_origin_allowed(&a, "http://192.0.2.10", "192.0.2.10:3000"));
	auth_set_bind_host(&a, "orders.internal");
	CHECK(auth_origin_allowed(&a, "http://orders.internal", "ORDERS.internal:3000"));
	CHECK(!auth_origin_allowed(&a, "http://evil.example", "evil.example"));
	auth_set_bind_host(&a, "127.0.0.1");
	CHECK(auth_origin_allowed(&a, "http://localhost", "localhost"));
	CHECK(!auth_origin_allowed(&a, "http://192.0.2.10", "192.0.2.10"));

	/* a wildcard bind: the addresses of this machine's interfaces */
	auth_set_bind_host(&a, "0.0.0.0");
	CHECK(!auth_origin_allowed(&a, "http://evil.example", "evil.example"));
	CHECK(!auth_origin_allowed(&a, "http://0.0.0.0", "0.0.0.0"));
	CHECK(!auth_origin_allowed(&a, "http://192.0.2.99", "192.0.2.99"));
	struct ifaddrs *ifs = NULL;
	CHECK(getifaddrs(&ifs) == 0);
	int checked = 0;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		char addr[INET_ADDRSTRLEN], origin[64], host[64];
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, addr,
			  sizeof(addr));
		snprintf(origin, sizeof(origin), "http://%s:1", addr);
		snprintf(host, sizeof(host), "%s:3000", addr);
		CHECK(auth_origin_allowed(&a, origin, host));
		checked++;
	}
	freeifaddrs(ifs);
	CHECK(checked > 0);
	auth_set_bind_host(&a, "::");
	CHECK(auth_origin_allowed(&a, "http://[::1]", "[::1]"));
	CHECK(!auth_origin_allowed(&a, "http://evil.example", "evil.example"));

	/* with ALLOWED_ORIGINS only the list counts, loopback included */
	CHECK(auth_init(&a, NULL, NULL, "https://shop.example", &e) == 0);
	auth_set_bind_host(&a, "0.0.0.0");
	CHECK(auth_origin_allowed(&a, "https://shop.example", "anything"));
	CHECK(!auth_origin_allowed(&a, "http://localhost", "localhost"));
}

int main(void)
{
	test_rules();
	test_bearer();
	test_origins();
	test_origin_hosts();
	HARNESS_END();
}
