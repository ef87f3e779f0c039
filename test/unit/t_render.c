/*
 * t_render.c: the renderer's tricky parts.
 *
 *  - The YAML writer, with libfyaml as the referee: everything we write is
 *    parsed back and must be the same JSON, type for type; the strings a
 *    YAML 1.1 reader would take for booleans must be quoted.
 *  - Security properties of the objects: namespaces matched only by
 *    kubernetes.io/metadata.name, read-only tenant role, exact proxy rights,
 *    webhooks that cannot select system namespaces.
 *  - Seams: every kind the engine judges is routed in every profile; Calico
 *    evaluated over the rendered orders (a tenant opens its own door only).
 *  - Order, filters, profile names, file names, errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libfyaml.h>
#include "kt/policy.h"
#include "kt/render.h"
#include "render_fixture.h"

/*
 * libfyaml 0.7.12 leaks an atom iterator buffer in fy_atom_is_number while
 * it writes JSON: that is the referee's code path, not ours (the renderer
 * does not use libfyaml), so the leak checker ignores allocations made
 * inside libfyaml in this test binary.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:fy_atom_is_number\nleak:libfyaml.so\n";
}

/* Parse YAML with libfyaml and return it as JSON (new reference). */
static json_t *reparse(const char *yaml, size_t len)
{
	struct fy_parse_cfg cfg = { .flags = FYPCF_DEFAULT_DOC };
	struct fy_document *d = fy_document_build_from_string(&cfg, yaml, len);
	char *s;
	json_t *j;

	assert_non_null(d);
	s = fy_emit_document_to_string(d, FYECF_MODE_JSON_ONELINE);
	assert_non_null(s);
	j = json_loads(s, JSON_DECODE_ANY, NULL);
	if (!j)
		fprintf(stderr, "not JSON: %s\n", s);
	assert_non_null(j);
	free(s);
	fy_document_destroy(d);
	return j;
}

static void assert_round_trip(json_t *v)
{
	struct kt_buf b = KT_BUF_INIT;
	struct kt_err err = { 0 };
	json_t *back;

	assert_int_equal(kt_render_yaml(v, &b, &err), KT_OK);
	/* one explicit document start, never a "..." end marker */
	assert_true(!strncmp(b.buf, "---\n", 4) || !strncmp(b.buf, "--- ", 4));
	assert_null(strstr(b.buf, "\n---"));
	assert_null(strstr(b.buf, "\n..."));
	back = reparse(b.buf, b.len);
	if (!json_equal(v, back)) {
		char *a = json_dumps(v, JSON_ENCODE_ANY), *c = json_dumps(back, JSON_ENCODE_ANY);

		fprintf(stderr, "wrote:\n%s\nwant %s\ngot  %s\n", b.buf, a, c);
		free(a);
		free(c);
		fail();
	}
	json_decref(back);
	kt_buf_release(&b);
}

static const char *const tricky[] = {
	"",
	"600",
	"true",
	"on",
	"Yes",
	"NO",
	"y",
	"null",
	"~",
	"a: b",
	"a:b",
	"a:",
	"#x",
	"x #y",
	" lead",
	"trail ",
	"*.foo",
	"&a",
	"!tag",
	"%x",
	"@x",
	"`x",
	"-x",
	"- x",
	"-",
	"?",
	"? x",
	"10.1.0.10",
	"2024-01-01",
	"0x1F",
	"0o17",
	"1e3",
	"+1",
	"-.5",
	".inf",
	".NaN",
	"12:30",
	"v1",
	"t3a.large",
	"platform.it.vt.edu/node-pool",
	"oidc:team.devs",
	"https://x.org/a",
	"{a}",
	"[a]",
	"a,b",
	"|",
	">",
	"'q'",
	"\"dq\"",
	"=",
	"<<",
	"multi\nline\n",
	"multi\nline",
	"multi\n\n\n",
	"x\n\ny\n",
	"tab\there",
	"\tstart",
	"ctl\x01z",
	"del\x7f",
	"quote\"back\\slash",
	"\xc3\xbc\xc3\xb1\xc3\xad",
	("a\xe2\x80\xa8"
	 "b"),
	"bom\xef\xbb\xbf",
	"x\r\ny",
	"  indented\nfoo",
	"a\n  b\n",
	"trailing space \nx",
	"\nleading newline",
	"line\n---\nnot a document\n",
	"line\n...\n",
	"package x\n\nviolation[{\"msg\": m}] {\n\tm := \"a\"\n}\n",
	"\xc2\x85next-line",
	"ok with spaces",
	"ends with colon:",
};

static void yaml_strings_round_trip(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		json_t *as_value = json_pack("{s:s}", "k", tricky[i]);
		json_t *as_key = json_object();
		json_t *in_seq = json_pack("{s:[s, {s:s}]}", "k", tricky[i], "x", tricky[i]);

		assert_non_null(as_value);
		assert_non_null(in_seq);
		assert_int_equal(json_object_set_new(as_key, tricky[i], json_integer(1)), 0);
		assert_round_trip(as_value);
		assert_round_trip(as_key);
		assert_round_trip(in_seq);
		json_decref(as_value);
		json_decref(as_key);
		json_decref(in_seq);
	}
}

