/*
 * t_config.c: the tenants-file loader: defaults, order, lookups, and the
 * pure checks (domains, quantities, names, ranges) on both sides of each
 * boundary.  Whole-file error messages are covered by the bad-case
 * catalogue in test/cases/config/bad (test/e2e/t1000-validate.bats).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <cmocka.h>
#include "kt/config.h"
#include "kt/pss.h"
#include "../../lib/config/internal.h"

#define GLOBAL "global:\n  tenantHostPrefix: tenants.example.org\n  clusterName: demo\n"
#define PLATFORM_NS "  platformNamespaces: [ingress-nginx]\n"
#define POOL                                                                      \
	"nodePools:\n  apps:\n    instances:\n      instanceTypes: [t3a.large]\n" \
	"    costCode: org1\n"

static struct kt_config *load_ok(const char *text)
{
	struct kt_diags d = { 0 };
	struct kt_config *cfg = NULL;
	struct kt_err err = { 0 };
	enum kt_rc rc = kt_config_parse(text, strlen(text), "t.yaml", &cfg, &d, &err);
	size_t i;

	for (i = 0; i < d.n; i++)
		fprintf(stderr, "unexpected: %d:%d: %s\n", d.v[i].line, d.v[i].col, d.v[i].msg);
	assert_int_equal(rc, KT_OK);
	assert_int_equal(d.n, 0);
	assert_non_null(cfg);
	return cfg;
}

/* Loads text, expects KT_E_INVALID (or want_rc), returns the diagnostics. */
static struct kt_diags load_bad(const char *text, enum kt_rc want_rc)
{
	struct kt_diags d = { 0 };
	struct kt_config *cfg = (struct kt_config *)&d; /* must stay untouched */
	struct kt_err err = { 0 };

	assert_int_equal(kt_config_parse(text, strlen(text), "t.yaml", &cfg, &d, &err), want_rc);
	assert_ptr_equal(cfg, (struct kt_config *)&d);
	assert_true(d.n > 0);
	return d;
}

static bool has_diag(const struct kt_diags *d, int line, int col, const char *msg)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->v[i].line == line && d->v[i].col == col && !strcmp(d->v[i].msg, msg))
			return true;
	for (i = 0; i < d->n; i++)
		fprintf(stderr, "have: %d:%d: %s\n", d->v[i].line, d->v[i].col, d->v[i].msg);
	return false;
}

static void defaults_are_filled(void **state)
{
	struct kt_config *cfg = load_ok(GLOBAL POOL "tenants:\n  team-a:\n    nodePool: apps\n");
	const struct kt_tenant *t = &cfg->tenants[0];
	const struct kt_nodepool *p = &cfg->pools[0];

	(void)state;
	assert_string_equal(cfg->path, "t.yaml");
	assert_string_equal(cfg->global.label_domain, "kubetenant.io");
	assert_string_equal(cfg->global.group_prefix, "oidc:");
	assert_int_equal(cfg->global.pod_security.level, KT_PSS_RESTRICTED);
	assert_int_equal(cfg->global.pod_security.minor, KT_PSS_LATEST);
	assert_non_null(strstr(cfg->global.image, "kubetenant/kubetenant:"));
	assert_string_equal(cfg->global.oidc.username_claim, "sub");
	assert_string_equal(cfg->global.oidc.groups_claim, "groups");
	assert_null(cfg->global.oidc.issuer_url);
	assert_null(cfg->global.cluster_hostname);
	assert_null(cfg->global.cluster_dns);
	assert_int_equal(cfg->global.platform_namespaces.n, 0);
	assert_int_equal(p->capacity_types.n, 1);
	assert_string_equal(p->capacity_types.v[0], "on-demand");
	assert_int_equal(p->empty_ttl, -1);
	assert_int_equal(p->ttl, -1);
	assert_int_equal(p->line, 5);
	assert_int_equal(p->col, 3);
	assert_ptr_equal(t->pool, p);
	assert_null(t->operator_group);
	assert_null(t->repo.url);
	assert_false(t->has_limits);
	assert_false(t->allow_daemonsets);
	assert_int_equal(t->pod_security.level, KT_PSS_RESTRICTED);
	assert_int_equal(t->line, 10);
	kt_config_free(cfg);
}

static void values_and_inherited_defaults(void **state)
{
	struct kt_config *cfg = load_ok(
		"global:\n  tenantHostPrefix: tenants.example.org\n  clusterName: demo\n"
		"  podSecurity: baseline:v1.30\n  groupPrefix: ''\n  labelDomain: platform.example.org\n" POOL
		"tenants:\n"
		"  a:\n    nodePool: apps\n"
		"    manifestRepo: {url: 'git@git.example.org:team/app.git'}\n"
		"    limits: {default: {cpu: 500m}}\n    allowDaemonSets: true\n"
		"  b:\n    nodePool: apps\n    podSecurity: privileged\n"
		"    manifestRepo: {url: https://git.example.org/b.git, branch: dev, path: ./k8s,"
		" interval: 5m, secretRef: git-creds}\n");
	const struct kt_tenant *a = kt_config_tenant_by_ns(cfg, "a");
	const struct kt_tenant *b = kt_config_tenant_by_ns(cfg, "b");

	(void)state;
	assert_string_equal(cfg->global.group_prefix, "");
	assert_string_equal(cfg->global.label_domain, "platform.example.org");
	assert_int_equal(a->pod_security.level, KT_PSS_BASELINE);
	assert_int_equal(a->pod_security.minor, 30);
	assert_int_equal(b->pod_security.level, KT_PSS_PRIVILEGED);
	assert_int_equal(b->pod_security.minor, KT_PSS_LATEST);
	/* Flux reads URLs only: the scp form becomes ssh:// */
	assert_string_equal(a->repo.url, "ssh://git@git.example.org/team/app.git");
	assert_string_equal(a->repo.branch, "main");
	assert_string_equal(a->repo.path, "./");
	assert_string_equal(a->repo.interval, "1m");
	assert_null(a->repo.secret_ref);
	assert_string_equal(b->repo.branch, "dev");
	assert_string_equal(b->repo.path, "./k8s");
	assert_string_equal(b->repo.interval, "5m");
	assert_string_equal(b->repo.secret_ref, "git-creds");
	assert_true(a->has_limits);
	assert_true(a->allow_daemonsets);
	kt_config_free(cfg);
}

