/*
 * validate.c: the checks that need the whole file: references between
 * tenants and node pools, namespaces that tenants must never get, and who
 * owns which hostname.  Plus kt_config_lint(), the advisory findings.
 *
 * The hostname rule, which makes collisions between tenants impossible by
 * construction: no two owners (tenants, or the platform's own hostnames)
 * may hold names where one equals or lies under the other, wildcards
 * counting as their base name ("*.app.example.org" as app.example.org).
 * Checked in O(n log n): names are keyed by their labels in reverse order
 * ("org.example.app"), sorted so that every name directly follows its
 * ancestors, and swept once with a stack of the current ancestor chain
 * (at most 127 labels deep, plus equal names).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define diag kt_diag_at

static int tenant_ptr_cmp(const void *x, const void *y)
{
	return strcmp((*(const struct kt_tenant *const *)x)->name,
		      (*(const struct kt_tenant *const *)y)->name);
}

static int pool_cmp(const void *x, const void *y)
{
	return strcmp(((const struct kt_nodepool *)x)->name, ((const struct kt_nodepool *)y)->name);
}

long kt_loader_tenant(const struct kt_loader *ld, const char *name)
{
	size_t lo = 0, hi = ld->cfg->n_tenants;

	if (!ld->by_name)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, ld->by_name[mid]->name);

		if (!c)
			return (long)(ld->by_name[mid] - ld->cfg->tenants);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/*
 * Node pools are sorted in place (nothing refers to them by position yet);
 * tenants through pointers, as their marks are parallel to the array.
 */
static bool build_indexes(struct kt_loader *ld)
{
	struct kt_config *cfg = ld->cfg;
	size_t i;

	ld->by_name = kt_arena_alloc(&ld->arena, (cfg->n_tenants + 1) * sizeof(*ld->by_name));
	if (!ld->by_name)
		return false;
	for (i = 0; i < cfg->n_tenants; i++)
		ld->by_name[i] = &cfg->tenants[i];
	qsort(ld->by_name, cfg->n_tenants, sizeof(*ld->by_name), tenant_ptr_cmp);
	if (cfg->n_pools > 1)
		qsort(cfg->pools, cfg->n_pools, sizeof(*cfg->pools), pool_cmp);
	return true;
}

/* Suggestions cost an edit distance per candidate: only for modest files. */
#define SUGGEST_MAX_CANDIDATES 2000

static const char *suggest_pool(struct kt_loader *ld, const char *name)
{
	const char **names;
	const char *best;
	size_t i, n = ld->cfg->n_pools;

	if (!n || n > SUGGEST_MAX_CANDIDATES)
		return NULL;
	names = malloc(n * sizeof(*names));
	if (!names)
		return NULL;
	for (i = 0; i < n; i++)
		names[i] = ld->cfg->pools[i].name;
	best = kt_suggest(name, names, n);
	free(names);
	return best;
}

static const char *suggest_tenant(struct kt_loader *ld, const char *name, const char *self)
{
	const char **names;
	const char *best;
	size_t i, j, n = ld->cfg->n_tenants;

	if (!n || n > SUGGEST_MAX_CANDIDATES)
		return NULL;
	names = malloc(n * sizeof(*names));
	if (!names)
		return NULL;
	for (i = j = 0; i < n; i++)
		if (strcmp(ld->by_name[i]->name, self))
			names[j++] = ld->by_name[i]->name;
	best = kt_suggest(name, names, j);
	free(names);
	return best;
}