static void yaml_types_and_nesting_round_trip(void **state)
{
	json_t *v =
		json_loads("{\"i\": 42, \"neg\": -7, \"big\": 9007199254740993, \"f\": 1.5,"
			   " \"t\": true, \"n\": null, \"e\": {}, \"a\": [],"
			   " \"seq\": [[1, [2, []]], {}, {\"x\": [{\"y\": {\"z\": []}}]}, \"s\"],"
			   " \"m\": {\"deep\": {\"er\": [\"multi\\nline\\n\", {\"k\": \"v\\nw\"}]}}}",
			   0, NULL);

	(void)state;
	assert_non_null(v);
	assert_round_trip(v);
	json_decref(v);
}

/* The readers Kubernetes uses are YAML 1.1: these must be quoted, not plain. */
static void yaml_quotes_yaml11_booleans(void **state)
{
	static const char *const words[] = { "on", "off", "yes", "no", "y", "n", "On", "NO", "~" };
	struct kt_buf b = KT_BUF_INIT;
	struct kt_err err = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		json_t *v = json_pack("{s:s}", "k", words[i]);
		char want[32];

		kt_buf_reset(&b);
		assert_int_equal(kt_render_yaml(v, &b, &err), KT_OK);
		snprintf(want, sizeof(want), "---\nk: \"%s\"\n", words[i]);
		assert_string_equal(b.buf, want);
		json_decref(v);
	}
	kt_buf_release(&b);
}

static void yaml_layout_is_kubectl_style(void **state)
{
	json_t *v =
		json_loads("{\"a\": [{\"b\": 1, \"c\": [\"x\"]}], \"d\": {\"e\": \"l1\\nl2\\n\"}}",
			   0, NULL);
	struct kt_buf b = KT_BUF_INIT;

	(void)state;
	assert_int_equal(kt_render_yaml(v, &b, NULL), KT_OK);
	assert_string_equal(b.buf, "---\n"
				   "a:\n"
				   "- b: 1\n"
				   "  c:\n"
				   "  - x\n"
				   "d:\n"
				   "  e: |\n"
				   "    l1\n"
				   "    l2\n");
	json_decref(v);
	kt_buf_release(&b);
}

/*
 * The style of each scalar is our decision, the escaping libyaml's: text
 * with tabs (the Gatekeeper Rego) or with trailing empty lines is
 * double-quoted, so is the key "n" (a YAML 1.1 boolean), numbers stay floats for YAML 1.1 readers ("1e+22" alone
 * is a string there), and documents concatenate into one stream.
 */
static void yaml_styles_and_stream(void **state)
{
	json_t *v = json_loads("{\"rego\": \"a\\n\\tb\\n\", \"t\": \"x\\n\\n\", \"f\": 1e22,"
			       " \"g\": 2.5, \"i\": 7, \"n\": null, \"b\": false, \"q\": \"7\"}",
			       0, NULL);
	json_t *w = json_pack("{s:s}", "k", "l1\nl2");
	struct kt_buf b = KT_BUF_INIT;
	char key[201];
	json_t *long_key = json_object();

	(void)state;
	assert_non_null(v);
	assert_int_equal(kt_render_yaml(v, &b, NULL), KT_OK);
	assert_int_equal(kt_render_yaml(w, &b, NULL), KT_OK);
	assert_string_equal(b.buf, "---\n"
				   "rego: \"a\\n\\tb\\n\"\n"
				   "t: \"x\\n\\n\"\n"
				   "f: 1.0e+22\n"
				   "g: 2.5\n"
				   "i: 7\n"
				   "\"n\": null\n"
				   "b: false\n"
				   "q: \"7\"\n"
				   "---\n"
				   "k: |-\n"
				   "  l1\n"
				   "  l2\n");
	/* libyaml writes keys over 128 characters as "? key": still the same mapping */
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_int_equal(json_object_set_new(long_key, key, json_string("on")), 0);
	assert_round_trip(long_key);
	json_decref(long_key);
	json_decref(v);
	json_decref(w);
	kt_buf_release(&b);
}

static void yaml_rejects_deep_nesting_and_leaves_buffer(void **state)
{
	json_t *v = json_array(), *cur = v;
	struct kt_buf b = KT_BUF_INIT;
	struct kt_err err = { 0 };
	int i;

	(void)state;
	for (i = 0; i < KT_RENDER_MAX_DEPTH + 5; i++) {
		json_t *next = json_array();

		json_array_append_new(cur, next);
		cur = next;
	}
	json_array_append_new(cur, json_string("bottom"));
	assert_int_equal(kt_buf_adds(&b, "keep"), KT_OK);
	assert_int_equal(kt_render_yaml(v, &b, &err), KT_E_INVALID);
	assert_string_equal(b.buf, "keep");
	assert_non_null(strstr(err.msg, "nested deeper"));
	json_decref(v);
	kt_buf_release(&b);
}

static json_t *render(struct kt_config *cfg, const char *network, const char *enforcement,
		      const char *karpenter, const char *tenant)
{
	struct kt_render_opts o = { .tenant = tenant,
				    .tenants_yaml = "global: {}\n",
				    .tenants_yaml_len = 11 };
	struct kt_err err = { 0 };
	json_t *list = NULL;

	o.network = kt_render_network_parse(network);
	o.enforcement = kt_render_enforcement_parse(enforcement);
	o.karpenter = kt_render_karpenter_parse(karpenter);
	assert_int_equal(kt_render_list(cfg, &o, &list, &err), KT_OK);
	return list;
}

