/*
 * t_policy.c: the policy engine's edges: hostile review bytes, limits, the
 * JSON Patch applier, the response format, the findings cap, determinism,
 * and audit's treatment of live objects.  The rules themselves are tested
 * by the case tables (t_policy_cases.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kt/buf.h"
#include "kt/policy.h"
#include "policy_fixture.h"

#define POD_REVIEW(ns, spec)                                                                     \
	"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"     \
	"\"uid\":\"u-1\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"         \
	"\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"},"                \
	"\"namespace\":\"" ns "\",\"operation\":\"CREATE\",\"userInfo\":{\"username\":\"dev\"}," \
	"\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"      \
	"\"spec\":" spec "}}}"

#define PLAIN_SPEC "{\"containers\":[{\"name\":\"c\",\"image\":\"ghcr.io/acme/x:1\"}]}"

static enum kt_rc review(const char *body, size_t len, enum kt_policy_mode mode,
			 struct kt_decision *d, struct kt_err *err)
{
	return kt_policy_review(kt_policy_fixture(), body, len, mode, d, err);
}

static void expect_parse_error(const char *body, const char *msg)
{
	struct kt_decision d;
	struct kt_err err = { 0 };

	if (review(body, strlen(body), KT_POLICY_MUTATE, &d, &err) != KT_E_PARSE)
		fail_msg("accepted: %s", body);
	if (!strstr(err.msg, msg))
		fail_msg("message '%s' lacks '%s' for %s", err.msg, msg, body);
	assert_false(d.allowed);
	kt_decision_release(&d);
}

static void hostile_reviews_are_parse_errors(void **state)
{
	(void)state;
	expect_parse_error("", "unexpected end of input");
	expect_parse_error("not json", "invalid");
	expect_parse_error("[]", "must be a JSON object");
	expect_parse_error("{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":"
			   "\"AdmissionReview\",\"request\":{}}",
			   "expected apiVersion");
	expect_parse_error("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}",
			   "no request object");
	expect_parse_error("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
			   "\"request\":{\"operation\":\"CREATE\"}}",
			   "request.uid is missing");
	expect_parse_error("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
			   "\"request\":{\"uid\":7,\"operation\":\"CREATE\"}}",
			   "request.uid must be a string");
	expect_parse_error("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
			   "\"request\":{\"uid\":\"u\",\"operation\":\"PATCH\",\"kind\":{\"kind\":"
			   "\"Pod\"}}}",
			   "is not CREATE");
	expect_parse_error("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
			   "\"request\":{\"uid\":\"u\",\"operation\":\"CREATE\"}}",
			   "request.kind must be an object");
	/* duplicate keys: the API server never sends them; a parser picking one is a bypass */
	expect_parse_error("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
			   "\"request\":{\"uid\":\"u\",\"namespace\":\"team-a\","
			   "\"namespace\":\"kube-system\"}}",
			   "duplicate key");
	expect_parse_error("{\"a\":\"\xff\"}", "invalid UTF-8");
	expect_parse_error("{\"a\":\"\xc0\x80\"}", "invalid UTF-8");
	expect_parse_error("{\"a\":\"\\ud800\"}", "lone surrogate");
	expect_parse_error("{\"a\":\"\\udc00x\"}", "lone surrogate");
	expect_parse_error("{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8"); /* an encoded surrogate */
	expect_parse_error("{\"a\":\"x\\u0000y\"}", "\\u0000");
	expect_parse_error("{\"a\":\"tab\there\"}", "control character");
	expect_parse_error("{\"a\":1} {}", "trailing data");
	expect_parse_error("{\"a\":01}", "invalid number");
	expect_parse_error("{\"a\":1.}", "invalid number");
	expect_parse_error("{\"a\":tru}", "invalid literal");
	expect_parse_error("{\"a\":1e400}", "out of range");
	expect_parse_error("{\"a\":9223372036854775808}", "integer out of range");
	expect_parse_error("{\"a\\u0000\":1}", "\\u0000 in an object key");
	/* the message says what was found, it does not quote the input */
	expect_parse_error("{\"a\":\x1b[31m}", "invalid JSON: invalid structure");
	expect_parse_error("{\"a\":\"\\x\"}", "invalid escape");
}

/* "[{},{},...]": n values in all (the array and n - 1 empty objects) */
static char *empty_objects(size_t n, size_t *len)
{
	char *s = malloc(3 * n + 1), *p = s;
	size_t i;

	assert_non_null(s);
	*p++ = '[';
	for (i = 1; i < n; i++)
		p += sprintf(p, "%s{}", i > 1 ? "," : "");
	*p++ = ']';
	*p = '\0';
	*len = (size_t)(p - s);
	return s;
}

/*
 * A review of 1.5 MB with 520k empty objects decoded into 127 MiB and was
 * judged: the value limit now stops it on the raw text, and the cost a
 * server admits before decoding bounds what decoding takes.
 */
static void values_are_bounded_and_costed(void **state)
{
	struct kt_decision d;
	struct kt_err err = { 0 };
	size_t len, cost;
	char *text;

	(void)state;
	text = empty_objects(KT_POLICY_MAX_VALUES, &len);
	assert_int_equal(kt_policy_decode_cost(text, len, &cost, &err), KT_OK);
	assert_int_equal(cost, (size_t)KT_POLICY_MAX_VALUES * KT_POLICY_VALUE_COST + len);
	free(text);
	text = empty_objects(KT_POLICY_MAX_VALUES + 1, &len);
	assert_int_equal(kt_policy_decode_cost(text, len, &cost, &err), KT_E_PARSE);
	assert_non_null(strstr(err.msg, "more than 131072 JSON values"));
	free(text);
	text = empty_objects(520000, &len);
	assert_int_equal(review(text, len, KT_POLICY_VALIDATE, &d, &err), KT_E_PARSE);
	assert_non_null(strstr(err.msg, "too large to decode"));
	kt_decision_release(&d);
	free(text);
	/* the bench review costs a few hundred kilobytes at most */
	text = "{\"a\": [1, \"x\", {\"b\": null}]}";
	assert_int_equal(kt_policy_decode_cost(text, strlen(text), &cost, &err), KT_OK);
	assert_int_equal(cost, 6 * KT_POLICY_VALUE_COST + strlen(text));
}

