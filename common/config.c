#include "config.h"

#include "buf.h"
#include "client_addr.h"
#include "http_url.h"
#include "log.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_number(const char *s, long long *out, const char **rest)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno)
		return -1;
	*out = v;
	*rest = end;
	return 0;
}

int config_parse_duration(const char *s, long long *ms)
{
	static const struct {
		const char *suffix;
		long long mult;
	} units[] = {{"", 1000},       {"ms", 1},	   {"s", 1000},
		     {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 86400LL * 1000}};
	long long v;
	const char *rest;
	if (parse_number(s, &v, &rest) < 0)
		return -1;
	/* a decimal fraction ("1.5s", "0.25h") comes to whole milliseconds */
	double frac = 0;
	if (*rest == '.') {
		const char *p = rest + 1;
		double scale = 0.1;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++, scale /= 10)
			frac += (*p - '0') * scale;
		rest = p;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(rest, units[i].suffix) == 0) {
			if (v > (long long)(9e15 / (double)units[i].mult))
				return -1;
			*ms = v * units[i].mult + (long long)(frac * (double)units[i].mult + 0.5);
			return 0;
		}
	}
	return -1;
}

int config_parse_size(const char *s, long long *bytes)
{
	static const struct {
		const char *suffix;
		long long mult;
	} units[] = {
	    {"", 1}, {"B", 1}, {"KiB", 1024}, {"MiB", 1024 * 1024}, {"GiB", 1024LL * 1024 * 1024}};
	long long v;
	const char *rest;
	if (parse_number(s, &v, &rest) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(rest, units[i].suffix) == 0) {
			if (v > (1LL << 50) / units[i].mult)
				return -1;
			*bytes = v * units[i].mult;
			return 0;
		}
	}
	return -1;
}

