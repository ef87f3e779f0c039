/*
 * fuzz_log_escape.c: any bytes a client can put in a review (uid, names,
 * user) end up in the JSON log line, written without a tree (server/log.c).
 * The line must be the bytes jansson's compact dump gives for the same
 * fields made with kt_json_text() (cut, invalid UTF-8 replaced), the way
 * lines were written before: so always one line of valid JSON whose value
 * is the input, cut and repaired, never longer than the cut allows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "kt/json.h"
#include "log.h"

/* jansson's line for the fields written below, with the writer's time stamp */
static void oracle(struct kt_buf *out, const char *ts, const char *s, size_t n, size_t max)
{
	json_t *o = json_object(), *list = json_array();

	json_object_set_new(o, "ts", json_stringn(ts, 27));
	json_object_set_new(o, "level", json_string("info"));
	json_object_set_new(o, "msg", kt_json_text(s, n, 512));
	json_array_append_new(list, kt_json_text(s, n, max));
	json_array_append_new(list, kt_json_text(s, n, max + 1));
	json_object_set_new(o, "v", list);
	json_object_set_new(o, "s", kt_json_text(s, n, 512));
	json_object_set_new(o, "n", json_integer((json_int_t)n - 1000));
	if (kt_json_dump(o, out) || kt_buf_addch(out, '\n'))
		abort();
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_buf b = KT_BUF_INIT, want = KT_BUF_INIT;
	struct kt_log_line *line, *list;
	json_t *v, *s_v;
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
	list = kt_log_list(line, "v");
	kt_log_add(list, s, max);
	kt_log_add(list, s, max + 1);
	kt_log_str(line, "s", s);
	kt_log_num(line, "n", (long long)n - 1000);
	if (!line || kt_log_format(line, &b))
		abort();
	if (b.len < 7 + 27)
		abort();
	oracle(&want, b.buf + 7, s, n, max);
	if (b.len != want.len || memcmp(b.buf, want.buf, b.len))
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
	kt_buf_release(&b);
	kt_buf_release(&want);
	free(s);
	return 0;
}