static void depth_and_size_are_bounded(void **state)
{
	struct kt_buf b = KT_BUF_INIT;
	struct kt_decision d;
	struct kt_err err = { 0 };
	char *big;
	int i;

	(void)state;
	/* 64 levels parse, 65 do not */
	for (i = 0; i < KT_POLICY_MAX_DEPTH; i++)
		kt_buf_addch(&b, '[');
	for (i = 0; i < KT_POLICY_MAX_DEPTH; i++)
		kt_buf_addch(&b, ']');
	assert_int_equal(review(b.buf, b.len, KT_POLICY_VALIDATE, &d, &err), KT_E_PARSE);
	assert_non_null(strstr(err.msg, "must be a JSON object"));
	kt_decision_release(&d);
	kt_buf_reset(&b);
	for (i = 0; i < KT_POLICY_MAX_DEPTH + 1; i++)
		kt_buf_addch(&b, '[');
	for (i = 0; i < KT_POLICY_MAX_DEPTH + 1; i++)
		kt_buf_addch(&b, ']');
	assert_int_equal(review(b.buf, b.len, KT_POLICY_VALIDATE, &d, &err), KT_E_PARSE);
	assert_non_null(strstr(err.msg, "nesting too deep"));
	kt_decision_release(&d);
	kt_buf_release(&b);
	/* one byte over the size limit */
	big = malloc(KT_POLICY_MAX_REVIEW_BYTES + 1);
	assert_non_null(big);
	memset(big, ' ', KT_POLICY_MAX_REVIEW_BYTES + 1);
	assert_int_equal(review(big, KT_POLICY_MAX_REVIEW_BYTES + 1, KT_POLICY_VALIDATE, &d, &err),
			 KT_E_PARSE);
	assert_non_null(strstr(err.msg, "larger than"));
	kt_decision_release(&d);
	/* a flat array of a million values hits the value limit, as a parse error */
	kt_buf_addch(&b, '[');
	for (i = 0; i < 1000000; i++)
		kt_buf_add(&b, "0,", 2);
	kt_buf_add(&b, "0]", 2);
	assert_int_equal(review(b.buf, b.len, KT_POLICY_VALIDATE, &d, &err), KT_E_PARSE);
	assert_non_null(strstr(err.msg, "too large"));
	kt_decision_release(&d);
	kt_buf_release(&b);
	free(big);
}

/* Every escape is decoded before judging, and what is echoed back is valid JSON again. */
static void strings_and_numbers_decode_exactly(void **state)
{
	static const char body[] =
		"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
		"\"uid\":\"x\\ty\\u00e9\\ud83d\\ude00z\\\"\\/\\\\\\b\\f\\n\\r\",\"kind\":{\"group\":"
		"\"\",\"version\":\"v1\",\"kind\":\"ConfigMap\"},\"namespace\":\"kube-system\","
		"\"operation\":\"CREATE\",\"name\":\"\xc3\xa9t\xc3\xa9 and more than sixteen plain "
		"bytes\\u0041\"}}";
	static const char uid[] = "x\ty\xc3\xa9\xf0\x9f\x98\x80z\"/\\\b\f\n\r";
	struct kt_buf r = KT_BUF_INIT, b = KT_BUF_INIT;
	struct kt_decision d;
	struct kt_err err = { 0 };
	json_t *j;

	(void)state;
	assert_int_equal(review(body, sizeof(body) - 1, KT_POLICY_VALIDATE, &d, &err), KT_OK);
	assert_string_equal(d.uid, uid);
	assert_string_equal(d.name, "\xc3\xa9t\xc3\xa9 and more than sixteen plain bytesA");
	assert_int_equal(kt_policy_response(&d, &r), KT_OK);
	j = json_loads(r.buf, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(
				    json_object_get(json_object_get(j, "response"), "uid")),
			    uid);
	json_decref(j);
	kt_decision_release(&d);
	/* numbers: a fraction with an exponent, an integer beyond double precision */
	for (int i = 0; i < 2; i++) {
		kt_buf_reset(&b);
		kt_buf_addf(&b,
			    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
			    "\"request\":{\"uid\":\"u\",\"kind\":{\"group\":\"crd.projectcalico.org\","
			    "\"version\":\"v1\",\"kind\":\"NetworkPolicy\"},\"namespace\":\"team-a\","
			    "\"operation\":\"CREATE\",\"object\":{\"apiVersion\":"
			    "\"crd.projectcalico.org/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{"
			    "\"name\":\"n\"},\"spec\":{\"order\":%s}}}}",
			    i ? "9007199254740993" : "-12.5e3");
		assert_int_equal(review(b.buf, b.len, KT_POLICY_VALIDATE, &d, &err), KT_OK);
		/* both allowed; only the order after the isolation policy (10000) warns */
		assert_true(d.allowed);
		assert_int_equal(d.n_warnings, i == 1);
		if (i)
			assert_string_equal(d.warnings[0].rule, "network.calico-order");
		kt_decision_release(&d);
	}
	kt_buf_release(&b);
	kt_buf_release(&r);
}

