/* config: durations, sizes, ports, log levels, URLs, tokens, .env parsing
 * and the flag > environment > .env > default precedence of config_load. */
#include "config.h"

#include "harness.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every one of bad[0..n) is refused by parse (a config_parse_* function). */
static void check_refused(int (*parse)(const char *, long long *), const char *what,
			  const char *const *bad, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		long long v;
		int rc = parse(bad[i], &v);
		if (rc == 0)
			fprintf(stderr, "%s '%s' accepted\n", what, bad[i]);
		CHECK(rc < 0);
	}
}
#define CHECK_REFUSED(parse, what, bad)                                                            \
	check_refused(parse, what, bad, sizeof(bad) / sizeof(bad[0]))

static long long dur(const char *s, int *ok)
{
	long long v = -12345;
	*ok = config_parse_duration(s, &v) == 0;
	return v;
}

static void test_durations(void)
{
	int ok;
	CHECK(dur("250ms", &ok) == 250 && ok);
	CHECK(dur("30s", &ok) == 30000 && ok);
	CHECK(dur("30", &ok) == 30000 && ok); /* bare = seconds */
	CHECK(dur("5m", &ok) == 300000 && ok);
	CHECK(dur("24h", &ok) == 86400000LL && ok);
	CHECK(dur("7d", &ok) == 7LL * 86400000LL && ok);
	CHECK(dur("0s", &ok) == 0 && ok); /* parses; config_check_value refuses it */
	static const char *const bad[] = {"",
					  "s",
					  "ms",
					  "-1s",
					  "+5s",
					  " 5s",
					  "5s ",
					  "5 s",
					  "1.s",
					  "5sec",
					  "5S",
					  "5M",
					  "5w",
					  "5ns",
					  "5us",
					  "abc",
					  "5mss",
					  "0x10",
					  "99999999999999999999s",
					  "9223372036854775807d"};
	CHECK_REFUSED(config_parse_duration, "duration", bad);
}

static void test_decimal_durations(void)
{
	long long v = 0;
	CHECK(config_parse_duration("1.5s", &v) == 0 && v == 1500);
	CHECK(config_parse_duration("0.25h", &v) == 0 && v == 900000);
	CHECK(config_parse_duration("2.5", &v) == 0 && v == 2500);
	CHECK(config_parse_duration(".5s", &v) < 0);
	CHECK(config_parse_duration("1.s", &v) < 0);
	CHECK(config_parse_duration("1.5.5s", &v) < 0);
}

static void test_sizes(void)
{
	long long v = 0;
	CHECK(config_parse_size("100B", &v) == 0 && v == 100);
	CHECK(config_parse_size("100", &v) == 0 && v == 100);
	CHECK(config_parse_size("512KiB", &v) == 0 && v == 512 * 1024);
	CHECK(config_parse_size("8MiB", &v) == 0 && v == 8 * 1024 * 1024);
	CHECK(config_parse_size("1GiB", &v) == 0 && v == 1024LL * 1024 * 1024);
	static const char *const bad[] = {"",
					  "B",
					  "KiB",
					  "-1",
					  "+1",
					  "1KB",
					  "1kb",
					  "1K",
					  "1kib",
					  "1 MiB",
					  "1.5MiB",
					  "1MiB ",
					  "1TiB",
					  "1MB",
					  "x",
					  "99999999999999999999",
					  "9999999999999GiB"};
	CHECK_REFUSED(config_parse_size, "size", bad);
}

static void test_ports(void)
{
	long long p = 0;
	CHECK(config_parse_port("1", &p) == 0 && p == 1);
	CHECK(config_parse_port("3000", &p) == 0 && p == 3000);
	CHECK(config_parse_port("65535", &p) == 0 && p == 65535);
	static const char *const bad[] = {"0",
					  "65536",
					  "70000",
					  "-1",
					  "",
					  "abc",
					  "80x",
					  " 80",
					  "80 ",
					  "+80",
					  "8.0",
					  "0x50",
					  "99999999999999999999"};
	CHECK_REFUSED(config_parse_port, "port", bad);
}

/* check_value fails, the message names the variable first and quotes the
 * value (except for secrets). */
static void expect_bad(const char *env, enum config_type t, const char *value)
{
	struct err e;
	err_clear(&e);
	long long n;
	int rc = config_check_value(env, t, value, &n, &e);
	if (rc == 0)
		fprintf(stderr, "%s='%s' accepted\n", env, value);
	CHECK(rc < 0);
	CHECK(e.kind == ERR_CONFIG);
	size_t el = strlen(env);
	CHECK(strncmp(e.msg, env, el) == 0 && e.msg[el] == ':');
	CHECK(strchr(e.msg, '\n') == NULL);
}

static void expect_good(const char *env, enum config_type t, const char *value, long long num)
{
	struct err e;
	err_clear(&e);
	long long n = -1;
	int rc = config_check_value(env, t, value, &n, &e);
	if (rc != 0)
		fprintf(stderr, "%s='%s' refused: %s\n", env, value, e.msg);
	CHECK(rc == 0);
	CHECK(n == num);
}