int config_parse_port(const char *s, long long *port)
{
	long long v;
	const char *rest;
	if (parse_number(s, &v, &rest) < 0 || *rest || v < 1 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

int config_valid_token(const char *s)
{
	size_t n = strlen(s);
	if (n < 16 || n > 256)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._~-", *s))
			return 0;
	return 1;
}

int config_parse_rate(const char *s, long long *count, long long *period_ms)
{
	long long v = 0;
	size_t i = 0;
	for (; isdigit((unsigned char)s[i]); i++) {
		v = v * 10 + (s[i] - '0');
		if (v > 1000000)
			return -1;
	}
	if (i == 0 || (s[0] == '0' && i > 1))
		return -1;
	long long period;
	if (strcmp(s + i, "/s") == 0)
		period = 1000;
	else if (strcmp(s + i, "/m") == 0)
		period = 60 * 1000;
	else if (s[i] == '\0' && v == 0)
		period = 1000;
	else
		return -1;
	*count = v;
	*period_ms = period;
	return 0;
}

/* A URL http_url_parse takes, of the scheme family ("http": http or
 * https; "ws": ws or wss); an origin has nothing after host[:port]. */
static int valid_url(const char *s, const char *family, int origin)
{
	struct http_url u;
	if (http_url_parse(s, &u, NULL) < 0 || strncmp(u.scheme, family, strlen(family)) != 0)
		return 0;
	return !origin || u.bare;
}

int config_check_value(const char *env, enum config_type type, const char *value, long long *num,
		       struct err *err)
{
	long long v = 0;
	*num = 0;
	switch (type) {
	case CONFIG_STRING:
	case CONFIG_SECRET:
		return 0;
	case CONFIG_BOOL:
		if (!strcmp(value, "1") || !strcasecmp(value, "true") || !strcasecmp(value, "yes"))
			*num = 1;
		else if (strcmp(value, "0") && strcasecmp(value, "false") &&
			 strcasecmp(value, "no"))
			return err_set(err, ERR_CONFIG,
				       "%s: must be 1, 0, true, false, yes or no, got '%s'", env,
				       value);
		return 0;
	case CONFIG_HOST:
		if (!*value || strpbrk(value, " /\t"))
			return err_set(err, ERR_CONFIG, "%s: not a host or address: '%s'", env,
				       value);
		return 0;
	case CONFIG_PORT:
		if (config_parse_port(value, num) < 0)
			return err_set(err, ERR_CONFIG,
				       "%s: must be a port number 1..65535, got '%s'", env, value);
		return 0;
	case CONFIG_COUNT: {
		const char *rest;
		if (parse_number(value, &v, &rest) < 0 || *rest || v < 1 || v > 1000000)
			return err_set(err, ERR_CONFIG,
				       "%s: must be a whole number 1..1000000, got '%s'", env,
				       value);
		*num = v;
		return 0;
	}
	case CONFIG_DURATION:
		if (config_parse_duration(value, num) < 0 || *num <= 0)
			return err_set(err, ERR_CONFIG,
				       "%s: must be a positive duration such as 30s, 250ms, 5m, "
				       "24h or 7d, got '%s'",
				       env, value);
		return 0;
	case CONFIG_SIZE:
		if (config_parse_size(value, num) < 0 || *num <= 0)
			return err_set(err, ERR_CONFIG,
				       "%s: must be a positive size such as 8MiB, 512KiB or "
				       "4096B, got '%s'",
				       env, value);
		return 0;
	case CONFIG_LOG_LEVEL: {
		enum log_level lvl;
		if (log_level_parse(value, &lvl) < 0)
			return err_set(err, ERR_CONFIG,
				       "%s: must be one of debug, info, warn, error, got '%s'", env,
				       value);
		*num = lvl;
		return 0;
	}
	case CONFIG_LOG_FORMAT: {
		enum log_format f;
		if (log_format_parse(value, &f) < 0)
			return err_set(err, ERR_CONFIG, "%s: must be text or json, got '%s'", env,
				       value);
		*num = f;
		return 0;
	}
	case CONFIG_HTTP_URL:
		if (!valid_url(value, "http", 0))
			return err_set(err, ERR_CONFIG,
				       "%s: must be an http:// or https:// URL, got '%s'", env,
				       value);
		return 0;
	case CONFIG_WS_URL:
		if (!valid_url(value, "ws", 0))
			return err_set(err, ERR_CONFIG,
				       "%s: must be a ws:// or wss:// URL, got '%s'", env, value);
		return 0;
	case CONFIG_DB_URL: {
		char *msg = NULL;
		PQconninfoOption *o = PQconninfoParse(value, &msg);
		if (!o) {
			if (msg) {
				/* libpq's message quotes the value, which may hold a
				 * password: keep only the words before the first quote */
				msg[strcspn(msg, "\n\"'")] = '\0';
				size_t n = strlen(msg);
				while (n && (msg[n - 1] == ' ' || msg[n - 1] == ':'))
					msg[--n] = '\0';
			}
			err_set(err, ERR_CONFIG, "%s: not a valid libpq URI or conninfo (%s)", env,
				msg ? msg : "unparsable");
			PQfreemem(msg);
			return -1;
		}
		PQconninfoFree(o);
		return 0;
	}
	case CONFIG_TOKEN:
		if (!config_valid_token(value))
			return err_set(err, ERR_CONFIG,
				       "%s: must be 16 to 256 characters of A-Z a-z 0-9 . _ ~ -",
				       env);
		return 0;
	case CONFIG_RATE: {
		long long period;
		if (config_parse_rate(value, num, &period) < 0)
			return err_set(err, ERR_CONFIG,
				       "%s: must be N/s or N/m with N 1..1000000 (such as 100/s or "
				       "30/m), or 0 for no limit, got '%s'",
				       env, value);
		return 0;
	}
	case CONFIG_ADDRESSES: {
		struct trusted_proxies tp;
		struct err e;
		if (trusted_proxies_parse(&tp, value, &e) < 0) {
			/* the parser names TRUSTED_PROXIES: name this variable */
			const char *why = strchr(e.msg, ':');
			return err_set(err, ERR_CONFIG, "%s%s", env, why ? why : ": invalid");
		}
		*num = tp.n;
		return 0;
	}
	case CONFIG_ORIGINS: {
		char *copy = xstrdup(value);
		char *save = NULL;
		int rc = 0;
		int count = 0;
		for (char *tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			while (*tok == ' ')
				tok++;
			char *end = tok + strlen(tok);
			while (end > tok && end[-1] == ' ')
				*--end = '\0';
			count++;
			if (!valid_url(tok, "http", 1)) {
				rc = err_set(
				    err, ERR_CONFIG,
				    "%s: each origin must be scheme://host[:port], got '%s'", env,
				    tok);
				break;
			}
		}
		if (rc == 0 && count == 0)
			rc = err_set(err, ERR_CONFIG, "%s: empty origin list", env);
		free(copy);
		return rc;
	}
	}
	return err_set(err, ERR_CONFIG, "%s: unknown option type", env);
}

int config_parse_env(const char *name, const char *text, size_t len,
		     int (*set)(const char *key, const char *value, void *ctx), void *ctx,
		     struct err *err)
{
	char line[CONFIG_ENV_LINE_MAX + 1];
	int lineno = 0;
	for (size_t pos = 0; pos < len;) {
		lineno++;
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) + 1 : len - pos; /* with its newline */
		pos += n;
		/* refused whole: a cut line would leave a cut value, and its
		 * tail would read as a line of its own (a variable nobody set) */
		if (n > CONFIG_ENV_LINE_MAX)
			return err_set(err, ERR_CONFIG, "%s:%d: line too long (over %d bytes)",
				       name, lineno, CONFIG_ENV_LINE_MAX);
		/* the environment holds C strings: a NUL would cut the line */
		if (memchr(start, '\0', n))
			return err_set(err, ERR_CONFIG, "%s:%d: NUL byte", name, lineno);
		memcpy(line, start, n);
		line[n] = '\0';
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '#' || *p == '\0')
			continue;
		if (strncmp(p, "export", 6) == 0 && isspace((unsigned char)p[6]))
			for (p += 6; isspace((unsigned char)*p);)
				p++;
		char *eq = strchr(p, '=');
		if (!eq)
			return err_set(err, ERR_CONFIG, "%s:%d: expected KEY=VALUE", name, lineno);
		*eq = '\0';
		char *key = p;
		char *end = eq;
		while (end > key && isspace((unsigned char)end[-1]))
			*--end = '\0';
		char *val = eq + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		end = val + strlen(val);
		while (end > val && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (val[0] == '"' || val[0] == '\'') {
			/* quoted: the text between the quotes, whatever follows */
			char *close = strchr(val + 1, val[0]);
			if (close) {
				*close = '\0';
				val++;
			}
		} else {
			/* unquoted: " #" starts a comment */
			for (char *h = strchr(val, '#'); h; h = strchr(h + 1, '#')) {
				if (h > val && (h[-1] == ' ' || h[-1] == '\t')) {
					*h = '\0';
					break;
				}
			}
			end = val + strlen(val);
			while (end > val && isspace((unsigned char)end[-1]))
				*--end = '\0';
		}
		if (!*key)
			continue;
		if (set(key, val, ctx) < 0)
			return -1;
	}
	return 0;
}

static int setenv_unless_set(const char *key, const char *value, void *ctx)
{
	(void)ctx;
	setenv(key, value, 0);
	return 0;
}

int config_read_env_file(const char *path, struct err *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	struct buf text;
	buf_init(&text, CONFIG_ENV_FILE_MAX);
	char chunk[4096];
	size_t n;
	int rc = 0;
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&text, chunk, n) < 0)
			rc = err_set(err, ERR_CONFIG, "%s: file over %d bytes", path,
				     CONFIG_ENV_FILE_MAX);
	if (rc == 0 && ferror(f))
		rc = err_set(err, ERR_CONFIG, "%s: cannot read it", path);
	fclose(f);
	if (rc == 0)
		rc = config_parse_env(path, text.data ? text.data : "", text.len, setenv_unless_set,
				      NULL, err);
	buf_release(&text);
	return rc;
}