static void check_references(struct kt_loader *ld)
{
	struct kt_config *cfg = ld->cfg;
	size_t i, j;

	for (i = 0; i < cfg->n_tenants; i++) {
		struct kt_tenant *t = &cfg->tenants[i];
		struct kt_tmark *tm = &ld->tmarks[i];

		if (t->node_pool && !kt_config_pool(cfg, t->node_pool)) {
			const char *sug = suggest_pool(ld, t->node_pool);

			if (sug)
				diag(ld, tm->node_pool,
				     "node pool '%s' is not defined; did you mean "
				     "'%s'?",
				     kt_clip(ld, t->node_pool), sug);
			else
				diag(ld, tm->node_pool,
				     "node pool '%s' is not defined in 'nodePools'",
				     kt_clip(ld, t->node_pool));
		}
		for (j = 0; j < t->allow_from.n; j++) {
			const char *from = t->allow_from.v[j];
			const char *sug;

			if (!strcmp(from, t->name)) {
				diag(ld, tm->allow_from[j],
				     "'tenants.%s.allowFrom' must not name the "
				     "tenant itself",
				     kt_clip(ld, t->name));
				continue;
			}
			if (kt_loader_tenant(ld, from) >= 0)
				continue;
			sug = suggest_tenant(ld, from, t->name);
			if (sug)
				diag(ld, tm->allow_from[j],
				     "tenant '%s' in 'tenants.%s.allowFrom' is "
				     "not defined; did you mean '%s'?",
				     kt_clip(ld, from), kt_clip(ld, t->name), sug);
			else
				diag(ld, tm->allow_from[j],
				     "tenant '%s' in 'tenants.%s.allowFrom' is "
				     "not defined",
				     kt_clip(ld, from), kt_clip(ld, t->name));
		}
	}
}

static int str_ptr_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* A tenant is a namespace: never one Kubernetes, kubetenant or the platform uses. */
static void check_namespaces(struct kt_loader *ld)
{
	struct kt_config *cfg = ld->cfg;
	const struct kt_strv *pns = &cfg->global.platform_namespaces;
	const char **sorted = NULL;
	size_t i;

	if (pns->n) {
		sorted = malloc(pns->n * sizeof(*sorted));
		if (!sorted) {
			ld->sink.nomem = true;
			return;
		}
		for (i = 0; i < pns->n; i++)
			sorted[i] = pns->v[i];
		qsort(sorted, pns->n, sizeof(*sorted), str_ptr_cmp);
	}
	for (i = 0; i < cfg->n_tenants; i++) {
		const struct kt_tenant *t = &cfg->tenants[i];
		const struct kt_ynode *at = ld->tmarks[i].key;
		const char *name = t->name;
		const char **hit;

		if (!strncmp(name, "kube-", 5))
			diag(ld, at,
			     "tenant name '%s' is reserved: namespaces starting with 'kube-' "
			     "belong to Kubernetes",
			     kt_clip(ld, name));
		else if (!strcmp(name, "default"))
			diag(ld, at,
			     "tenant name 'default' is reserved: objects that name no "
			     "namespace go there");
		else if (!strcmp(name, "kubetenant-system"))
			diag(ld, at,
			     "tenant name 'kubetenant-system' is reserved: kubetenant runs "
			     "there");
		hit = sorted ? bsearch(&name, sorted, pns->n, sizeof(*sorted), str_ptr_cmp) : NULL;
		if (hit) {
			size_t k;

			/* the mark of the platform namespace, for the message */
			for (k = 0; k < pns->n && pns->v[k] != *hit; k++)
				;
			diag(ld, at, "tenant '%s' collides with platform namespace '%s' (line %d)",
			     kt_clip(ld, name), kt_clip(ld, *hit),
			     ld->pns_marks && k < pns->n ? ld->pns_marks[k]->line : 0);
		}
	}
	free(sorted);
}

/* ---------------------------------------------------------- hostnames */

/* How a relates to b: 0 unrelated, 1 equal, 2 a lies under b, 3 a covers b. */
static int relation(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la == lb)
		return strcmp(a, b) ? 0 : 1;
	if (la > lb)
		return a[la - lb - 1] == '.' && !strcmp(a + la - lb, b) ? 2 : 0;
	return b[lb - la - 1] == '.' && !strcmp(b + lb - la, a) ? 3 : 0;
}

static const char *base_of(const char *d)
{
	return !strncmp(d, "*.", 2) ? d + 2 : d;
}

struct owned {
	const char *key;  /* labels reversed: "org\1example\1app" (arena) */
	const char *name; /* as written: "*.app.example.org" */
	long owner;       /* tenant index, or -1 for the platform */
	const char *what; /* for the platform: "global.clusterHostname" */
	const struct kt_ynode *node;
};

/*
 * "app.example.org" -> "org\1example\1app": labels reversed, joined by a
 * byte below every byte a name may hold, so plain strcmp() puts each name
 * right before its subtree.
 */