static void everything_is_sorted(void **state)
{
	struct kt_config *cfg = load_ok(
		GLOBAL
		"  platformNamespaces: [monitoring, ingress-nginx]\n"
		"nodePools:\n"
		"  zeta:\n    instances:\n      instanceTypes: [m5.large, c5.large]\n"
		"      capacityTypes: [spot, on-demand]\n    costCode: z\n"
		"  alpha:\n    instances:\n      instanceTypes: [t3a.large]\n    costCode: a\n"
		"tenants:\n"
		"  team-c:\n    nodePool: zeta\n"
		"    domains: [z.example.org, a.example.org, '*.a.example.org']\n"
		"    quota: {pods: '10', limits.memory: 8Gi, requests.cpu: '4'}\n"
		"  team-a:\n    nodePool: alpha\n    allowFrom: [team-c, team-b]\n"
		"  team-b:\n    nodePool: alpha\n");
	const struct kt_tenant *c;

	(void)state;
	assert_int_equal(cfg->n_pools, 2);
	assert_string_equal(cfg->pools[0].name, "alpha");
	assert_string_equal(cfg->pools[1].name, "zeta");
	assert_string_equal(cfg->pools[1].instance_types.v[0], "c5.large");
	assert_string_equal(cfg->pools[1].capacity_types.v[0], "on-demand");
	assert_int_equal(cfg->n_tenants, 3);
	assert_string_equal(cfg->tenants[0].name, "team-a");
	assert_string_equal(cfg->tenants[1].name, "team-b");
	assert_string_equal(cfg->tenants[2].name, "team-c");
	assert_string_equal(cfg->tenants[0].allow_from.v[0], "team-b");
	assert_string_equal(cfg->global.platform_namespaces.v[0], "ingress-nginx");
	c = &cfg->tenants[2];
	assert_string_equal(c->domains.v[0], "*.a.example.org");
	assert_string_equal(c->domains.v[1], "a.example.org");
	assert_string_equal(c->domains.v[2], "z.example.org");
	assert_int_equal(c->quota.n, 3);
	assert_string_equal(c->quota.v[0].key, "limits.memory");
	assert_string_equal(c->quota.v[0].value, "8Gi");
	assert_string_equal(c->quota.v[2].key, "requests.cpu");
	/* every pool pointer survives the sort */
	assert_ptr_equal(cfg->tenants[0].pool, &cfg->pools[0]);
	assert_ptr_equal(c->pool, &cfg->pools[1]);
	kt_config_free(cfg);
}

static void lookups(void **state)
{
	char text[16384] = GLOBAL POOL "tenants:\n";
	struct kt_config *cfg;
	int i;

	(void)state;
	for (i = 99; i >= 0; i--)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "  t%02d:\n    nodePool: apps\n", i);
	cfg = load_ok(text);
	assert_int_equal(cfg->n_tenants, 100);
	for (i = 0; i < 100; i++) {
		char name[8];

		snprintf(name, sizeof(name), "t%02d", i);
		assert_ptr_equal(kt_config_tenant_by_ns(cfg, name), &cfg->tenants[i]);
	}
	assert_null(kt_config_tenant_by_ns(cfg, "t100"));
	assert_null(kt_config_tenant_by_ns(cfg, ""));
	assert_null(kt_config_tenant_by_ns(cfg, "kube-system"));
	assert_null(kt_config_tenant_by_ns(cfg, NULL));
	assert_null(kt_config_tenant_by_ns(NULL, "t00"));
	assert_ptr_equal(kt_config_pool(cfg, "apps"), &cfg->pools[0]);
	assert_null(kt_config_pool(cfg, "app"));
	kt_config_free(cfg);
}

static void blog_values_file_loads_verbatim(void **state)
{
	struct kt_diags d = { 0 };
	struct kt_config *cfg = NULL;
	struct kt_err err = { 0 };
	const struct kt_tenant *t;
	const struct kt_nodepool *p;

	(void)state;
	assert_int_equal(kt_config_load("test/fixtures/blog-values.yaml", &cfg, &d, &err), KT_OK);
	assert_int_equal(d.n, 0);
	assert_string_equal(cfg->global.cluster_hostname, "cluster.hostname");
	assert_string_equal(cfg->global.tenant_host_prefix, "tenants-example.platform.it.vt.edu");
	assert_string_equal(cfg->global.cluster_name, "vt-common-platform-dvlp-cluster");
	assert_string_equal(cfg->global.cluster_dns, "10.1.0.10");
	p = kt_config_pool(cfg, "sample-team-gitlab-jobs");
	assert_non_null(p);
	assert_int_equal(p->capacity_types.n, 2);
	assert_int_equal(p->empty_ttl, 600);
	assert_int_equal(p->ttl, 604800);
	assert_string_equal(p->cost_code, "org1");
	/* valid, but its network policy lets no ingress controller in: validate says so */
	assert_int_equal(kt_config_lint(cfg, &d), KT_OK);
	assert_int_equal(d.n, 1);
	assert_true(has_diag(&d, 1, 1,
			     "global.platformNamespaces is empty: the network policy of "
			     "every tenant admits only the tenant itself, so the ingress "
			     "controller and monitoring cannot reach any tenant; list their "
			     "namespaces (docs/network.md)"));
	kt_diags_release(&d);
	t = kt_config_tenant_by_ns(cfg, "nis-customer-portal");
	assert_non_null(t);
	assert_ptr_equal(t->pool, kt_config_pool(cfg, "sample-team-apps"));
	assert_string_equal(t->operator_group, "team.devs.platform-access");
	assert_int_equal(t->domains.n, 2);
	assert_string_equal(t->domains.v[1], "sample-team.org.vt.edu");
	kt_config_free(cfg);
}

static void all_problems_sorted_and_no_config(void **state)
{
	struct kt_diags d = load_bad("tenants:\n  b:\n    nodePool: nope\n    bogus: 1\n"
				     "global:\n  clusterName: x\n",
				     KT_E_INVALID);

	(void)state;
	assert_true(d.n >= 3);
	assert_true(has_diag(&d, 3, 15, "node pool 'nope' is not defined in 'nodePools'"));
	assert_true(has_diag(&d, 4, 5, "unknown key 'tenants.b.bogus'"));
	assert_true(has_diag(&d, 5, 1, "missing required key 'global.tenantHostPrefix'"));
	for (size_t i = 1; i < d.n; i++)
		assert_true(d.v[i - 1].line < d.v[i].line ||
			    (d.v[i - 1].line == d.v[i].line && d.v[i - 1].col <= d.v[i].col));
	kt_diags_release(&d);
}