static void test_check_value(void)
{
	expect_good("PORT", CONFIG_PORT, "8080", 8080);
	expect_bad("PORT", CONFIG_PORT, "70000");
	expect_bad("PORT", CONFIG_PORT, "0");
	{
		struct err e;
		long long n;
		CHECK(config_check_value("PORT", CONFIG_PORT, "70000", &n, &e) < 0);
		CHECK(strstr(e.msg, "70000") != NULL);
	}
	expect_good("API_THREADS", CONFIG_COUNT, "1", 1);
	expect_good("API_THREADS", CONFIG_COUNT, "64", 64);
	expect_bad("API_THREADS", CONFIG_COUNT, "0");
	expect_bad("API_THREADS", CONFIG_COUNT, "-3");
	expect_bad("API_THREADS", CONFIG_COUNT, "many");
	expect_bad("API_THREADS", CONFIG_COUNT, "4x");

	expect_good("PING_INTERVAL", CONFIG_DURATION, "30s", 30000);
	expect_good("PING_INTERVAL", CONFIG_DURATION, "250ms", 250);
	expect_bad("PING_INTERVAL", CONFIG_DURATION, "0s");
	expect_bad("PING_INTERVAL", CONFIG_DURATION, "0");
	expect_bad("PING_INTERVAL", CONFIG_DURATION, "soon");
	expect_good("CLIENT_BACKLOG", CONFIG_SIZE, "8MiB", 8LL << 20);
	expect_bad("CLIENT_BACKLOG", CONFIG_SIZE, "0B");
	expect_bad("CLIENT_BACKLOG", CONFIG_SIZE, "8MB");

	expect_good("LOG_LEVEL", CONFIG_LOG_LEVEL, "debug", 0);
	expect_good("LOG_LEVEL", CONFIG_LOG_LEVEL, "info", 1);
	expect_good("LOG_LEVEL", CONFIG_LOG_LEVEL, "warn", 2);
	expect_good("LOG_LEVEL", CONFIG_LOG_LEVEL, "error", 3);
	expect_bad("LOG_LEVEL", CONFIG_LOG_LEVEL, "loud");
	expect_bad("LOG_LEVEL", CONFIG_LOG_LEVEL, "");
	expect_bad("LOG_LEVEL", CONFIG_LOG_LEVEL, "trace");
	expect_good("LOG_FORMAT", CONFIG_LOG_FORMAT, "text", LOG_FORMAT_TEXT);
	expect_good("LOG_FORMAT", CONFIG_LOG_FORMAT, "json", LOG_FORMAT_JSON);
	expect_bad("LOG_FORMAT", CONFIG_LOG_FORMAT, "xml");
	expect_bad("LOG_FORMAT", CONFIG_LOG_FORMAT, "JSON");
	expect_bad("LOG_FORMAT", CONFIG_LOG_FORMAT, "");

	expect_good("ORDERS_API_URL", CONFIG_HTTP_URL, "http://localhost:3000", 0);
	expect_good("ORDERS_API_URL", CONFIG_HTTP_URL, "https://example.com/base/", 0);
	expect_good("ORDERS_API_URL", CONFIG_HTTP_URL, "http://[::1]:3000", 0);
	expect_good("ORDERS_API_URL", CONFIG_HTTP_URL, "http://127.0.0.1", 0);
	expect_bad("ORDERS_API_URL", CONFIG_HTTP_URL, "localhost:3000");
	expect_bad("ORDERS_API_URL", CONFIG_HTTP_URL, "ftp://host");
	expect_bad("ORDERS_API_URL", CONFIG_HTTP_URL, "http://");
	expect_bad("ORDERS_API_URL", CONFIG_HTTP_URL, "http://host:0");
	expect_bad("ORDERS_API_URL", CONFIG_HTTP_URL, "http://host:70000");
	expect_bad("ORDERS_API_URL", CONFIG_HTTP_URL, "http://host:99999999999999999999");
	expect_bad("ORDERS_API_URL", CONFIG_HTTP_URL, "http://host:");
	expect_bad("ORDERS_API_URL", CONFIG_HTTP_URL, "http://ho st");
	expect_bad("ORDERS_API_URL", CONFIG_HTTP_URL, "http://host/a b");
	expect_bad("ORDERS_API_URL", CONFIG_HTTP_URL, "ws://host");
	expect_bad("ORDERS_API_URL", CONFIG_HTTP_URL, "http://host/#top");
	expect_bad("ORDERS_API_URL", CONFIG_HTTP_URL, "http://user@host");
	expect_good("ORDERS_API_URL", CONFIG_HTTP_URL, "HTTPS://host?x=1", 0);
	expect_good("ORDERS_RELAY_URL", CONFIG_WS_URL, "ws://localhost:8080", 0);
	expect_good("ORDERS_RELAY_URL", CONFIG_WS_URL, "wss://example.com/ws", 0);
	expect_bad("ORDERS_RELAY_URL", CONFIG_WS_URL, "http://localhost:8080");
	expect_bad("ORDERS_RELAY_URL", CONFIG_WS_URL, "ws//localhost");

	expect_good("ALLOWED_ORIGINS", CONFIG_ORIGINS, "http://a.example, https://b.example:8443",
		    0);
	expect_bad("ALLOWED_ORIGINS", CONFIG_ORIGINS, "http://a.example/path");
	expect_bad("ALLOWED_ORIGINS", CONFIG_ORIGINS, "http://a.example/");
	expect_bad("ALLOWED_ORIGINS", CONFIG_ORIGINS, "ws://a.example");
	expect_bad("ALLOWED_ORIGINS", CONFIG_ORIGINS, ",");
	expect_bad("ALLOWED_ORIGINS", CONFIG_ORIGINS, "a.example");

	expect_good("HOST", CONFIG_HOST, "0.0.0.0", 0);
	expect_bad("HOST", CONFIG_HOST, "");
	expect_bad("HOST", CONFIG_HOST, "a b");

	expect_good("DATABASE_URL", CONFIG_DB_URL, "postgresql://postgres@127.0.0.1:5432/db", 0);
	expect_good("DATABASE_URL", CONFIG_DB_URL, "host=localhost dbname=x", 0);
	expect_bad("DATABASE_URL", CONFIG_DB_URL, "host=localhost junk");
	expect_bad("DATABASE_URL", CONFIG_DB_URL, "postgresql://[::1");
	expect_bad("DATABASE_URL", CONFIG_DB_URL, "postgresql://host/db?nosuchparam=1");
	/* A DATABASE_URL carries a password: the error must not repeat it. */
	{
		static const char *const urls[] = {
		    "postgresql://user:s3cretPW@[::1/db",
		    "postgresql://user:s3cretPW@host/db?nosuchparam=1",
		    "host=localhost password=s3cretPW junk",
		    "postgresql://user:s3cretPW@host:port/db?sslmode=bogus",
		};
		for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
			struct err e;
			long long n;
			err_clear(&e);
			int rc = config_check_value("DATABASE_URL", CONFIG_DB_URL, urls[i], &n, &e);
			if (rc < 0 && strstr(e.msg, "s3cretPW"))
				fprintf(stderr, "secret leaked for '%s': %s\n", urls[i], e.msg);
			CHECK(rc < 0 ? strstr(e.msg, "s3cretPW") == NULL : 1);
		}
	}

	expect_bad("API_TOKEN", CONFIG_TOKEN, "short");
	{
		/* the token itself is a secret: never in the message */
		struct err e;
		long long n;
		CHECK(config_check_value("API_TOKEN", CONFIG_TOKEN, "abcdefghijklmnop!", &n, &e) <
		      0);
		CHECK(strstr(e.msg, "abcdefghijklmnop") == NULL);
	}
}