static const char *reverse_labels(struct kt_arena *a, const char *s)
{
	size_t n = strlen(s), o = 0, end = n;
	char *r = kt_arena_alloc(a, n + 1);

	if (!r)
		return NULL;
	while (end > 0) {
		size_t start = end;

		while (start > 0 && s[start - 1] != '.')
			start--;
		memcpy(r + o, s + start, end - start);
		o += end - start;
		if (start > 0)
			r[o++] = '\1';
		end = start > 0 ? start - 1 : 0;
	}
	r[o] = '\0';
	return r;
}

static int owned_cmp(const void *x, const void *y)
{
	return strcmp(((const struct owned *)x)->key, ((const struct owned *)y)->key);
}

static bool covers_or_equal(const char *anc, const char *key)
{
	size_t la = strlen(anc);

	return !strncmp(anc, key, la) && (key[la] == '\0' || key[la] == '\1');
}

static bool later(const struct kt_ynode *a, const struct kt_ynode *b)
{
	return a->line > b->line || (a->line == b->line && a->col > b->col);
}

static void report_conflict(struct kt_loader *ld, const struct owned *anc, const struct owned *d)
{
	const struct kt_config *cfg = ld->cfg;
	bool equal = !strcmp(anc->key, d->key);

	if (equal && strcmp(anc->name, d->name) && !strncmp(anc->name, "*.", 2)) {
		const struct owned *t = anc; /* "*.x" lies under "x" */

		anc = d;
		d = t;
	}
	if (anc->owner < 0 || d->owner < 0) {
		const struct owned *ten = anc->owner < 0 ? d : anc,
				   *plat = anc->owner < 0 ? anc : d;

		if (!strcmp(ten->name, plat->name))
			diag(ld, ten->node, "domain '%s' is '%s', which belongs to the platform",
			     kt_clip(ld, ten->name), plat->what);
		else
			diag(ld, ten->node,
			     "domain '%s' %s '%s' ('%s'), which belongs to the platform",
			     kt_clip(ld, ten->name), ten == d ? "lies under" : "covers", plat->what,
			     kt_clip(ld, plat->name));
		return;
	}
	if (!strcmp(anc->name, d->name)) {
		const struct owned *at = later(anc->node, d->node) ? anc : d;
		const struct owned *other = at == anc ? d : anc;

		diag(ld, at->node, "domain '%s' is also granted to tenant '%s' (line %d)",
		     kt_clip(ld, at->name), kt_clip(ld, cfg->tenants[other->owner].name),
		     other->node->line);
	} else if (later(d->node, anc->node)) {
		diag(ld, d->node, "domain '%s' lies under '%s', granted to tenant '%s' (line %d)",
		     kt_clip(ld, d->name), kt_clip(ld, anc->name),
		     kt_clip(ld, cfg->tenants[anc->owner].name), anc->node->line);
	} else {
		diag(ld, anc->node, "domain '%s' covers '%s', granted to tenant '%s' (line %d)",
		     kt_clip(ld, anc->name), kt_clip(ld, d->name),
		     kt_clip(ld, cfg->tenants[d->owner].name), d->node->line);
	}
}

/*
 * A tenant's own names under the prefix (its '<tenant>.<prefix>' subtree)
 * are redundant but harmless; anything else touching the prefix is not.
 */
static void check_against_prefix(struct kt_loader *ld, const struct kt_tenant *t, const char *d,
				 const struct kt_ynode *at)
{
	const char *prefix = ld->cfg->global.tenant_host_prefix;
	const char *b = base_of(d);
	int rel = relation(b, prefix);

	if (rel == 1) {
		diag(ld, at,
		     "domain '%s' is 'global.tenantHostPrefix', which is reserved for "
		     "tenant hosts",
		     kt_clip(ld, d));
	} else if (rel == 3) {
		diag(ld, at,
		     "domain '%s' covers 'global.tenantHostPrefix' ('%s') and so every "
		     "tenant's host",
		     kt_clip(ld, d), kt_clip(ld, prefix));
	} else if (rel == 2) {
		/* the label right above the prefix names the tenant whose host it is */
		size_t end = strlen(b) - strlen(prefix) - 1, start = end;
		char label[64];
		long other;

		while (start > 0 && b[start - 1] != '.')
			start--;
		if (end - start >= sizeof(label))
			end = start + sizeof(label) - 1;
		memcpy(label, b + start, end - start);
		label[end - start] = '\0';
		if (!strcmp(label, t->name))
			return;
		other = kt_loader_tenant(ld, label);
		if (other >= 0 && start == 0)
			diag(ld, at,
			     "domain '%s' is reserved for tenant '%s' (its host under "
			     "'global.tenantHostPrefix')",
			     kt_clip(ld, d), kt_clip(ld, label));
		else if (other >= 0)
			diag(ld, at, "domain '%s' lies under '%s.%s', the host of tenant '%s'",
			     kt_clip(ld, d), kt_clip(ld, label), kt_clip(ld, prefix),
			     kt_clip(ld, label));
		else
			diag(ld, at,
			     "domain '%s' lies under 'global.tenantHostPrefix' ('%s'), which "
			     "is reserved for tenant hosts",
			     kt_clip(ld, d), kt_clip(ld, prefix));
	}
}