static void config_set(struct config_value *v, const char *s)
{
	free(v->str);
	v->str = s ? xstrdup(s) : NULL;
}

const char *config_type_hint(enum config_type t)
{
	switch (t) {
	case CONFIG_PORT:
		return "PORT";
	case CONFIG_COUNT:
		return "N";
	case CONFIG_DURATION:
		return "DURATION";
	case CONFIG_SIZE:
		return "SIZE";
	case CONFIG_LOG_LEVEL:
		return "LEVEL";
	case CONFIG_LOG_FORMAT:
		return "FORMAT";
	case CONFIG_HTTP_URL:
	case CONFIG_WS_URL:
	case CONFIG_DB_URL:
		return "URL";
	case CONFIG_TOKEN:
		return "TOKEN";
	case CONFIG_ORIGINS:
		return "ORIGINS";
	case CONFIG_HOST:
		return "HOST";
	case CONFIG_RATE:
		return "RATE";
	case CONFIG_ADDRESSES:
		return "ADDRESSES";
	default:
		return "VALUE";
	}
}

void config_print_help(FILE *out, const char *program, const char *usage, const char *about,
		       const struct config_option *opts, size_t n)
{
	fprintf(out, "Usage: %s\n", usage);
	if (about)
		fprintf(out, "\n%s\n", about);
	fprintf(out, "\nOptions (flag, then environment variable; flags win over the environment,\n"
		     "which wins over ./.env):\n");
	for (size_t i = 0; i < n; i++) {
		char left[64];
		snprintf(left, sizeof(left), "--%s%s%s", opts[i].flag,
			 opts[i].type == CONFIG_BOOL ? "" : "=",
			 opts[i].type == CONFIG_BOOL ? "" : config_type_hint(opts[i].type));
		fprintf(out, "  %-28s %-18s %s", left, opts[i].env ? opts[i].env : "",
			opts[i].help);
		if (opts[i].def)
			fprintf(out, " (default %s)", opts[i].def);
		fputc('\n', out);
	}
	fprintf(out, "  %-28s %-18s %s\n", "-h, --help", "", "show this help and exit");
	fprintf(out, "  %-28s %-18s %s\n", "--version", "", "show the version and exit");
	fprintf(out, "\nDurations: a number with ms, s, m, h or d (bare = seconds). "
		     "Sizes: a number with B, KiB, MiB or GiB (bare = bytes).\n");
	fprintf(out, "Exit codes: 0 normal stop, 1 runtime failure, 2 bad configuration.\n");
	(void)program;
}

