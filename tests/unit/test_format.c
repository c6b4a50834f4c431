/* format: orders-cli output: timestamps, tables that fit a width, colours, change
 * lines. */
#include "format.h"

#include "harness.h"

#include "json.h"

static struct json_object *parse(const char *s)
{
	return json_parse(s, strlen(s), NULL);
}

static void test_time(void)
{
	time_t t;
	CHECK(fmt_parse_time("2026-11-26T03:00:00Z", &t) == 0 && t == 1795662000);
	CHECK(fmt_parse_time("2026-11-26T03:00:00.123456Z", &t) == 0 && t == 1795662000);
	CHECK(fmt_parse_time("2026-11-26T04:30:00+01:30", &t) == 0 && t == 1795662000);
	CHECK(fmt_parse_time("2026-11-26 03:00:00+00", &t) == 0 && t == 1795662000);
	CHECK(fmt_parse_time("2026-11-25T22:00:00-0500", &t) == 0 && t == 1795662000);
	CHECK(fmt_parse_time("2026-11-26T03:00:00", &t) == -1); /* no zone */
	CHECK(fmt_parse_time("2026-13-26T03:00:00Z", &t) == -1);
	CHECK(fmt_parse_time("yesterday", &t) == -1);
	CHECK(fmt_parse_time(NULL, &t) == -1);

	struct fmt_opts o = {.now = 1795662000 + 3600};
	char s[64];
	fmt_time("2026-11-26T03:00:00.5Z", &o, 0, s, sizeof(s));
	CHECK_STR(s, "2026-11-26 03:00:00");
	fmt_time("2026-11-26T03:00:00Z", &o, 1, s, sizeof(s));
	CHECK_STR(s, "03:00:00");
	fmt_time("2026-11-20T03:00:00Z", &o, 1, s, sizeof(s));
	CHECK_STR(s, "2026-11-20 03:00:00");
	fmt_time("garbage", &o, 1, s, sizeof(s));
	CHECK_STR(s, "garbage");

	fmt_ago(1000, 1002, s, sizeof(s));
	CHECK_STR(s, "just now");
	fmt_ago(1000, 1042, s, sizeof(s));
	CHECK_STR(s, "42s ago");
	fmt_ago(1000, 1000 + 300, s, sizeof(s));
	CHECK_STR(s, "5m ago");
	fmt_ago(1000, 1000 + 3 * 3600 + 5, s, sizeof(s));
	CHECK_STR(s, "3h ago");
	fmt_ago(1000, 1000 + 2 * 86400, s, sizeof(s));
	CHECK_STR(s, "2d ago");
	fmt_ago(1100, 1000, s, sizeof(s));
	CHECK_STR(s, "in 1m");
}

static const char *orders_json =
    "[{\"id\":12,\"customer_name\":\"Zo\xc3\xab Jones\",\"product_name\":\"Laptop\","
    "\"status\":\"shipped\",\"created_at\":\"2026-11-26T03:00:00Z\","
    "\"updated_at\":\"2026-11-26T03:00:00Z\"},"
    "{\"id\":7,\"customer_name\":\"A very long customer name indeed\",\"product_name\":"
    "\"Tab\\there\",\"status\":\"pending\",\"created_at\":\"2026-11-26T03:00:00Z\","
    "\"updated_at\":\"2026-11-26T03:00:00Z\"}]";

static void test_tables(void)
{
	struct fmt_opts o = {.now = 1795662000};
	struct buf b;
	buf_init(&b, 0);
	struct json_object *orders = parse(orders_json);
	CHECK(fmt_orders(orders, &o, &b) == 0);
	CHECK_STR(b.data,
		  "ID  CUSTOMER                          PRODUCT   STATUS   UPDATED\n"
		  "12  Zo\xc3\xab Jones                         Laptop    shipped  2026-11-26 "
		  "03:00:00\n"
		  "7   A very long customer name indeed  Tab here  pending  2026-11-26 03:00:00\n"
		  "(2 orders)\n");
	/* 60 columns: the customer column is cut with an ellipsis */
	buf_reset(&b);
	o.width = 60;
	CHECK(fmt_orders(orders, &o, &b) == 0);
	CHECK_STR(b.data,
		  "ID  CUSTOMER          PRODUCT   STATUS   UPDATED\n"
		  "12  Zo\xc3\xab Jones         Laptop    shipped  2026-11-26 03:00:00\n"
		  "7   A very long cus\xe2\x80\xa6  Tab here  pending  2026-11-26 03:00:00\n"
		  "(2 orders)\n");
	const char *p = b.data;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t w = 0;
		for (const char *q = p; q < nl; q++)
			w += ((unsigned char)*q & 0xc0) != 0x80;
		CHECK(w <= 60);
		p = nl + 1;
	}
	/* colours: statuses coloured, padding outside the escape codes */
	buf_reset(&b);
	o.width = 0;
	o.color = 1;
	CHECK(fmt_orders(orders, &o, &b) == 0);
	CHECK(strstr(b.data, "\033[36mshipped\033[0m  ") != NULL);
	CHECK(strstr(b.data, "\033[33mpending\033[0m  ") != NULL);
	json_object_put(orders);

	buf_reset(&b);
	o.color = 0;
	struct json_object *empty = parse("[]");
	CHECK(fmt_orders(empty, &o, &b) == 0);
	CHECK_STR(b.data, "ID  CUSTOMER  PRODUCT  STATUS  UPDATED\n(0 orders)\n");
	json_object_put(empty);
	buf_release(&b);
}