/* Objects decoded by the caller (check, audit) get the same bounds as review bytes. */
static void decided_objects_are_bounded(void **state)
{
	struct kt_policy_request req = { .operation = "CREATE", .ns = "team-a" };
	struct kt_decision d;
	struct kt_err err = { 0 };
	json_t *o, *in, *big;

	(void)state;
	/* 64 levels in all are decided, 65 are not */
	for (int extra = 0; extra < 2; extra++) {
		json_t *data = json_array();

		in = data; /* level 2 */
		for (int level = 3; level <= KT_POLICY_MAX_DEPTH + extra; level++) {
			json_t *n = json_array();

			json_array_append_new(in, n);
			in = n;
		}
		o = json_pack("{s:s, s:s, s:{s:s}, s:o}", "apiVersion", "v1", "kind", "ConfigMap",
			      "metadata", "name", "c", "data", data);
		req.object = o;
		assert_int_equal(kt_policy_decide(kt_policy_fixture(), &req, KT_POLICY_VALIDATE, &d,
						  &err),
				 extra ? KT_E_PARSE : KT_OK);
		if (extra)
			assert_non_null(strstr(err.msg, "nesting too deep"));
		kt_decision_release(&d);
		json_decref(o);
	}
	/* NUL in a string or a key: C strings would read less than the value */
	o = json_pack("{s:s, s:s, s:{s:s}, s:{s:s%}}", "apiVersion", "v1", "kind", "ConfigMap",
		      "metadata", "name", "c", "data", "k", "a\0b", (size_t)3);
	req.object = o;
	assert_int_equal(kt_policy_decide(kt_policy_fixture(), &req, KT_POLICY_VALIDATE, &d, &err),
			 KT_E_PARSE);
	assert_non_null(strstr(err.msg, "NUL byte"));
	kt_decision_release(&d);
	json_object_setn_new(json_object_get(o, "data"), "k\0x", 3, json_string("v"));
	json_object_del(json_object_get(o, "data"), "k");
	assert_int_equal(kt_policy_decide(kt_policy_fixture(), &req, KT_POLICY_VALIDATE, &d, &err),
			 KT_E_PARSE);
	assert_non_null(strstr(err.msg, "NUL byte"));
	kt_decision_release(&d);
	json_decref(o);
	/* object and oldObject share one budget of values */
	big = json_array();
	for (unsigned i = 0; i < KT_POLICY_MAX_VALUES / 2; i++)
		json_array_append_new(big, json_null());
	o = json_pack("{s:s, s:s, s:{s:s}, s:O}", "apiVersion", "v1", "kind", "ConfigMap",
		      "metadata", "name", "c", "data", big);
	req.operation = "UPDATE";
	req.object = o;
	req.old_object = NULL;
	assert_int_equal(kt_policy_decide(kt_policy_fixture(), &req, KT_POLICY_VALIDATE, &d, &err),
			 KT_OK);
	kt_decision_release(&d);
	req.old_object = o;
	assert_int_equal(kt_policy_decide(kt_policy_fixture(), &req, KT_POLICY_VALIDATE, &d, &err),
			 KT_E_PARSE);
	assert_non_null(strstr(err.msg, "too large"));
	kt_decision_release(&d);
	json_decref(o);
	json_decref(big);
}

/* A review decoded by the caller is decided exactly like its bytes, with the same bounds. */
static void decoded_reviews_decide_alike(void **state)
{
	static const char *const bodies[] = {
		POD_REVIEW("team-a", PLAIN_SPEC),
		POD_REVIEW("team-a", "{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}],"
				     "\"tolerations\":[{\"operator\":\"Exists\"}]}"),
		POD_REVIEW("kube-system", PLAIN_SPEC),
		"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}",
	};
	struct kt_buf r1 = KT_BUF_INIT, r2 = KT_BUF_INIT, b = KT_BUF_INIT;
	struct kt_decision d;
	struct kt_err err = { 0 };
	enum kt_rc rc;
	json_t *j;

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		for (int m = 0; m < 2; m++) {
			enum kt_policy_mode mode = m ? KT_POLICY_VALIDATE : KT_POLICY_MUTATE;

			kt_buf_reset(&r1);
			kt_buf_reset(&r2);
			rc = review(bodies[i], strlen(bodies[i]), mode, &d, &err);
			if (!rc)
				assert_int_equal(kt_policy_response(&d, &r1), KT_OK);
			kt_decision_release(&d);
			j = json_loads(bodies[i], 0, NULL);
			assert_non_null(j);
			assert_int_equal(kt_policy_review_json(kt_policy_fixture(), j, mode, &d,
							       &err),
					 rc);
			if (!rc)
				assert_int_equal(kt_policy_response(&d, &r2), KT_OK);
			kt_decision_release(&d);
			json_decref(j);
			assert_int_equal(r1.len, r2.len);
			if (r1.len)
				assert_string_equal(r1.buf, r2.buf);
		}
	}
	/* 65 levels: refused before deciding, as bytes would be */
	kt_buf_adds(&b, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
			"\"request\":");
	for (int i = 1; i < KT_POLICY_MAX_DEPTH + 1; i++)
		kt_buf_addch(&b, '[');
	for (int i = 1; i < KT_POLICY_MAX_DEPTH + 1; i++)
		kt_buf_addch(&b, ']');
	kt_buf_addch(&b, '}');
	assert_int_equal(review(b.buf, b.len, KT_POLICY_VALIDATE, &d, &err), KT_E_PARSE);
	assert_non_null(strstr(err.msg, "nesting too deep"));
	kt_decision_release(&d);
	j = json_loadb(b.buf, b.len, 0, NULL);
	assert_non_null(j);
	assert_int_equal(kt_policy_review_json(kt_policy_fixture(), j, KT_POLICY_VALIDATE, &d,
					       &err),
			 KT_E_PARSE);
	assert_non_null(strstr(err.msg, "nesting too deep"));
	kt_decision_release(&d);
	json_decref(j);
	kt_buf_release(&b);
	kt_buf_release(&r1);
	kt_buf_release(&r2);
}