static const char *kind_of(json_t *o)
{
	return json_string_value(json_object_get(o, "kind"));
}

static const char *name_of(json_t *o)
{
	return json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
}

static json_t *find(json_t *list, const char *kind, const char *name)
{
	size_t i;
	json_t *o;

	json_array_foreach (list, i, o)
		if (!strcmp(kind_of(o), kind) && !strcmp(name_of(o), name))
			return o;
	return NULL;
}

static const char *const profiles[][3] = {
	{ "kubernetes", "webhook", "v1" },
	{ "calico-crd", "gatekeeper", "v1alpha5" },
	{ "calico", "webhook", "v1alpha5" },
	{ "admin", "gatekeeper", "v1" },
};

static void every_object_is_managed_and_namespace_comes_first(void **state)
{
	size_t p, i;

	(void)state;
	for (p = 0; p < sizeof(profiles) / sizeof(profiles[0]); p++) {
		json_t *list = render(fixture_full(), profiles[p][0], profiles[p][1],
				      profiles[p][2], NULL),
		       *o;
		json_t *seen = json_object();

		assert_true(json_array_size(list) > 10);
		json_array_foreach (list, i, o) {
			json_t *md = json_object_get(o, "metadata");
			const char *ns = json_string_value(json_object_get(md, "namespace"));

			assert_string_equal(json_string_value(
						    json_object_get(json_object_get(md, "labels"),
								    "app.kubernetes.io/managed-by")),
					    "kubetenant");
			if (!strcmp(kind_of(o), "Namespace"))
				json_object_set_new(seen, name_of(o), json_true());
			/*
			 * never before its Namespace (gatekeeper-system is Gatekeeper's
			 * own; the API server itself creates kube-public)
			 */
			if (ns && strcmp(ns, "gatekeeper-system") && strcmp(ns, "kube-public"))
				assert_non_null(json_object_get(seen, ns));
		}
		json_decref(seen);
		json_decref(list);
	}
}

/* Walk every object for namespace selectors in the kubernetes NetworkPolicy. */
static void network_selects_namespaces_only_by_name(void **state)
{
	json_t *list = render(fixture_full(), "kubernetes", "webhook", "v1", NULL);
	json_t *np = find(list, "NetworkPolicy", "tenant-isolation"), *from, *peer;
	size_t i;
	int saw_ns_selector = 0;
	char *values;

	(void)state;
	assert_non_null(np);
	from = json_object_get(json_array_get(json_object_get(json_object_get(np, "spec"),
							      "ingress"),
					      0),
			       "from");
	json_array_foreach (from, i, peer) {
		json_t *sel = json_object_get(peer, "namespaceSelector"), *e;
		size_t j;

		if (!sel)
			continue;
		saw_ns_selector = 1;
		assert_null(json_object_get(sel, "matchLabels"));
		json_array_foreach (json_object_get(sel, "matchExpressions"), j, e)
			assert_string_equal(json_string_value(json_object_get(e, "key")),
					    "kubernetes.io/metadata.name");
	}
	assert_true(saw_ns_selector);
	/* alpha allows beta and the platform namespaces, in that order */
	values = json_dumps(
		json_object_get(json_array_get(json_object_get(json_object_get(json_array_get(from,
											      1),
									       "namespaceSelector"),
							       "matchExpressions"),
					       0),
				"values"),
		JSON_COMPACT);
	assert_string_equal(values, "[\"ingress-nginx\",\"monitoring\",\"beta\"]");
	free(values);
	json_decref(list);
}

static void calico_keeps_the_blog_rule_last(void **state)
{
	json_t *list = render(fixture_blog(), "calico-crd", "gatekeeper", "v1alpha5", NULL);
	json_t *np = find(list, "NetworkPolicy", "restrict-other-tenants");
	json_t *spec = json_object_get(np, "spec");
	json_t *ingress = json_object_get(spec, "ingress");
	json_t *last = json_array_get(ingress, json_array_size(ingress) - 1);

	(void)state;
	assert_string_equal(json_string_value(json_object_get(np, "apiVersion")),
			    "crd.projectcalico.org/v1");
	assert_int_equal(json_integer_value(json_object_get(spec, "order")),
			 KT_POLICY_CALICO_ISOLATION_ORDER);
	assert_string_equal(json_string_value(json_object_get(spec, "selector")), "");
	assert_string_equal(json_string_value(json_object_get(last, "action")), "Deny");
	assert_string_equal(json_string_value(json_object_get(json_object_get(last, "source"),
							      "namespaceSelector")),
			    "platform.it.vt.edu/purpose == 'platform-tenant'");
	json_decref(list);
}

/*
 * Calico's evaluation of ingress to a pod, over the rendered policy and
 * the tenant's own: the default tier's policies that select the pod, in
 * increasing order (none = last); the first rule whose source matches
 * decides (Allow or Deny); when a policy of the tier selected the pod but
 * no rule matched, the end of the tier denies.  Enough of Calico's
 * selector language for what the renderer writes and the tests below:
 * "", all(), k == 'v', k in {'a', 'b'}; anything else fails the test, so
 * a change of the rendered selectors cannot silently pass.
 */
struct ns_labels {
	const char *name, *purpose; /* purpose: NULL when not a tenant */
};

