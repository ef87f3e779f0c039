/*
 * fuzz_render_yaml.c: the renderer's YAML writer on hostile values.
 *
 * Every string of the tenants file ends up in the rendered YAML, so the
 * writer must turn any JSON value into YAML that parses back to the same
 * value.  Input: a JSON document, or else the raw bytes as a string (when
 * valid UTF-8) used as a value, a key and a sequence item.  The output is
 * parsed back with libfyaml and must be equal; any difference aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libfyaml.h>
#include "kt/render.h"

/* libfyaml's own leak while writing JSON (see test/unit/t_render.c) */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:fy_atom_is_number\nleak:libfyaml.so\n";
}

static void check(json_t *v)
{
	struct kt_buf b = KT_BUF_INIT;
	struct fy_parse_cfg cfg = { .flags = FYPCF_DEFAULT_DOC };
	struct fy_document *d;
	json_t *back;
	char *s;

	if (kt_render_yaml(v, &b, NULL) != KT_OK) {
		kt_buf_release(&b); /* too deep: refused, nothing written */
		return;
	}
	d = fy_document_build_from_string(&cfg, b.buf, b.len);
	if (!d) {
		fprintf(stderr, "unparsable YAML:\n%s\n", b.buf);
		abort();
	}
	s = fy_emit_document_to_string(d, FYECF_MODE_JSON_ONELINE);
	back = s ? json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
	/* reals: our %.17g and libfyaml's reading may differ in the last digit; skip */
	if (!back || (!json_equal(v, back) && !strpbrk(b.buf, "eE."))) {
		fprintf(stderr, "round trip differs:\n%s\n-> %s\n", b.buf, s ? s : "(null)");
		abort();
	}
	json_decref(back);
	free(s);
	fy_document_destroy(d);
	kt_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	json_t *s;

	if (v) {
		check(v);
		json_decref(v);
		return 0;
	}
	s = json_stringn((const char *)data, size);
	if (!s || memchr(data, '\0', size)) { /* keys cannot hold NUL */
		json_decref(s);
		return 0;
	}
	v = json_pack("{s:O, s:[O, {s:O}]}", "k", s, "seq", s, "x", s);
	if (v && json_object_set(v, json_string_value(s), s) == 0)
		check(v);
	json_decref(v);
	json_decref(s);
	return 0;
}