static void large_objects_detect_duplicates(void **state)
{
	struct kt_buf b = KT_BUF_INIT;
	struct kt_decision d;
	struct kt_err err = { 0 };
	int i;

	(void)state;
	/* more than 16 members: duplicates are found by sorting */
	kt_buf_adds(&b, "{");
	for (i = 0; i < 200; i++)
		kt_buf_addf(&b, "\"k%d\":%d,", i, i);
	kt_buf_adds(&b, "\"k77\":0}");
	assert_int_equal(review(b.buf, b.len, KT_POLICY_VALIDATE, &d, &err), KT_E_PARSE);
	assert_non_null(strstr(err.msg, "duplicate key"));
	kt_decision_release(&d);
	kt_buf_release(&b);
}

static void escapes_are_decoded_before_judging(void **state)
{
	/* "team\u002da" is team-a, and "\u00e4" is valid UTF-8 in a label value */
	const char *body = POD_REVIEW("team\\u002da", "{\"containers\":[{\"name\":\"c\","
						      "\"image\":\"x\"}],\"nodeSelector\":{"
						      "\"kubetenant.io\\/node-pool\":\"b-pool\"}}");
	struct kt_decision d;
	struct kt_err err = { 0 };

	(void)state;
	assert_int_equal(review(body, strlen(body), KT_POLICY_MUTATE, &d, &err), KT_OK);
	assert_non_null(d.tenant);
	assert_string_equal(d.tenant->name, "team-a");
	assert_false(d.allowed);
	assert_string_equal(d.denials[0].rule, "placement.foreign-pool-selector");
	kt_decision_release(&d);
}

static void findings_are_capped(void **state)
{
	struct kt_buf b = KT_BUF_INIT;
	struct kt_decision d;
	struct kt_err err = { 0 };
	int i;

	(void)state;
	kt_buf_adds(&b, POD_REVIEW("team-a", "{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}],"
					     "\"tolerations\":["));
	/* reopen the tolerations list the macro closed with "}}}" */
	b.len -= 3;
	b.buf[b.len] = '\0';
	for (i = 0; i < 100; i++)
		kt_buf_addf(&b, "%s{\"key\":\"kubetenant.io/node-pool\",\"value\":\"p%d\"}",
			    i ? "," : "", i);
	kt_buf_adds(&b, "]}}}}");
	assert_int_equal(review(b.buf, b.len, KT_POLICY_MUTATE, &d, &err), KT_OK);
	assert_false(d.allowed);
	assert_int_equal(d.n_denials, KT_POLICY_MAX_FINDINGS);
	assert_string_equal(d.denials[KT_POLICY_MAX_FINDINGS - 1].rule, "policy.more-findings");
	assert_string_equal(d.denials[KT_POLICY_MAX_FINDINGS - 1].message,
			    "69 more denials not shown");
	assert_int_equal(d.patch.len, 0);
	kt_decision_release(&d);
	kt_buf_release(&b);
}

static void responses_are_deterministic_and_well_formed(void **state)
{
	const char *body =
		POD_REVIEW("team-a", "{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}],"
				     "\"tolerations\":[{\"operator\":\"Exists\"}]}");
	struct kt_buf r1 = KT_BUF_INIT, r2 = KT_BUF_INIT;
	struct kt_decision d;
	struct kt_err err = { 0 };
	json_t *j, *st;

	(void)state;
	assert_int_equal(review(body, strlen(body), KT_POLICY_MUTATE, &d, &err), KT_OK);
	assert_int_equal(kt_policy_response(&d, &r1), KT_OK);
	kt_decision_release(&d);
	assert_int_equal(review(body, strlen(body), KT_POLICY_MUTATE, &d, &err), KT_OK);
	assert_int_equal(kt_policy_response(&d, &r2), KT_OK);
	kt_decision_release(&d);
	assert_string_equal(r1.buf, r2.buf);
	j = json_loads(r1.buf, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "apiVersion")),
			    "admission.k8s.io/v1");
	st = json_object_get(json_object_get(j, "response"), "status");
	assert_int_equal(json_integer_value(json_object_get(st, "code")), 403);
	assert_non_null(strstr(json_string_value(json_object_get(st, "message")),
			       "tenant 'team-a': [placement.wildcard-toleration] "
			       "spec.tolerations[0]: pod tolerates every taint"));
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(json_object_get(st, "details"),
								   "causes"),
						   0),
				    "field")),
			    "spec.tolerations[0]");
	json_decref(j);
	kt_buf_release(&r1);
	kt_buf_release(&r2);
}

static void allowed_response_carries_patch_and_warnings(void **state)
{
	const char *body =
		POD_REVIEW("team-a", "{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}],"
				     "\"affinity\":{\"nodeAffinity\":{\"preferredDuringScheduling"
				     "IgnoredDuringExecution\":[{\"weight\":1,\"preference\":{"
				     "\"matchExpressions\":[{\"key\":\"kubetenant.io/node-pool\","
				     "\"operator\":\"In\",\"values\":[\"b-pool\"]}]}}]}}}");
	struct kt_buf r = KT_BUF_INIT;
	struct kt_decision d;
	struct kt_err err = { 0 };
	json_t *j, *resp;

	(void)state;
	assert_int_equal(review(body, strlen(body), KT_POLICY_MUTATE, &d, &err), KT_OK);
	assert_true(d.allowed);
	assert_int_equal(kt_policy_response(&d, &r), KT_OK);
	j = json_loads(r.buf, 0, NULL);
	resp = json_object_get(j, "response");
	assert_string_equal(json_string_value(json_object_get(resp, "uid")), "u-1");
	assert_string_equal(json_string_value(json_object_get(resp, "patchType")), "JSONPatch");
	assert_non_null(
		strstr(json_string_value(json_array_get(json_object_get(resp, "warnings"), 0)),
		       "[placement.foreign-pool-preference]"));
	assert_null(json_object_get(resp, "status"));
	json_decref(j);
	kt_buf_release(&r);
	kt_decision_release(&d);
	/* validating mode never patches */
	assert_int_equal(review(body, strlen(body), KT_POLICY_VALIDATE, &d, &err), KT_OK);
	assert_int_equal(d.patch.len, 0);
	kt_decision_release(&d);
}

