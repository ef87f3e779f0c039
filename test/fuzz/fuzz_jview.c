/*
 * fuzz_jview.c: the JSON view (lib/json) against jansson, on the same bytes.
 *
 * jansson, as the decision path has used it (kt_policy_decode: its limits
 * first, then json_loadb rejecting duplicate keys), is the oracle.  For
 * every input:
 *
 * - both accept or both refuse (a root that is not an object or an array
 *   counts as refused: reviews and manifests are objects; so does a NUL
 *   byte anywhere: jansson reads one after a number as nothing, "[1\0]"
 *   is [1] to it, which this target found and the view refuses);
 * - when both accept, they read the same document: the same type at every
 *   place, the same integers, reals and string bytes, the same members of
 *   each object found by iteration and by name (the view's lookup lands on
 *   the member its iteration gave), the same elements in order, and the
 *   JSON pointer the view writes for each value leads jansson to the value
 *   compared;
 * - an accepted review gets the same decision from its bytes (the
 *   webhook's path: the view of the bytes) and from the tree jansson
 *   decoded (check's path: the view of jansson's text of the tree), in
 *   both modes: the same error or verdict, rule ids and patch.  Escapes,
 *   number forms and whitespace differ between the two texts; the
 *   decision must not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kt/jview.h"
#include "kt/policy.h"
#include "../../lib/policy/internal.h"
#include "../unit/policy_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* jansson's value at an RFC 6901 pointer (as the view writes them), or NULL. */
static json_t *resolve(json_t *root, const char *ptr)
{
	char seg[4096];
	json_t *v = root;

	while (*ptr) {
		size_t n = 0;

		if (*ptr++ != '/')
			return NULL;
		while (*ptr && *ptr != '/') {
			if (n + 1 >= sizeof(seg))
				return NULL;
			if (*ptr == '~') {
				seg[n++] = ptr[1] == '0' ? '~' : '/';
				ptr += 2;
			} else {
				seg[n++] = *ptr++;
			}
		}
		seg[n] = '\0';
		if (json_is_object(v))
			v = json_object_getn(v, seg, n);
		else if (json_is_array(v))
			v = json_array_get(v, strtoul(seg, NULL, 10));
		else
			return NULL;
		if (!v)
			return NULL;
	}
	return v;
}

static void same(json_t *root, struct kt_jv v, json_t *j)
{
	static char ptr[1 << 16];
	long long ll;
	double d;
	size_t len, i;
	const char *s;
	bool cut;
	struct kt_jv e;

	kt_jv_pointer(v, ptr, sizeof(ptr), &cut);
	if (!cut && resolve(root, ptr) != j)
		abort();
	switch (json_typeof(j)) {
	case JSON_NULL:
		if (!kt_jv_is(v, KT_J_NULL))
			abort();
		break;
	case JSON_TRUE:
		if (!kt_jv_is(v, KT_J_TRUE))
			abort();
		break;
	case JSON_FALSE:
		if (!kt_jv_is(v, KT_J_FALSE))
			abort();
		break;
	case JSON_INTEGER:
		if (!kt_jv_int(v, &ll) || ll != json_integer_value(j))
			abort();
		break;
	case JSON_REAL:
		if (kt_jv_int(v, &ll) || !kt_jv_real(v, &d) || d != json_real_value(j))
			abort();
		break;
	case JSON_STRING:
		s = kt_jv_strn(v, &len);
		if (!s || len != json_string_length(j) || memcmp(s, json_string_value(j), len) ||
		    s[len] || !kt_jv_streq(v, json_string_value(j)))
			abort();
		break;
	case JSON_ARRAY:
		if (!kt_jv_is(v, KT_J_ARRAY) || kt_jv_size(v) != json_array_size(j))
			abort();
		for (e = kt_jv_first(v), i = 0; kt_jv_ok(e); e = kt_jv_next(e), i++) {
			if (i < 4 && kt_jv_at(v, i).i != e.i)
				abort();
			same(root, e, json_array_get(j, i));
		}
		if (i != json_array_size(j))
			abort();
		break;
	case JSON_OBJECT:
		if (!kt_jv_is(v, KT_J_OBJECT) || kt_jv_size(v) != json_object_size(j))
			abort();
		for (e = kt_jv_first(v), i = 0; kt_jv_ok(e); e = kt_jv_next(e), i++) {
			json_t *m;

			s = kt_jv_key(e, &len);
			if (!s || s[len] || !(m = json_object_getn(j, s, len)) ||
			    kt_jv_getn(v, s, len).i != e.i)
				abort();
			same(root, e, m);
		}
		if (i != json_object_size(j))
			abort();
		break;
	}
}

static void same_findings(const struct kt_finding *a, const struct kt_finding *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i].rule, b[i].rule))
			abort();
}

static void same_decision(const uint8_t *data, size_t size, json_t *j)
{
	const struct kt_config *cfg = kt_policy_fixture();

	for (int m = 0; m < 2; m++) {
		enum kt_policy_mode mode = m ? KT_POLICY_VALIDATE : KT_POLICY_MUTATE;
		struct kt_decision a, b;
		struct kt_err err;
		enum kt_rc ra = kt_policy_review(cfg, (const char *)data, size, mode, &a, &err);
		enum kt_rc rb = kt_policy_review_json(cfg, j, mode, &b, &err);

		if (ra != rb)
			abort();
		if (!ra) {
			if (a.allowed != b.allowed || a.code != b.code ||
			    a.n_denials != b.n_denials || a.n_warnings != b.n_warnings ||
			    a.patch.len != b.patch.len ||
			    memcmp(a.patch.buf, b.patch.buf, a.patch.len))
				abort();
			same_findings(a.denials, b.denials, a.n_denials);
			same_findings(a.warnings, b.warnings, a.n_warnings);
		}
		kt_decision_release(&a);
		kt_decision_release(&b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kt_jview view = KT_JVIEW_INIT;
	struct kt_err err;
	json_t *j = NULL;
	bool oracle, ok;

	kt_policy_decode((const char *)data, size, &j, &err);
	oracle = j && (json_is_object(j) || json_is_array(j)) && !memchr(data, 0, size);
	ok = kt_jview_parse(&view, (const char *)data, size, KT_POLICY_MAX_DEPTH,
			    KT_POLICY_MAX_VALUES, &err) == KT_OK;
	if (ok != oracle)
		abort();
	if (ok) {
		same(j, kt_jview_root(&view), j);
		same_decision(data, size, j);
	}
	json_decref(j);
	return 0;
}
