/*
 * t_policy_cases.c: the table-driven policy tests (every .cases file in
 * test/cases/policy, format in test/cases/policy/README.md).  Each case is one cmocka test that
 *  1. builds an AdmissionReview and decides it (kt_policy_review), checking
 *     the verdict, the exact set of denial rule ids, warnings, message,
 *     field path and the exact JSON patch;
 *  2. decides the same object through kt_policy_decide() (the path of
 *     `check` and `audit`) and requires the same verdict and rules;
 *  3. renders the response and checks uid, allowed and the base64 patch;
 *  4. when there is a patch: applies it, re-judges the result in validating
 *     mode (must be allowed) and in mutating mode (must need no patch).
 * A case in `mode: both` goes through the two webhooks as the API server
 * calls them: the mutating one (Pod CREATE only, as rendered), its patch
 * applied, then the validating one, whose verdict is the case's.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libfyaml.h>
#include <openssl/evp.h>
#include "kt/buf.h"
#include "kt/policy.h"
#include "policy_fixture.h"

#define CASES_DIR "test/cases/policy"

struct tcase {
	char name[256];
	char where[600];
	enum kt_policy_mode mode;
	char op[16], user[128], groups[256], ns[64], sub[64], resource[64];
	struct kt_buf object, old;
	char expect[16];
	char rules[1024], warnings[1024], message[512], path[256];
	struct kt_buf patch;
	bool has_rules, has_warnings, has_patch;
	bool both; /* mode: both, the two webhooks in the API server's order */
};

static struct tcase *cases;
static size_t n_cases;

/* ---- loading ---- */

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static void set(char *dst, size_t size, const char *v)
{
	snprintf(dst, size, "%s", v);
}

/* realloc for the test's own lists: out of memory ends the run, nothing leaks */
static void *grow(void *p, size_t n, size_t size)
{
	void *q = realloc(p, n * size);

	if (!q) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return q;
}