static void check_platform_host(struct kt_loader *ld, const char *host, const char *what,
				const struct kt_ynode *at)
{
	const char *prefix = ld->cfg->global.tenant_host_prefix;
	int rel = prefix ? relation(host, prefix) : 0;

	if (rel == 1 || rel == 2)
		diag(ld, at,
		     "'%s' must not be or lie under 'global.tenantHostPrefix', which is "
		     "reserved for tenant hosts",
		     what);
}

static void check_domains(struct kt_loader *ld)
{
	struct kt_config *cfg = ld->cfg;
	struct kt_global *g = &cfg->global;
	struct owned *v;
	size_t *stack, n = 0, cap = 2, i, j, top = 0;

	for (i = 0; i < cfg->n_tenants; i++)
		cap += cfg->tenants[i].domains.n;
	v = malloc(cap * sizeof(*v));
	stack = malloc(cap * sizeof(*stack));
	if (!v || !stack)
		goto nomem;
	if (g->cluster_hostname) {
		check_platform_host(ld, g->cluster_hostname, "global.clusterHostname",
				    ld->cluster_host_node);
		v[n++] = (struct owned){ NULL, g->cluster_hostname, -1, "global.clusterHostname",
					 ld->cluster_host_node };
	}
	if (g->oidc.hostname) {
		check_platform_host(ld, g->oidc.hostname, "global.oidc.proxyHostname",
				    ld->proxy_host_node);
		v[n++] = (struct owned){ NULL, g->oidc.hostname, -1, "global.oidc.proxyHostname",
					 ld->proxy_host_node };
	}
	for (i = 0; i < cfg->n_tenants; i++) {
		const struct kt_tenant *t = &cfg->tenants[i];

		for (j = 0; j < t->domains.n; j++) {
			if (g->tenant_host_prefix)
				check_against_prefix(ld, t, t->domains.v[j],
						     ld->tmarks[i].domains[j]);
			v[n++] = (struct owned){ NULL, t->domains.v[j], (long)i, NULL,
						 ld->tmarks[i].domains[j] };
		}
	}
	for (i = 0; i < n; i++) {
		v[i].key = reverse_labels(&ld->arena, base_of(v[i].name));
		if (!v[i].key)
			goto nomem;
	}
	qsort(v, n, sizeof(*v), owned_cmp);
	for (i = 0; i < n; i++) {
		while (top && !covers_or_equal(v[stack[top - 1]].key, v[i].key))
			top--;
		for (j = top; j > 0; j--)
			if (v[stack[j - 1]].owner != v[i].owner) {
				report_conflict(ld, &v[stack[j - 1]], &v[i]);
				break;
			}
		stack[top++] = i;
	}
	free(v);
	free(stack);
	return;
nomem:
	free(v);
	free(stack);
	ld->sink.nomem = true;
}

void kt_validate(struct kt_loader *ld)
{
	if (!build_indexes(ld)) {
		ld->sink.nomem = true;
		return;
	}
	check_references(ld);
	check_namespaces(ld);
	check_domains(ld);
}

/* ------------------------------------------------------------------ lint */

static bool strv_contains(const struct kt_strv *v, const char *s)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], s))
			return true;
	return false;
}

/*
 * Flux adds its finalizer to, and writes the status of, the GitRepository
 * and Kustomization `tenant-manifests` that render makes for a manifestRepo:
 * managed objects, which only platform identities may change.  The tenant's
 * own objects still arrive as its `tenant-flux` account and are judged.
 */
