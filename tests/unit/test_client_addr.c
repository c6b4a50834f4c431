/* client_addr: address parsing, TRUSTED_PROXIES, X-Forwarded-For. */
#include "client_addr.h"

#include "harness.h"

#include <stdio.h>
#include <string.h>

static int ip_of(const char *s, int with_port, struct client_ip *ip)
{
	return client_ip_parse(s, strlen(s), with_port, ip);
}

static const char *fmt(const struct client_ip *ip)
{
	static char out[CLIENT_IP_STRLEN];
	return client_ip_format(ip, out);
}

static void test_parse(void)
{
	struct client_ip ip;
	CHECK(ip_of("192.0.2.1", 0, &ip) == 0 && client_ip_is_v4(&ip));
	CHECK_STR(fmt(&ip), "192.0.2.1");
	CHECK(ip_of("2001:DB8::1", 0, &ip) == 0 && !client_ip_is_v4(&ip));
	CHECK_STR(fmt(&ip), "2001:db8::1");
	CHECK(ip_of("[::1]", 0, &ip) == 0 && client_ip_is_loopback(&ip));
	CHECK(ip_of("::ffff:127.0.0.2", 0, &ip) == 0 && client_ip_is_v4(&ip) &&
	      client_ip_is_loopback(&ip));
	CHECK(ip_of("127.255.0.9", 0, &ip) == 0 && client_ip_is_loopback(&ip));
	CHECK(ip_of("128.0.0.1", 0, &ip) == 0 && !client_ip_is_loopback(&ip));
	CHECK(ip_of("0.0.0.0", 0, &ip) == 0 && client_ip_is_any(&ip));
	CHECK(ip_of("::", 0, &ip) == 0 && client_ip_is_any(&ip));
	CHECK(ip_of("192.0.2.1:8080", 1, &ip) == 0);
	CHECK_STR(fmt(&ip), "192.0.2.1");
	CHECK(ip_of("[2001:db8::2]:443", 1, &ip) == 0);
	CHECK_STR(fmt(&ip), "2001:db8::2");
	CHECK(ip_of("2001:db8::2", 1, &ip) == 0); /* two colons: no port */

	static const char *const bad[] = {
	    "",		"localhost",  "192.0.2",    "192.0.2.256",  "0x7f.0.0.1",
	    "127.1",	" 192.0.2.1", "192.0.2.1 ", "[192.0.2.1]",  "fe80::1%eth0",
	    "[::1",	"[::1]x",     "::1]",	    "192.0.2.1:80", /* no port unless asked for */
	    "[::1]:80", "unknown",    "_hidden",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ip_of(bad[i], 0, &ip) == 0)
			fprintf(stderr, "'%s' accepted as an address\n", bad[i]);
		CHECK(ip_of(bad[i], 0, &ip) < 0);
	}
	static const char *const bad_port[] = {"192.0.2.1:", "192.0.2.1:0x1", "192.0.2.1:65536",
					       "[::1]:",     "[::1]:123456",  "192.0.2.1:80:80"};
	for (size_t i = 0; i < sizeof(bad_port) / sizeof(bad_port[0]); i++)
		CHECK(ip_of(bad_port[i], 1, &ip) < 0);
	CHECK(client_ip_parse("10.0.0.1\0x", 10, 0, &ip) < 0);
}

static void test_proxies(void)
{
	struct trusted_proxies tp;
	struct err e;
	struct client_ip ip;
	CHECK(trusted_proxies_parse(&tp, NULL, &e) == 0 && tp.n == 0);
	CHECK(trusted_proxies_parse(&tp, " , ", &e) == 0 && tp.n == 0);
	CHECK(trusted_proxies_parse(&tp, "10.0.0.1, 192.168.0.0/16,::1 ,fd00::/8, 172.16.5.9/12",
				    &e) == 0 &&
	      tp.n == 5);
	CHECK(ip_of("10.0.0.1", 0, &ip) == 0 && trusted_proxies_contains(&tp, &ip));
	CHECK(ip_of("10.0.0.2", 0, &ip) == 0 && !trusted_proxies_contains(&tp, &ip));
	CHECK(ip_of("192.168.200.3", 0, &ip) == 0 && trusted_proxies_contains(&tp, &ip));
	CHECK(ip_of("192.169.0.1", 0, &ip) == 0 && !trusted_proxies_contains(&tp, &ip));
	CHECK(ip_of("172.31.255.255", 0, &ip) == 0 && trusted_proxies_contains(&tp, &ip));
	CHECK(ip_of("172.32.0.0", 0, &ip) == 0 && !trusted_proxies_contains(&tp, &ip));
	CHECK(ip_of("::1", 0, &ip) == 0 && trusted_proxies_contains(&tp, &ip));
	CHECK(ip_of("fdab::7", 0, &ip) == 0 && trusted_proxies_contains(&tp, &ip));
	CHECK(ip_of("fe00::7", 0, &ip) == 0 && !trusted_proxies_contains(&tp, &ip));
	/* an IPv4 range never matches IPv6 addresses, and the reverse */
	CHECK(trusted_proxies_parse(&tp, "0.0.0.0/0", &e) == 0);
	CHECK(ip_of("203.0.113.9", 0, &ip) == 0 && trusted_proxies_contains(&tp, &ip));
	CHECK(ip_of("2001:db8::1", 0, &ip) == 0 && !trusted_proxies_contains(&tp, &ip));
	CHECK(trusted_proxies_parse(&tp, "::/0", &e) == 0);
	CHECK(ip_of("2001:db8::1", 0, &ip) == 0 && trusted_proxies_contains(&tp, &ip));

	static const char *const bad[] = {"proxy.example", "10.0.0.1/33", "::1/129",
					  "10.0.0.0/",	   "10.0.0.0/08", "10.0.0.0/-1",
					  "10.0.0.1:80",   "10.0.0.1/8x", "1.2.3.4,nope"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		CHECK(trusted_proxies_parse(&tp, bad[i], &e) < 0);
		CHECK(e.kind == ERR_CONFIG && strstr(e.msg, "TRUSTED_PROXIES") != NULL);
	}
}

