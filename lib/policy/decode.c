/*
 * decode.c: JSON in, bounded.
 *
 * The webhook reads a review through the JSON view (lib/json/, parsed in
 * engine.c); before that, kt_policy_decode_cost() measures the raw text
 * (nesting and number of values, no allocation) so the server can charge
 * the review to its memory budget and refuse what is over a limit.
 * kt_policy_decode() is jansson's decode under the same limits: no
 * decision uses it any more; fuzz_jview holds the view to it.  Objects
 * handed over already decoded (`check`, `audit`) are measured by a walk:
 * every decision works on at most KT_POLICY_MAX_DEPTH levels and
 * KT_POLICY_MAX_VALUES values.
 */
#include <string.h>
#include "kt/utf8.h"
#include "internal.h"

void kt_clean_text(char *s)
{
	size_t n = strlen(s), i = 0;
	unsigned long cp;

	while (i < n) {
		unsigned char ch = (unsigned char)s[i];
		size_t l;

		if (ch < 0x80) {
			if (ch < 0x20 || ch == 0x7f)
				s[i] = '?';
			i++;
			continue;
		}
		l = kt_utf8_decode((unsigned char *)s + i, n - i, &cp);
		if (!l) {
			s[i++] = '?';
			continue;
		}
		i += l;
	}
}

/* ---- bytes ---- */

static enum kt_rc too_deep(struct kt_err *err, size_t at)
{
	return kt_err_set(err, KT_E_PARSE,
			  "invalid JSON at byte %zu: nesting too deep (more than "
			  "%d levels)",
			  at, KT_POLICY_MAX_DEPTH);
}

static enum kt_rc too_many(struct kt_err *err, const char *what)
{
	return kt_err_set(err, KT_E_PARSE, "%s is too large to decode: more than %u JSON values",
			  what, KT_POLICY_MAX_VALUES);
}

/*
 * Nesting and values of JSON text, without decoding it.  A value is the
 * root, the first element or member of a non-empty container, or one after
 * a comma; strings are skipped whole (an escaped quote does not end one).
 * Text that is not JSON may be measured wrongly, but jansson refuses it
 * anyway: only valid JSON must be measured exactly.
 */
static enum kt_rc measure(const char *text, size_t len, size_t *n_values, struct kt_err *err)
{
	const char *p = text, *end = text + len, *q;
	size_t values = 1, bs;
	unsigned depth = 0;
	bool first = false; /* just after '[' or '{': a non-empty container counts its first */

	while (p < end) {
		char ch = *p++;

		if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
			continue;
		if (first && ch != ']' && ch != '}')
			values++;
		first = false;
		switch (ch) {
		case '"':
			for (;;) {
				q = memchr(p, '"', (size_t)(end - p));
				if (!q) {
					p = end;
					break;
				}
				for (bs = 0; q - bs > p && q[-1 - (ptrdiff_t)bs] == '\\'; bs++)
					;
				p = q + 1;
				if (!(bs & 1))
					break;
			}
			break;
		case '[':
		case '{':
			if (++depth > KT_POLICY_MAX_DEPTH)
				return too_deep(err, (size_t)(p - 1 - text));
			first = true;
			break;
		case ']':
		case '}':
			if (depth)
				depth--;
			break;
		case ',':
			values++;
			break;
		}
		if (values > KT_POLICY_MAX_VALUES)
			return too_many(err, "review");
	}
	*n_values = values;
	return KT_OK;
}

/* What went wrong, in the words of the rest of the engine; NULL: jansson's are clear. */
static const char *why(const json_error_t *e)
{
	switch (json_error_code(e)) {
	case json_error_premature_end_of_input:
		return "unexpected end of input";
	case json_error_end_of_input_expected:
		return "trailing data after the JSON value";
	case json_error_invalid_utf8:
		return "invalid UTF-8 in string";
	case json_error_null_character:
		return "\\u0000 in string";
	case json_error_null_byte_in_key:
		return "\\u0000 in an object key";
	case json_error_duplicate_key:
		return "duplicate key in object";
	case json_error_stack_overflow:
		return "nesting too deep";
	default:
		return NULL;
	}
}

enum kt_rc kt_policy_decode_cost(const char *text, size_t len, size_t *cost, struct kt_err *err)
{
	size_t values = 0;
	enum kt_rc rc;

	*cost = 0;
	if (len > KT_POLICY_MAX_REVIEW_BYTES)
		return kt_err_set(err, KT_E_PARSE, "review of %zu bytes is larger than %u bytes",
				  len, KT_POLICY_MAX_REVIEW_BYTES);
	if ((rc = measure(text, len, &values, err)))
		return rc;
	*cost = values * KT_POLICY_VALUE_COST + len;
	return KT_OK;
}

enum kt_rc kt_policy_decode(const char *text, size_t len, json_t **out, struct kt_err *err)
{
	json_error_t jerr;
	const char *w, *near;
	size_t cost;
	enum kt_rc rc;

	*out = NULL;
	if ((rc = kt_policy_decode_cost(text, len, &cost, err)))
		return rc;
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (*out)
		return KT_OK;
	if (json_error_code(&jerr) == json_error_out_of_memory)
		return kt_err_set(err, KT_E_NOMEM, "out of memory decoding the review");
	w = why(&jerr);
	near = strstr(jerr.text, " near ");
	rc = kt_err_set(err, KT_E_PARSE, "invalid JSON at byte %d: %s%s", jerr.position,
			w ? w : jerr.text, w && near ? near : "");
	/* jansson quotes the input near the error: keep the message one printable line */
	if (err)
		kt_clean_text(err->msg);
	return rc;
}

/* ---- trees ---- */

struct walk {
	size_t values;
	struct kt_err *err;
};

static enum kt_rc walk(struct walk *w, json_t *v, int depth)
{
	enum kt_rc rc;
	void *it;
	size_t i, n;

	if (++w->values > KT_POLICY_MAX_VALUES)
		return too_many(w->err, "object");
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (strlen(json_string_value(v)) != json_string_length(v))
			return kt_err_set(w->err, KT_E_PARSE, "string contains a NUL byte");
		return KT_OK;
	case JSON_ARRAY:
	case JSON_OBJECT:
		break;
	default:
		return KT_OK;
	}
	if (depth <= 0)
		return kt_err_set(w->err, KT_E_PARSE, "nesting too deep (more than %d levels)",
				  KT_POLICY_MAX_DEPTH);
	if (json_is_array(v)) {
		for (i = 0, n = json_array_size(v); i < n; i++)
			if ((rc = walk(w, json_array_get(v, i), depth - 1)))
				return rc;
		return KT_OK;
	}
	for (it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
		if (strlen(json_object_iter_key(it)) != json_object_iter_key_len(it))
			return kt_err_set(w->err, KT_E_PARSE, "object key contains a NUL byte");
		if ((rc = walk(w, json_object_iter_value(it), depth - 1)))
			return rc;
	}
	return KT_OK;
}

enum kt_rc kt_policy_bounds(json_t *obj, json_t *old, struct kt_err *err)
{
	struct walk w = { .err = err };
	enum kt_rc rc = obj ? walk(&w, obj, KT_POLICY_MAX_DEPTH) : KT_OK;

	return !rc && old ? walk(&w, old, KT_POLICY_MAX_DEPTH) : rc;
}