static void patch_apply(void **state)
{
	struct kt_err err = { 0 };
	json_t *doc = json_loads("{\"a\":{\"b/c\":1,\"~x\":2},\"arr\":[1,2]}", 0, NULL), *want;
	const char *ok = "[{\"op\":\"add\",\"path\":\"/a/new\",\"value\":{\"k\":true}},"
			 "{\"op\":\"replace\",\"path\":\"/a/b~1c\",\"value\":10},"
			 "{\"op\":\"remove\",\"path\":\"/a/~0x\"},"
			 "{\"op\":\"add\",\"path\":\"/arr/-\",\"value\":3},"
			 "{\"op\":\"add\",\"path\":\"/arr/0\",\"value\":0},"
			 "{\"op\":\"test\",\"path\":\"/arr/3\",\"value\":3},"
			 "{\"op\":\"copy\",\"from\":\"/arr\",\"path\":\"/arr2\"},"
			 "{\"op\":\"move\",\"from\":\"/a/new\",\"path\":\"/moved\"}]";
	static const char *const bad[] = {
		"{}",
		"[{\"op\":\"add\",\"path\":\"/missing/x\",\"value\":1}]",
		"[{\"op\":\"replace\",\"path\":\"/nope\",\"value\":1}]",
		"[{\"op\":\"remove\",\"path\":\"/arr/9\"}]",
		"[{\"op\":\"add\",\"path\":\"/arr/01\",\"value\":1}]",
		"[{\"op\":\"add\",\"path\":\"/a/~2\",\"value\":1}]",
		"[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]",
		"[{\"op\":\"test\",\"path\":\"/arr/0\",\"value\":99}]",
		"[{\"op\":\"frobnicate\",\"path\":\"/a\"}]",
		"[{\"op\":\"add\",\"path\":\"/a/x\"}]",
	};

	(void)state;
	assert_int_equal(kt_policy_patch_apply(&doc, ok, strlen(ok), &err), KT_OK);
	want = json_loads("{\"a\":{\"b/c\":10},\"arr\":[0,1,2,3],\"arr2\":[0,1,2,3],"
			  "\"moved\":{\"k\":true}}",
			  0, NULL);
	assert_true(json_equal(doc, want));
	json_decref(want);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *copy = json_deep_copy(doc);

		if (kt_policy_patch_apply(&copy, bad[i], strlen(bad[i]), &err) == KT_OK)
			fail_msg("patch %s applied", bad[i]);
		json_decref(copy);
	}
	json_decref(doc);
}

/*
 * Through the webhook (route: tenant namespaces only), a namespace the file
 * does not know is denied with its name and the file's generation; DELETE
 * and updates of objects being deleted pass (offboarding); without a route
 * (check, audit) it is still not judged.
 */
static void unknown_tenant_namespace_fails_closed(void **state)
{
	static const struct kt_review_route route = { .tenant_namespaces_only = true,
						      .generation = 42 };
	static const char pod[] = POD_REVIEW("team-new", PLAIN_SPEC);
	struct kt_decision d;
	struct kt_err err = { 0 };
	char *body;

	(void)state;
	assert_int_equal(kt_policy_review_routed(kt_policy_fixture(), &route, pod, strlen(pod),
						 KT_POLICY_MUTATE, &d, &err),
			 KT_OK);
	assert_false(d.allowed);
	assert_int_equal(d.code, 403);
	assert_int_equal(d.n_denials, 1);
	assert_string_equal(d.denials[0].rule, "tenant.unknown-namespace");
	assert_non_null(strstr(d.denials[0].message, "namespace 'team-new'"));
	assert_non_null(strstr(d.denials[0].message, "(generation 42)"));
	assert_int_equal(d.patch.len, 0);
	kt_decision_release(&d);
	/* the same bytes without a route: not a tenant, allowed untouched */
	assert_int_equal(review(pod, strlen(pod), KT_POLICY_MUTATE, &d, &err), KT_OK);
	assert_true(d.allowed);
	kt_decision_release(&d);
	/* a known tenant is judged as before */
	body = strdup(POD_REVIEW("team-a", PLAIN_SPEC));
	assert_non_null(body);
	assert_int_equal(kt_policy_review_routed(kt_policy_fixture(), &route, body, strlen(body),
						 KT_POLICY_MUTATE, &d, &err),
			 KT_OK);
	assert_null(strstr(d.n_denials ? d.denials[0].rule : "", "unknown-namespace"));
	assert_non_null(d.tenant);
	kt_decision_release(&d);
	free(body);
	/* DELETE passes; an UPDATE passes only once the old object is being deleted */
	{
		static const char *const ok[] = {
			"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
			"\"request\":{\"uid\":\"u\",\"kind\":{\"group\":\"\",\"version\":\"v1\","
			"\"kind\":\"Pod\"},\"namespace\":\"team-gone\",\"name\":\"p\","
			"\"operation\":\"DELETE\",\"oldObject\":{\"apiVersion\":\"v1\","
			"\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}}}",
			"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
			"\"request\":{\"uid\":\"u\",\"kind\":{\"group\":\"\",\"version\":\"v1\","
			"\"kind\":\"Pod\"},\"namespace\":\"team-gone\",\"name\":\"p\","
			"\"operation\":\"UPDATE\",\"object\":{\"apiVersion\":\"v1\",\"kind\":"
			"\"Pod\",\"metadata\":{\"name\":\"p\",\"deletionTimestamp\":"
			"\"2026-01-01T00:00:00Z\"}},\"oldObject\":{\"apiVersion\":\"v1\","
			"\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"deletionTimestamp\":"
			"\"2026-01-01T00:00:00Z\",\"finalizers\":[\"x.io/y\"]}}}}",
		};
		static const char live[] =
			"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
			"\"request\":{\"uid\":\"u\",\"kind\":{\"group\":\"\",\"version\":\"v1\","
			"\"kind\":\"Pod\"},\"namespace\":\"team-gone\",\"name\":\"p\","
			"\"operation\":\"UPDATE\",\"object\":{\"apiVersion\":\"v1\",\"kind\":"
			"\"Pod\",\"metadata\":{\"name\":\"p\",\"deletionTimestamp\":"
			"\"2026-01-01T00:00:00Z\"}},\"oldObject\":{\"apiVersion\":\"v1\","
			"\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}}}";
		size_t i;

		for (i = 0; i < 2; i++) {
			assert_int_equal(kt_policy_review_routed(kt_policy_fixture(), &route, ok[i],
								 strlen(ok[i]), KT_POLICY_VALIDATE,
								 &d, &err),
					 KT_OK);
			if (!d.allowed)
				fail_msg("denied: %s", ok[i]);
			kt_decision_release(&d);
		}
		/* setting deletionTimestamp oneself is not "being deleted" */
		assert_int_equal(kt_policy_review_routed(kt_policy_fixture(), &route, live,
							 strlen(live), KT_POLICY_VALIDATE, &d,
							 &err),
				 KT_OK);
		assert_false(d.allowed);
		kt_decision_release(&d);
	}
}

