/*
 * fuzz_log_escape.c: any bytes a client can put in a review (uid, names,
 * user) end up in the JSON log line.  The line is a jansson object, but the
 * value is made fit for jansson first (cut, invalid UTF-8 replaced: see
 * kt_json_text()): the line must always be one line of valid JSON whose
 * value is the input, cut and repaired, never longer than the cut allows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_buf b = KT_BUF_INIT;
	json_t *line, *v, *s_v;
	const char *got;
	char *s;
	size_t max = size ? data[0] % 64 + 1 : 1, n;

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	n = strlen(s);
	line = kt_log_begin(KT_LOG_INFO, s);
	kt_log_add(kt_log_list(line, "v"), s, max);
	if (!line || kt_log_format(line, &b))
		abort();
	/* one line, valid JSON, the value at most 3 bytes (U+FFFD) per input byte and "..." */
	if (memchr(b.buf, '\n', b.len) != b.buf + b.len - 1)
		abort();
	v = json_loadb(b.buf, b.len, 0, NULL);
	s_v = json_array_get(json_object_get(v, "v"), 0);
	got = json_string_value(s_v);
	if (!got || json_string_length(s_v) > 3 * max + 3 ||
	    !json_is_string(json_object_get(v, "msg")))
		abort();
	/* a valid value that fits comes back unchanged */
	if (n <= max) {
		json_t *valid = json_stringn(s, n);

		if (valid && strcmp(got, s))
			abort();
		json_decref(valid);
	}
	json_decref(v);
	json_decref(line);
	kt_buf_release(&b);
	free(s);
	return 0;
}