int config_load(struct config *cfg, const char *program, const char *usage, const char *about,
		const struct config_option *opts, size_t n, int argc, char **argv, struct err *err)
{
	return config_load_mode(cfg, program, usage, about, opts, n, NULL, argc, argv, err);
}

int config_load_mode(struct config *cfg, const char *program, const char *usage, const char *about,
		     const struct config_option *opts, size_t n, const struct config_mode *mode,
		     int argc, char **argv, struct err *err)
{
	static const struct config_mode plain;
	if (!mode)
		mode = &plain;
	cfg->program = program;
	cfg->opts = opts;
	cfg->n = n;
	cfg->values = xcalloc(n, sizeof(*cfg->values));
	for (size_t s = 0; s < CONFIG_SHARED_N; s++)
		cfg->shared[s] = -1;
	for (size_t i = 0; i < n; i++) {
		enum config_shared s = opts[i].shared;
		if (s == CONFIG_SHARED_NONE || (unsigned)s >= CONFIG_SHARED_N)
			continue;
		if (cfg->shared[s] >= 0)
			return err_set(err, ERR_CONFIG, "%s: listed twice in the option table",
				       opts[i].env ? opts[i].env : opts[i].flag);
		cfg->shared[s] = (int)i;
	}

	if (config_read_env_file(".env", err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *e = opts[i].env ? getenv(opts[i].env) : NULL;
		/* VAR= (empty) means unset, as in most .env files */
		config_set(&cfg->values[i], e && *e ? e : opts[i].def);
		cfg->values[i].given = e && *e;
	}

	struct option *lopts = xcalloc(n + 3, sizeof(*lopts));
	for (size_t i = 0; i < n; i++) {
		lopts[i].name = opts[i].flag;
		lopts[i].has_arg = opts[i].type == CONFIG_BOOL ? no_argument : required_argument;
		lopts[i].val = 1000 + (int)i;
	}
	lopts[n].name = "help";
	lopts[n].val = 'h';
	lopts[n + 1].name = "version";
	lopts[n + 1].val = 'V';
	int rc = 0;
	opterr = 0;
	optind = 1;
	for (;;) {
		int c = getopt_long(argc, argv, mode->operand ? "+:h" : ":h", lopts, NULL);
		if (c == -1)
			break;
		if (c == 'h') {
			if (mode->help)
				mode->help(stdout);
			else
				config_print_help(stdout, program, usage, about, opts, n);
			rc = 1;
			goto out;
		}
		if (c == 'V') {
			printf("%s %s\n", program, ORDERS_VERSION);
			rc = 1;
			goto out;
		}
		if (c >= 1000 && c < 1000 + (int)n && opts[c - 1000].type == CONFIG_BOOL) {
			config_set(&cfg->values[c - 1000], "1");
			cfg->values[c - 1000].given = 1;
			continue;
		}
		if (c >= 1000 && c < 1000 + (int)n) {
			config_set(&cfg->values[c - 1000], *optarg ? optarg : opts[c - 1000].def);
			cfg->values[c - 1000].given = *optarg != '\0';
			continue;
		}
		if (c == '?' && optopt >= 1000 && optopt < 1000 + (int)n) {
			rc = err_set(err, ERR_CONFIG, "option '--%s' takes no value",
				     opts[optopt - 1000].flag);
		} else if (c == ':') {
			rc =
			    err_set(err, ERR_CONFIG, "option '%s' needs a value", argv[optind - 1]);
		} else {
			rc = err_set(err, ERR_CONFIG, "unknown option '%s'", argv[optind - 1]);
		}
		goto out;
	}
	if (mode->operand) {
		*mode->operand = optind;
	} else if (optind < argc) {
		rc = err_set(err, ERR_CONFIG, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!cfg->values[i].str)
			continue;
		if (config_check_value(opts[i].env ? opts[i].env : opts[i].flag, opts[i].type,
				       cfg->values[i].str, &cfg->values[i].num, err) < 0) {
			if (mode->name_flag) {
				char msg[sizeof(err->msg)];
				snprintf(msg, sizeof(msg), "%s", err->msg);
				err_set(err, err->kind, "%s (--%s)", msg, opts[i].flag);
			}
			rc = -1;
			goto out;
		}
	}
out:
	free(lopts);
	return rc;
}

void config_release(struct config *cfg)
{
	if (!cfg->values)
		return;
	for (size_t i = 0; i < cfg->n; i++)
		free(cfg->values[i].str);
	free(cfg->values);
	cfg->values = NULL;
}

static const struct config_value *config_at(const struct config *cfg, int opt)
{
	return cfg->values && opt >= 0 && (size_t)opt < cfg->n ? &cfg->values[opt] : NULL;
}

const char *config_str(const struct config *cfg, int opt)
{
	const struct config_value *v = config_at(cfg, opt);
	return v ? v->str : NULL;
}

long long config_num(const struct config *cfg, int opt)
{
	const struct config_value *v = config_at(cfg, opt);
	return v && v->str ? v->num : 0;
}

int config_given(const struct config *cfg, int opt)
{
	const struct config_value *v = config_at(cfg, opt);
	return v && v->given;
}

void config_log_init(const struct config *cfg, const char *tag)
{
	log_init(tag, (enum log_level)config_num(cfg, cfg->shared[CONFIG_SHARED_LOG_LEVEL]));
	log_set_format((enum log_format)config_num(cfg, cfg->shared[CONFIG_SHARED_LOG_FORMAT]),
		       cfg->program);
}