static const struct ns_labels world[] = {
	{ "nis-customer-portal", "platform-tenant" },
	{ "sample-team-gitlab-ci", "platform-tenant" },
	{ "team-x", "platform-tenant" },
	{ "ingress-nginx", NULL },
	{ "monitoring", NULL },
	{ "scratch", NULL },
};

static const char *ns_label(const char *ns, const char *key)
{
	for (size_t i = 0; i < sizeof(world) / sizeof(world[0]); i++) {
		if (strcmp(world[i].name, ns))
			continue;
		if (!strcmp(key, "kubernetes.io/metadata.name"))
			return world[i].name;
		if (!strcmp(key, "platform.it.vt.edu/purpose"))
			return world[i].purpose;
		return NULL;
	}
	fail_msg("namespace %s is not in the test's world", ns);
	return NULL;
}

static bool selector_matches(const char *sel, const char *ns)
{
	char key[128], rest[512];
	const char *v;

	if (!*sel || !strcmp(sel, "all()"))
		return true;
	if (sscanf(sel, "%127s == '%511[^']'", key, rest) == 2) {
		v = ns_label(ns, key);
		return v && !strcmp(v, rest);
	}
	if (sscanf(sel, "%127s in {%511[^}]}", key, rest) == 2) {
		char want[140];

		v = ns_label(ns, key);
		snprintf(want, sizeof(want), "'%s'", v ? v : "");
		return v && strstr(rest, want);
	}
	fail_msg("selector '%s' is not understood by the test", sel);
	return false;
}

static bool source_matches(json_t *src, const char *policy_ns, const char *from)
{
	const char *nsel = json_string_value(json_object_get(src, "namespaceSelector"));
	const char *sel = json_string_value(json_object_get(src, "selector"));

	if (nsel)
		return selector_matches(nsel, from);
	/* a pod selector alone matches pods of the policy's own namespace */
	if (sel && selector_matches(sel, from))
		return !strcmp(policy_ns, from);
	return !sel;
}

static int policy_cmp(const void *a, const void *b)
{
	json_t *oa = json_object_get(json_object_get(*(json_t *const *)a, "spec"), "order");
	json_t *ob = json_object_get(json_object_get(*(json_t *const *)b, "spec"), "order");
	double x = oa ? json_number_value(oa) : 1e300, y = ob ? json_number_value(ob) : 1e300;

	return x < y ? -1 : x > y;
}

/* "Allow" or "Deny" for ingress from a pod of namespace from to any pod of ns. */
static const char *calico_ingress(json_t **policies, size_t n, const char *ns, const char *from)
{
	json_t *sorted[8], *rule;
	size_t i, j;
	bool selected = false;

	assert_true(n <= 8);
	memcpy(sorted, policies, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), policy_cmp);
	for (i = 0; i < n; i++) {
		json_t *spec = json_object_get(sorted[i], "spec");
		const char *pns = json_string_value(
			json_object_get(json_object_get(sorted[i], "metadata"), "namespace"));
		const char *tier = json_string_value(json_object_get(spec, "tier"));

		assert_true(!tier || !strcmp(tier, "default"));
		if (strcmp(pns, ns))
			continue; /* a namespaced policy selects its own namespace's pods only */
		assert_true(
			selector_matches(json_string_value(json_object_get(spec, "selector")), ns));
		selected = true;
		json_array_foreach (json_object_get(spec, "ingress"), j, rule) {
			const char *action = json_string_value(json_object_get(rule, "action"));

			assert_true(!strcmp(action, "Allow") || !strcmp(action, "Deny"));
			if (source_matches(json_object_get(rule, "source"), pns, from))
				return action;
		}
	}
	return selected ? "Deny" : "Allow";
}

/*
 * A tenant's own policy in its namespace: admits one other tenant.  order
 * < 0: none.  Calico turns a Kubernetes NetworkPolicy into one of these
 * at order 1000.
 */
static json_t *door(const char *ns, const char *from, double order)
{
	char sel[128];
	json_t *p;

	snprintf(sel, sizeof(sel), "kubernetes.io/metadata.name == '%s'", from);
	p = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:[s], s:[{s:s, s:{s:s}}]}}", "apiVersion",
		      "crd.projectcalico.org/v1", "kind", "NetworkPolicy", "metadata", "name",
		      "open-door", "namespace", ns, "spec", "selector", "all()", "types", "Ingress",
		      "ingress", "action", "Allow", "source", "namespaceSelector", sel);
	if (order >= 0)
		json_object_set_new(json_object_get(p, "spec"), "order", json_real(order));
	return p;
}

