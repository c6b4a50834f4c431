/* common/config.c: every option type's validation (config_check_value and
 * the duration, size and port parsers), and config_load_mode's argv
 * parsing over a table of every type. Input: one mode byte, then the
 * value (check mode) or the arguments, one per line (argv mode).
 * config_load_mode also reads ./.env and the environment: it runs in an
 * empty temp directory, and the table's variables (FUZZ_CFG_*) are
 * removed from the environment first, so nothing outside matters. */
#include "fuzz.h"

#include "config.h"
#include "http_url.h"

#include <fcntl.h>
#include <unistd.h>

#define NTYPES (CONFIG_ADDRESSES + 1)

static const struct config_option opts[] = {
    {"FUZZ_CFG_STRING", "string", NULL, CONFIG_STRING, "s", 0},
    {"FUZZ_CFG_HOST", "host", "127.0.0.1", CONFIG_HOST, "h", 0},
    {"FUZZ_CFG_PORT", "port", "3000", CONFIG_PORT, "p", 0},
    {"FUZZ_CFG_COUNT", "count", "8", CONFIG_COUNT, "c", 0},
    {"FUZZ_CFG_DURATION", "duration", "30s", CONFIG_DURATION, "d", 0},
    {"FUZZ_CFG_SIZE", "size", "8MiB", CONFIG_SIZE, "z", 0},
    {"FUZZ_CFG_LOG_LEVEL", "log-level", "info", CONFIG_LOG_LEVEL, "l", 0},
    {"FUZZ_CFG_LOG_FORMAT", "log-format", "text", CONFIG_LOG_FORMAT, "f", 0},
    {"FUZZ_CFG_HTTP_URL", "api", "http://localhost:3000", CONFIG_HTTP_URL, "u", 0},
    {"FUZZ_CFG_WS_URL", "relay", NULL, CONFIG_WS_URL, "w", 0},
    {"FUZZ_CFG_DB_URL", "database-url", NULL, CONFIG_DB_URL, "b", 0},
    {"FUZZ_CFG_TOKEN", "token", NULL, CONFIG_TOKEN, "t", 0},
    {"FUZZ_CFG_ORIGINS", "origins", NULL, CONFIG_ORIGINS, "o", 0},
    {"FUZZ_CFG_SECRET", "secret", NULL, CONFIG_SECRET, "x", 0},
    {"FUZZ_CFG_BOOL", "json", NULL, CONFIG_BOOL, "j", 0},
    {"FUZZ_CFG_RATE", "rate", "100/s", CONFIG_RATE, "r", 0},
    {"FUZZ_CFG_ADDRESSES", "proxies", NULL, CONFIG_ADDRESSES, "a", 0},
    {NULL, "flag-only", NULL, CONFIG_STRING, "n", 0},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/* An empty directory of our own under $TMPDIR (else /tmp), made at start:
 * the config loader reads ./.env, so the harness runs where there is none. */
static char tmpdir[4096];
static int home = -1;

static void cleanup(void)
{
	if (tmpdir[0])
		rmdir(tmpdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].env)
			unsetenv(opts[i].env);
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/orders-fuzz-config-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir) || (home = open(".", O_RDONLY | O_DIRECTORY)) < 0) {
		tmpdir[0] = '\0';
		perror("fuzz_config: temp dir");
		exit(1);
	}
	atexit(cleanup);
	/* --help and --version print there */
	if (!freopen("/dev/null", "w", stdout)) {
		perror("fuzz_config: /dev/null");
		exit(1);
	}
	return 0;
}

static void check_value(enum config_type type, const char *value)
{
	struct err e;
	long long num = -1;
	err_clear(&e);
	if (config_check_value("FUZZ_VAR", type, value, &num, &e) < 0) {
		FUZZ_ASSERT(e.kind == ERR_CONFIG && strncmp(e.msg, "FUZZ_VAR: ", 10) == 0);
		return;
	}
	switch (type) {
	case CONFIG_PORT:
		FUZZ_ASSERT(num >= 1 && num <= 65535);
		break;
	case CONFIG_COUNT:
		FUZZ_ASSERT(num >= 1 && num <= 1000000);
		break;
	case CONFIG_DURATION:
	case CONFIG_SIZE:
		FUZZ_ASSERT(num > 0);
		break;
	case CONFIG_BOOL:
		FUZZ_ASSERT(num == 0 || num == 1);
		break;
	case CONFIG_TOKEN:
		FUZZ_ASSERT(config_valid_token(value));
		break;
	case CONFIG_HOST:
		FUZZ_ASSERT(value[0]);
		break;
	case CONFIG_HTTP_URL:
	case CONFIG_WS_URL: {
		/* the CLI connects with what http_url_parse makes of it */
		struct http_url u;
		if (http_url_parse(value, &u, &e) == 0) {
			FUZZ_ASSERT(fuzz_terminated(u.host, sizeof(u.host)) && u.host[0]);
			FUZZ_ASSERT(fuzz_terminated(u.port, sizeof(u.port)) && u.port[0]);
			FUZZ_ASSERT(fuzz_terminated(u.target, sizeof(u.target)) &&
				    u.target[0] == '/');
		}
		break;
	}
	default:
		break;
	}
	long long v;
	if (config_parse_duration(value, &v) == 0)
		FUZZ_ASSERT(v >= 0);
	if (config_parse_size(value, &v) == 0)
		FUZZ_ASSERT(v >= 0 && v <= (1LL << 50));
	if (config_parse_port(value, &v) == 0)
		FUZZ_ASSERT(v >= 1 && v <= 65535);
}

static void load(unsigned mode, char *args)
{
	char *argv[66];
	int argc = 0;
	argv[argc++] = "fuzz";
	for (char *save = NULL, *a = strtok_r(args, "\n", &save); a && argc < 65;
	     a = strtok_r(NULL, "\n", &save))
		argv[argc++] = a;
	argv[argc] = NULL;
	int operand = -1;
	struct config_mode m = {.operand = (mode & 1) ? &operand : NULL, .name_flag = (mode & 2)};
	struct config cfg;
	struct err e;
	memset(&cfg, 0, sizeof(cfg));
	err_clear(&e);
	if (chdir(tmpdir) < 0)
		abort();
	int rc = config_load_mode(&cfg, "fuzz", "fuzz [OPTION]...", NULL, opts, NOPTS, &m, argc,
				  argv, &e);
	if (fchdir(home) < 0)
		abort();
	FUZZ_ASSERT(rc >= -1 && rc <= 1);
	if (rc < 0)
		FUZZ_ASSERT(e.kind == ERR_CONFIG && e.msg[0]);
	if (rc == 0) {
		if (m.operand)
			FUZZ_ASSERT(operand >= 1 && operand <= argc);
		for (size_t i = 0; i < NOPTS; i++) {
			const char *s = config_str(&cfg, (int)i);
			FUZZ_ASSERT(s || !config_given(&cfg, (int)i));
			if (s && opts[i].type == CONFIG_PORT)
				FUZZ_ASSERT(config_num(&cfg, (int)i) >= 1);
		}
		FUZZ_ASSERT(config_str(&cfg, (int)NOPTS) == NULL);
	}
	config_release(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	char *s = fuzz_cstr(data + 1, size - 1);
	if (data[0] & 0x80)
		load(data[0], s);
	else
		check_value((enum config_type)(data[0] % NTYPES), s);
	free(s);
	return 0;
}
