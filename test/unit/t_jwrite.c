/*
 * t_jwrite.c: JSON written without a tree (kt/jwrite.h, the AdmissionReview
 * response, its JSON Patch, and the text kt_json_view() writes of a tree)
 * is byte for byte what jansson wrote from a tree: strings and JSON
 * pointers against kt_json_text() + kt_json_dump() on hostile bytes,
 * responses and patches against the trees they were built as before, kept
 * here as the oracle, and kt_json_view()'s text against jansson's dump.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "kt/config.h"
#include "kt/json.h"
#include "kt/jview.h"
#include "kt/jwrite.h"
#include "kt/policy.h"
#include "policy_fixture.h"

/* jansson's answer for the n bytes at s: a string as kt_json_text makes it, dumped. */
static void oracle_str(const char *s, size_t n, struct kt_buf *out)
{
	json_t *v = kt_json_text(s, n, SIZE_MAX);

	assert_non_null(v);
	assert_int_equal(kt_json_dump(v, out), KT_OK);
	json_decref(v);
}

static void same_str(const char *s, size_t n)
{
	struct kt_buf want = KT_BUF_INIT, got = KT_BUF_INIT;

	oracle_str(s, n, &want);
	assert_int_equal(kt_buf_addch(&got, '"'), KT_OK);
	assert_int_equal(kt_jw_chars(&got, s, n), KT_OK);
	assert_int_equal(kt_buf_addch(&got, '"'), KT_OK);
	if (got.len != want.len || memcmp(got.buf, want.buf, got.len))
		fail_msg("%zu-byte input: jansson wrote %s, kt_jw_chars %s", n, want.buf, got.buf);
	kt_buf_release(&want);
	kt_buf_release(&got);
}

static void strings(void **state)
{
	static const char *const hostile[] = {
		"",
		"plain",
		"quote \" backslash \\ slash /",
		"\x01\x02\x1f\x7f\b\f\n\r\t",
		"line\xe2\x80\xa8sep\xe2\x80\xa9para",
		"\xff\xfe bad lead bytes",
		"\xc3 truncated",
		"\xc3",
		"\xe2\x80",
		"\xc0\xaf overlong slash",
		"\xed\xa0\x80 surrogate",
		"\xf4\x90\x80\x80 beyond U+10FFFF",
		"\xf0\x9f\x98\x80 emoji",
		"\x80\x80\x80 continuation",
		"caf\xc3\xa9 \\u0041 </script>",
	};
	char rnd[64];
	uint32_t x = 2463534242u;

	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		same_str(hostile[i], strlen(hostile[i]));
	same_str("nul\0inside", 10);
	/* random bytes, weighted to the ones that need care */
	for (int k = 0; k < 20000; k++) {
		size_t n = k % sizeof(rnd);

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			rnd[i] = x % 3 ? (char)(x >> 8)
				       : "\"\\\x01\xc3\xa9\xe2\x80\xa8\xf0\xed"[x % 10];
		}
		same_str(rnd, n);
	}
}

/* ---- the response as a jansson tree, as it was built before ---- */

static json_t *cstr(const char *s)
{
	return kt_json_text(s, strlen(s), SIZE_MAX);
}

static json_t *tree_reason(const struct kt_finding *f)
{
	struct kt_buf t = KT_BUF_INIT;
	bool with_path = f->path && *f->path;
	json_t *v;

	assert_int_equal(kt_buf_addf(&t, "[%s] %s%s%s", f->rule, with_path ? f->path : "",
				     with_path ? ": " : "", f->message),
			 KT_OK);
	v = kt_json_text(t.buf, t.len, SIZE_MAX);
	kt_buf_release(&t);
	return v;
}

