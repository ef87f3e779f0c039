/*
 * t_policy_pss.c: the policy engine gives exactly the Pod Security verdicts
 * of the Pod Security engine, on every official fixture
 * ($KT_SHARED/conformance/pod-security/testdata/<level>/<version>/<pass|fail>).
 *
 * The engine hands kt_pss_evaluate() the pod it judges (see workloads.c),
 * after its own rules have looked at the request; this test proves the
 * wiring: for each fixture, the set of pod-security.<check> denials of
 * kt_policy_decide() for a tenant at that level and version must equal the
 * checks kt_pss_evaluate() reports on the whole pod, and must be empty for
 * "pass" and non-empty for "fail" fixtures.
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
#include "kt/buf.h"
#include "kt/config.h"
#include "kt/manifest.h"
#include "kt/policy.h"
#include "kt/pss.h"

#define FIXTURES_EXPECTED 4537

struct group {
	char name[64]; /* "restricted/v1.37/pass" */
	char dir[4200];
	char tenant[64];
	struct kt_pss_policy pol;
	bool pass;
};

static struct kt_config *cfg;
static struct group *groups;
static size_t n_groups, fixtures_seen;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One tenant per level and version: "baseline-v1-30", "restricted-v1-5". */
static void build_config(void)
{
	struct kt_buf y = KT_BUF_INIT;
	struct kt_diags diags = { 0 };
	struct kt_err err = { 0 };

	kt_buf_adds(&y, "global: {tenantHostPrefix: t.example.org, clusterName: c}\n"
			"nodePools: {p: {instances: {instanceTypes: [t3a.large]}, costCode: x}}\n"
			"tenants:\n");
	for (int l = 0; l < 2; l++)
		for (int v = 0; v <= KT_PSS_LATEST_MINOR; v++)
			kt_buf_addf(&y, "  %s-v1-%d: {nodePool: p, podSecurity: \"%s:v1.%d\"}\n",
				    l ? "restricted" : "baseline", v, l ? "restricted" : "baseline",
				    v);
	if (kt_config_parse(y.buf, y.len, "pss-tenants", &cfg, &diags, &err)) {
		fprintf(stderr, "tenants: %s %s\n", err.msg, diags.n ? diags.v[0].msg : "");
		exit(1);
	}
	kt_diags_release(&diags);
	kt_buf_release(&y);
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

static void find_groups(void)
{
	const char *shared = getenv("KT_SHARED");
	static const char *const levels[] = { "baseline", "restricted" };
	char base[4096];

	snprintf(base, sizeof(base), "%s/conformance/pod-security/testdata",
		 shared ? shared : "../shared");
	for (int l = 0; l < 2; l++)
		for (int v = 0; v <= KT_PSS_LATEST_MINOR; v++)
			for (int p = 0; p < 2; p++) {
				struct group *g;

				groups = grow(groups, n_groups + 1, sizeof(*groups));
				g = &groups[n_groups++];
				snprintf(g->name, sizeof(g->name), "%s/v1.%d/%s", levels[l], v,
					 p ? "pass" : "fail");
				snprintf(g->dir, sizeof(g->dir), "%s/%s", base, g->name);
				snprintf(g->tenant, sizeof(g->tenant), "%s-v1-%d", levels[l], v);
				g->pol.level = l ? KT_PSS_RESTRICTED : KT_PSS_BASELINE;
				g->pol.minor = v;
				g->pass = p;
			}
}

/* Sorted, comma-joined check ids. */
static void join(const char **v, size_t n, char *buf, size_t size)
{
	size_t o = 0;

	qsort(v, n, sizeof(*v), cmp_str);
	buf[0] = '\0';
	for (size_t i = 0; i < n && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? "," : "", v[i]);
}

static bool judge_fixture(const struct group *g, const char *path)
{
	struct kt_manifest_set set = KT_MANIFEST_SET_INIT;
	struct kt_err err = { 0 };
	struct kt_manifest_pod pod;
	struct kt_pss_result res = { 0 };
	struct kt_policy_request req = { .operation = "CREATE", .ns = g->tenant };
	struct kt_decision d;
	const char *a[64], *b[64];
	char want[1024], got[1024];
	size_t na = 0, nb = 0, i;
	bool ok;

	if (kt_manifest_load_file(&set, path, &err) || set.n != 1 ||
	    kt_manifest_pod_spec(set.objs[0].obj, &pod, &err) || !pod.spec) {
		print_message("%s: cannot load: %s\n", path, err.msg);
		kt_manifest_set_release(&set);
		return false;
	}
	assert_int_equal(kt_pss_evaluate(&g->pol, pod.metadata, pod.spec, &res), KT_OK);
	for (i = 0; i < res.n && na < 64; i++)
		a[na++] = res.v[i].check;
	req.object = set.objs[0].obj;
	assert_int_equal(kt_policy_decide(cfg, &req, KT_POLICY_MUTATE, &d, &err), KT_OK);
	for (i = 0; i < d.n_denials && nb < 64; i++)
		if (!strncmp(d.denials[i].rule, "pod-security.", 13))
			b[nb++] = d.denials[i].rule + 13;
	join(a, na, want, sizeof(want));
	join(b, nb, got, sizeof(got));
	ok = !strcmp(want, got) && (g->pass ? !na : na > 0);
	if (!ok)
		print_message("%s: engine [%s], Pod Security engine on the whole pod [%s]\n", path,
			      got, want);
	kt_decision_release(&d);
	kt_pss_result_release(&res);
	kt_manifest_set_release(&set);
	return ok;
}

static void run_group(void **state)
{
	const struct group *g = *state;
	struct dirent *de;
	char **names = NULL, path[8500];
	size_t n = 0, i, bad = 0;
	DIR *dir = opendir(g->dir);

	if (!dir)
		fail_msg("cannot open %s (set KT_SHARED)", g->dir);
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.') {
			names = grow(names, n + 1, sizeof(*names));
			names[n++] = strdup(de->d_name);
		}
	closedir(dir);
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", g->dir, names[i]);
		bad += !judge_fixture(g, path);
		free(names[i]);
	}
	free(names);
	fixtures_seen += n;
	if (bad)
		fail_msg("%zu of %zu fixtures disagree in %s", bad, n, g->name);
}

/* The last test: every fixture the folder ships was seen. */
static void all_fixtures_seen(void **state)
{
	(void)state;
	assert_int_equal(fixtures_seen, FIXTURES_EXPECTED);
}

int main(void)
{
	struct CMUnitTest *tests;
	size_t i;
	int rc;

	build_config();
	find_groups();
	tests = calloc(n_groups + 1, sizeof(*tests));
	for (i = 0; i < n_groups; i++) {
		tests[i].name = groups[i].name;
		tests[i].test_func = run_group;
		tests[i].initial_state = &groups[i];
	}
	tests[n_groups].name = "all fixtures seen";
	tests[n_groups].test_func = all_fixtures_seen;
	rc = _cmocka_run_group_tests("policy pod security", tests, n_groups + 1, NULL, NULL);
	free(tests);
	free(groups);
	kt_config_free(cfg);
	return rc;
}