static void calico_tenants_open_their_own_door_only(void **state)
{
	static const char *const nets[] = { "calico-crd", "calico" };
	static const char *const a = "nis-customer-portal", *b = "sample-team-gitlab-ci";

	(void)state;
	/* Kubernetes NetworkPolicies (Calico order 1000) come before the isolation too */
	assert_true(KT_POLICY_CALICO_ISOLATION_ORDER > 1000);
	for (size_t k = 0; k < 2; k++) {
		json_t *list = render(fixture_blog(), nets[k], "webhook", "v1", NULL), *o;
		json_t *iso_a = NULL, *iso_b = NULL, *pol[3];
		size_t i;

		json_array_foreach (list, i, o) {
			const char *ns = json_string_value(
				json_object_get(json_object_get(o, "metadata"), "namespace"));

			/* kubetenant-system's own policy (network_system.c) is not a tenant's */
			if (strcmp(kind_of(o), "NetworkPolicy") || !strcmp(ns, "kubetenant-system"))
				continue;
			assert_string_equal(name_of(o), "restrict-other-tenants");
			if (!strcmp(ns, a))
				iso_a = o;
			else if (!strcmp(ns, b))
				iso_b = o;
		}
		assert_non_null(iso_a);
		assert_non_null(iso_b);
		/* the platform's policy alone: itself and the platform, no other tenant */
		pol[0] = iso_a;
		assert_string_equal(calico_ingress(pol, 1, a, a), "Allow");
		assert_string_equal(calico_ingress(pol, 1, a, "ingress-nginx"), "Allow");
		assert_string_equal(calico_ingress(pol, 1, a, "monitoring"), "Allow");
		assert_string_equal(calico_ingress(pol, 1, a, b), "Deny");
		assert_string_equal(calico_ingress(pol, 1, a, "scratch"), "Deny");
		/* a opens its door to b: with a Calico policy at the blog's order, or a
		 * Kubernetes NetworkPolicy; team-x stays out */
		for (int d = 0; d < 3; d++) {
			pol[1] = door(a, b, d == 0 ? 20 : d == 1 ? 1000 : 9999);
			assert_string_equal(calico_ingress(pol, 2, a, b), "Allow");
			assert_string_equal(calico_ingress(pol, 2, a, "team-x"), "Deny");
			assert_string_equal(calico_ingress(pol, 2, a, a), "Allow");
			/* b's door stays shut: a's policy selects nothing in b */
			pol[2] = iso_b;
			assert_string_equal(calico_ingress(pol + 1, 2, b, a), "Deny");
			json_decref(pol[1]);
		}
		/* after the isolation policy (or with no order) it cannot: the webhook warns */
		pol[1] = door(a, b, -1);
		assert_string_equal(calico_ingress(pol, 2, a, b), "Deny");
		json_decref(pol[1]);
		/* nor can a open b's door from its own namespace */
		pol[0] = iso_b;
		pol[1] = door(a, a, 1);
		assert_string_equal(calico_ingress(pol, 2, b, a), "Deny");
		json_decref(pol[1]);
		json_decref(list);
	}
}

/* Does the JSON array of strings hold s (or the wildcard "*")? */
static bool has_str(json_t *a, const char *s, bool wildcard)
{
	json_t *v;
	size_t i;

	json_array_foreach (a, i, v)
		if (!strcmp(json_string_value(v), s) ||
		    (wildcard && !strcmp(json_string_value(v), "*")))
			return true;
	return false;
}

/*
 * Is resource (maybe "x/sub") of group sent for op by a webhook of cfg?  A
 * namespaced kind must be sent by a webhook that selects by namespace
 * only (an objectSelector would send labelled objects only); a
 * cluster-scoped one by the objectSelector on the tenant purpose label.
 */
static bool routed_by(json_t *cfg, const char *group, const char *resource, const char *op,
		      bool cluster)
{
	json_t *h, *r;
	size_t i, j;

	json_array_foreach (json_object_get(cfg, "webhooks"), i, h) {
		json_t *osel = json_object_get(h, "objectSelector");

		if (cluster ? !osel : !!osel)
			continue;
		if (!json_object_get(cluster ? osel : json_object_get(h, "namespaceSelector"),
				     "matchLabels"))
			continue;
		json_array_foreach (json_object_get(h, "rules"), j, r)
			if (has_str(json_object_get(r, "apiGroups"), group, true) &&
			    has_str(json_object_get(r, "resources"), resource,
				    !strchr(resource, '/')) &&
			    has_str(json_object_get(r, "operations"), op, true) &&
			    !strcmp(json_string_value(json_object_get(r, "scope")),
				    cluster ? "Cluster" : "Namespaced"))
				return true;
	}
	return false;
}

/* Does a Gatekeeper constraint of this kind match group/kind? */
static bool constrained_by(json_t *list, const char *ckind, const char *group, const char *kind)
{
	json_t *o, *m;
	size_t i, j;
	bool any = false;

	json_array_foreach (list, i, o) {
		bool hit = false;

		if (strcmp(kind_of(o), ckind))
			continue;
		json_array_foreach (json_object_get(json_object_get(json_object_get(o, "spec"),
								    "match"),
						    "kinds"),
				    j, m)
			hit = hit || (has_str(json_object_get(m, "apiGroups"), group, true) &&
				      has_str(json_object_get(m, "kinds"), kind, true));
		if (!hit)
			return false; /* every constraint of the kind (one per tenant) */
		any = true;
	}
	return any;
}

/*
 * The seam of issue 12: every group/resource the engine judges
 * (lib/policy/kinds.c) reaches it, in every profile.  With the webhook,
 * through the rendered webhook configurations; with Gatekeeper, the
 * kinds its constraints check are matched by them (what it does not
 * check is `check --enforcement gatekeeper`'s business).
 */