static void load_file(const char *path)
{
	char line[4096];
	struct tcase *c = NULL;
	struct kt_buf *block = NULL;
	int lineno = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		char *v;

		lineno++;
		if (block && (line[0] == ' ' || line[0] == '\n')) {
			kt_buf_adds(block, line[0] == '\n' ? "\n" : line + 2);
			continue;
		}
		block = NULL;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (!strncmp(line, "=== ", 4)) {
			cases = grow(cases, n_cases + 1, sizeof(*cases));
			c = &cases[n_cases++];
			memset(c, 0, sizeof(*c));
			c->object = (struct kt_buf)KT_BUF_INIT;
			c->old = (struct kt_buf)KT_BUF_INIT;
			c->patch = (struct kt_buf)KT_BUF_INIT;
			set(c->name, sizeof(c->name), trim(line + 4));
			snprintf(c->where, sizeof(c->where), "%s:%d", path, lineno);
			set(c->op, sizeof(c->op), "CREATE");
			set(c->user, sizeof(c->user), "dev@team.example.org");
			set(c->ns, sizeof(c->ns), "team-a");
			c->mode = KT_POLICY_VALIDATE;
			continue;
		}
		v = strchr(line, ':');
		if (!c || !v) {
			fprintf(stderr, "%s:%d: expected '=== name' or 'key: value'\n", path,
				lineno);
			exit(1);
		}
		*v++ = '\0';
		v = trim(v);
		if (!strcmp(line, "mode")) {
			c->mode = !strcmp(v, "mutate") ? KT_POLICY_MUTATE : KT_POLICY_VALIDATE;
			c->both = !strcmp(v, "both");
		} else if (!strcmp(line, "op"))
			set(c->op, sizeof(c->op), v);
		else if (!strcmp(line, "user"))
			set(c->user, sizeof(c->user), v);
		else if (!strcmp(line, "groups"))
			set(c->groups, sizeof(c->groups), v);
		else if (!strcmp(line, "namespace"))
			set(c->ns, sizeof(c->ns), v);
		else if (!strcmp(line, "sub"))
			set(c->sub, sizeof(c->sub), v);
		else if (!strcmp(line, "resource"))
			set(c->resource, sizeof(c->resource), v);
		else if (!strcmp(line, "object"))
			block = &c->object;
		else if (!strcmp(line, "old"))
			block = &c->old;
		else if (!strcmp(line, "expect"))
			set(c->expect, sizeof(c->expect), v);
		else if (!strcmp(line, "rules"))
			set(c->rules, sizeof(c->rules), v), c->has_rules = true;
		else if (!strcmp(line, "warnings"))
			set(c->warnings, sizeof(c->warnings), v), c->has_warnings = true;
		else if (!strcmp(line, "message"))
			set(c->message, sizeof(c->message), v);
		else if (!strcmp(line, "path"))
			set(c->path, sizeof(c->path), v);
		else if (!strcmp(line, "patch")) {
			c->has_patch = true;
			if (strcmp(v, "none"))
				kt_buf_adds(&c->patch, v);
		} else {
			fprintf(stderr, "%s:%d: unknown key '%s'\n", path, lineno, line);
			exit(1);
		}
		if (block && *v) {
			fprintf(stderr, "%s:%d: '%s:' takes an indented block\n", path, lineno,
				line);
			exit(1);
		}
	}
	fclose(f);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_all(void)
{
	DIR *d = opendir(CASES_DIR);
	struct dirent *de;
	char **names = NULL, path[512];
	size_t n = 0, i;

	if (!d) {
		fprintf(stderr, "cannot open %s (run from the repository root)\n", CASES_DIR);
		exit(1);
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l > 6 && !strcmp(de->d_name + l - 6, ".cases")) {
			names = grow(names, n + 1, sizeof(*names));
			names[n++] = strdup(de->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", CASES_DIR, names[i]);
		load_file(path);
		free(names[i]);
	}
	free(names);
}

/* ---- helpers ---- */

static json_t *yaml_to_json(const struct kt_buf *y, const char *where)
{
	struct fy_document *fyd;
	json_error_t jerr;
	json_t *j;
	char *s;

	if (!y->len)
		return NULL;
	fyd = fy_document_build_from_string(NULL, y->buf, FY_NT);
	if (!fyd)
		fail_msg("%s: object is not valid YAML", where);
	s = fy_emit_document_to_string(fyd, FYECF_MODE_JSON_ONELINE);
	fy_document_destroy(fyd);
	j = s ? json_loads(s, 0, &jerr) : NULL;
	free(s);
	if (!j)
		fail_msg("%s: object does not convert to JSON", where);
	return j;
}

/* The resource of a kind, close enough for the engine (which reads "namespaces" only). */
static const char *plural(const char *kind)
{
	static char buf[96];
	char low[80];
	size_t n = strlen(kind), i;

	for (i = 0; i < n && i < sizeof(low) - 1; i++)
		low[i] = (char)(kind[i] >= 'A' && kind[i] <= 'Z' ? kind[i] + 32 : kind[i]);
	low[i] = '\0';
	if (!strcmp(low, "endpoints"))
		snprintf(buf, sizeof(buf), "%s", low);
	else if (i && low[i - 1] == 'y')
		snprintf(buf, sizeof(buf), "%.*sies", (int)i - 1, low);
	else
		snprintf(buf, sizeof(buf), "%s%s", low, i && low[i - 1] == 's' ? "es" : "s");
	return buf;
}

/* Split s in place on commas and spaces into v (NULL-terminated). */
static const char **split_list(char *s, const char **v, size_t max)
{
	size_t n = 0;

	while (*s && n + 1 < max) {
		size_t skip = strspn(s, ", "), len;

		s += skip;
		len = strcspn(s, ", ");
		if (!len)
			break;
		v[n++] = s;
		s += len;
		if (*s)
			*s++ = '\0';
	}
	v[n] = NULL;
	return v;
}

static char *build_review(const struct tcase *c, json_t *obj, json_t *old, const char *uid)
{
	json_t *src = obj ? obj : old, *groups = json_array(), *req;
	const char *av = json_string_value(json_object_get(src, "apiVersion"));
	const char *kind = json_string_value(json_object_get(src, "kind"));
	const char *slash = av ? strchr(av, '/') : NULL;
	char group[128] = "", version[64];
	char gbuf[256];
	const char *gv[16];
	char *out;

	if (!av || !kind)
		fail_msg("%s: object needs apiVersion and kind", c->where);
	if (slash)
		snprintf(group, sizeof(group), "%.*s", (int)(slash - av), av);
	snprintf(version, sizeof(version), "%s", slash ? slash + 1 : av);
	snprintf(gbuf, sizeof(gbuf), "%s", c->groups);
	split_list(gbuf, gv, 16);
	for (size_t i = 0; gv[i]; i++)
		json_array_append_new(groups, json_string(gv[i]));
	json_array_append_new(groups, json_string("system:authenticated"));
	req = json_pack("{s:s, s:{s:s,s:s,s:s}, s:{s:s,s:s,s:s}, s:s, s:s, s:{s:s, s:o}, s:b}",
			"uid", uid, "kind", "group", group, "version", version, "kind", kind,
			"resource", "group", group, "version", version, "resource",
			*c->resource ? c->resource : plural(kind), "namespace", c->ns, "operation",
			c->op, "userInfo", "username", c->user, "groups", groups, "dryRun", 0);
	assert_non_null(req);
	if (*c->sub)
		json_object_set_new(req, "subResource", json_string(c->sub));
	json_object_set(req, "object", obj ? obj : json_null());
	json_object_set(req, "oldObject", old ? old : json_null());
	{
		json_t *name = json_object_get(json_object_get(src, "metadata"), "name");

		if (json_is_string(name))
			json_object_set(req, "name", name);
	}
	req = json_pack("{s:s,s:s,s:o}", "apiVersion", "admission.k8s.io/v1", "kind",
			"AdmissionReview", "request", req);
	out = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	return out;
}

/* Rule ids of findings, sorted and joined with ", " (for exact comparison). */
static void rule_list(const struct kt_finding *f, size_t n, char *buf, size_t size)
{
	const char *v[KT_POLICY_MAX_FINDINGS + 1] = { 0 };
	size_t i, o = 0;

	for (i = 0; i < n; i++)
		v[i] = f[i].rule;
	qsort(v, n, sizeof(*v), cmp_str);
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? ", " : "", v[i]);
}