static void flux_identities(const struct kt_config *cfg, struct kt_diag_sink *sink)
{
	static const char *const need[] = { KT_FLUX_KUSTOMIZE_CONTROLLER,
					    KT_FLUX_SOURCE_CONTROLLER };
	const struct kt_tenant *t = NULL;
	size_t i;

	for (i = 0; i < cfg->n_tenants && !t; i++)
		if (cfg->tenants[i].repo.url)
			t = &cfg->tenants[i];
	if (!t)
		return;
	for (i = 0; i < 2; i++)
		if (!strv_contains(&cfg->global.platform.service_accounts, need[i]))
			kt_diag_add(sink, t->line, t->col,
				    "tenant '%s' uses manifestRepo but '%s' is not in "
				    "global.platformIdentities.serviceAccounts: Flux cannot add "
				    "its finalizer to nor write the status of 'tenant-manifests'; "
				    "add it (setting serviceAccounts replaced the default list)",
				    t->name, need[i]);
}

/*
 * A member's kubeconfig trusts the CA that kube-public/kubetenant-info
 * publishes (proxyCA), or the system's roots.  The certificate kubectl sees
 * comes from the private kubetenant-ca through a gateway (passthrough to
 * the proxy), and through an ingress left with the default certIssuer:
 * without proxyCA, no member can verify it.
 */
static void proxy_trust(const struct kt_config *cfg, struct kt_diag_sink *sink)
{
	const struct kt_oidc *o = &cfg->global.oidc;
	bool private_ingress = o->exposure == KT_EXPOSE_INGRESS &&
			       (!o->issuer_kind || !strcmp(o->issuer_kind, "Issuer")) &&
			       (!o->issuer_name || !strcmp(o->issuer_name, "kubetenant-ca"));

	if (!o->issuer_url || o->proxy_ca)
		return;
	if (o->exposure == KT_EXPOSE_GATEWAY)
		kt_diag_add(sink, cfg->global.line, cfg->global.col,
			    "global.oidc.exposure is gateway, which hands members the proxy's own "
			    "certificate from the private kubetenant-ca, and no global.oidc.proxyCA "
			    "publishes that CA: kubectl cannot verify the proxy (docs/identity.md)");
	else if (private_ingress)
		kt_diag_add(sink, cfg->global.line, cfg->global.col,
			    "global.oidc.exposure is ingress with the default certIssuer, the private "
			    "kubetenant-ca, and no global.oidc.proxyCA publishes that CA: kubectl "
			    "cannot verify the proxy; set certIssuer to a public issuer, or proxyCA "
			    "(docs/identity.md)");
}

enum kt_rc kt_config_lint(const struct kt_config *cfg, struct kt_diags *out)
{
	struct kt_diag_sink sink = { 0 };
	bool *used;
	size_t i;

	used = calloc(cfg->n_pools + 1, sizeof(*used));
	if (!used)
		return KT_E_NOMEM;
	/* no default: a guessed namespace name would open every tenant to whoever owns it */
	if (cfg->n_tenants && !cfg->global.platform_namespaces.n)
		kt_diag_add(&sink, cfg->global.line, cfg->global.col,
			    "global.platformNamespaces is empty: the network policy of every tenant "
			    "admits only the tenant itself, so the ingress controller and monitoring "
			    "cannot reach any tenant; list their namespaces (docs/network.md)");
	for (i = 0; i < cfg->n_tenants; i++) {
		const struct kt_tenant *t = &cfg->tenants[i];

		if (t->pool)
			used[t->pool - cfg->pools] = true;
		if (!t->operator_group && !t->read_groups.n)
			kt_diag_add(&sink, t->line, t->col,
				    "tenant '%s' has no 'operatorEdGroup': nobody can read its "
				    "namespace",
				    t->name);
		if (t->pod_security.level == KT_PSS_PRIVILEGED)
			kt_diag_add(&sink, t->line, t->col,
				    "tenant '%s' runs with pod security 'privileged': its pods may "
				    "take over their nodes",
				    t->name);
	}
	flux_identities(cfg, &sink);
	proxy_trust(cfg, &sink);
	for (i = 0; i < cfg->n_pools; i++)
		if (!used[i])
			kt_diag_add(&sink, cfg->pools[i].line, cfg->pools[i].col,
				    "node pool '%s' is not used by any tenant", cfg->pools[i].name);
	free(used);
	if (sink.nomem) {
		kt_diags_release(&sink.d);
		return KT_E_NOMEM;
	}
	kt_diag_finish(&sink, out);
	return KT_OK;
}