static void test_record_and_changes(void)
{
	struct fmt_opts o = {.now = 1795662000 + 120};
	struct buf b;
	buf_init(&b, 0);
	struct json_object *ord = parse("{\"id\":7,\"customer_name\":\"Ann\",\"product_name\":"
					"\"Desk\",\"status\":\"delivered\",\"created_at\":"
					"\"2026-11-26T03:00:00Z\",\"updated_at\":"
					"\"2026-11-26T03:02:00Z\"}");
	CHECK(fmt_order(ord, &o, &b) == 0);
	CHECK_STR(b.data, "id             7\n"
			  "customer_name  Ann\n"
			  "product_name   Desk\n"
			  "status         delivered\n"
			  "created_at     2026-11-26 03:00:00 (2m ago)\n"
			  "updated_at     2026-11-26 03:02:00 (just now)\n");
	json_object_put(ord);

	struct json_object *ev = parse(
	    "{\"type\":\"order_change\",\"seq\":42,\"data\":{\"operation\":\"UPDATE\",\"id\":7,"
	    "\"customer_name\":\"John Doe\",\"product_name\":\"Laptop\",\"status\":\"shipped\","
	    "\"created_at\":\"2026-11-26T03:00:00Z\",\"updated_at\":\"2026-11-26T03:01:00Z\"},"
	    "\"old\":{\"status\":\"pending\"},\"timestamp\":\"2026-11-26T03:01:00.2Z\"}");
	buf_reset(&b);
	CHECK(fmt_change_line(ev, &o, &b) == 0);
	CHECK_STR(b.data, "03:01:00  #42  UPDATE  order 7  John Doe  Laptop  pending -> shipped\n");
	buf_reset(&b);
	o.color = 1;
	CHECK(fmt_change_line(ev, &o, &b) == 0);
	CHECK(strstr(b.data, "\033[33mpending\033[0m -> \033[36mshipped\033[0m") != NULL);
	o.color = 0;
	struct json_object *arr = json_object_new_array();
	json_object_array_add(arr, json_object_get(ev));
	buf_reset(&b);
	CHECK(fmt_changes(arr, &o, &b) == 0);
	CHECK_STR(b.data, "SEQ  TIME                 OP      ID  CUSTOMER  PRODUCT  STATUS\n"
			  "42   2026-11-26 03:01:00  UPDATE  7   John Doe  Laptop   pending -> "
			  "shipped\n"
			  "(1 change)\n");
	json_object_put(arr);
	json_object_put(ev);

	ev = parse("{\"type\":\"order_change\",\"seq\":43,\"data\":{\"operation\":\"DELETE\","
		   "\"id\":8,\"customer_name\":\"B\",\"product_name\":\"C\",\"status\":"
		   "\"cancelled\",\"updated_at\":\"2026-11-26T03:01:00Z\"},\"old\":{"
		   "\"customer_name\":\"A\"}}");
	buf_reset(&b);
	CHECK(fmt_change_line(ev, &o, &b) == 0);
	CHECK_STR(b.data, "03:01:00  #43  DELETE  order 8  A -> B  C  cancelled (deleted)\n");
	json_object_put(ev);

	ev = parse("{\"type\":\"order_change\",\"seq\":44,\"data\":{\"operation\":"
		   "\"TRUNCATE\"},\"timestamp\":\"2026-11-26T03:02:00.5Z\"}");
	buf_reset(&b);
	CHECK(fmt_change_line(ev, &o, &b) == 0);
	CHECK_STR(b.data, "03:02:00  #44  TRUNCATE  every order removed\n");
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_get(ev));
	buf_reset(&b);
	CHECK(fmt_changes(arr, &o, &b) == 0);
	CHECK(strstr(b.data, "44   2026-11-26 03:02:00  TRUNCATE") != NULL);
	json_object_put(arr);
	json_object_put(ev);

	struct json_object *h = parse("{\"status\":\"degraded\",\"connectedClients\":null,"
				      "\"database\":\"connected\"}");
	buf_reset(&b);
	CHECK(fmt_health(h, &o, &b) == 0);
	CHECK_STR(b.data, "status             degraded\n"
			  "connectedClients   null\n"
			  "database           connected\n");
	json_object_put(h);
	buf_release(&b);
}