static void normalize_list(const char *in, char *buf, size_t size)
{
	char tmp[1024];
	const char *v[64];
	size_t n = 0, i, o = 0;

	snprintf(tmp, sizeof(tmp), "%s", in);
	split_list(tmp, v, 64);
	while (v[n])
		n++;
	if (n == 1 && !strcmp(v[0], "none"))
		n = 0;
	qsort(v, n, sizeof(*v), cmp_str);
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? ", " : "", v[i]);
}

static void print_decision(const struct kt_decision *d)
{
	size_t i;

	for (i = 0; i < d->n_denials; i++)
		print_message("  deny %s %s: %s\n", d->denials[i].rule,
			      d->denials[i].path ? d->denials[i].path : "-", d->denials[i].message);
	for (i = 0; i < d->n_warnings; i++)
		print_message("  warn %s %s: %s\n", d->warnings[i].rule,
			      d->warnings[i].path ? d->warnings[i].path : "-",
			      d->warnings[i].message);
	if (d->patch.len)
		print_message("  patch %s\n", d->patch.buf);
}

static bool json_text_equal(const char *a, const char *b)
{
	json_t *x = json_loads(a, 0, NULL), *y = json_loads(b, 0, NULL);
	bool eq = x && y && json_equal(x, y);

	json_decref(x);
	json_decref(y);
	return eq;
}

static void decide_review(const struct tcase *c, json_t *obj, json_t *old, enum kt_policy_mode mode,
			  struct kt_decision *d)
{
	struct kt_err err = { 0 };
	char *body = build_review(c, obj, old, "case-uid-1");
	enum kt_rc rc = kt_policy_review(kt_policy_fixture(), body, strlen(body), mode, d, &err);
	const char *dump = getenv("KT_DUMP_CORPUS");

	/* KT_DUMP_CORPUS=dir writes every review, to seed test/fuzz/corpus/fuzz_review */
	if (dump) {
		static unsigned seq;
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/case-%04u.json", dump, seq++);
		f = fopen(path, "w");
		if (f) {
			fputs(body, f);
			fclose(f);
		}
	}
	free(body);
	if (rc)
		fail_msg("%s: kt_policy_review failed: %s", c->where, err.msg);
}

/* ---- the test ---- */

static void check_response(const struct tcase *c, const struct kt_decision *d)
{
	struct kt_buf out = KT_BUF_INIT;
	json_t *r, *resp;
	const char *p64;

	assert_int_equal(kt_policy_response(d, &out), KT_OK);
	r = json_loads(out.buf, JSON_REJECT_DUPLICATES, NULL);
	if (!r)
		fail_msg("%s: response is not JSON: %s", c->where, out.buf);
	resp = json_object_get(r, "response");
	assert_string_equal(json_string_value(json_object_get(resp, "uid")), "case-uid-1");
	assert_int_equal(json_is_true(json_object_get(resp, "allowed")), d->allowed);
	p64 = json_string_value(json_object_get(resp, "patch"));
	if (d->patch.len) {
		unsigned char dec[8192];
		int n;

		assert_non_null(p64);
		assert_string_equal(json_string_value(json_object_get(resp, "patchType")),
				    "JSONPatch");
		n = EVP_DecodeBlock(dec, (const unsigned char *)p64, (int)strlen(p64));
		assert_true(n >= (int)d->patch.len);
		assert_memory_equal(dec, d->patch.buf, d->patch.len);
	} else {
		assert_null(p64);
	}
	if (!d->allowed)
		assert_int_equal(json_integer_value(
					 json_object_get(json_object_get(resp, "status"), "code")),
				 403);
	json_decref(r);
	kt_buf_release(&out);
}