static json_t *tree_status(const struct kt_decision *d)
{
	struct kt_buf msg = KT_BUF_INIT;
	json_t *causes = json_array(), *cause, *st;

	if (d->tenant)
		kt_buf_addf(&msg, "tenant '%s': ", d->tenant->name);
	for (size_t i = 0; i < d->n_denials; i++) {
		const struct kt_finding *f = &d->denials[i];

		kt_buf_addf(&msg, "%s[%s] %s%s%s", i ? "; " : "", f->rule, f->path ? f->path : "",
			    f->path ? ": " : "", f->message);
		cause = json_object();
		json_object_set_new(cause, "reason", cstr(f->rule));
		json_object_set_new(cause, "message", cstr(f->message));
		if (f->path)
			json_object_set_new(cause, "field", cstr(f->path));
		json_array_append_new(causes, cause);
	}
	if (!d->n_denials)
		kt_buf_adds(&msg, "denied");
	st = json_pack("{s:i,s:s,s:o,s:{s:O}}", "code", d->code ? d->code : 403, "reason",
		       "Forbidden", "message", kt_json_text(msg.buf, msg.len, SIZE_MAX), "details",
		       "causes", causes);
	json_decref(causes);
	kt_buf_release(&msg);
	return st;
}

static void tree_response(const struct kt_decision *d, struct kt_buf *out)
{
	json_t *resp = json_object(), *review, *warnings;

	review = json_pack("{s:s,s:s,s:O}", "apiVersion", "admission.k8s.io/v1", "kind",
			   "AdmissionReview", "response", resp);
	json_object_set_new(resp, "uid", cstr(d->uid ? d->uid : ""));
	json_object_set_new(resp, "allowed", json_boolean(d->allowed));
	if (d->allowed && d->patch.len) {
		unsigned char *b64 = malloc(d->patch.len / 3 * 4 + 5);
		int n = EVP_EncodeBlock(b64, (const unsigned char *)d->patch.buf,
					(int)d->patch.len);

		json_object_set_new(resp, "patchType", json_string("JSONPatch"));
		json_object_set_new(resp, "patch", json_stringn((const char *)b64, (size_t)n));
		free(b64);
	}
	if (!d->allowed)
		json_object_set_new(resp, "status", tree_status(d));
	if (d->n_warnings) {
		json_object_set_new(resp, "warnings", warnings = json_array());
		for (size_t i = 0; i < d->n_warnings; i++)
			json_array_append_new(warnings, tree_reason(&d->warnings[i]));
	}
	assert_int_equal(kt_json_dump(review, out), KT_OK);
	json_decref(resp);
	json_decref(review);
}

static void same_response(const struct kt_decision *d)
{
	struct kt_buf want = KT_BUF_INIT, got = KT_BUF_INIT;

	tree_response(d, &want);
	assert_int_equal(kt_policy_response(d, &got), KT_OK);
	if (got.len != want.len || memcmp(got.buf, want.buf, got.len))
		fail_msg("response differs:\njansson: %s\nwritten: %s", want.buf, got.buf);
	kt_buf_release(&want);
	kt_buf_release(&got);
}

static void responses(void **state)
{
	struct kt_tenant t = { .name = "team-\"a\"\xff" };
	struct kt_finding f[] = {
		{ "placement.foreign-toleration", "pod tolerates node pool 'b-pool'",
		  "spec.tolerations[1]" },
		{ "pss.baseline\x01", "bad \xc3 utf-8 \"quoted\" \\ \xe2\x80\xa8", NULL },
		{ "images.registry", "image 'x' is not allowed", "" },
		{ "r\n", "\xed\xa0\x80", "spec.containers[0].image\t" },
	};
	struct kt_decision d = { .uid = "705ab4f5-6393-11e8-b7cc-42010a800002" };

	(void)state;
	/* allowed, bare; with a patch; with warnings; then denied every way */
	d.allowed = true, d.code = 200;
	same_response(&d);
	kt_buf_adds(&d.patch, "[{\"op\":\"add\",\"path\":\"/spec/nodeSelector\",\"value\":"
			      "{\"pool\":\"a\"}}]");
	same_response(&d);
	d.warnings = f, d.n_warnings = 4;
	same_response(&d);
	d.uid = NULL;
	same_response(&d);
	d.uid = "u\"\\\x02\xff";
	d.allowed = false, d.code = 403;
	same_response(&d);
	d.denials = f, d.n_denials = 4, d.n_warnings = 0;
	same_response(&d);
	d.tenant = &t;
	same_response(&d);
	d.n_denials = 0, d.code = 0;
	same_response(&d);
	d.n_denials = 1, d.n_warnings = 2, d.code = 400;
	same_response(&d);
	kt_buf_release(&d.patch);
}