static void every_judged_kind_is_routed_in_every_profile(void **state)
{
	static const char *const nets[] = { "kubernetes", "calico-crd", "calico", "admin" };
	static const char *const enfs[] = { "webhook", "gatekeeper" };
	static const char *const karps[] = { "v1", "v1alpha5" };
	static const char *const opnames[] = { "CREATE", "UPDATE", "DELETE" };

	(void)state;
	assert_true(kt_policy_n_kinds >= 30);
	for (size_t n = 0; n < 4; n++)
		for (size_t e = 0; e < 2; e++)
			for (size_t k = 0; k < 2; k++) {
				json_t *list =
					render(fixture_full(), nets[n], enfs[e], karps[k], NULL);
				json_t *val =
					find(list, "ValidatingWebhookConfiguration", "kubetenant");
				json_t *mut =
					find(list, "MutatingWebhookConfiguration", "kubetenant");

				for (size_t i = 0; i < kt_policy_n_kinds; i++) {
					const struct kt_kind *kd = &kt_policy_kinds[i];

					if (e == 1) {
						assert_null(val);
						if (kd->gatekeeper & KT_GK_DOMAINS)
							assert_true(
								constrained_by(list,
									       "AuthorizedDomainPolicy",
									       kd->group,
									       kd->kind));
						if (kd->gatekeeper & KT_GK_SERVICE_TYPES)
							assert_true(
								constrained_by(list,
									       "K8sDenyServiceType",
									       kd->group,
									       kd->kind));
						continue;
					}
					for (size_t o = 0; o < 3; o++) {
						if (!(kd->ops & (1u << o)))
							continue;
						if (!routed_by(val, kd->group, kd->resource,
							       opnames[o], kd->cluster))
							fail_msg("%s %s/%s %s is not routed",
								 nets[n], kd->group, kd->resource,
								 opnames[o]);
						for (size_t j = 0; kd->subresources[j]; j++) {
							char sub[128];

							snprintf(sub, sizeof(sub), "%s/%s",
								 kd->resource, kd->subresources[j]);
							assert_true(routed_by(val, kd->group, sub,
									      opnames[o],
									      kd->cluster));
						}
					}
					if (kd->mutate)
						assert_true(routed_by(mut, kd->group, kd->resource,
								      "CREATE", false));
				}
				json_decref(list);
			}
}

static void pod_security_labels_are_pinned(void **state)
{
	json_t *list = render(fixture_full(), "kubernetes", "webhook", "v1", NULL);
	json_t *alpha =
		json_object_get(json_object_get(find(list, "Namespace", "alpha"), "metadata"),
				"labels");
	json_t *beta = json_object_get(json_object_get(find(list, "Namespace", "beta"), "metadata"),
				       "labels");
	char latest[16];

	(void)state;
	snprintf(latest, sizeof(latest), "v1.%d", KT_PSS_LATEST_MINOR);
	assert_string_equal(json_string_value(
				    json_object_get(alpha, "pod-security.kubernetes.io/enforce")),
			    "baseline");
	assert_string_equal(json_string_value(
				    json_object_get(alpha,
						    "pod-security.kubernetes.io/warn-version")),
			    "v1.30");
	assert_string_equal(json_string_value(
				    json_object_get(beta, "pod-security.kubernetes.io/audit")),
			    "privileged");
	assert_string_equal(json_string_value(
				    json_object_get(beta,
						    "pod-security.kubernetes.io/enforce-version")),
			    latest);
	assert_string_equal(json_string_value(json_object_get(beta, "platform.it.vt.edu/purpose")),
			    "platform-tenant");
	json_decref(list);
}

static void tenant_role_is_read_only(void **state)
{
	json_t *list = render(fixture_blog(), "kubernetes", "webhook", "v1", NULL);
	json_t *role = find(list, "ClusterRole", "platform-tenant"), *rule;
	size_t i, j;

	(void)state;
	assert_non_null(role);
	json_array_foreach (json_object_get(role, "rules"), i, rule) {
		json_t *x;

		json_array_foreach (json_object_get(rule, "verbs"), j, x) {
			const char *verb = json_string_value(x);

			assert_true(!strcmp(verb, "get") || !strcmp(verb, "list") ||
				    !strcmp(verb, "watch"));
		}
		json_array_foreach (json_object_get(rule, "resources"), j, x) {
			const char *res = json_string_value(x);

			assert_true(strcmp(res, "secrets") && strcmp(res, "pods/exec") &&
				    strcmp(res, "pods/attach") && strcmp(res, "pods/portforward") &&
				    strcmp(res, "*"));
		}
	}
	json_decref(list);
}

static size_t count(json_t *list, const char *kind, const char *name)
{
	size_t i, n = 0;
	json_t *o;

	json_array_foreach (list, i, o)
		n += !strcmp(json_string_value(json_object_get(o, "kind")), kind) &&
		     !strcmp(json_string_value(
				     json_object_get(json_object_get(o, "metadata"), "name")),
			     name);
	return n;
}