static void yaml_errors_are_parse_errors(void **state)
{
	struct kt_diags d = load_bad("global: [a, b\ntenants: {}\n", KT_E_PARSE);

	(void)state;
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "invalid YAML: "));
	kt_diags_release(&d);
	d = load_bad("a: 1\n\xff\n", KT_E_PARSE);
	assert_true(has_diag(&d, 2, 1, "the tenants file is not UTF-8 text (byte 0xff)"));
	kt_diags_release(&d);
}

static void duplicate_keys_all_reported(void **state)
{
	char text[8192] = GLOBAL POOL "tenants:\n";
	struct kt_diags d;
	int i;

	(void)state;
	/* more than 16 keys takes the sorting path; two repeats of 't03' */
	for (i = 0; i < 40; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "  t%02d:\n    nodePool: apps\n", i == 20 || i == 30 ? 3 : i);
	d = load_bad(text, KT_E_INVALID);
	assert_int_equal(d.n, 2);
	assert_true(has_diag(&d, 50, 3, "duplicate key 't03' (first defined at line 16)"));
	assert_true(has_diag(&d, 70, 3, "duplicate key 't03' (first defined at line 16)"));
	kt_diags_release(&d);
}

static void aliases_are_bounded(void **state)
{
	struct kt_diags d;
	char text[4096] = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
	int i;

	(void)state;
	for (i = 1; i < 9; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", 'a' + i,
			 'a' + i, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1,
			 'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1);
	d = load_bad(text, KT_E_INVALID);
	assert_true(
		has_diag(&d, 1, 1, "the file expands to more than 4194304 nodes through aliases"));
	kt_diags_release(&d);
	/* an alias used where the schema wants it is fine */
	kt_config_free(load_ok(GLOBAL "  platformNamespaces: &ns [monitoring]\n" POOL
				      "tenants:\n  a: &t\n    nodePool: apps\n    allowFrom: [b]\n"
				      "  b:\n    nodePool: apps\n    allowFrom: [a]\n"));
}

static void nesting_is_bounded(void **state)
{
	char text[512] = "global: ";
	struct kt_diags d;
	int i;

	(void)state;
	for (i = 0; i < 40; i++)
		strcat(text, "[");
	d = load_bad(text, KT_E_INVALID);
	assert_true(has_diag(&d, 1, 40, "nesting deeper than 32 levels"));
	kt_diags_release(&d);
}

static void load_file_errors(void **state)
{
	struct kt_config *cfg = NULL;
	struct kt_err err = { 0 };
	char path[] = "/tmp/kt_config_XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(kt_config_load("/nonexistent/tenants.yaml", &cfg, NULL, &err), KT_E_IO);
	assert_non_null(strstr(err.msg, "cannot open"));
	assert_null(cfg);
	/* over the size limit is an input error, not a lack of memory */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)KT_CONFIG_MAX_BYTES + 1), 0);
	close(fd);
	assert_int_equal(kt_config_load(path, &cfg, NULL, &err), KT_E_IO);
	assert_non_null(strstr(err.msg, "is larger than 64 MiB"));
	unlink(path);
}

static void ttl_ranges(void **state)
{
	static const struct {
		const char *key, *value;
		bool ok;
	} cases[] = {
		{ "emptyTtl", "0", true },
		{ "emptyTtl", "-1", false },
		{ "emptyTtl", "2592000", true },
		{ "emptyTtl", "2592001", false },
		{ "ttl", "59", false },
		{ "ttl", "60", true },
		{ "ttl", "31536000", true },
		{ "ttl", "31536001", false },
		{ "ttl", "99999999999999999999", false },
		{ "ttl", "'600'", false },
		{ "ttl", "6e2", false },
		{ "emptyTtl", "+600", true },
		{ "ttl", "1.5", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		struct kt_config *cfg = NULL;
		enum kt_rc rc;

		snprintf(text, sizeof(text),
			 GLOBAL
			 "nodePools:\n  p:\n    instances:\n      instanceTypes: [t3a.large]\n"
			 "      %s: %s\n    costCode: c\n",
			 cases[i].key, cases[i].value);
		rc = kt_config_parse(text, strlen(text), "t", &cfg, NULL, NULL);
		if (rc != (cases[i].ok ? KT_OK : KT_E_INVALID))
			fail_msg("%s: %s", cases[i].key, cases[i].value);
		kt_config_free(cfg);
	}
}

/* nodePools.<pool>.prices: the dashboard's monthly estimate, checked like the rest */
static void pool_prices(void **state)
{
	static const struct {
		const char *value;
		bool ok;
	} cases[] = {
		{ "{t3a.large: 54.90}", true },    { "{t3a.large: \"109\"}", true },
		{ "{t3a.large: 0}", true },        { "{t3a.large: 123456789.1234}", true },
		{ "{t3a.large: -1}", false },      { "{t3a.large: 1e3}", false },
		{ "{t3a.large: 1.23456}", false }, { "{t3a.large: 1234567890}", false },
		{ "{t3a.large: .5}", false },      { "{t3a.large: 5.}", false },
		{ "{t3a.large: [1]}", false },     { "{t3a.large: ~}", false },
		{ "{m5.large: 80}", false }, /* not one of the pool's instance types */
		{ "{NotAType: 1}", false },        { "[54.90]", false },
	};
	struct kt_config *cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		enum kt_rc rc;

		cfg = NULL;
		snprintf(text, sizeof(text),
			 GLOBAL
			 "nodePools:\n  p:\n    instances:\n      instanceTypes: [t3a.large]\n"
			 "    costCode: c\n    prices: %s\n",
			 cases[i].value);
		rc = kt_config_parse(text, strlen(text), "t", &cfg, NULL, NULL);
		if (rc != (cases[i].ok ? KT_OK : KT_E_INVALID))
			fail_msg("prices: %s", cases[i].value);
		kt_config_free(cfg);
	}
	cfg = load_ok(
		GLOBAL
		"  oidc:\n    issuerURL: https://dex.example.org\n    clientID: k\n"
		"    dashboard: true\n"
		"nodePools:\n  p:\n    instances:\n      instanceTypes: [t3a.xlarge, t3a.large]\n"
		"    costCode: c\n    prices: {t3a.xlarge: 109.79, t3a.large: 54.90}\n");
	assert_true(cfg->global.oidc.dashboard);
	assert_int_equal(cfg->pools[0].prices.n, 2);
	assert_string_equal(cfg->pools[0].prices.v[0].key, "t3a.large"); /* sorted */
	assert_string_equal(cfg->pools[0].prices.v[0].value, "54.90");   /* as written */
	kt_config_free(cfg);
	{
		struct kt_diags d =
			load_bad(GLOBAL "  oidc:\n    issuerURL: https://dex.example.org\n"
					"    clientID: k\n    dashboard: yes please\n" POOL,
				 KT_E_INVALID);

		assert_true(has_diag(&d, 7, 16, "'global.oidc.dashboard' must be true or false"));
		kt_diags_release(&d);
	}
}