/* RFC 6901 as the patch built it before: '~' -> "~0", '/' -> "~1", then a jansson string. */
static void oracle_pointer(const char *const *seg, size_t n, struct kt_buf *out)
{
	struct kt_buf p = KT_BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		assert_int_equal(kt_buf_addch(&p, '/'), KT_OK);
		for (const char *c = seg[i]; *c; c++)
			assert_int_equal(*c == '~'   ? kt_buf_adds(&p, "~0")
					 : *c == '/' ? kt_buf_adds(&p, "~1")
						     : kt_buf_addch(&p, *c),
					 KT_OK);
	}
	oracle_str(p.buf ? p.buf : "", p.len, out);
	kt_buf_release(&p);
}

static void same_pointer(const char *const *seg, size_t n)
{
	struct kt_buf want = KT_BUF_INIT, got = KT_BUF_INIT;

	oracle_pointer(seg, n, &want);
	assert_int_equal(kt_buf_addch(&got, '"'), KT_OK);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(kt_jw_pointer_seg(&got, seg[i]), KT_OK);
	assert_int_equal(kt_buf_addch(&got, '"'), KT_OK);
	if (got.len != want.len || memcmp(got.buf, want.buf, got.len))
		fail_msg("pointer of %zu segments: jansson wrote %s, kt_jw_pointer_seg %s", n,
			 want.buf, got.buf);
	kt_buf_release(&want);
	kt_buf_release(&got);
}

static void pointers(void **state)
{
	static const char *const seg[] = {
		"spec",
		"",
		"kubetenant.io/node-pool",
		"~",
		"/",
		"~1/~0",
		"a~b/c",
		"-",
		"0",
		"\xc3/\xa9",
		"\xe2\x80~",
		"\"q\\\x01",
		"caf\xc3\xa9~\xff",
	};
	char rnd[4][24];
	const char *r[4] = { rnd[0], rnd[1], rnd[2], rnd[3] };
	uint32_t x = 88172645u;

	(void)state;
	same_pointer(seg, 0);
	for (size_t i = 0; i < sizeof(seg) / sizeof(seg[0]); i++)
		same_pointer(seg + i, sizeof(seg) / sizeof(seg[0]) - i);
	/* random segments, weighted to '~', '/' and the bytes that need care */
	for (int k = 0; k < 20000; k++) {
		for (int j = 0; j < 4; j++) {
			size_t n = (size_t)(k + j) % sizeof(rnd[j]);

			for (size_t i = 0; i < n; i++) {
				x ^= x << 13, x ^= x >> 17, x ^= x << 5;
				rnd[j][i] = x % 3 ? (char)(x >> 8 | 1)
						  : "~/\"\\\x01\xc3\xa9\xe2\x80\xed"[x % 10];
			}
			rnd[j][n] = '\0';
		}
		same_pointer(r, (size_t)k % 5);
	}
}

/* ---- the JSON Patch as the jansson tree kt_patch_add built before ---- */

static json_t *tree_op(const char *const *seg, size_t n, json_t *value)
{
	struct kt_buf p = KT_BUF_INIT;
	json_t *op;

	for (size_t i = 0; i < n; i++) {
		kt_buf_addch(&p, '/');
		for (const char *c = seg[i]; *c; c++)
			*c == '~'   ? kt_buf_adds(&p, "~0")
			: *c == '/' ? kt_buf_adds(&p, "~1")
				    : kt_buf_addch(&p, *c);
	}
	op = json_pack("{s:s,s:o,s:o}", "op", "add", "path", kt_json_text(p.buf, p.len, SIZE_MAX),
		       "value", value);
	assert_non_null(op);
	kt_buf_release(&p);
	return op;
}

static json_t *tree_toleration(const char *key, const char *pool)
{
	return json_pack("{s:o,s:s,s:o,s:s}", "key", cstr(key), "operator", "Equal", "value",
			 cstr(pool), "effect", "NoSchedule");
}