/* Impersonate users and groups; list and watch the scoped collections (proxy -f); no more. */
static void proxy_may_impersonate_and_list_scoped_collections(void **state)
{
	json_t *list = render(fixture_full(), "kubernetes", "webhook", "v1", NULL);
	json_t *role = find(list, "ClusterRole", "kubetenant-proxy");
	json_t *dep = find(list, "Deployment", "kubetenant-proxy");
	json_t *pod;
	char *rules;
	char *args, *vols;

	(void)state;
	assert_non_null(role);
	rules = json_dumps(json_object_get(role, "rules"), JSON_COMPACT);
	assert_string_equal(rules, "[{\"apiGroups\":[\"\"],\"resources\":[\"groups\",\"users\"],"
				   "\"verbs\":[\"impersonate\"]},"
				   "{\"apiGroups\":[\"\"],\"resources\":[\"namespaces\",\"nodes\"],"
				   "\"verbs\":[\"list\",\"watch\"]},"
				   "{\"apiGroups\":[\"networking.k8s.io\"],\"resources\":"
				   "[\"ingressclasses\"],\"verbs\":[\"list\",\"watch\"]},"
				   "{\"apiGroups\":[\"scheduling.k8s.io\"],\"resources\":"
				   "[\"priorityclasses\"],\"verbs\":[\"list\",\"watch\"]},"
				   "{\"apiGroups\":[\"node.k8s.io\"],\"resources\":"
				   "[\"runtimeclasses\"],\"verbs\":[\"list\",\"watch\"]},"
				   "{\"apiGroups\":[\"storage.k8s.io\"],\"resources\":"
				   "[\"storageclasses\"],\"verbs\":[\"list\",\"watch\"]}]");
	pod = json_object_get(json_object_get(json_object_get(dep, "spec"), "template"), "spec");
	args = json_dumps(json_object_get(json_array_get(json_object_get(pod, "containers"), 0),
					  "args"),
			  JSON_COMPACT);
	vols = json_dumps(json_object_get(pod, "volumes"), JSON_COMPACT);
	assert_non_null(strstr(args, "\"--issuer-url\",\"https://dex.example.org\""));
	assert_non_null(strstr(args, "\"--groups-prefix\",\"idp:\""));
	assert_non_null(strstr(args, "\"--username-claim\",\"email\""));
	assert_non_null(strstr(args, "\"--tenants\",\"/etc/kubetenant/tenants.yaml\""));
	assert_non_null(strstr(vols, "{\"configMap\":{\"name\":\"kubetenant-tenants\",\"items\":"
				     "[{\"key\":\"tenants.yaml\",\"path\":\"tenants.yaml\"}]}}"));
	assert_int_equal(count(list, "ConfigMap", "kubetenant-tenants"), 1);
	free(rules);
	free(args);
	free(vols);
	json_decref(list);
	/* without the webhook, the proxy's ConfigMap is rendered all the same, once */
	list = render(fixture_full(), "kubernetes", "gatekeeper", "v1", NULL);
	assert_int_equal(count(list, "ConfigMap", "kubetenant-tenants"), 1);
	json_decref(list);
	/* no issuer: no proxy */
	list = render(fixture_blog(), "kubernetes", "webhook", "v1", NULL);
	assert_null(find(list, "Deployment", "kubetenant-proxy"));
	json_decref(list);
}

static void webhooks_cannot_select_system_namespaces(void **state)
{
	json_t *list = render(fixture_blog(), "kubernetes", "webhook", "v1", NULL);
	const char *kinds[] = { "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration" };
	size_t k, i;
	json_t *h;

	(void)state;
	for (k = 0; k < 2; k++) {
		json_t *cfg = find(list, kinds[k], "kubetenant");

		assert_non_null(cfg);
		assert_non_null(json_object_get(json_object_get(json_object_get(cfg, "metadata"),
								"annotations"),
						"cert-manager.io/inject-ca-from"));
		json_array_foreach (json_object_get(cfg, "webhooks"), i, h) {
			json_t *sel = json_object_get(h, "namespaceSelector");

			if (!sel)
				sel = json_object_get(h, "objectSelector");
			assert_string_equal(json_string_value(
						    json_object_get(json_object_get(sel,
										    "matchLabels"),
								    "platform.it.vt.edu/purpose")),
					    "platform-tenant");
			assert_string_equal(json_string_value(json_object_get(h, "failurePolicy")),
					    "Fail");
			assert_true(json_integer_value(json_object_get(h, "timeoutSeconds")) <= 3);
			assert_string_equal(json_string_value(json_object_get(h, "sideEffects")),
					    "None");
		}
	}
	json_decref(list);
}

static void quotas_stay_strings_and_gatekeeper_excludes_allowed_tenants(void **state)
{
	json_t *list = render(fixture_full(), "kubernetes", "gatekeeper", "v1", NULL);
	json_t *q = find(list, "ResourceQuota", "tenant-quota");
	json_t *lb = find(list, "K8sDenyServiceType", "tenant-deny-loadbalancer");
	json_t *np = find(list, "K8sDenyServiceType", "tenant-deny-nodeport");
	char *s;

	(void)state;
	assert_true(json_is_string(
		json_object_get(json_object_get(json_object_get(q, "spec"), "hard"), "pods")));
	s = json_dumps(json_object_get(json_object_get(json_object_get(lb, "spec"), "match"),
				       "excludedNamespaces"),
		       JSON_COMPACT);
	assert_string_equal(s, "[\"alpha\",\"beta\"]");
	free(s);
	s = json_dumps(json_object_get(json_object_get(json_object_get(np, "spec"), "match"),
				       "excludedNamespaces"),
		       JSON_COMPACT);
	assert_string_equal(s, "[\"beta\"]");
	free(s);
	json_decref(list);
}