static void domains(void **state)
{
	static const struct {
		const char *d;
		const char *why; /* NULL: valid */
	} cases[] = {
		{ "app.example.org", NULL },
		{ "*.app.example.org", NULL },
		{ "xn--bcher-kva.example", NULL },
		{ "a-b.c-d.example", NULL },
		{ "1password.com", NULL },
		{ "", "is empty" },
		{ "App.example.org", "must be lowercase" },
		{ "app.example.org.", "must not end with a dot" },
		{ "10.0.0.1", "is an IP address, not a DNS name" },
		{ "::1", "is an IP address, not a DNS name" },
		{ "[::1]", "is an IP address, not a DNS name" },
		{ "1.2.3", "must not end with an all-numeric label" },
		{ "a.*.example.org", "may use '*' only as the whole leftmost label" },
		{ "*a.example.org", "may use '*' only as the whole leftmost label" },
		{ "*.*.example.org", "may use '*' only as the whole leftmost label" },
		{ "*", "must have at least two labels" },
		{ "*.com", "must have at least two labels" },
		{ "localhost", "must have at least two labels" },
		{ "a..example.org", "has an empty label" },
		{ ".example.org", "has an empty label" },
		{ "a_b.example.org", "has a character other than a-z, 0-9, '-' and '.'" },
		{ "-a.example.org", "has a label that starts or ends with '-'" },
		{ "a-.example.org", "has a label that starts or ends with '-'" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org", NULL },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org",
		  "has a label longer than 63 characters" },
	};
	char long_name[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = kt_domain_problem(cases[i].d, true);

		if (!cases[i].why != !why || (why && strcmp(why, cases[i].why)))
			fail_msg("'%s': got '%s', want '%s'", cases[i].d, why ? why : "(valid)",
				 cases[i].why ? cases[i].why : "(valid)");
	}
	assert_string_equal(kt_domain_problem("*.a.example.org", false), "must not contain '*'");
	/* 253 characters is the limit: 63 * 4 + 1 dot short, then one more */
	memset(long_name, 'a', sizeof(long_name));
	for (i = 63; i < 253; i += 64)
		long_name[i] = '.';
	long_name[253] = '\0';
	assert_null(kt_domain_problem(long_name, false));
	long_name[253] = 'a';
	long_name[254] = '\0';
	assert_string_equal(kt_domain_problem(long_name, false), "is longer than 253 characters");
}

static void quantity(const char *s, bool neg, const char *digits, long exp10)
{
	struct kt_quantity q;

	if (!kt_quantity_parse(s, &q))
		fail_msg("'%s' should parse", s);
	if (q.neg != neg || strcmp(q.digits, digits) || q.exp10 != exp10)
		fail_msg("'%s': got %s%se%ld", s, q.neg ? "-" : "", q.digits, q.exp10);
}

static int qcmp(const char *a, const char *b)
{
	struct kt_quantity x, y;

	assert_true(kt_quantity_parse(a, &x));
	assert_true(kt_quantity_parse(b, &y));
	return kt_quantity_cmp(&x, &y);
}

static void quantity_grammar(void **state)
{
	static const char *const bad[] = {
		"",    "+",   "-",    ".",   "e3",  "1e",  "1E+",   "1.2.3", "1 Gi",
		" 1",  "1gi", "1Kb",  "1K",  "1mi", "Gi",  "1Gii",  "1e3.5", "1e99999999999",
		"--1", "1-",  "0x10", "1,5", "∞",   "1iB", "1e3Gi",
	};
	size_t i;

	(void)state;
	quantity("4", false, "4", 0);
	quantity("500m", false, "5", -1);
	quantity("0.5", false, "5", -1);
	quantity(".5", false, "5", -1);
	quantity("5.", false, "5", 0);
	quantity("+1.5k", false, "15", 2);
	quantity("-100u", true, "1", -4);
	quantity("3n", false, "3", -9);
	quantity("1Ki", false, "1024", 0);
	quantity("1.5Gi", false, "1610612736", 0);
	quantity("2Ei", false, "2305843009213693952", 0);
	quantity("1e3", false, "1", 3);
	quantity("1E-3", false, "1", -3);
	quantity("1e+3", false, "1", 3);
	quantity("12E", false, "12", 18);
	quantity("0", false, "", 0);
	quantity("-0.000", false, "", 0);
	quantity("007", false, "7", 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kt_quantity q;

		if (kt_quantity_parse(bad[i], &q))
			fail_msg("'%s' should not parse", bad[i]);
	}
	/* exact comparison, across suffixes */
	assert_int_equal(qcmp("1Gi", "1073741824"), 0);
	assert_int_equal(qcmp("100m", "0.1"), 0);
	assert_int_equal(qcmp("1k", "1e3"), 0);
	assert_int_equal(qcmp("1Ki", "1k"), 1);
	assert_int_equal(qcmp("1500M", "1.5Gi"), -1);
	assert_int_equal(qcmp("-1", "0"), -1);
	assert_int_equal(qcmp("-2", "-1"), -1);
	assert_int_equal(qcmp("0", "-0"), 0);
	assert_int_equal(qcmp("999m", "1"), -1);
	assert_int_equal(qcmp("1.0000001", "1"), 1);
	{
		struct kt_quantity q;

		assert_true(kt_quantity_parse("1.5", &q));
		assert_false(kt_quantity_is_integer(&q));
		assert_true(kt_quantity_parse("2k", &q));
		assert_true(kt_quantity_is_integer(&q));
		assert_true(kt_quantity_parse("100m", &q));
		assert_false(kt_quantity_is_integer(&q));
	}
}