/* Names from the server cannot drive the terminal: ESC, BEL and C1 bytes
 * come out as '?' in every human output. */
static void test_control_characters(void)
{
	struct fmt_opts o = {.now = 1795662000};
	struct buf b;
	buf_init(&b, 0);
	struct json_object *ord =
	    parse("{\"id\":7,\"customer_name\":\"\\u001b]0;pwned\\u0007\","
		  "\"product_name\":\"a\\u009bb\\u007f\",\"status\":\"pending\"}");
	CHECK(ord != NULL);
	CHECK(fmt_order(ord, &o, &b) == 0);
	CHECK(strchr(b.data, 0x1b) == NULL && strchr(b.data, 0x07) == NULL &&
	      strchr(b.data, 0x7f) == NULL && strstr(b.data, "\xc2\x9b") == NULL);
	CHECK(strstr(b.data, "?]0;pwned?") != NULL && strstr(b.data, "a?b?") != NULL);
	buf_reset(&b);
	struct json_object *ev =
	    parse("{\"type\":\"order_change\",\"seq\":3,\"data\":{"
		  "\"operation\":\"UPDATE\",\"id\":7,\"customer_name\":"
		  "\"x\\u001b[2Jy\",\"product_name\":\"p\",\"status\":\"shipped\"},"
		  "\"old\":{\"customer_name\":\"\\u001b[31m\"}}");
	CHECK(ev != NULL);
	CHECK(fmt_change_line(ev, &o, &b) == 0);
	CHECK(strchr(b.data, 0x1b) == NULL);
	json_object_put(ord);
	json_object_put(ev);
	buf_release(&b);
}

/* health prints every key and value the server sends: none may carry an
 * escape sequence, in keys either, coloured or not. */
static void test_health_control_characters(void)
{
	struct buf b;
	buf_init(&b, 0);
	struct json_object *h = parse("{\"status\":\"\\u001b]0;pwned\\u0007\","
				      "\"x\\u001b[2J\":\"a\\u009bb\\u007f\"}");
	CHECK(h != NULL);
	for (int color = 0; color <= 1; color++) {
		struct fmt_opts o = {.now = 1795662000, .color = color};
		buf_reset(&b);
		CHECK(fmt_health(h, &o, &b) == 0);
		/* the only ESC left is the colour this program adds */
		const char *text = b.data;
		if (color)
			CHECK(strncmp(strchr(text, 0x1b), "\033[31m?]0;pwned?\033[0m", 19) == 0);
		else
			CHECK(strchr(text, 0x1b) == NULL);
		CHECK(strchr(text, 0x07) == NULL && strchr(text, 0x7f) == NULL &&
		      strstr(text, "\xc2\x9b") == NULL);
		CHECK(strstr(text, "x?[2J") != NULL && strstr(text, "a?b?") != NULL);
	}
	json_object_put(h);
	char *c = fmt_clean("tab\there\x1b[1m\xc2\x85.");
	CHECK_STR(c, "tab here?[1m?.");
	free(c);
	c = fmt_clean(NULL);
	CHECK_STR(c, "");
	free(c);
	buf_release(&b);
}

/* fmt_clean is common/utf8's utf8_printable: bytes that are not UTF-8
 * become '?', and a table cell is cleaned like a member. */
static void test_one_sanitiser(void)
{
	char *c = fmt_clean("ok\xff\xc3z\xe2\x82\xac\x1b");
	CHECK_STR(c, "ok??z\xe2\x82\xac?");
	free(c);
	/* a member that is already printable is left as it is, not copied */
	struct json_object *o = parse("{\"a\":\"plain caf\xc3\xa9\",\"b\":\"x\\u0007\"}");
	struct json_object *a = NULL;
	json_object_object_get_ex(o, "a", &a);
	CHECK(fmt_member(o, "a") == json_object_get_string(a));
	CHECK_STR(fmt_member(o, "b"), "x?");
	CHECK_STR(fmt_member(o, "b"), "x?"); /* once cleaned, stays so */
	json_object_put(o);
	/* a cell given directly to a table (not read with fmt_member) */
	static const char *const head[] = {"A", "B"};
	struct fmt_table t;
	fmt_table_init(&t, 2, head, NULL, -1);
	const char *row[] = {"x\x1b[2Jy", "\xc2\x9bz\tw"};
	fmt_table_add(&t, row);
	struct fmt_opts opts = {.now = 0};
	struct buf b;
	buf_init(&b, 0);
	CHECK(fmt_table_render(&t, &opts, &b) == 0);
	CHECK_STR(b.data, "A       B\nx?[2Jy  ?z w\n");
	fmt_table_release(&t);
	buf_release(&b);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_time();
	test_tables();
	test_record_and_changes();
	test_control_characters();
	test_health_control_characters();
	test_one_sanitiser();
	HARNESS_END();
}