static void tenant_filter_and_unknown_tenant(void **state)
{
	struct kt_render_opts o = { 0 };
	struct kt_err err = { 0 };
	json_t *list = render(fixture_full(), "kubernetes", "webhook", "v1", "beta"), *obj;
	size_t i;

	(void)state;
	/* the webhook's tenants file first: it denies tenant namespaces it does not know */
	assert_string_equal(kind_of(json_array_get(list, 0)), "ConfigMap");
	assert_string_equal(kind_of(json_array_get(list, 1)), "Namespace");
	json_array_foreach (list, i, obj) {
		const char *ns = json_string_value(
			json_object_get(json_object_get(obj, "metadata"), "namespace"));

		assert_true(!ns || !strcmp(ns, i ? "beta" : "kubetenant-system"));
		assert_true(strcmp(kind_of(obj), "ClusterRole"));
	}
	json_decref(list);
	list = NULL;
	o.tenant = "nobody";
	assert_int_equal(kt_render_list(fixture_blog(), &o, &list, &err), KT_E_INVALID);
	assert_null(list);
	assert_string_equal(err.msg, "tenant 'nobody' is not in the tenants file");
}

static int calls;
static enum kt_rc stop_at_third(void *ctx, json_t *obj, struct kt_err *err)
{
	(void)ctx;
	(void)obj;
	if (++calls == 3)
		return kt_err_set(err, KT_E_IO, "disk full");
	return KT_OK;
}

static void callback_error_stops_render(void **state)
{
	struct kt_render_opts o = { 0 };
	struct kt_err err = { 0 };

	(void)state;
	calls = 0;
	assert_int_equal(kt_render(fixture_blog(), &o, stop_at_third, NULL, &err), KT_E_IO);
	assert_int_equal(calls, 3);
	assert_string_equal(err.msg, "disk full");
}

static void group_prefix_option_overrides_file(void **state)
{
	struct kt_render_opts o = { .group_prefix = "corp-" };
	json_t *list = NULL;

	(void)state;
	assert_int_equal(kt_render_list(fixture_blog(), &o, &list, NULL), KT_OK);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(find(list, "RoleBinding",
									"tenant-access"),
								   "subjects"),
						   0),
				    "name")),
			    "corp-team.devs.platform-access");
	json_decref(list);
}

static void profile_names_and_paths(void **state)
{
	struct kt_buf b = KT_BUF_INIT;
	json_t *o;

	(void)state;
	assert_int_equal(kt_render_network_parse("calico-crd"), KT_NET_CALICO_CRD);
	assert_int_equal(kt_render_network_parse("Calico"), -1);
	assert_int_equal(kt_render_enforcement_parse("gatekeeper"), KT_ENF_GATEKEEPER);
	assert_int_equal(kt_render_karpenter_parse("v1alpha5"), KT_KARPENTER_V1ALPHA5);
	assert_int_equal(kt_render_karpenter_parse(NULL), -1);
	assert_string_equal(kt_render_network_name(KT_NET_ADMIN), "admin");

	o = json_pack("{s:s, s:{s:s, s:s}}", "kind", "RoleBinding", "metadata", "name",
		      "tenant-access", "namespace", "team-a");
	assert_int_equal(kt_render_path(o, &b, NULL), KT_OK);
	assert_string_equal(b.buf, "team-a/rolebinding-tenant-access.yaml");
	json_decref(o);
	kt_buf_reset(&b);
	o = json_pack("{s:s, s:{s:s}}", "kind", "ClusterRole", "metadata", "name",
		      "platform-tenant");
	assert_int_equal(kt_render_path(o, &b, NULL), KT_OK);
	assert_string_equal(b.buf, "_cluster/clusterrole-platform-tenant.yaml");
	json_decref(o);
	kt_buf_reset(&b);
	o = json_pack("{s:s, s:{s:s}}", "kind", "Secret", "metadata", "name", "../../etc/passwd");
	assert_int_equal(kt_render_path(o, &b, NULL), KT_E_INVALID);
	json_decref(o);
	kt_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(yaml_strings_round_trip),
		cmocka_unit_test(yaml_types_and_nesting_round_trip),
		cmocka_unit_test(yaml_quotes_yaml11_booleans),
		cmocka_unit_test(yaml_layout_is_kubectl_style),
		cmocka_unit_test(yaml_styles_and_stream),
		cmocka_unit_test(yaml_rejects_deep_nesting_and_leaves_buffer),
		cmocka_unit_test(every_object_is_managed_and_namespace_comes_first),
		cmocka_unit_test(network_selects_namespaces_only_by_name),
		cmocka_unit_test(calico_keeps_the_blog_rule_last),
		cmocka_unit_test(calico_tenants_open_their_own_door_only),
		cmocka_unit_test(every_judged_kind_is_routed_in_every_profile),
		cmocka_unit_test(pod_security_labels_are_pinned),
		cmocka_unit_test(tenant_role_is_read_only),
		cmocka_unit_test(proxy_may_impersonate_and_list_scoped_collections),
		cmocka_unit_test(webhooks_cannot_select_system_namespaces),
		cmocka_unit_test(quotas_stay_strings_and_gatekeeper_excludes_allowed_tenants),
		cmocka_unit_test(tenant_filter_and_unknown_tenant),
		cmocka_unit_test(callback_error_stops_render),
		cmocka_unit_test(group_prefix_option_overrides_file),
		cmocka_unit_test(profile_names_and_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