static const char *resolve(const struct trusted_proxies *tp, const char *peer, const char *xff1,
			   const char *xff2)
{
	const char *xff[] = {xff1, xff2};
	size_t n = xff2 ? 2 : xff1 ? 1 : 0;
	struct client_ip ip;
	if (client_addr_resolve(tp, peer, xff, n, &ip) < 0)
		return "(error)";
	return fmt(&ip);
}

static void test_resolve(void)
{
	struct trusted_proxies none, tp;
	struct err e;
	CHECK(trusted_proxies_parse(&none, NULL, &e) == 0);
	CHECK(trusted_proxies_parse(&tp, "127.0.0.1, 10.0.0.0/8", &e) == 0);

	/* untrusted peers: X-Forwarded-For is ignored */
	CHECK_STR(resolve(&none, "127.0.0.1", "203.0.113.5", NULL), "127.0.0.1");
	CHECK_STR(resolve(&tp, "192.0.2.9", "203.0.113.5", NULL), "192.0.2.9");
	/* a trusted peer without the header is the client */
	CHECK_STR(resolve(&tp, "127.0.0.1", NULL, NULL), "127.0.0.1");
	/* the right-most entry that is not a trusted proxy */
	CHECK_STR(resolve(&tp, "127.0.0.1", "203.0.113.5", NULL), "203.0.113.5");
	CHECK_STR(resolve(&tp, "127.0.0.1", "198.51.100.1, 203.0.113.5, 10.1.2.3", NULL),
		  "203.0.113.5");
	/* a forged left part changes nothing */
	CHECK_STR(resolve(&tp, "127.0.0.1", "1.1.1.1,203.0.113.5", NULL), "203.0.113.5");
	/* several headers read as one list, in order */
	CHECK_STR(resolve(&tp, "127.0.0.1", "203.0.113.5", "10.9.9.9"), "203.0.113.5");
	CHECK_STR(resolve(&tp, "127.0.0.1", "10.9.9.9", "203.0.113.7"), "203.0.113.7");
	/* entries with ports, IPv6 */
	CHECK_STR(resolve(&tp, "127.0.0.1", "203.0.113.5:5555", NULL), "203.0.113.5");
	CHECK_STR(resolve(&tp, "127.0.0.1", "[2001:db8::5]:1, 10.0.0.1", NULL), "2001:db8::5");
	CHECK_STR(resolve(&tp, "127.0.0.1", "2001:db8::6", NULL), "2001:db8::6");
	/* garbage stops the walk at the hop that passed it on */
	CHECK_STR(resolve(&tp, "127.0.0.1", "unknown", NULL), "127.0.0.1");
	CHECK_STR(resolve(&tp, "127.0.0.1", "203.0.113.5, junk, 10.0.0.7", NULL), "10.0.0.7");
	CHECK_STR(resolve(&tp, "127.0.0.1", "203.0.113.5,", NULL), "127.0.0.1");
	CHECK_STR(resolve(&tp, "127.0.0.1", "", NULL), "127.0.0.1");
	/* every entry trusted: the left-most */
	CHECK_STR(resolve(&tp, "127.0.0.1", "10.0.0.1, 10.0.0.2", NULL), "10.0.0.1");
	/* a peer that is not an address */
	CHECK_STR(resolve(&tp, "nope", NULL, NULL), "(error)");
	CHECK_STR(resolve(&tp, NULL, NULL, NULL), "(error)");
}

int main(void)
{
	test_parse();
	test_proxies();
	test_resolve();
	HARNESS_END();
}