/* A Pod CREATE by the ReplicaSet controller in team-a, with spec members of its own. */
static void same_patch(const char *spec_extra, json_t *want_ops)
{
	static const char fmt[] =
		"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
		"\"uid\":\"705ab4f5-6393-11e8-b7cc-42010a800002\",\"kind\":{\"group\":\"\","
		"\"version\":\"v1\",\"kind\":\"Pod\"},\"resource\":{\"group\":\"\",\"version\":"
		"\"v1\",\"resource\":\"pods\"},\"namespace\":\"team-a\",\"operation\":\"CREATE\","
		"\"userInfo\":{\"username\":\"system:serviceaccount:kube-system:replicaset-"
		"controller\",\"groups\":[\"system:serviceaccounts\",\"system:authenticated\"]},"
		"\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"generateName\":"
		"\"web-7d4b9c8f6-\",\"namespace\":\"team-a\"},\"spec\":{\"containers\":[{\"name\":"
		"\"web\",\"image\":\"ghcr.io/acme/web:1.2.3\",\"terminationMessagePath\":"
		"\"/dev/termination-log\",\"imagePullPolicy\":\"IfNotPresent\"}],"
		"\"restartPolicy\":\"Always\",\"dnsPolicy\":\"ClusterFirst\",\"schedulerName\":"
		"\"default-scheduler\",\"securityContext\":{}%s}},\"oldObject\":null,"
		"\"dryRun\":false}}";
	struct kt_buf body = KT_BUF_INIT, want = KT_BUF_INIT;
	struct kt_decision d;
	struct kt_err err;

	assert_int_equal(kt_buf_addf(&body, fmt, spec_extra), KT_OK);
	assert_int_equal(kt_policy_review(kt_policy_fixture(), body.buf, body.len, KT_POLICY_MUTATE,
					  &d, &err),
			 KT_OK);
	assert_true(d.allowed);
	assert_int_equal(kt_json_dump(want_ops, &want), KT_OK);
	if (d.patch.len != want.len || memcmp(d.patch.buf, want.buf, want.len))
		fail_msg("patch differs:\njansson: %s\nwritten: %.*s", want.buf, (int)d.patch.len,
			 d.patch.buf ? d.patch.buf : "");
	json_decref(want_ops);
	kt_decision_release(&d);
	kt_buf_release(&want);
	kt_buf_release(&body);
}

static void patches(void **state)
{
	static const char key[] = "kubetenant.io/node-pool", pool[] = "a-pool";
	const char *sel[] = { "spec", "nodeSelector", key },
		   *tol[] = { "spec", "tolerations", "-" };

	(void)state;
	/* neither field: both added whole */
	same_patch("", json_pack("[o,o]", tree_op(sel, 2, json_pack("{s:o}", key, cstr(pool))),
				 tree_op(tol, 2, json_pack("[o]", tree_toleration(key, pool)))));
	/* the API server's default tolerations and a selector of the pod's own: members added */
	same_patch(",\"nodeSelector\":{\"disktype\":\"ssd\"},\"tolerations\":[{\"key\":"
		   "\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":"
		   "\"NoExecute\",\"tolerationSeconds\":300}]",
		   json_pack("[o,o]", tree_op(sel, 3, cstr(pool)),
			     tree_op(tol, 3, tree_toleration(key, pool))));
	/* the selector there already: the toleration only */
	same_patch(",\"nodeSelector\":{\"kubetenant.io/node-pool\":\"a-pool\"}",
		   json_pack("[o]", tree_op(tol, 2, json_pack("[o]", tree_toleration(key, pool)))));
	/* the toleration there already: the selector only */
	same_patch(",\"tolerations\":[{\"key\":\"kubetenant.io/node-pool\",\"operator\":\"Equal\","
		   "\"value\":\"a-pool\",\"effect\":\"NoSchedule\"}]",
		   json_pack("[o]", tree_op(sel, 2, json_pack("{s:o}", key, cstr(pool)))));
}

/* kt_json_view's text of v is "[" + jansson's compact dump + "]"; returns what the view said. */
static enum kt_rc same_tree_text(json_t *v)
{
	struct kt_buf want = KT_BUF_INIT, got = KT_BUF_INIT;
	struct kt_jview view = KT_JVIEW_INIT;
	struct kt_jv root;
	struct kt_err err = { 0 };
	enum kt_rc rc;

