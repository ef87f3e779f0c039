/*
 * json.c: see kt/json.h.
 */
#include <string.h>
#include "kt/json.h"
#include "kt/jview.h"
#include "kt/jwrite.h"
#include "kt/policy.h"
#include "kt/utf8.h"

json_t *kt_json_text(const char *s, size_t len, size_t max)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	struct kt_buf b = KT_BUF_INIT;
	size_t n = len < max ? len : max, i, l;
	unsigned long cp;
	json_t *v;

	/* the usual case: valid as it is (jansson checks), one copy */
	if (n == len && (v = json_stringn(s, n)))
		return v;
	if (kt_buf_grow(&b, n + 3))
		return NULL;
	for (i = 0; i < n; i += l) {
		l = kt_utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (l ? kt_buf_add(&b, s + i, l) : kt_buf_add(&b, replacement, 3))
			break;
		if (!l)
			l = 1;
	}
	v = NULL;
	if (i >= n && (n == len || !kt_buf_add(&b, "...", 3)))
		v = json_stringn_nocheck(b.buf, b.len);
	kt_buf_release(&b);
	return v;
}

static int add_chunk(const char *chunk, size_t size, void *data)
{
	return kt_buf_add(data, chunk, size) ? -1 : 0;
}

enum kt_rc kt_json_dump(const json_t *v, struct kt_buf *out)
{
	if (json_dump_callback(v, add_chunk, out, JSON_COMPACT | JSON_ENCODE_ANY))
		return KT_E_NOMEM;
	return KT_OK;
}

/*
 * Deeper than any tree read here can be (jansson's own parser stops at 2048
 * levels, YAML at 64): only the stack is protected, the view refuses depth.
 */
#define TEXT_MAX_DEPTH 2048

static enum kt_rc text_of(const json_t *v, struct kt_buf *b, int depth);

/* A string, or a key with its colon (kt_jw_chars copies the runs that need no escape whole). */
static enum kt_rc put_string(struct kt_buf *b, const char *s, size_t n, bool key)
{
	if (kt_jw_lit(b, "\"") || kt_jw_chars(b, s, n) ||
	    (key ? kt_jw_lit(b, "\":") : kt_jw_lit(b, "\"")))
		return KT_E_NOMEM;
	return KT_OK;
}

static enum kt_rc text_of_object(const json_t *v, struct kt_buf *b, int depth)
{
	void *it = json_object_iter((json_t *)v);
	enum kt_rc rc = kt_jw_lit(b, "{");

	for (; !rc && it; it = json_object_iter_next((json_t *)v, it)) {
		if ((b->buf[b->len - 1] != '{' && (rc = kt_jw_lit(b, ","))) ||
		    (rc = put_string(b, json_object_iter_key(it), json_object_iter_key_len(it),
				     true)))
			break;
		rc = text_of(json_object_iter_value(it), b, depth + 1);
	}
	return rc ? rc : kt_jw_lit(b, "}");
}

static enum kt_rc text_of_array(const json_t *v, struct kt_buf *b, int depth)
{
	size_t i, n = json_array_size(v);
	enum kt_rc rc = kt_jw_lit(b, "[");

	for (i = 0; !rc && i < n; i++)
		if (!i || !(rc = kt_jw_lit(b, ",")))
			rc = text_of(json_array_get(v, i), b, depth + 1);
	return rc ? rc : kt_jw_lit(b, "]");
}

/*
 * The compact JSON text of v, as kt_json_dump() writes it, without
 * jansson's dumper: that one keeps a table of the containers it is in,
 * keyed by their addresses printed with snprintf, so writing a tree cost
 * more than reading it.  A real still goes through jansson (its digits are
 * jansson's).  Strings are valid UTF-8 (jansson checks) and a NUL in one is
 * written \u0000, for the view to refuse as it refuses it anywhere.
 */
static enum kt_rc text_of(const json_t *v, struct kt_buf *b, int depth)
{
	if (depth > TEXT_MAX_DEPTH)
		return KT_E_PARSE;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return text_of_object(v, b, depth);
	case JSON_ARRAY:
		return text_of_array(v, b, depth);
	case JSON_STRING:
		return put_string(b, json_string_value(v), json_string_length(v), false);
	case JSON_INTEGER:
		return kt_jw_int(b, (long long)json_integer_value(v));
	case JSON_TRUE:
		return kt_jw_lit(b, "true");
	case JSON_FALSE:
		return kt_jw_lit(b, "false");
	case JSON_NULL:
		return kt_jw_lit(b, "null");
	default:
		return kt_json_dump(v, b) ? KT_E_NOMEM : KT_OK;
	}
}

enum kt_rc kt_json_view(json_t *j, struct kt_buf *text, struct kt_jview *v, struct kt_jv *out,
			struct kt_err *err)
{
	enum kt_rc rc;

	*out = (struct kt_jv){ 0 };
	if (!j)
		return KT_OK;
	/* in a list of one: a view's root is an object or a list, j may be any value */
	if ((!text->alloc && kt_buf_grow(text, 4096)) || kt_buf_addch(text, '[') ||
	    ((rc = text_of(j, text, 1)) && rc != KT_E_PARSE) || kt_buf_addch(text, ']'))
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	if (rc)
		return kt_err_set(err, KT_E_PARSE, "nesting too deep (more than %d levels)",
				  TEXT_MAX_DEPTH);
	if ((rc = kt_jview_parse(v, text->buf, text->len, KT_POLICY_MAX_DEPTH + 1,
				 KT_POLICY_MAX_VALUES + 1, err)))
		return rc;
	*out = kt_jv_first(kt_jview_root(v));
	return KT_OK;
}