static void check_decide_agrees(const struct tcase *c, json_t *obj, json_t *old,
				enum kt_policy_mode mode, const struct kt_decision *d)
{
	struct kt_policy_request req = { 0 };
	struct kt_decision d2;
	struct kt_err err = { 0 };
	char a[2048], b[2048], gbuf[256];
	const char *gv[16];

	snprintf(gbuf, sizeof(gbuf), "%s", c->groups);
	req.operation = c->op;
	req.ns = c->ns;
	req.user = c->user;
	req.sub_resource = *c->sub ? c->sub : NULL;
	req.groups = split_list(gbuf, gv, 16);
	req.object = obj;
	req.old_object = old;
	req.uid = "case-uid-1";
	if (kt_policy_decide(kt_policy_fixture(), &req, mode, &d2, &err))
		fail_msg("%s: kt_policy_decide failed: %s", c->where, err.msg);
	rule_list(d->denials, d->n_denials, a, sizeof(a));
	rule_list(d2.denials, d2.n_denials, b, sizeof(b));
	if (d2.allowed != d->allowed || strcmp(a, b) || strcmp(d->patch.buf, d2.patch.buf))
		fail_msg("%s: kt_policy_decide disagrees: [%s] vs [%s]", c->where, a, b);
	kt_decision_release(&d2);
}

/* Apply the patch, then the pod must pass validation and need no second patch. */
static void check_rejudge(const struct tcase *c, json_t *obj, json_t *old,
			  const struct kt_decision *d)
{
	struct kt_decision d2;
	struct kt_err err = { 0 };
	json_t *patched = json_deep_copy(obj);

	if (kt_policy_patch_apply(&patched, d->patch.buf, d->patch.len, &err))
		fail_msg("%s: patch does not apply: %s", c->where, err.msg);
	decide_review(c, patched, old, KT_POLICY_VALIDATE, &d2);
	if (!d2.allowed) {
		print_decision(&d2);
		fail_msg("%s: the mutated object is denied", c->where);
	}
	kt_decision_release(&d2);
	decide_review(c, patched, old, KT_POLICY_MUTATE, &d2);
	if (d2.patch.len)
		fail_msg("%s: mutation is not idempotent: %s", c->where, d2.patch.buf);
	kt_decision_release(&d2);
	json_decref(patched);
}

/* What the rendered MutatingWebhookConfiguration sends (lib/render/webhook.c): Pod CREATE. */
static bool mutating_routed(const struct tcase *c, json_t *obj)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));

	return obj && kind && av && !strcmp(kind, "Pod") && !strcmp(av, "v1") &&
	       !strcmp(c->op, "CREATE") && !*c->sub;
}

/*
 * mode: both.  The API server calls the mutating webhook (when routed),
 * applies its patch, then calls the validating webhook with the result:
 * *d is the verdict that counts, *dm the mutating one (its patch is what
 * `patch:` checks) and *judged the object the validating webhook saw.
 */
static void decide_both(const struct tcase *c, json_t *obj, json_t *old, struct kt_decision *d,
			struct kt_decision *dm, json_t **judged)
{
	struct kt_err err = { 0 };

	*judged = json_incref(obj);
	memset(dm, 0, sizeof(*dm));
	dm->patch = (struct kt_buf)KT_BUF_INIT;
	dm->allowed = true;
	if (mutating_routed(c, obj)) {
		kt_decision_release(dm);
		decide_review(c, obj, old, KT_POLICY_MUTATE, dm);
		if (!dm->allowed) {
			decide_review(c, obj, old, KT_POLICY_MUTATE, d);
			return;
		}
		if (dm->patch.len) {
			json_decref(*judged);
			*judged = json_deep_copy(obj);
			if (kt_policy_patch_apply(judged, dm->patch.buf, dm->patch.len, &err))
				fail_msg("%s: patch does not apply: %s", c->where, err.msg);
		}
	}
	decide_review(c, *judged, old, KT_POLICY_VALIDATE, d);
}