/* WRITE_RATE_LIMIT and TRUSTED_PROXIES. */
static void test_rate_and_addresses(void)
{
	long long count = -1, period = -1;
	CHECK(config_parse_rate("100/s", &count, &period) == 0 && count == 100 && period == 1000);
	CHECK(config_parse_rate("30/m", &count, &period) == 0 && count == 30 && period == 60000);
	CHECK(config_parse_rate("1000000/s", &count, &period) == 0 && count == 1000000);
	CHECK(config_parse_rate("0", &count, &period) == 0 && count == 0);
	CHECK(config_parse_rate("0/s", &count, &period) == 0 && count == 0);
	static const char *const bad_rates[] = {
	    "",	      "100",	"100/h", "100/S",     "/s",
	    "-1/s",   "+1/s",	"1e3/s", "1000001/s", "0100/s",
	    "100 /s", "100/s ", " 0",	 "100/sec",   "99999999999999999999/s"};
	for (size_t i = 0; i < sizeof(bad_rates) / sizeof(bad_rates[0]); i++)
		CHECK(config_parse_rate(bad_rates[i], &count, &period) < 0);
	expect_good("WRITE_RATE_LIMIT", CONFIG_RATE, "100/s", 100);
	expect_good("WRITE_RATE_LIMIT", CONFIG_RATE, "0", 0);
	expect_bad("WRITE_RATE_LIMIT", CONFIG_RATE, "fast");
	expect_bad("WRITE_RATE_LIMIT", CONFIG_RATE, "10");
	{
		struct err e;
		long long n;
		CHECK(config_check_value("WRITE_RATE_LIMIT", CONFIG_RATE, "5/h", &n, &e) < 0);
		CHECK(strncmp(e.msg, "WRITE_RATE_LIMIT: ", 18) == 0 && strstr(e.msg, "5/h"));
	}
	expect_good("TRUSTED_PROXIES", CONFIG_ADDRESSES, "127.0.0.1, 10.0.0.0/8, ::1", 3);
	expect_bad("TRUSTED_PROXIES", CONFIG_ADDRESSES, "nginx");
	expect_bad("TRUSTED_PROXIES", CONFIG_ADDRESSES, "10.0.0.0/40");
	{
		struct err e;
		long long n;
		CHECK(config_check_value("TRUSTED_PROXIES", CONFIG_ADDRESSES, "1.2.3.4,bad", &n,
					 &e) < 0);
		CHECK(strncmp(e.msg, "TRUSTED_PROXIES: ", 17) == 0 && strstr(e.msg, "'bad'"));
		CHECK(strchr(e.msg, '\n') == NULL);
	}
}