static void resource_names(void **state)
{
	(void)state;
	assert_null(kt_quota_name_problem("requests.cpu"));
	assert_null(kt_quota_name_problem("pods"));
	assert_null(kt_quota_name_problem("count/deployments.apps"));
	assert_null(kt_quota_name_problem("requests.nvidia.com/gpu"));
	assert_null(kt_quota_name_problem("gold.storageclass.storage.k8s.io/requests.storage"));
	assert_null(kt_quota_name_problem("requests.hugepages-2Mi"));
	assert_non_null(kt_quota_name_problem("cpus"));
	assert_non_null(kt_quota_name_problem("requests.gpu"));
	assert_non_null(kt_quota_name_problem("count/"));
	assert_non_null(kt_quota_name_problem("hugepages-x"));
	assert_string_equal(kt_quota_suggest("cpus"), "cpu");
	assert_string_equal(kt_quota_suggest("request.cpu"), "requests.cpu");
	assert_true(kt_quota_is_count("pods"));
	assert_true(kt_quota_is_count("count/jobs.batch"));
	assert_false(kt_quota_is_count("requests.memory"));
	assert_null(kt_limit_name_problem("memory"));
	assert_null(kt_limit_name_problem("nvidia.com/gpu"));
	assert_non_null(kt_limit_name_problem("requests.cpu"));
	assert_non_null(kt_limit_name_problem("pods"));
}

