/*
 * fuzz_log_escape.c: any bytes a client can put in a review (uid, names,
 * user) end up in the JSON log line; the escaped form must always be one
 * valid JSON string, never longer than the cut, and never break the line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "../../server/log.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_buf b = KT_BUF_INIT;
	json_t *v;
	char *s;
	size_t max = size ? data[0] % 64 + 1 : 1;

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	kt_json_escape(&b, s, max);
	/* one line, a valid JSON string, at most 6 bytes per input byte (\uXXXX) */
	if (memchr(b.buf, '\n', b.len) || b.len > 6 * max + 5)
		abort();
	v = json_loadb(b.buf, b.len, JSON_DECODE_ANY, NULL);
	if (!json_is_string(v))
		abort();
	json_decref(v);
	kt_buf_release(&b);
	free(s);
	return 0;
}