static void test_tokens(void)
{
	char t[300];
	memset(t, 'a', sizeof(t));
	t[15] = '\0';
	CHECK(!config_valid_token(t)); /* 15 */
	memset(t, 'a', sizeof(t));
	t[16] = '\0';
	CHECK(config_valid_token(t)); /* 16 */
	memset(t, 'a', sizeof(t));
	t[256] = '\0';
	CHECK(config_valid_token(t)); /* 256 */
	memset(t, 'a', sizeof(t));
	t[257] = '\0';
	CHECK(!config_valid_token(t)); /* 257 */
	CHECK(config_valid_token("AZaz09._~-AZaz09._~-"));
	CHECK(!config_valid_token("abcdefghijklmnop "));
	CHECK(!config_valid_token("abcdefghijklmnop+"));
	CHECK(!config_valid_token("abcdefghijklmnop/"));
	CHECK(!config_valid_token("abcdefghijklmnop="));
	CHECK(!config_valid_token("abcdefghijklmnop\xc3\xa9"));
	CHECK(!config_valid_token(""));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void test_env_file(void)
{
	static const char *const names[] = {"TC_PLAIN",	 "TC_DQ",     "TC_SQ",	  "TC_EXPORT",
					    "TC_SPACES", "TC_EMPTY",  "TC_HASHQ", "TC_SET",
					    "TC_EQ",	 "TC_INLINE", "TC_AFTER"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unsetenv(names[i]);
	setenv("TC_SET", "from-environment", 1);
	write_file(".env", "# a comment line\n"
			   "   # an indented comment\n"
			   "\n"
			   "TC_PLAIN=plain\n"
			   "TC_DQ=\"double quoted value\"\n"
			   "TC_SQ='single quoted value'\n"
			   "export TC_EXPORT=exported\n"
			   "  TC_SPACES  =  spaced out  \n"
			   "TC_EMPTY=\n"
			   "TC_HASHQ=\"a # not a comment\"\n"
			   "TC_SET=from-file\n"
			   "TC_EQ=a=b=c\n"
			   "TC_AFTER=last\n");
	struct err e;
	err_clear(&e);
	CHECK(config_read_env_file(".env", &e) == 0);
	CHECK_STR(getenv("TC_PLAIN"), "plain");
	CHECK_STR(getenv("TC_DQ"), "double quoted value");
	CHECK_STR(getenv("TC_SQ"), "single quoted value");
	CHECK_STR(getenv("TC_EXPORT"), "exported");
	CHECK_STR(getenv("TC_SPACES"), "spaced out");
	CHECK_STR(getenv("TC_EMPTY"), "");
	CHECK_STR(getenv("TC_HASHQ"), "a # not a comment");
	CHECK_STR(getenv("TC_SET"), "from-environment"); /* the environment wins */
	CHECK_STR(getenv("TC_EQ"), "a=b=c");
	CHECK_STR(getenv("TC_AFTER"), "last");
	CHECK(getenv("# a comment line") == NULL);

	/* A missing file is not an error. */
	unlink(".env");
	CHECK(config_read_env_file(".env", &e) == 0);

	/* A line without '=' is an error naming the file and line. */
	write_file(".env", "TC_OK=1\nthis line is wrong\n");
	err_clear(&e);
	CHECK(config_read_env_file(".env", &e) < 0);
	CHECK(e.kind == ERR_CONFIG);
	CHECK(strstr(e.msg, ".env:2") != NULL);
	unlink(".env");
}

/* A line longer than the reader's 4095 bytes is refused with its number,
 * not split into a cut value and a second "variable" made of its tail. */
static void test_env_file_long_line(void)
{
	unsetenv("TC_LONG");
	unsetenv("TC_TAIL");
	char *text = malloc(6000);
	int n = snprintf(text, 6000, "TC_FIRST=1\nTC_LONG=");
	memset(text + n, 'x', 4094);
	n += 4094;
	/* after the split the tail would read as TC_TAIL=bad */
	snprintf(text + n, 6000 - (size_t)n, "TC_TAIL=bad\n");
	write_file(".env", text);
	free(text);
	struct err e;
	err_clear(&e);
	CHECK(config_read_env_file(".env", &e) < 0);
	CHECK(e.kind == ERR_CONFIG);
	CHECK(strstr(e.msg, ".env:2") != NULL);
	CHECK(strstr(e.msg, "too long") != NULL);
	CHECK(getenv("TC_TAIL") == NULL);
	CHECK(getenv("TC_LONG") == NULL);

	/* exactly 4095 bytes with its newline still fits */
	text = malloc(6000);
	n = snprintf(text, 6000, "TC_LONG=");
	memset(text + n, 'y', 4094 - (size_t)n);
	snprintf(text + 4094, 6000 - 4094, "\n");
	write_file(".env", text);
	free(text);
	err_clear(&e);
	CHECK(config_read_env_file(".env", &e) == 0);
	CHECK(getenv("TC_LONG") && strlen(getenv("TC_LONG")) == 4094 - 8);
	unsetenv("TC_LONG");
	unlink(".env");
}

/* Unquoted values may carry a trailing " # comment" (dotenv, docker compose). */
static void test_env_file_inline_comment(void)
{
	unsetenv("TC_INLINE");
	unsetenv("TC_QCOMMENT");
	write_file(".env", "TC_INLINE=3000 # the api port\n"
			   "TC_QCOMMENT=\"quoted\" # comment after quotes\n");
	struct err e;
	err_clear(&e);
	CHECK(config_read_env_file(".env", &e) == 0);
	CHECK_STR(getenv("TC_INLINE"), "3000");
	CHECK_STR(getenv("TC_QCOMMENT"), "quoted");
	unlink(".env");
}

/* config_parse_env: the .env grammar from a buffer, with no file and no
 * environment; the variables come to a callback, in order. */
struct env_seen {
	int n;
	char keys[8][32];
	char vals[8][64];
	int stop_after; /* the callback refuses the variable after this many */
};

static int collect_env(const char *key, const char *value, void *ctx)
{
	struct env_seen *s = ctx;
	if (s->stop_after && s->n == s->stop_after)
		return -1;
	if (s->n < 8) {
		snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
		snprintf(s->vals[s->n], sizeof(s->vals[0]), "%s", value);
	}
	s->n++;
	return 0;
}

static int parse_env(const char *text, size_t len, struct env_seen *s, struct err *e)
{
	int stop = s->stop_after;
	memset(s, 0, sizeof(*s));
	s->stop_after = stop;
	err_clear(e);
	return config_parse_env("t.env", text, len, collect_env, s, e);
}

static void test_env_parse(void)
{
	struct env_seen s = {0};
	struct err e;
	const char *text = "# comment\n"
			   "\n"
			   "A=1\r\n"
			   "export  B = two words  # comment\n"
			   "C='quoted # kept'\n"
			   " =no key\n"
			   "export\t\vE=tab\n"
			   "D=\"open";
	CHECK(parse_env(text, strlen(text), &s, &e) == 0);
	CHECK(s.n == 5);
	CHECK_STR(s.keys[0], "A");
	CHECK_STR(s.vals[0], "1");
	CHECK_STR(s.keys[1], "B");
	CHECK_STR(s.vals[1], "two words");
	CHECK_STR(s.keys[2], "C");
	CHECK_STR(s.vals[2], "quoted # kept");
	CHECK_STR(s.keys[3], "E"); /* any blanks after export (fuzz_dotenv: "\vE") */
	CHECK_STR(s.vals[3], "tab");
	CHECK_STR(s.keys[4], "D");
	CHECK_STR(s.vals[4], "\"open"); /* no closing quote: kept as written */

	/* empty text, and text that is only blanks */
	CHECK(parse_env("", 0, &s, &e) == 0 && s.n == 0);
	CHECK(parse_env(" \n\t\n", 4, &s, &e) == 0 && s.n == 0);

	/* a NUL byte is an error naming its line; the lines before it are set */
	static const char nul[] = "A=1\nB=x\0y\nC=3\n";
	CHECK(parse_env(nul, sizeof(nul) - 1, &s, &e) < 0);
	CHECK(e.kind == ERR_CONFIG);
	CHECK(strstr(e.msg, "t.env:2") != NULL);
	CHECK(strstr(e.msg, "NUL") != NULL);
	CHECK(s.n == 1);

	/* the length limit counts the newline: 4095 bytes with it fit, and so
	 * does a last line of 4095 bytes without one; 4096 do not */
	char *big = malloc(CONFIG_ENV_LINE_MAX + 2);
	memset(big, 'v', CONFIG_ENV_LINE_MAX + 1);
	memcpy(big, "K=", 2);
	big[CONFIG_ENV_LINE_MAX - 1] = '\n';
	CHECK(parse_env(big, CONFIG_ENV_LINE_MAX, &s, &e) == 0 && s.n == 1);
	big[CONFIG_ENV_LINE_MAX - 1] = 'v';
	CHECK(parse_env(big, CONFIG_ENV_LINE_MAX, &s, &e) == 0 && s.n == 1);
	big[CONFIG_ENV_LINE_MAX] = '\n';
	CHECK(parse_env(big, CONFIG_ENV_LINE_MAX + 1, &s, &e) < 0);
	CHECK(strstr(e.msg, "t.env:1: line too long") != NULL);
	CHECK(parse_env(big, CONFIG_ENV_LINE_MAX + 2, &s, &e) < 0 && s.n == 0);
	free(big);

	/* the callback can stop the parse */
	s.stop_after = 1;
	CHECK(parse_env("A=1\nB=2\nC=3\n", 12, &s, &e) < 0);
	CHECK(s.n == 1);
	s.stop_after = 0;
}

/* A .env file over CONFIG_ENV_FILE_MAX bytes is refused, not read. */
static void test_env_file_too_big(void)
{
	unsetenv("TC_BIG");
	FILE *f = fopen(".env", "w");
	if (!f) {
		perror(".env");
		exit(1);
	}
	fputs("TC_BIG=1\n", f);
	for (int i = 0; i < CONFIG_ENV_FILE_MAX / 64 + 1; i++)
		fprintf(f, "# %061d\n", i); /* 64 bytes */
	fclose(f);
	struct err e;
	err_clear(&e);
	CHECK(config_read_env_file(".env", &e) < 0);
	CHECK(e.kind == ERR_CONFIG);
	CHECK(strstr(e.msg, ".env: file over") != NULL);
	CHECK(getenv("TC_BIG") == NULL);
	unlink(".env");
}

enum { TC_PORT, TC_LEVEL, TC_PING, TC_NAME, TC_BACKLOG, NOPTS };
static const struct config_option opts[NOPTS] = {
    [TC_PORT] = {"TC_PORT", "port", "3000", CONFIG_PORT, "a port"},
    [TC_LEVEL] = {"TC_LEVEL", "log-level", "info", CONFIG_LOG_LEVEL, "a level"},
    [TC_PING] = {"TC_PING", "ping", "30s", CONFIG_DURATION, "a duration"},
    [TC_NAME] = {"TC_NAME", "name", NULL, CONFIG_STRING, "unset by default"},
    [TC_BACKLOG] = {"TC_BACKLOG", "backlog", "8MiB", CONFIG_SIZE, "a size"},
};

static int load(struct config *cfg, struct err *e, int argc, const char **argv)
{
	memset(cfg, 0, sizeof(*cfg));
	err_clear(e);
	return config_load(cfg, "test", "test [OPTION]...", "about", opts, NOPTS, argc,
			   (char **)argv, e);
}

static void clear_opts_env(void)
{
	for (size_t i = 0; i < NOPTS; i++)
		unsetenv(opts[i].env);
}

static void test_load(void)
{
	struct config cfg;
	struct err e;

	/* defaults */
	clear_opts_env();
	unlink(".env");
	{
		const char *argv[] = {"test", NULL};
		CHECK(load(&cfg, &e, 1, argv) == 0);
		CHECK_STR(config_str(&cfg, TC_PORT), "3000");
		CHECK(config_num(&cfg, TC_PORT) == 3000);
		CHECK(config_num(&cfg, TC_PING) == 30000);
		CHECK(config_num(&cfg, TC_BACKLOG) == 8LL << 20);
		CHECK(config_num(&cfg, TC_LEVEL) == 1);
		CHECK(config_str(&cfg, TC_NAME) == NULL);
		CHECK(config_num(&cfg, TC_NAME) == 0);
		CHECK(config_str(&cfg, NOPTS) == NULL && config_str(&cfg, -1) == NULL);
		config_release(&cfg);
	}
	/* .env < environment < flag */
	write_file(".env", "TC_PORT=4001\nTC_NAME=from-file\nTC_PING=5m\n");
	setenv("TC_PORT", "4002", 1);
	{
		const char *argv[] = {"test", NULL};
		CHECK(load(&cfg, &e, 1, argv) == 0);
		CHECK(config_num(&cfg, TC_PORT) == 4002);	   /* env beats .env */
		CHECK_STR(config_str(&cfg, TC_NAME), "from-file"); /* .env beats default */
		CHECK(config_num(&cfg, TC_PING) == 300000);
		config_release(&cfg);
	}
	{
		const char *argv[] = {"test", "--port=4003", "--name", "from-flag", NULL};
		CHECK(load(&cfg, &e, 4, argv) == 0);
		CHECK(config_num(&cfg, TC_PORT) == 4003); /* flag beats env */
		CHECK_STR(config_str(&cfg, TC_NAME), "from-flag");
		config_release(&cfg);
	}
	/* A flag can fix a bad environment value (flags win before validation). */
	setenv("TC_PORT", "70000", 1);
	{
		const char *argv[] = {"test", "--port", "4004", NULL};
		CHECK(load(&cfg, &e, 3, argv) == 0);
		CHECK(config_num(&cfg, TC_PORT) == 4004);
		config_release(&cfg);
	}
	/* A bad value names the variable. */
	{
		const char *argv[] = {"test", NULL};
		CHECK(load(&cfg, &e, 1, argv) < 0);
		CHECK(strncmp(e.msg, "TC_PORT:", 8) == 0);
		CHECK(strstr(e.msg, "70000") != NULL);
		CHECK(e.kind == ERR_CONFIG);
		config_release(&cfg);
	}
	setenv("TC_PORT", "4002", 1);
	{
		const char *argv[] = {"test", "--log-level=loud", NULL};
		CHECK(load(&cfg, &e, 2, argv) < 0);
		CHECK(strncmp(e.msg, "TC_LEVEL:", 9) == 0);
		config_release(&cfg);
	}
	{
		const char *argv[] = {"test", "--ping=1.5x", NULL};
		CHECK(load(&cfg, &e, 2, argv) < 0);
		CHECK(strncmp(e.msg, "TC_PING:", 8) == 0);
		config_release(&cfg);
	}
	/* Bad values in .env are caught too. */
	unsetenv("TC_PORT");
	write_file(".env", "TC_BACKLOG=lots\n");
	{
		const char *argv[] = {"test", NULL};
		CHECK(load(&cfg, &e, 1, argv) < 0);
		CHECK(strncmp(e.msg, "TC_BACKLOG:", 11) == 0);
		config_release(&cfg);
	}
	unsetenv("TC_BACKLOG");
	unlink(".env");
	/* Unknown flags, missing values, stray arguments. */
	{
		const char *argv[] = {"test", "--nope", NULL};
		CHECK(load(&cfg, &e, 2, argv) < 0);
		CHECK(strstr(e.msg, "--nope") != NULL);
		config_release(&cfg);
	}
	{
		const char *argv[] = {"test", "--port", NULL};
		CHECK(load(&cfg, &e, 2, argv) < 0);
		CHECK(strstr(e.msg, "port") != NULL);
		config_release(&cfg);
	}
	{
		const char *argv[] = {"test", "stray", NULL};
		CHECK(load(&cfg, &e, 2, argv) < 0);
		CHECK(strstr(e.msg, "stray") != NULL);
		config_release(&cfg);
	}
	clear_opts_env();
}

static void test_help(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	config_print_help(f, "test", "test [OPTION]...", "about text", opts, NOPTS);
	fclose(f);
	for (size_t i = 0; i < NOPTS; i++) {
		CHECK(strstr(text, opts[i].env) != NULL);
		char flag[64];
		snprintf(flag, sizeof(flag), "--%s", opts[i].flag);
		CHECK(strstr(text, flag) != NULL);
	}
	CHECK(strstr(text, "(default 3000)") != NULL);
	CHECK(strstr(text, "about text") != NULL);
	free(text);
}

/* VAR= in the environment or .env, and --flag=, mean "unset": the default */
static void test_empty_means_unset(void)
{
	struct config cfg;
	struct err e;
	clear_opts_env();
	unlink(".env");
	setenv("TC_PORT", "", 1);
	setenv("TC_NAME", "", 1);
	{
		const char *argv[] = {"test", "--ping=", NULL};
		CHECK(load(&cfg, &e, 2, argv) == 0);
		CHECK(config_num(&cfg, TC_PORT) == 3000);
		CHECK(config_str(&cfg, TC_NAME) == NULL);
		CHECK(config_num(&cfg, TC_PING) == 30000);
		config_release(&cfg);
	}
	clear_opts_env();
}

/* config_given: set by a flag, the environment or .env, not by the default
 * (what `orders-api migrate --if-configured` asks of the DB options). */
static void test_given(void)
{
	struct config cfg;
	struct err e;
	clear_opts_env();
	unlink(".env");
	{
		const char *argv[] = {"test", NULL};
		CHECK(load(&cfg, &e, 1, argv) == 0);
		CHECK(!config_given(&cfg, TC_PORT)); /* default */
		CHECK(!config_given(&cfg, TC_NAME)); /* unset */
		CHECK(!config_given(&cfg, NOPTS) && !config_given(&cfg, -1));
		config_release(&cfg);
	}
	write_file(".env", "export TC_NAME='from file' # quoted\nTC_PING=\n");
	setenv("TC_PORT", "4005", 1);
	setenv("TC_BACKLOG", "", 1);
	{
		const char *argv[] = {"test", "--log-level=warn", NULL};
		CHECK(load(&cfg, &e, 2, argv) == 0);
		CHECK(config_given(&cfg, TC_PORT));	/* environment */
		CHECK(config_given(&cfg, TC_NAME));	/* .env */
		CHECK(config_given(&cfg, TC_LEVEL));	/* flag */
		CHECK(!config_given(&cfg, TC_PING));	/* empty in .env */
		CHECK(!config_given(&cfg, TC_BACKLOG)); /* empty in the environment */
		CHECK_STR(config_str(&cfg, TC_NAME), "from file");
		config_release(&cfg);
	}
	{
		const char *argv[] = {"test", "--port=", NULL}; /* empty flag: the default */
		CHECK(load(&cfg, &e, 2, argv) == 0);
		CHECK(!config_given(&cfg, TC_PORT));
		CHECK(config_num(&cfg, TC_PORT) == 3000);
		config_release(&cfg);
	}
	unlink(".env");
	clear_opts_env();
}

/* CONFIG_LOG_OPTIONS is LOG_LEVEL and LOG_FORMAT; config_log_init applies them. */
static void test_log_option(void)
{
	enum { CONFIG_LOG_OPTION_IDS(L_), L_N };
	static const struct config_option log_opts[L_N] = {CONFIG_LOG_OPTIONS(L_)};
	CHECK(sizeof(log_opts) / sizeof(log_opts[0]) == 2);
	CHECK_STR(log_opts[0].env, "LOG_LEVEL");
	CHECK_STR(log_opts[1].env, "LOG_FORMAT");
	CHECK_STR(log_opts[1].def, "text");
	struct config cfg;
	struct err e;
	memset(&cfg, 0, sizeof(cfg));
	setenv("LOG_FORMAT", "xml", 1);
	{
		const char *argv[] = {"test", NULL};
		CHECK(config_load(&cfg, "orders-test", "u", NULL, log_opts, 2, 1, (char **)argv,
				  &e) < 0);
		CHECK(strncmp(e.msg, "LOG_FORMAT:", 11) == 0 && strstr(e.msg, "xml"));
		config_release(&cfg);
	}
	setenv("LOG_FORMAT", "json", 1);
	{
		const char *argv[] = {"test", "--log-level=debug", NULL};
		CHECK(config_load(&cfg, "orders-test", "u", NULL, log_opts, 2, 2, (char **)argv,
				  &e) == 0);
		CHECK(config_num(&cfg, L_LOG_FORMAT) == LOG_FORMAT_JSON);
		CHECK(cfg.shared[CONFIG_SHARED_LOG_LEVEL] == L_LOG_LEVEL);
		CHECK(cfg.shared[CONFIG_SHARED_LOG_FORMAT] == L_LOG_FORMAT);
		CHECK(cfg.shared[CONFIG_SHARED_DB_HOST] == -1);
		config_log_init(&cfg, "test");
		CHECK(log_enabled(LOG_DEBUG));
		config_release(&cfg);
	}
	unsetenv("LOG_FORMAT");
	log_init("test", LOG_INFO);
	log_set_format(LOG_FORMAT_TEXT, NULL);
}

/* A program's enum indexes its table; booleans, flag-only options, and the
 * mode that stops at the first operand (orders-cli COMMAND ARGS...). */
static void test_indexed_bool_and_operands(void)
{
	enum { T_PORT, T_JSON, T_QUIET, T_N };
	static const struct config_option t[T_N] = {
	    [T_PORT] = {"TC_PORT", "port", "3000", CONFIG_PORT, "a port"},
	    [T_JSON] = {NULL, "json", NULL, CONFIG_BOOL, "flag only"},
	    [T_QUIET] = {"TC_QUIET", "quiet", NULL, CONFIG_BOOL, "a boolean"},
	};
	struct config cfg;
	struct err e;
	int operand = -1;
	struct config_mode mode = {.operand = &operand, .name_flag = 1};
	unsetenv("TC_PORT");
	unsetenv("TC_QUIET");
	{
		memset(&cfg, 0, sizeof(cfg));
		const char *argv[] = {"t", "--json", "--port=4000", "list", "--quiet", NULL};
		CHECK(config_load_mode(&cfg, "t", "u", NULL, t, T_N, &mode, 5, (char **)argv, &e) ==
		      0);
		CHECK(operand == 3); /* "list": what follows is the command's */
		CHECK(config_num(&cfg, T_PORT) == 4000 && config_given(&cfg, T_PORT));
		CHECK(config_num(&cfg, T_JSON) == 1 && config_given(&cfg, T_JSON));
		CHECK(config_num(&cfg, T_QUIET) == 0 && !config_given(&cfg, T_QUIET));
		CHECK(config_str(&cfg, T_QUIET) == NULL);
		CHECK(config_str(&cfg, T_N) == NULL && config_num(&cfg, -1) == 0);
		config_release(&cfg);
	}
	{
		memset(&cfg, 0, sizeof(cfg));
		setenv("TC_QUIET", "yes", 1);
		const char *argv[] = {"t", NULL};
		CHECK(config_load_mode(&cfg, "t", "u", NULL, t, T_N, &mode, 1, (char **)argv, &e) ==
		      0);
		CHECK(operand == 1 && config_num(&cfg, T_QUIET) == 1 && !config_num(&cfg, T_JSON));
		config_release(&cfg);
		setenv("TC_QUIET", "maybe", 1);
		memset(&cfg, 0, sizeof(cfg));
		CHECK(config_load_mode(&cfg, "t", "u", NULL, t, T_N, &mode, 1, (char **)argv, &e) <
		      0);
		CHECK_STR(e.msg, "TC_QUIET: must be 1, 0, true, false, yes or no, got 'maybe' "
				 "(--quiet)");
		config_release(&cfg);
		unsetenv("TC_QUIET");
	}
	{
		memset(&cfg, 0, sizeof(cfg));
		const char *argv[] = {"t", "--json=1", NULL};
		CHECK(config_load(&cfg, "t", "u", NULL, t, T_N, 2, (char **)argv, &e) < 0);
		CHECK_STR(e.msg, "option '--json' takes no value");
		config_release(&cfg);
		memset(&cfg, 0, sizeof(cfg));
		const char *argv2[] = {"t", "list", NULL};
		CHECK(config_load(&cfg, "t", "u", NULL, t, T_N, 2, (char **)argv2, &e) < 0);
		CHECK_STR(e.msg, "unexpected argument 'list'");
		config_release(&cfg);
	}
	FILE *f = tmpfile();
	config_print_help(f, "t", "u", NULL, t, T_N);
	rewind(f);
	char text[2048] = "";
	CHECK(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	CHECK(strstr(text, "  --json                                          flag only\n") !=
	      NULL);
	CHECK(strstr(text, "  --quiet                      TC_QUIET           a boolean\n") !=
	      NULL);
}

/* The shared groups sit anywhere in a table: config_load records where,
 * so common modules read them by enum (cfg->shared), never by name; a
 * table that lists one twice is refused. */
static void test_shared_groups(void)
{
	enum { S_OWN, CONFIG_LOG_OPTION_IDS(S_), S_MIDDLE, CONFIG_DB_OPTION_IDS(S_), S_N };
	static const struct config_option t[S_N] = {
	    [S_OWN] = {"TC_OWN", "own", NULL, CONFIG_STRING, "first"},
	    CONFIG_LOG_OPTIONS(S_),
	    [S_MIDDLE] = {"TC_MIDDLE", "middle", NULL, CONFIG_STRING, "between"},
	    CONFIG_DB_OPTIONS(S_),
	};
	struct config cfg;
	struct err e;
	memset(&cfg, 0, sizeof(cfg));
	const char *argv[] = {"t", "--db-host=db.example", NULL};
	CHECK(config_load(&cfg, "t", "u", NULL, t, S_N, 2, (char **)argv, &e) == 0);
	CHECK(cfg.shared[CONFIG_SHARED_NONE] == -1);
	CHECK(cfg.shared[CONFIG_SHARED_LOG_LEVEL] == S_LOG_LEVEL);
	CHECK(cfg.shared[CONFIG_SHARED_LOG_FORMAT] == S_LOG_FORMAT);
	CHECK(cfg.shared[CONFIG_SHARED_DATABASE_URL] == S_DATABASE_URL);
	CHECK(cfg.shared[CONFIG_SHARED_DB_PASSWORD] == S_DB_PASSWORD);
	CHECK_STR(config_str(&cfg, cfg.shared[CONFIG_SHARED_DB_HOST]), "db.example");
	CHECK(config_num(&cfg, cfg.shared[CONFIG_SHARED_DB_PORT]) == 5432);
	config_release(&cfg);

	static const struct config_option twice[] = {
	    {"LOG_LEVEL", "log-level", "info", CONFIG_LOG_LEVEL, "one", CONFIG_SHARED_LOG_LEVEL},
	    {"LEVEL", "level", "info", CONFIG_LOG_LEVEL, "two", CONFIG_SHARED_LOG_LEVEL},
	};
	memset(&cfg, 0, sizeof(cfg));
	CHECK(config_load(&cfg, "t", "u", NULL, twice, 2, 1, (char **)argv, &e) < 0);
	CHECK(e.kind == ERR_CONFIG && strstr(e.msg, "LEVEL: listed twice") != NULL);
	config_release(&cfg);
}

int main(void)
{
	test_indexed_bool_and_operands();
	test_shared_groups();
	char dir[] = "/tmp/test_config_XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) < 0) {
		perror("mkdtemp");
		return 1;
	}
	test_durations();
	test_decimal_durations();
	test_sizes();
	test_ports();
	test_check_value();
	test_rate_and_addresses();
	test_tokens();
	test_env_file();
	test_env_file_inline_comment();
	test_env_file_long_line();
	test_env_parse();
	test_env_file_too_big();
	test_load();
	test_empty_means_unset();
	test_given();
	test_log_option();
	test_help();
	unlink(".env");
	if (chdir("/") == 0)
		rmdir(dir);
	HARNESS_END();
}