static void run_case(void **state)
{
	const struct tcase *c = *state;
	struct kt_decision d, dm;
	json_t *obj = yaml_to_json(&c->object, c->where), *old = yaml_to_json(&c->old, c->where);
	json_t *judged = NULL;
	char got[2048], want[2048];
	bool deny = !strcmp(c->expect, "deny");
	const struct kt_buf *patch;

	if (strcmp(c->expect, "allow") && !deny)
		fail_msg("%s: expect must be 'allow' or 'deny'", c->where);
	if (deny && !c->has_rules)
		fail_msg("%s: a denied case must list its rules", c->where);
	if ((c->mode == KT_POLICY_MUTATE || c->both) && !c->has_patch)
		fail_msg("%s: a mutate case must give its patch (or 'patch: none')", c->where);
	if (c->both)
		decide_both(c, obj, old, &d, &dm, &judged);
	else
		decide_review(c, obj, old, c->mode, &d);
	patch = c->both ? &dm.patch : &d.patch;
	if (d.allowed == deny) {
		print_decision(&d);
		fail_msg("%s: expected %s", c->where, c->expect);
	}
	rule_list(d.denials, d.n_denials, got, sizeof(got));
	normalize_list(c->rules, want, sizeof(want));
	if (strcmp(got, want)) {
		print_decision(&d);
		fail_msg("%s: denial rules [%s], expected [%s]", c->where, got, want);
	}
	if (c->has_warnings) {
		rule_list(d.warnings, d.n_warnings, got, sizeof(got));
		normalize_list(c->warnings, want, sizeof(want));
		if (strcmp(got, want)) {
			print_decision(&d);
			fail_msg("%s: warnings [%s], expected [%s]", c->where, got, want);
		}
	}
	if (*c->message) {
		bool found = false;

		for (size_t i = 0; i < d.n_denials; i++)
			found = found || strstr(d.denials[i].message, c->message);
		for (size_t i = 0; i < d.n_warnings; i++)
			found = found || strstr(d.warnings[i].message, c->message);
		if (!found) {
			print_decision(&d);
			fail_msg("%s: no message contains '%s'", c->where, c->message);
		}
	}
	if (*c->path) {
		bool found = false;

		for (size_t i = 0; i < d.n_denials; i++)
			found = found || (d.denials[i].path && !strcmp(d.denials[i].path, c->path));
		for (size_t i = 0; i < d.n_warnings; i++)
			found = found ||
				(d.warnings[i].path && !strcmp(d.warnings[i].path, c->path));
		if (!found) {
			print_decision(&d);
			fail_msg("%s: no finding has path '%s'", c->where, c->path);
		}
	}
	if (c->has_patch) {
		bool ok = c->patch.len ? patch->len && json_text_equal(patch->buf, c->patch.buf)
				       : !patch->len;

		if (!ok)
			fail_msg("%s: patch %s, expected %s", c->where,
				 patch->len ? patch->buf : "none",
				 c->patch.len ? c->patch.buf : "none");
	}
	check_response(c, &d);
	if (c->both) {
		struct kt_decision d2;

		check_decide_agrees(c, dm.allowed ? judged : obj, old,
				    dm.allowed ? KT_POLICY_VALIDATE : KT_POLICY_MUTATE, &d);
		/* the API server may call the mutating webhook again (reinvocation) */
		if (dm.patch.len) {
			decide_review(c, judged, old, KT_POLICY_MUTATE, &d2);
			if (d2.patch.len)
				fail_msg("%s: mutation is not idempotent: %s", c->where,
					 d2.patch.buf);
			kt_decision_release(&d2);
		}
		kt_decision_release(&dm);
		json_decref(judged);
	} else {
		check_decide_agrees(c, obj, old, c->mode, &d);
		if (d.patch.len)
			check_rejudge(c, obj, old, &d);
	}
	kt_decision_release(&d);
	json_decref(obj);
	json_decref(old);
}

int main(void)
{
	struct CMUnitTest *tests;
	size_t i;
	int rc;

	load_all();
	if (!n_cases) {
		fprintf(stderr, "no cases in %s\n", CASES_DIR);
		return 1;
	}
	tests = calloc(n_cases, sizeof(*tests));
	for (i = 0; i < n_cases; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = &cases[i];
	}
	rc = _cmocka_run_group_tests("policy cases", tests, n_cases, NULL, NULL);
	for (i = 0; i < n_cases; i++) {
		kt_buf_release(&cases[i].object);
		kt_buf_release(&cases[i].old);
		kt_buf_release(&cases[i].patch);
	}
	free(tests);
	free(cases);
	kt_config_free(kt_policy_fixture());
	return rc;
}