	assert_non_null(v);
	assert_int_equal(kt_buf_addch(&want, '['), KT_OK);
	assert_int_equal(kt_json_dump(v, &want), KT_OK);
	assert_int_equal(kt_buf_addch(&want, ']'), KT_OK);
	rc = kt_json_view(v, &got, &view, &root, &err);
	if (got.len != want.len || memcmp(got.buf, want.buf, got.len))
		fail_msg("jansson wrote %s, kt_json_view %s", want.buf, got.buf);
	kt_jview_release(&view);
	kt_buf_release(&want);
	kt_buf_release(&got);
	json_decref(v);
	return rc;
}

static void tree_text(void **state)
{
	static const char *const keys[] = {
		"", "k", "quote \" back \\", "\x01\x1f\x7f\n", "caf\xc3\xa9 \xe2\x80\xa8", "/slash/"
	};
	json_t *obj = json_object(), *arr = json_array(), *deep = json_array(), *d = deep;
	size_t i;

	(void)state;
	assert_non_null(obj);
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		assert_int_equal(json_object_set_new(obj, keys[i], json_string(keys[i])), 0);
	assert_int_equal(json_object_set_new(obj, "min", json_integer(INT64_MIN)), 0);
	assert_int_equal(json_object_set_new(obj, "max", json_integer(INT64_MAX)), 0);
	assert_int_equal(json_object_set_new(obj, "zero", json_integer(0)), 0);
	assert_int_equal(json_object_set_new(obj, "neg", json_integer(-42)), 0);
	assert_int_equal(json_object_set_new(obj, "real", json_real(0.1)), 0);
	assert_int_equal(json_object_set_new(obj, "big", json_real(1e300)), 0);
	json_array_append_new(arr, json_true());
	json_array_append_new(arr, json_false());
	json_array_append_new(arr, json_null());
	json_array_append_new(arr, json_object());
	json_array_append_new(arr, json_array());
	json_array_append_new(arr, kt_json_text("\xff bad \xc3", 7, SIZE_MAX));
	assert_int_equal(json_object_set_new(obj, "list", arr), 0);
	assert_int_equal(same_tree_text(obj), KT_OK);
	/* any value at the root, and the order of members as inserted */
	assert_int_equal(same_tree_text(json_string("just a string")), KT_OK);
	assert_int_equal(same_tree_text(json_integer(7)), KT_OK);
	assert_int_equal(same_tree_text(json_pack("{s:i, s:i, s:i}", "z", 1, "a", 2, "m", 3)),
			 KT_OK);
	/* a NUL is written \u0000, for the view to refuse */
	assert_int_equal(same_tree_text(json_stringn("a\0b", 3)), KT_E_PARSE);
	assert_int_equal(same_tree_text(json_pack("{s:s%}", "k", "x\0y", (size_t)3)), KT_E_PARSE);
	/* deeper than a view takes: the same text, and the view refuses it */
	for (i = 0; i < 100; i++) {
		json_t *n = json_array();

		json_array_append_new(d, n);
		d = n;
	}
	assert_int_equal(same_tree_text(deep), KT_E_PARSE);
}

/* Integers as jansson dumps a json_int_t, the ends of the range too. */
static void integers(void **state)
{
	static const long long v[] = { 0, 1, -1, 9, 10, -10, 1234567890123LL, INT64_MAX, INT64_MIN };
	struct kt_buf got = KT_BUF_INIT, want = KT_BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *j = json_integer((json_int_t)v[i]);

		kt_buf_reset(&got);
		kt_buf_reset(&want);
		assert_int_equal(kt_jw_int(&got, v[i]), KT_OK);
		assert_int_equal(kt_json_dump(j, &want), KT_OK);
		assert_string_equal(got.buf, want.buf);
		json_decref(j);
	}
	kt_buf_release(&got);
	kt_buf_release(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strings), cmocka_unit_test(responses), cmocka_unit_test(pointers),
		cmocka_unit_test(patches), cmocka_unit_test(tree_text), cmocka_unit_test(integers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
