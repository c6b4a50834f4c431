/* common/config.c's .env grammar: config_parse_env on the input as the
 * text of a file, with the variables going to a callback (no file, no
 * environment). Every key and value must be one line's text, trimmed. */
#include "fuzz.h"

#include "config.h"

#include <ctype.h>

struct seen {
	const char *text;
	size_t len;
	int n;
};

static int check_var(const char *key, const char *value, void *ctx)
{
	struct seen *s = ctx;
	size_t kl = strlen(key), vl = strlen(value);
	FUZZ_ASSERT(kl > 0 && kl < CONFIG_ENV_LINE_MAX && vl < CONFIG_ENV_LINE_MAX);
	FUZZ_ASSERT(!strchr(key, '=') && !strchr(key, '\n') && !strchr(value, '\n'));
	FUZZ_ASSERT(!isspace((unsigned char)key[0]) && !isspace((unsigned char)key[kl - 1]));
	FUZZ_ASSERT(++s->n <= (int)s->len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	/* an exact-size copy: a read past the text is caught */
	char *text = malloc(size ? size : 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	struct seen s = {text, size, 0};
	struct err e;
	err_clear(&e);
	if (config_parse_env("fuzz.env", text, size, check_var, &s, &e) < 0)
		FUZZ_ASSERT(e.kind == ERR_CONFIG && strncmp(e.msg, "fuzz.env:", 9) == 0);
	free(text);
	return 0;
}
