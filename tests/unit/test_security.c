/* security: reading a civetweb request's client (peer and
 * X-Forwarded-For headers, in order) through TRUSTED_PROXIES. */
#include "security.h"

#include "harness.h"

#include <civetweb.h>
#include <stdio.h>
#include <string.h>

static const char *fmt(const struct client_ip *ip)
{
	static char out[CLIENT_IP_STRLEN];
	return client_ip_format(ip, out);
}

/* The civetweb form: the peer and every X-Forwarded-For header in order. */
static void test_of_request(void)
{
	struct trusted_proxies tp;
	struct err e;
	struct client_ip ip;
	CHECK(trusted_proxies_parse(&tp, "127.0.0.1, 10.0.0.0/8", &e) == 0);
	static struct mg_request_info ri;
	memset(&ri, 0, sizeof(ri));
	snprintf(ri.remote_addr, sizeof(ri.remote_addr), "127.0.0.1");
	CHECK(client_addr_of_request(&tp, &ri, &ip) == 0);
	CHECK_STR(fmt(&ip), "127.0.0.1");
	ri.http_headers[0] = (struct mg_header){"Host", "x"};
	ri.http_headers[1] = (struct mg_header){"X-Forwarded-For", "198.51.100.1, 203.0.113.5"};
	ri.http_headers[2] = (struct mg_header){"x-forwarded-for", "10.0.0.9"};
	ri.num_headers = 3;
	CHECK(client_addr_of_request(&tp, &ri, &ip) == 0);
	CHECK_STR(fmt(&ip), "203.0.113.5");
	/* from an untrusted peer the header means nothing */
	snprintf(ri.remote_addr, sizeof(ri.remote_addr), "192.0.2.4");
	CHECK(client_addr_of_request(&tp, &ri, &ip) == 0);
	CHECK_STR(fmt(&ip), "192.0.2.4");
	/* many headers: the right-most decide */
	snprintf(ri.remote_addr, sizeof(ri.remote_addr), "::ffff:127.0.0.1");
	for (int i = 0; i < 40; i++)
		ri.http_headers[i] = (struct mg_header){"X-Forwarded-For", "10.0.0.1"};
	ri.http_headers[10] = (struct mg_header){"X-Forwarded-For", "203.0.113.8"};
	ri.http_headers[39] = (struct mg_header){"X-Forwarded-For", "203.0.113.9"};
	ri.num_headers = 40;
	CHECK(client_addr_of_request(&tp, &ri, &ip) == 0);
	CHECK_STR(fmt(&ip), "203.0.113.9");
	ri.http_headers[39] = (struct mg_header){"X-Forwarded-For", "10.0.0.2"};
	CHECK(client_addr_of_request(&tp, &ri, &ip) == 0);
	CHECK(client_ip_is_v4(&ip)); /* only the last 16 are read: all trusted */
	CHECK_STR(fmt(&ip), "10.0.0.1");
}

int main(void)
{
	test_of_request();
	HARNESS_END();
}
