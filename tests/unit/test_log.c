/* log: the text and json line formats, JSON string escaping (quotes,
 * control characters, invalid UTF-8), one line per event, level filtering,
 * LOG_FORMAT parsing. Lines are captured by pointing stderr at a file. */
#include "log.h"

#include "harness.h"
#include "json.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[] = "/tmp/test_log_XXXXXX";
static char out[16384];

/* Run the logging calls between begin() and end(); end() returns what they
 * wrote to stderr (in out). */
static int saved_fd = -1;

static void begin(void)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	fflush(stderr);
	saved_fd = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static const char *end(void)
{
	dup2(saved_fd, STDERR_FILENO);
	close(saved_fd);
	int fd = open(path, O_RDONLY);
	ssize_t n = read(fd, out, sizeof(out) - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
	return out;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == c;
	return n;
}

/* The one json line in out parsed; its "msg" checked against want (NULL:
 * only that it is a string). */
static void expect_json(const char *line, const char *level, const char *program,
			const char *want_msg)
{
	CHECK(count_char(line, '\n') == 1);
	size_t len = strlen(line);
	CHECK(len > 0 && line[len - 1] == '\n');
	struct err e;
	struct json_object *o = json_parse_object(line, len, &e);
	CHECK(o != NULL);
	if (!o) {
		fprintf(stderr, "not JSON (%s): %s\n", e.msg, line);
		return;
	}
	struct json_object *v;
	CHECK(json_object_object_length(o) == 4);
	CHECK(json_object_object_get_ex(o, "time", &v) && json_object_is_type(v, json_type_string));
	if (v) {
		const char *t = json_object_get_string(v);
		CHECK(strlen(t) == 24 && t[4] == '-' && t[10] == 'T' && t[19] == '.' &&
		      t[23] == 'Z');
	}
	CHECK(json_object_object_get_ex(o, "level", &v) &&
	      strcmp(json_object_get_string(v), level) == 0);
	CHECK(json_object_object_get_ex(o, "program", &v) &&
	      strcmp(json_object_get_string(v), program) == 0);
	CHECK(json_object_object_get_ex(o, "msg", &v) && json_object_is_type(v, json_type_string));
	if (v && want_msg)
		CHECK_STR(json_object_get_string(v), want_msg);
	json_object_put(o);
}

static void test_parse(void)
{
	enum log_format f = LOG_FORMAT_JSON;
	CHECK(log_format_parse("text", &f) == 0 && f == LOG_FORMAT_TEXT);
	CHECK(log_format_parse("json", &f) == 0 && f == LOG_FORMAT_JSON);
	CHECK(log_format_parse("xml", &f) < 0);
	CHECK(log_format_parse("", &f) < 0);
	CHECK(log_format_parse("JSON", &f) < 0);
	enum log_level l;
	CHECK(log_level_parse("warn", &l) == 0 && l == LOG_WARN);
	CHECK(log_level_parse("loud", &l) < 0);
}

static void test_text(void)
{
	log_init("unit", LOG_INFO);
	log_set_format(LOG_FORMAT_TEXT, "orders-unit");
	begin();
	log_info("hello %d", 42);
	log_debug("not shown");
	log_warn("two\nlines\rhere");
	const char *s = end();
	CHECK(count_char(s, '\n') == 2);
	const char *second = strchr(s, '\n') + 1;
	CHECK(strlen(s) > 25 && s[4] == '-' && s[10] == 'T' && s[23] == 'Z' && s[24] == ' ');
	CHECK(strncmp(s + 25, "INFO unit hello 42\n", 19) == 0);
	CHECK(strncmp(second + 25, "WARN unit two lines here\n", 25) == 0);
}

static void test_json(void)
{
	log_init("unit", LOG_DEBUG);
	log_set_format(LOG_FORMAT_JSON, "orders-unit");
	begin();
	log_info("plain %s", "text");
	const char *s = end();
	expect_json(s, "info", "orders-unit", "plain text");
	CHECK(strstr(s, "{\"time\":\"") == s);
	CHECK(strstr(
	    s, "\",\"level\":\"info\",\"program\":\"orders-unit\",\"msg\":\"plain text\"}\n"));

	begin();
	log_error("quote \" backslash \\ newline \n tab \t cr \r bell \a del \x7f end");
	s = end();
	expect_json(s, "error", "orders-unit",
		    "quote \" backslash \\ newline \n tab \t cr \r bell \a del \x7f end");
	CHECK(strstr(s, "\\u0007") && strstr(s, "\\u007f") && strstr(s, "\\n") && strstr(s, "\\t"));

	begin();
	log_debug("utf-8 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	s = end();
	expect_json(s, "debug", "orders-unit", "utf-8 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");

	/* bytes that are not UTF-8 become U+FFFD, one per bad byte */
	begin();
	log_warn("bad \xff, cut \xe2\x82, overlong \xc0\xaf, surrogate \xed\xa0\x80!");
	s = end();
	expect_json(s, "warn", "orders-unit", NULL);
	CHECK(strstr(s, "bad \\ufffd, cut \\ufffd\\ufffd, overlong \\ufffd\\ufffd, "
			"surrogate \\ufffd\\ufffd\\ufffd!"));

	/* a huge message full of escapes is cut, still one valid JSON line */
	char big[5000];
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = i % 2 ? '"' : '\x01';
	big[sizeof(big) - 1] = '\0';
	begin();
	log_info("%s", big);
	s = end();
	expect_json(s, "info", "orders-unit", NULL);
	CHECK(strlen(s) <= 6144);

	/* without a name, json lines carry the log_init name */
	log_init("other", LOG_INFO);
	log_set_format(LOG_FORMAT_JSON, NULL);
	begin();
	log_info("x");
	log_debug("filtered");
	s = end();
	expect_json(s, "info", "orders-unit", "x"); /* the name given before stays */
	log_set_format(LOG_FORMAT_TEXT, NULL);
}

int main(void)
{
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	test_parse();
	test_text();
	test_json();
	unlink(path);
	HARNESS_END();
}
