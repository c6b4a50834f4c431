/* Query strings: common/qs.c's pair splitting and percent-decoding (shared
 * by the api and the relay's subscription parameters), qs_param,
 * and the api's parameters (api/query.c: limit, before_id, since, status). */
#include "fuzz.h"

#include "buf.h"
#include "http.h"
#include "http_url.h"
#include "order.h"
#include "qs.h"
#include "query.h"

#define QUERY_MAX 8192 /* civetweb's whole request head is smaller */

static void decode_pairs(const char *q)
{
	static const size_t caps[] = {0, 1, 2, 32, 256};
	char out[256];
	const char *p = q;
	struct qs_pair pair;
	int n = 0;
	while (qs_next(&p, &pair)) {
		FUZZ_ASSERT(pair.key >= q && pair.key + pair.klen <= q + strlen(q));
		FUZZ_ASSERT(pair.val >= pair.key && pair.val + pair.vlen <= q + strlen(q));
		FUZZ_ASSERT(!memchr(pair.key, '&', pair.klen) && !memchr(pair.val, '&', pair.vlen));
		for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
			memset(out, 'X', sizeof(out));
			if (qs_decode(pair.val, pair.vlen, out, caps[i]) == 0) {
				FUZZ_ASSERT(caps[i] > 0 && fuzz_terminated(out, caps[i]));
				FUZZ_ASSERT(strlen(out) <= pair.vlen);
			} else {
				/* nothing written past the cap */
				for (size_t j = caps[i]; j < sizeof(out); j++)
					FUZZ_ASSERT(out[j] == 'X');
			}
		}
		/* what the CLI encodes decodes back to itself */
		if (qs_decode(pair.val, pair.vlen, out, sizeof(out)) == 0) {
			struct buf enc;
			char back[sizeof(out)];
			buf_init(&enc, 0);
			FUZZ_ASSERT(http_url_encode(&enc, out) == 0);
			FUZZ_ASSERT(
			    qs_decode(enc.data ? enc.data : "", enc.len, back, sizeof(back)) == 0);
			FUZZ_ASSERT(strcmp(back, out) == 0);
			buf_release(&enc);
		}
		FUZZ_ASSERT(++n <= (int)strlen(q));
	}
	FUZZ_ASSERT(*p == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > QUERY_MAX)
		return 0;
	char *q = fuzz_cstr(data, size);
	decode_pairs(q);

	struct err e;
	long long v;
	err_clear(&e);
	if (query_int(q, "limit", 1, QUERY_LIMIT_MAX, QUERY_LIMIT_DEFAULT, &v, &e) == 0) {
		FUZZ_ASSERT(v >= 1 && v <= QUERY_LIMIT_MAX);
		/* one spelling per number: what passed is the number's own digits */
		struct qs_pair pair;
		if (qs_find(q, "limit", &pair) == 1) {
			char canon[24];
			int cn = snprintf(canon, sizeof(canon), "%lld", v);
			FUZZ_ASSERT((size_t)cn == pair.vlen &&
				    memcmp(canon, pair.val, pair.vlen) == 0);
		}
	} else
		FUZZ_ASSERT(e.kind == ERR_INVALID_QUERY && strcmp(e.field, "limit") == 0);
	err_clear(&e);
	if (query_int(q, "before_id", 1, INT64_MAX, INT64_MAX, &v, &e) == 0)
		FUZZ_ASSERT(v >= 1);
	err_clear(&e);
	if (query_int(q, "since", 0, INT64_MAX, 0, &v, &e) == 0)
		FUZZ_ASSERT(v >= 0);
	const char *status;
	err_clear(&e);
	if (query_status(q, &status, &e) == 0)
		FUZZ_ASSERT(!status || order_status_parse(status) >= 0);
	else
		FUZZ_ASSERT(e.kind == ERR_INVALID_QUERY);

	char small[4];
	int rc = qs_param(q, "id", small, sizeof(small));
	FUZZ_ASSERT(rc >= -1 && rc <= 1);
	if (rc == 1)
		FUZZ_ASSERT(fuzz_terminated(small, sizeof(small)));
	free(q);
	return 0;
}