static void names_and_formats(void **state)
{
	(void)state;
	assert_true(kt_is_dns_label("team-a"));
	assert_true(kt_is_dns_label("0team"));
	assert_false(kt_is_dns_label("Team"));
	assert_false(kt_is_dns_label("team-"));
	assert_false(kt_is_dns_label("a.b"));
	assert_false(kt_is_dns_label(""));
	assert_true(
		kt_is_dns_label("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_false(kt_is_dns_label(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_true(kt_is_dns_subdomain("a.b-c.d"));
	assert_false(kt_is_dns_subdomain("a..b"));
	assert_true(kt_is_label_value("Org_1.x"));
	assert_false(kt_is_label_value("org 1"));
	assert_false(kt_is_label_value("_org"));
	assert_true(kt_is_git_url("https://git.example.org/team/app.git"));
	assert_true(kt_is_git_url("ssh://git@git.example.org:2222/team/app.git"));
	assert_true(kt_is_git_url("git@github.com:team/app.git"));
	assert_false(kt_is_git_url("http://git.example.org/app.git"));
	assert_false(kt_is_git_url("https://git.example.org"));
	assert_false(kt_is_git_url("git@github.com:/abs"));
	assert_false(kt_is_git_url("file:///etc/passwd"));
	assert_false(kt_is_git_url("https://git.example.org/a b"));
	assert_true(kt_is_https_url("https://dex.example.org"));
	assert_true(kt_is_https_url("https://dex.example.org:8443/dex"));
	assert_false(kt_is_https_url("http://dex.example.org"));
	assert_false(kt_is_https_url("https://user@dex.example.org"));
	assert_true(kt_is_git_ref("main"));
	assert_true(kt_is_git_ref("release/1.2"));
	assert_false(kt_is_git_ref("a..b"));
	assert_false(kt_is_git_ref("-x"));
	assert_false(kt_is_git_ref("x.lock"));
	assert_false(kt_is_git_ref("a b"));
	assert_true(kt_is_duration("1m"));
	assert_true(kt_is_duration("1h30m"));
	assert_true(kt_is_duration("1.5s"));
	assert_true(kt_is_duration("500ms"));
	assert_false(kt_is_duration("0s"));
	assert_false(kt_is_duration("1d"));
	assert_false(kt_is_duration("m"));
	assert_false(kt_is_duration("-1m"));
	assert_true(kt_is_repo_path("./deploy"));
	assert_true(kt_is_repo_path("."));
	assert_false(kt_is_repo_path("/etc"));
	assert_false(kt_is_repo_path("a/../../b"));
	assert_true(kt_is_ec2_type("t3a.large"));
	assert_true(kt_is_ec2_type("u-6tb1.metal"));
	assert_false(kt_is_ec2_type("t3a"));
	assert_false(kt_is_ec2_type("T3a.large"));
	assert_false(kt_is_ec2_type("t3a.large.x"));
	assert_true(kt_is_registry("ghcr.io/acme"));
	assert_true(kt_is_registry("registry.example.org:5000"));
	assert_true(kt_is_registry("localhost:5000/a/b_c"));
	assert_false(kt_is_registry("https://ghcr.io"));
	assert_false(kt_is_registry("ghcr.io/Acme"));
	assert_false(kt_is_registry("ghcr.io/acme/"));
	assert_false(kt_is_registry("ghcr.io:99999"));
	assert_true(kt_is_ip_literal("10.1.0.10"));
	assert_true(kt_is_ip_literal("fd00::10"));
	assert_false(kt_is_ip_literal("10.1.0"));
}

static void pod_security_policies(void **state)
{
	static const char *const bad[] = {
		"",
		"strict",
		"Restricted",
		"restricted:",
		"restricted:v2.0",
		"restricted:1.30",
		"restricted:v1.",
		"restricted:v1.030",
		"restricted:v1.x",
		"restricted:v1.1000",
		"baseline:latest:x",
	};
	struct kt_pss_policy p;
	struct kt_err err = { 0 };
	size_t i;
	char s[32];

	(void)state;
	assert_int_equal(kt_pss_policy_parse("baseline", &p, &err), KT_OK);
	assert_int_equal(p.level, KT_PSS_BASELINE);
	assert_int_equal(p.minor, KT_PSS_LATEST);
	assert_int_equal(kt_pss_policy_parse("restricted:v1.0", &p, &err), KT_OK);
	assert_int_equal(p.minor, 0);
	assert_int_equal(kt_pss_policy_parse("privileged:latest", &p, &err), KT_OK);
	assert_int_equal(p.level, KT_PSS_PRIVILEGED);
	snprintf(s, sizeof(s), "restricted:v1.%d", KT_PSS_LATEST_MINOR);
	assert_int_equal(kt_pss_policy_parse(s, &p, &err), KT_OK);
	assert_int_equal(p.minor, KT_PSS_LATEST_MINOR);
	snprintf(s, sizeof(s), "restricted:v1.%d", KT_PSS_LATEST_MINOR + 1);
	assert_int_equal(kt_pss_policy_parse(s, &p, &err), KT_E_INVALID);
	assert_non_null(strstr(err.msg, "newer than"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (kt_pss_policy_parse(bad[i], &p, &err) != KT_E_INVALID)
			fail_msg("'%s' should be refused", bad[i]);
	assert_string_equal(kt_pss_level_name(KT_PSS_BASELINE), "baseline");
	assert_string_equal(kt_pss_level_name(KT_PSS_RESTRICTED), "restricted");
	assert_string_equal(kt_pss_level_name(KT_PSS_PRIVILEGED), "privileged");
}

static void suggestions(void **state)
{
	static const char *const keys[] = { "nodePool", "operatorEdGroup", "domains", "quota" };

	(void)state;
	assert_int_equal(kt_edit_distance("spto", "spot", 3), 1);
	assert_int_equal(kt_edit_distance("nodepool", "nodePool", 3), 0);
	assert_int_equal(kt_edit_distance("kitten", "sitting", 5), 3);
	assert_int_equal(kt_edit_distance("a", "abcdefgh", 2), 3);
	assert_string_equal(kt_suggest("nodepool", keys, 4), "nodePool");
	assert_string_equal(kt_suggest("domain", keys, 4), "domains");
	assert_string_equal(kt_suggest("operatorGroup", keys, 4), "operatorEdGroup");
	assert_null(kt_suggest("zzz", keys, 4));
	assert_null(kt_suggest("qq", keys, 4));
}

/* scalars with runs of '' are decoded by us (libfyaml 0.7.12 leaks on them) */
static void single_quoted_runs(void **state)
{
	struct kt_config *cfg = load_ok(
		GLOBAL POOL
		"tenants:\n  a:\n    nodePool: apps\n"
		"    operatorEdGroup: 'it''''s'\n"
		"    readOnlyGroups: ['x''''''''y', 'one''''\n      two  \n      three']\n");
	const struct kt_tenant *t = &cfg->tenants[0];

	(void)state;
	assert_string_equal(t->operator_group, "it''s");
	assert_int_equal(t->read_groups.n, 2);
	assert_string_equal(t->read_groups.v[0], "one'' two three");
	assert_string_equal(t->read_groups.v[1], "x''''y");
	kt_config_free(cfg);
}

static void lint_findings(void **state)
{
	struct kt_config *cfg = load_ok(
		GLOBAL POOL "  spare:\n    instances:\n      instanceTypes: [t3a.large]\n"
			    "    costCode: org1\n"
			    "tenants:\n  a:\n    nodePool: apps\n    operatorEdGroup: devs\n"
			    "  b:\n    nodePool: apps\n    podSecurity: privileged\n");
	struct kt_diags w = { 0 };

	(void)state;
	assert_int_equal(kt_config_lint(cfg, &w), KT_OK);
	assert_int_equal(w.n, 4);
	assert_true(has_diag(&w, 1, 1,
			     "global.platformNamespaces is empty: the network policy of "
			     "every tenant admits only the tenant itself, so the ingress "
			     "controller and monitoring cannot reach any tenant; list their "
			     "namespaces (docs/network.md)"));
	assert_true(has_diag(&w, 9, 3, "node pool 'spare' is not used by any tenant"));
	assert_true(has_diag(&w, 17, 3,
			     "tenant 'b' has no 'operatorEdGroup': nobody can read its "
			     "namespace"));
	assert_true(has_diag(&w, 17, 3,
			     "tenant 'b' runs with pod security 'privileged': its pods "
			     "may take over their nodes"));
	kt_diags_release(&w);
	kt_config_free(cfg);
}

static bool has_sa(const struct kt_config *cfg, const char *sa)
{
	const struct kt_strv *v = &cfg->global.platform.service_accounts;

	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], sa))
			return true;
	return false;
}

/* Flux, cert-manager and the cloud controllers are platform identities unless the key is set. */
static void platform_service_accounts_default(void **state)
{
	struct kt_config *cfg = load_ok(GLOBAL POOL "tenants:\n  a:\n    nodePool: apps\n");

	(void)state;
	assert_true(cfg->global.platform.default_service_accounts);
	assert_int_equal(cfg->global.platform.service_accounts.n, 10);
	assert_true(has_sa(cfg, "flux-system:kustomize-controller"));
	assert_true(has_sa(cfg, "flux-system:helm-controller"));
	assert_true(has_sa(cfg, "flux-system:source-controller"));
	assert_true(has_sa(cfg, "cert-manager:cert-manager"));
	assert_true(has_sa(cfg, "kube-system:service-controller"));
	/* sorted like every list */
	for (size_t i = 1; i < cfg->global.platform.service_accounts.n; i++)
		assert_true(strcmp(cfg->global.platform.service_accounts.v[i - 1],
				   cfg->global.platform.service_accounts.v[i]) < 0);
	assert_int_equal(cfg->global.default_priority_classes.n, 0);
	kt_config_free(cfg);
	/* setting the key replaces the list, also with an empty one; users alone do not */
	cfg = load_ok(GLOBAL "  platformIdentities:\n    serviceAccounts: [\"ops:deployer\"]\n" POOL
			     "tenants:\n  a:\n    nodePool: apps\n");
	assert_false(cfg->global.platform.default_service_accounts);
	assert_int_equal(cfg->global.platform.service_accounts.n, 1);
	assert_false(has_sa(cfg, "flux-system:kustomize-controller"));
	kt_config_free(cfg);
	cfg = load_ok(GLOBAL "  platformIdentities:\n    serviceAccounts: []\n" POOL
			     "tenants:\n  a:\n    nodePool: apps\n");
	assert_int_equal(cfg->global.platform.service_accounts.n, 0);
	kt_config_free(cfg);
	cfg = load_ok(GLOBAL "  platformIdentities:\n    users: [root@example.org]\n"
			     "  defaultPriorityClasses: [cluster-default]\n" POOL
			     "tenants:\n  a:\n    nodePool: apps\n");
	assert_true(has_sa(cfg, "flux-system:kustomize-controller"));
	assert_int_equal(cfg->global.default_priority_classes.n, 1);
	assert_string_equal(cfg->global.default_priority_classes.v[0], "cluster-default");
	kt_config_free(cfg);
}

/* A manifestRepo without Flux's controllers as platform identities cannot sync. */
static void lint_flux_identities(void **state)
{
	const char *repo = "    operatorEdGroup: devs\n    manifestRepo:\n"
			   "      url: https://git.example.org/a.git\n";
	struct kt_diags w = { 0 };
	struct kt_config *cfg;
	char text[1024];

	(void)state;
	/* platformNamespaces set: that warning is not this test's */
	snprintf(text, sizeof(text),
		 GLOBAL PLATFORM_NS POOL "tenants:\n  a:\n    nodePool: apps\n%s", repo);
	cfg = load_ok(text);
	assert_int_equal(kt_config_lint(cfg, &w), KT_OK);
	assert_int_equal(w.n, 0);
	kt_config_free(cfg);
	snprintf(text, sizeof(text),
		 GLOBAL PLATFORM_NS "  platformIdentities:\n    serviceAccounts: "
				    "[\"flux-system:source-controller\"]\n" POOL "tenants:\n  a:\n"
				    "    nodePool: apps\n%s",
		 repo);
	cfg = load_ok(text);
	assert_int_equal(kt_config_lint(cfg, &w), KT_OK);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.v[0].msg, "tenant 'a' uses manifestRepo but "
					   "'flux-system:kustomize-controller' is not in "
					   "global.platformIdentities.serviceAccounts"));
	assert_int_equal(w.v[0].line, 13);
	kt_diags_release(&w);
	kt_config_free(cfg);
}