static void decide_validates_its_request(void **state)
{
	struct kt_policy_request req = { 0 };
	struct kt_decision d;
	struct kt_err err = { 0 };
	json_t *o = json_loads("{\"metadata\":{\"name\":\"x\"}}", 0, NULL);

	(void)state;
	req.ns = "team-a";
	req.object = o;
	assert_int_equal(kt_policy_decide(kt_policy_fixture(), &req, KT_POLICY_VALIDATE, &d, &err),
			 KT_E_INVALID);
	kt_decision_release(&d);
	req.operation = "CREATE";
	assert_int_equal(kt_policy_decide(kt_policy_fixture(), &req, KT_POLICY_VALIDATE, &d, &err),
			 KT_E_INVALID);
	assert_non_null(strstr(err.msg, "no apiVersion or kind"));
	kt_decision_release(&d);
	json_decref(o);
}

static json_t *live(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	if (!j)
		fail_msg("bad test JSON: %s", jerr.text);
	return j;
}

static void audit_judges_live_objects(void **state)
{
	/* a running pod as kubectl get -o json shows it: nodeName, status, server metadata */
	json_t *pod = live("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\","
			   "\"namespace\":\"team-a\",\"uid\":\"1\",\"resourceVersion\":\"9\","
			   "\"creationTimestamp\":\"2024-01-01T00:00:00Z\",\"managedFields\":[]},"
			   "\"spec\":{\"nodeName\":\"n1\",\"nodeSelector\":{\"kubetenant.io/"
			   "node-pool\":\"a-pool\"},\"tolerations\":[{\"key\":\"kubetenant.io/"
			   "node-pool\",\"operator\":\"Equal\",\"value\":\"a-pool\",\"effect\":"
			   "\"NoSchedule\"}],\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]},"
			   "\"status\":{\"phase\":\"Running\"}}");
	json_t *eps =
		live("{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{\"name\":"
		     "\"web\",\"namespace\":\"team-a\",\"labels\":{\"endpointslice.kubernetes."
		     "io/skip-mirror\":\"true\"}}}");
	json_t *mine = live("{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{\"name\":"
			    "\"web\",\"namespace\":\"team-a\"}}");
	json_t *rb =
		live("{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\","
		     "\"metadata\":{\"name\":\"tenant-access\",\"namespace\":\"team-a\","
		     "\"labels\":{\"app.kubernetes.io/managed-by\":\"kubetenant\"}},"
		     "\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"platform-tenant\"}}");
	json_t *other = live("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\","
			     "\"namespace\":\"kube-system\"},\"spec\":{\"nodeName\":\"n1\"}}");
	struct kt_decision d;
	struct kt_err err = { 0 };
	bool judged;

	(void)state;
	assert_int_equal(kt_policy_audit(kt_policy_fixture(), pod, NULL, &d, &judged, &err), KT_OK);
	assert_true(judged);
	assert_true(d.allowed);
	kt_decision_release(&d);
	assert_non_null(
		json_object_get(json_object_get(pod, "spec"), "nodeName")); /* not modified */
	assert_int_equal(kt_policy_audit(kt_policy_fixture(), pod, "a-pool", &d, &judged, &err),
			 KT_OK);
	assert_true(d.allowed);
	kt_decision_release(&d);
	assert_int_equal(kt_policy_audit(kt_policy_fixture(), pod, "b-pool", &d, &judged, &err),
			 KT_OK);
	assert_false(d.allowed);
	assert_string_equal(d.denials[0].rule, "placement.foreign-node");
	assert_non_null(strstr(d.denials[0].message, "node 'n1' of node pool 'b-pool'"));
	kt_decision_release(&d);
	assert_int_equal(kt_policy_audit(kt_policy_fixture(), eps, NULL, &d, &judged, &err), KT_OK);
	assert_false(judged);
	kt_decision_release(&d);
	assert_int_equal(kt_policy_audit(kt_policy_fixture(), mine, NULL, &d, &judged, &err),
			 KT_OK);
	assert_true(judged);
	assert_false(d.allowed);
	kt_decision_release(&d);
	assert_int_equal(kt_policy_audit(kt_policy_fixture(), rb, NULL, &d, &judged, &err), KT_OK);
	assert_true(judged);
	assert_true(d.allowed);
	kt_decision_release(&d);
	assert_int_equal(kt_policy_audit(kt_policy_fixture(), other, NULL, &d, &judged, &err),
			 KT_OK);
	assert_false(judged);
	kt_decision_release(&d);
	json_decref(pod);
	json_decref(eps);
	json_decref(mine);
	json_decref(rb);
	json_decref(other);
}