/* A self-signed EC CA (CN=Example IdP CA), as global.oidc.issuerCA and proxyCA carry. */
#define CA_PEM                                                               \
	"-----BEGIN CERTIFICATE-----\n"                                      \
	"MIIBiTCCAS+gAwIBAgIUSMh9RB/8favyWVEDrFbtZQDtI74wCgYIKoZIzj0EAwIw\n" \
	"GTEXMBUGA1UEAwwORXhhbXBsZSBJZFAgQ0EwIBcNMjYxMjA3MjEzNzAzWhgPMjEy\n" \
	"NjExMTMyMTM3MDNaMBkxFzAVBgNVBAMMDkV4YW1wbGUgSWRQIENBMFkwEwYHKoZI\n" \
	"zj0CAQYIKoZIzj0DAQcDQgAEAprCOKsMu6TeUYMzOmikMajer/GZ2nAjDyTKQtXR\n" \
	"MpwauQ8LEc0RBHeJonSw24oZTA6Xtu9he4FeRa9AjNhjgaNTMFEwHQYDVR0OBBYE\n" \
	"FB/yV8yTaA3JOEK3mM+K0cIpUvAwMB8GA1UdIwQYMBaAFB/yV8yTaA3JOEK3mM+K\n" \
	"0cIpUvAwMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAPiGhmLm\n" \
	"shLBX9x+XYpLYbYF+2E1sy+FKeBk0CUkMVQaAiBDUjULliVG/T4AYZrNVMJkP/JY\n" \
	"4d0pAYlBLZ85HhyWqw==\n"                                             \
	"-----END CERTIFICATE-----\n"

static void pem_certificates(void **state)
{
	char two[2048], big[65 * sizeof(CA_PEM)];
	size_t i;

	(void)state;
	assert_null(kt_pem_problem(CA_PEM, strlen(CA_PEM)));
	/* a chain, CRLF line ends and blank lines around it */
	snprintf(two, sizeof(two), "\n%s\r\n%s\n", CA_PEM, CA_PEM);
	assert_null(kt_pem_problem(two, strlen(two)));
	assert_string_equal(kt_pem_problem("", 0), "no '-----BEGIN CERTIFICATE-----' line");
	assert_string_equal(kt_pem_problem("MIIB", 4), "no '-----BEGIN CERTIFICATE-----' line");
	/* a key pasted next to the certificate is refused, not ignored */
	snprintf(two, sizeof(two),
		 "%s-----BEGIN EC PRIVATE KEY-----\nMHcC\n"
		 "-----END EC PRIVATE KEY-----\n",
		 CA_PEM);
	assert_string_equal(kt_pem_problem(two, strlen(two)),
			    "it holds a PEM block that is not a CERTIFICATE");
	/* a truncated block, a block with no END, a bit flipped in the base64 */
	assert_non_null(kt_pem_problem(CA_PEM, strlen(CA_PEM) / 2));
	snprintf(two, sizeof(two), "%s", CA_PEM);
	two[100] = two[100] == 'A' ? 'B' : 'A';
	assert_string_equal(kt_pem_problem(two, strlen(two)),
			    "a certificate does not parse (bad base64 or DER)");
	assert_string_equal(kt_pem_problem("-----BEGIN CERTIFICATE-----\x01", 28),
			    "it holds a character that is not printable ASCII");
	/* bounded: 64 certificates pass, 65 do not */
	big[0] = '\0';
	for (i = 0; i < 64; i++)
		strcat(big, CA_PEM);
	assert_null(kt_pem_problem(big, strlen(big)));
	strcat(big, CA_PEM);
	assert_string_equal(kt_pem_problem(big, strlen(big)), "it holds more than 64 certificates");
}

static void oidc_identity_keys(void **state)
{
	struct kt_config *cfg;

	(void)state;
	cfg = load_ok(GLOBAL "  oidc:\n    issuerURL: https://dex.example.org\n"
			     "    clientID: kubectl\n");
	assert_string_equal(cfg->global.oidc.dashboard_client_id, "kubetenant-dashboard");
	assert_int_equal(cfg->global.oidc.exposure, KT_EXPOSE_NONE);
	assert_string_equal(cfg->global.oidc.ingress_class, "nginx");
	assert_null(cfg->global.oidc.gateway_class);
	assert_string_equal(cfg->global.oidc.issuer_kind, "Issuer");
	assert_string_equal(cfg->global.oidc.issuer_name, "kubetenant-ca");
	assert_null(cfg->global.oidc.issuer_ca);
	assert_null(cfg->global.oidc.proxy_ca);
	kt_config_free(cfg);
	cfg = load_ok(GLOBAL "  oidc:\n    issuerURL: https://dex.example.org\n"
			     "    clientID: kubectl\n    proxyHostname: kube.example.org\n"
			     "    exposure: gateway\n    gatewayClassName: cilium\n"
			     "    certIssuer: { kind: ClusterIssuer, name: letsencrypt }\n"
			     "    issuerCA: \""
			     "-----BEGIN CERTIFICATE-----\\n"
			     "MIIBiTCCAS+gAwIBAgIUSMh9RB/8favyWVEDrFbtZQDtI74wCgYIKoZIzj0EAwIw\\n"
			     "GTEXMBUGA1UEAwwORXhhbXBsZSBJZFAgQ0EwIBcNMjYxMjA3MjEzNzAzWhgPMjEy\\n"
			     "NjExMTMyMTM3MDNaMBkxFzAVBgNVBAMMDkV4YW1wbGUgSWRQIENBMFkwEwYHKoZI\\n"
			     "zj0CAQYIKoZIzj0DAQcDQgAEAprCOKsMu6TeUYMzOmikMajer/GZ2nAjDyTKQtXR\\n"
			     "MpwauQ8LEc0RBHeJonSw24oZTA6Xtu9he4FeRa9AjNhjgaNTMFEwHQYDVR0OBBYE\\n"
			     "FB/yV8yTaA3JOEK3mM+K0cIpUvAwMB8GA1UdIwQYMBaAFB/yV8yTaA3JOEK3mM+K\\n"
			     "0cIpUvAwMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAPiGhmLm\\n"
			     "shLBX9x+XYpLYbYF+2E1sy+FKeBk0CUkMVQaAiBDUjULliVG/T4AYZrNVMJkP/JY\\n"
			     "4d0pAYlBLZ85HhyWqw==\\n-----END CERTIFICATE-----\\n\"\n");
	assert_int_equal(cfg->global.oidc.exposure, KT_EXPOSE_GATEWAY);
	assert_string_equal(cfg->global.oidc.gateway_class, "cilium");
	assert_string_equal(cfg->global.oidc.issuer_kind, "ClusterIssuer");
	assert_string_equal(cfg->global.oidc.issuer_name, "letsencrypt");
	assert_string_equal(cfg->global.oidc.issuer_ca, CA_PEM);
	kt_config_free(cfg);
}