/* lib/policy/annotations.c looks annotations up by bsearch: its table must stay sorted */
bool kt_annotations_rules_sorted(void);

static void annotation_table_is_sorted(void **state)
{
	(void)state;
	assert_true(kt_annotations_rules_sorted());
}

/*
 * Every row of the judged kinds is claimed by a rule file: a CREATE (and
 * each listed subresource) of a minimal object of the kind reaches its
 * rules, never the fail-closed policy.unjudged; and a kind outside the
 * table, unlabelled, is not judged at all (the webhook never sees it).
 */
static void every_judged_kind_is_claimed(void **state)
{
	struct kt_decision d;
	struct kt_err err = { 0 };
	char av[128];

	(void)state;
	for (size_t i = 0; i < kt_policy_n_kinds; i++) {
		const struct kt_kind *k = &kt_policy_kinds[i];

		for (size_t j = 0; j == 0 || k->subresources[j - 1]; j++) {
			struct kt_policy_request req = { .operation = "CREATE",
							 .ns = "team-a",
							 .sub_resource =
								 j ? k->subresources[j - 1] : "" };
			json_t *o;

			snprintf(av, sizeof(av), "%s%sv1", k->group, *k->group ? "/" : "");
			o = json_pack("{s:s, s:s, s:{s:s}, s:{}}", "apiVersion", av, "kind",
				      k->kind, "metadata", "name", k->cluster ? "team-a" : "x",
				      "spec");
			req.object = o;
			assert_int_equal(kt_policy_decide(kt_policy_fixture(), &req,
							  KT_POLICY_VALIDATE, &d, &err),
					 KT_OK);
			assert_ptr_equal(kt_policy_kind(k->group, k->kind, req.sub_resource), k);
			for (size_t f = 0; f < d.n_denials; f++)
				if (!strcmp(d.denials[f].rule, "policy.unjudged"))
					fail_msg("%s/%s is not claimed by any rule file", k->group,
						 k->kind);
			kt_decision_release(&d);
			json_decref(o);
		}
	}
	assert_null(kt_policy_kind("", "ConfigMap", ""));
	assert_null(kt_policy_kind("apps", "Deployment", "scale"));
	assert_null(kt_policy_kind("", "Pod", "status"));
}

/* A decision by hand: kind, and denials of (rule, path). */
static void fake_decision(struct kt_decision *d, const char *kind, const char *const *rp, size_t n)
{
	*d = (struct kt_decision){ .patch = KT_BUF_INIT, .kind = strdup(kind) };
	d->denials = calloc(n, sizeof(*d->denials));
	for (size_t i = 0; i < n; i++) {
		d->denials[i].rule = strdup(rp[2 * i]);
		d->denials[i].path = rp[2 * i + 1] ? strdup(rp[2 * i + 1]) : NULL;
		d->denials[i].message = strdup("m");
	}
	d->n_denials = n;
	d->code = 403;
	kt_buf_adds(&d->patch, "[]");
}

/* What each enforcement profile enforces (docs/enforcement.md). */
static void gatekeeper_enforces_only_its_families(void **state)
{
	static const char *const ingress[] = {
		"hostnames.unauthorized",
		"spec.rules[0].host",
		"hostnames.unauthorized",
		"metadata.annotations[external-dns.alpha.kubernetes.io/hostname]",
		"hostnames.ingress-class",
		"spec.ingressClassName",
		"request.namespace-mismatch",
		"metadata.namespace",
	};
	static const char *const dns[] = { "hostnames.unauthorized", "spec.endpoints[0].dnsName" };
	static const char *const svc[] = { "services.node-port", "spec.type",
					   "services.external-ips", "spec.externalIPs" };
	static const char *const pod[] = { "pod-security.privileged", "spec", "placement.node-name",
					   "spec.nodeName" };
	struct kt_decision d;

	(void)state;
	/* the webhook enforces everything */
	fake_decision(&d, "Ingress", ingress, 4);
	assert_int_equal(kt_policy_enforcement(0, "networking.k8s.io", NULL, &d), KT_OK);
	assert_int_equal(d.n_denials, 4);
	assert_int_equal(d.patch.len, 2);
	kt_decision_release(&d);
	/* gatekeeper: hostnames in the spec and the request's shape only */
	fake_decision(&d, "Ingress", ingress, 4);
	assert_int_equal(kt_policy_enforcement(1, "networking.k8s.io", NULL, &d), KT_OK);
	assert_int_equal(d.n_denials, 2);
	assert_string_equal(d.denials[0].path, "spec.rules[0].host");
	assert_string_equal(d.denials[1].rule, "request.namespace-mismatch");
	assert_int_equal(d.n_warnings, 2);
	assert_non_null(strstr(d.warnings[0].message, "not enforced by gatekeeper ("));
	assert_string_equal(d.warnings[1].rule, "hostnames.ingress-class");
	assert_false(d.allowed);
	assert_int_equal(d.patch.len, 0);
	kt_decision_release(&d);
	/* its constraint does not match DNSEndpoints */
	fake_decision(&d, "DNSEndpoint", dns, 1);
	assert_int_equal(kt_policy_enforcement(1, "externaldns.k8s.io", NULL, &d), KT_OK);
	assert_true(d.allowed);
	assert_int_equal(d.code, 200);
	kt_decision_release(&d);
	fake_decision(&d, "Service", svc, 2);
	assert_int_equal(kt_policy_enforcement(1, "", NULL, &d), KT_OK);
	assert_int_equal(d.n_denials, 1);
	assert_string_equal(d.denials[0].rule, "services.node-port");
	kt_decision_release(&d);
	/* Pod Security admission enforces Pods, not templates */
	fake_decision(&d, "Pod", pod, 2);
	assert_int_equal(kt_policy_enforcement(1, "", NULL, &d), KT_OK);
	assert_int_equal(d.n_denials, 1);
	assert_string_equal(d.denials[0].rule, "pod-security.privileged");
	kt_decision_release(&d);
	fake_decision(&d, "Deployment", pod, 2);
	assert_int_equal(kt_policy_enforcement(1, "apps", NULL, &d), KT_OK);
	assert_int_equal(d.n_denials, 0);
	assert_true(d.allowed);
	kt_decision_release(&d);
}

/*
 * cert-manager's own objects in a tenant namespace, as a dump shows them:
 * an Order made from a CertificateRequest, a Challenge of that Order, the
 * HTTP01 solver's NodePort Service owned by the Challenge.  audit cannot see
 * who wrote them; their controller says cert-manager did.  The same Order
 * with no such owner is a tenant's, and is reported.
 */
static void audit_attributes_cert_manager_objects(void **state)
{
	static const char order[] =
		"{\"apiVersion\":\"acme.cert-manager.io/v1\",\"kind\":\"Order\",\"metadata\":"
		"{\"name\":\"web-1-4242\",\"namespace\":\"team-a\",\"ownerReferences\":[%s]},"
		"\"spec\":{\"request\":\"\",\"dnsNames\":[\"shop.example.com\"],\"issuerRef\":"
		"{\"name\":\"letsencrypt\",\"kind\":\"ClusterIssuer\"}}}";
	static const char by_cr[] = "{\"apiVersion\":\"cert-manager.io/v1\",\"kind\":"
				    "\"CertificateRequest\",\"name\":\"web-1\",\"uid\":\"u1\","
				    "\"controller\":true,\"blockOwnerDeletion\":true}";
	json_t *svc =
		live("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{"
		     "\"generateName\":\"cm-acme-http-solver-\",\"name\":\"cm-acme-http-"
		     "solver-x7k2p\",\"namespace\":\"team-a\",\"labels\":{\"acme.cert-manager."
		     "io/http01-solver\":\"true\"},\"ownerReferences\":[{\"apiVersion\":\"acme."
		     "cert-manager.io/v1\",\"kind\":\"Challenge\",\"name\":\"web-1-4242-1\","
		     "\"uid\":\"u3\",\"controller\":true}]},\"spec\":{\"type\":\"NodePort\","
		     "\"ports\":[{\"port\":8089,\"targetPort\":8089}]}}");
	struct kt_decision d;
	struct kt_err err = { 0 };
	char text[1024];
	json_t *o;
	bool judged;

	(void)state;
	snprintf(text, sizeof(text), order, by_cr);
	o = live(text);
	assert_int_equal(kt_policy_audit(kt_policy_fixture(), o, NULL, &d, &judged, &err), KT_OK);
	assert_false(judged);
	kt_decision_release(&d);
	json_decref(o);
	assert_int_equal(kt_policy_audit(kt_policy_fixture(), svc, NULL, &d, &judged, &err), KT_OK);
	assert_false(judged);
	kt_decision_release(&d);
	json_decref(svc);
	/* no controller: a tenant's Order */
	snprintf(text, sizeof(text), order, "");
	o = live(text);
	assert_int_equal(kt_policy_audit(kt_policy_fixture(), o, NULL, &d, &judged, &err), KT_OK);
	assert_true(judged);
	assert_false(d.allowed);
	assert_string_equal(d.denials[0].rule, "hostnames.acme-object");
	kt_decision_release(&d);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hostile_reviews_are_parse_errors),
		cmocka_unit_test(depth_and_size_are_bounded),
		cmocka_unit_test(values_are_bounded_and_costed),
		cmocka_unit_test(strings_and_numbers_decode_exactly),
		cmocka_unit_test(decided_objects_are_bounded),
		cmocka_unit_test(decoded_reviews_decide_alike),
		cmocka_unit_test(large_objects_detect_duplicates),
		cmocka_unit_test(escapes_are_decoded_before_judging),
		cmocka_unit_test(findings_are_capped),
		cmocka_unit_test(responses_are_deterministic_and_well_formed),
		cmocka_unit_test(allowed_response_carries_patch_and_warnings),
		cmocka_unit_test(patch_apply),
		cmocka_unit_test(unknown_tenant_namespace_fails_closed),
		cmocka_unit_test(decide_validates_its_request),
		cmocka_unit_test(audit_judges_live_objects),
		cmocka_unit_test(audit_attributes_cert_manager_objects),
		cmocka_unit_test(annotation_table_is_sorted),
		cmocka_unit_test(every_judged_kind_is_claimed),
		cmocka_unit_test(gatekeeper_enforces_only_its_families),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	kt_config_free(kt_policy_fixture());
	return rc;
}