/* Lints the text's config and returns how many findings mention 'proxyCA'. */
static size_t proxy_ca_findings(const char *oidc)
{
	struct kt_diags w = { 0 };
	struct kt_config *cfg;
	char text[2048];
	size_t i, n = 0;

	snprintf(text, sizeof(text),
		 GLOBAL "  oidc:\n    issuerURL: https://dex.example.org\n"
			"    clientID: kubectl\n    proxyHostname: kube.example.org\n%s",
		 oidc);
	cfg = load_ok(text);
	assert_int_equal(kt_config_lint(cfg, &w), KT_OK);
	for (i = 0; i < w.n; i++)
		if (strstr(w.v[i].msg, "no global.oidc.proxyCA publishes that CA"))
			n++;
	kt_diags_release(&w);
	kt_config_free(cfg);
	return n;
}

static void lint_proxy_trust(void **state)
{
	(void)state;
	/* the private kubetenant-ca reaches kubectl: gateway, or ingress with the default issuer */
	assert_int_equal(proxy_ca_findings("    exposure: gateway\n    gatewayClassName: c\n"), 1);
	assert_int_equal(proxy_ca_findings("    exposure: ingress\n"), 1);
	assert_int_equal(proxy_ca_findings("    exposure: ingress\n    certIssuer: "
					   "{ kind: Issuer, name: kubetenant-ca }\n"),
			 1);
	/* a public issuer, proxyCA set, or nothing exposed: nothing to say */
	assert_int_equal(proxy_ca_findings("    exposure: ingress\n    certIssuer: "
					   "{ kind: ClusterIssuer, name: letsencrypt }\n"),
			 0);
	assert_int_equal(proxy_ca_findings("    exposure: ingress\n    certIssuer: "
					   "{ kind: ClusterIssuer, name: kubetenant-ca }\n"),
			 0);
	assert_int_equal(proxy_ca_findings(""), 0);
	assert_int_equal(
		proxy_ca_findings(
			"    exposure: gateway\n    gatewayClassName: c\n"
			"    proxyCA: \""
			"-----BEGIN CERTIFICATE-----\\n"
			"MIIBiTCCAS+gAwIBAgIUSMh9RB/8favyWVEDrFbtZQDtI74wCgYIKoZIzj0EAwIw\\n"
			"GTEXMBUGA1UEAwwORXhhbXBsZSBJZFAgQ0EwIBcNMjYxMjA3MjEzNzAzWhgPMjEy\\n"
			"NjExMTMyMTM3MDNaMBkxFzAVBgNVBAMMDkV4YW1wbGUgSWRQIENBMFkwEwYHKoZI\\n"
			"zj0CAQYIKoZIzj0DAQcDQgAEAprCOKsMu6TeUYMzOmikMajer/GZ2nAjDyTKQtXR\\n"
			"MpwauQ8LEc0RBHeJonSw24oZTA6Xtu9he4FeRa9AjNhjgaNTMFEwHQYDVR0OBBYE\\n"
			"FB/yV8yTaA3JOEK3mM+K0cIpUvAwMB8GA1UdIwQYMBaAFB/yV8yTaA3JOEK3mM+K\\n"
			"0cIpUvAwMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAPiGhmLm\\n"
			"shLBX9x+XYpLYbYF+2E1sy+FKeBk0CUkMVQaAiBDUjULliVG/T4AYZrNVMJkP/JY\\n"
			"4d0pAYlBLZ85HhyWqw==\\n-----END CERTIFICATE-----\\n\"\n"),
		0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(platform_service_accounts_default),
		cmocka_unit_test(lint_flux_identities),
		cmocka_unit_test(pem_certificates),
		cmocka_unit_test(oidc_identity_keys),
		cmocka_unit_test(lint_proxy_trust),
		cmocka_unit_test(defaults_are_filled),
		cmocka_unit_test(values_and_inherited_defaults),
		cmocka_unit_test(everything_is_sorted),
		cmocka_unit_test(lookups),
		cmocka_unit_test(blog_values_file_loads_verbatim),
		cmocka_unit_test(all_problems_sorted_and_no_config),
		cmocka_unit_test(yaml_errors_are_parse_errors),
		cmocka_unit_test(duplicate_keys_all_reported),
		cmocka_unit_test(aliases_are_bounded),
		cmocka_unit_test(nesting_is_bounded),
		cmocka_unit_test(load_file_errors),
		cmocka_unit_test(ttl_ranges),
		cmocka_unit_test(pool_prices),
		cmocka_unit_test(domains),
		cmocka_unit_test(quantity_grammar),
		cmocka_unit_test(resource_names),
		cmocka_unit_test(names_and_formats),
		cmocka_unit_test(pod_security_policies),
		cmocka_unit_test(suggestions),
		cmocka_unit_test(single_quoted_runs),
		cmocka_unit_test(lint_findings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
