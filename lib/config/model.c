/*
 * model.c: the loaded configuration's lifetime and lookups, plus the sink
 * that collects the problems every loading pass finds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* ------------------------------------------------------------ diagnostics */

void kt_diag_vadd(struct kt_diag_sink *s, int line, int col, const char *fmt, va_list ap)
{
	struct kt_diag *v;
	char msg[1024];
	char *m;

	if (s->d.n >= KT_MAX_DIAGS) {
		s->dropped++;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	m = strdup(msg);
	v = realloc(s->d.v, (s->d.n + 1) * sizeof(*v));
	if (!m || !v) {
		free(m);
		if (v)
			s->d.v = v;
		s->nomem = true;
		return;
	}
	s->d.v = v;
	v[s->d.n].line = line > 0 ? line : 1;
	v[s->d.n].col = col > 0 ? col : 1;
	v[s->d.n].msg = m;
	s->d.n++;
}

void kt_diag_add(struct kt_diag_sink *s, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kt_diag_vadd(s, line, col, fmt, ap);
	va_end(ap);
}

static void diag_sort(struct kt_diag *v, size_t n)
{
	size_t i, j;

	/* insertion sort: stable, and the list is nearly sorted already */
	for (i = 1; i < n; i++) {
		struct kt_diag x = v[i];

		for (j = i; j > 0 && (v[j - 1].line > x.line ||
				      (v[j - 1].line == x.line && v[j - 1].col > x.col));
		     j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

void kt_diag_finish(struct kt_diag_sink *s, struct kt_diags *out)
{
	diag_sort(s->d.v, s->d.n);
	if (s->dropped) {
		/* the note goes last, on the last line reported */
		struct kt_diag *v = realloc(s->d.v, (s->d.n + 1) * sizeof(*v));
		char msg[96];

		if (v) {
			s->d.v = v;
			snprintf(msg, sizeof(msg), "too many problems; %zu more not shown",
				 s->dropped);
			v[s->d.n].line = s->d.n ? v[s->d.n - 1].line : 1;
			v[s->d.n].col = s->d.n ? v[s->d.n - 1].col : 1;
			v[s->d.n].msg = strdup(msg);
			if (v[s->d.n].msg)
				s->d.n++;
		}
		s->dropped = 0;
	}
	if (!out) {
		kt_diags_release(&s->d);
		return;
	}
	if (!out->n) {
		kt_diags_release(out);
		*out = s->d;
	} else {
		struct kt_diag *v = realloc(out->v, (out->n + s->d.n) * sizeof(*v));

		if (v) {
			memcpy(v + out->n, s->d.v, s->d.n * sizeof(*v));
			out->v = v;
			out->n += s->d.n;
			free(s->d.v);
		} else {
			kt_diags_release(&s->d);
		}
	}
	s->d.v = NULL;
	s->d.n = 0;
}

void kt_diags_release(struct kt_diags *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++)
		free(d->v[i].msg);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

/* --------------------------------------------------------------- the model */

static void strv_free(struct kt_strv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
}

static void kvv_free(struct kt_kvv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		free(v->v[i].key);
		free(v->v[i].value);
	}
	free(v->v);
}

static void tenant_free(struct kt_tenant *t)
{
	free(t->name);
	free(t->node_pool);
	free(t->operator_group);
	strv_free(&t->read_groups);
	strv_free(&t->domains);
	strv_free(&t->allow_service_types);
	strv_free(&t->allow_from);
	kvv_free(&t->quota);
	kvv_free(&t->limits.def);
	kvv_free(&t->limits.def_request);
	kvv_free(&t->limits.max);
	kvv_free(&t->limits.min);
	free(t->repo.url);
	free(t->repo.branch);
	free(t->repo.path);
	free(t->repo.interval);
	free(t->repo.secret_ref);
	strv_free(&t->priority_classes);
	strv_free(&t->runtime_classes);
	strv_free(&t->scheduler_names);
	strv_free(&t->image_registries);
	strv_free(&t->ingress_classes);
	strv_free(&t->cert_issuers);
}

void kt_config_free(struct kt_config *cfg)
{
	struct kt_global *g;
	size_t i;

	if (!cfg)
		return;
	g = &cfg->global;
	free(cfg->path);
	free(g->cluster_hostname);
	free(g->tenant_host_prefix);
	free(g->cluster_name);
	free(g->cluster_dns);
	free(g->label_domain);
	free(g->group_prefix);
	strv_free(&g->platform_namespaces);
	strv_free(&g->platform.users);
	strv_free(&g->platform.groups);
	strv_free(&g->platform.service_accounts);
	strv_free(&g->default_priority_classes);
	free(g->image);
	free(g->oidc.issuer_url);
	free(g->oidc.client_id);
	free(g->oidc.username_claim);
	free(g->oidc.groups_claim);
	free(g->oidc.hostname);
	free(g->oidc.dashboard_client_id);
	free(g->oidc.issuer_ca);
	free(g->oidc.proxy_ca);
	free(g->oidc.ingress_class);
	free(g->oidc.gateway_class);
	free(g->oidc.issuer_kind);
	free(g->oidc.issuer_name);
	for (i = 0; i < cfg->n_pools; i++) {
		free(cfg->pools[i].name);
		strv_free(&cfg->pools[i].capacity_types);
		strv_free(&cfg->pools[i].instance_types);
		free(cfg->pools[i].cost_code);
		kvv_free(&cfg->pools[i].prices);
	}
	free(cfg->pools);
	for (i = 0; i < cfg->n_tenants; i++)
		tenant_free(&cfg->tenants[i]);
	free(cfg->tenants);
	free(cfg);
}

/*
 * Binary search in an array sorted by name, of structs whose first member
 * is `char *name` (kt_tenant, kt_nodepool).
 */
static const void *find_named(const void *base, size_t n, size_t size, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const void *e = (const char *)base + mid * size;
		int c = strcmp(name, *(char *const *)e);

		if (!c)
			return e;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct kt_tenant *kt_config_tenant_by_ns(const struct kt_config *cfg, const char *ns)
{
	if (!cfg || !ns)
		return NULL;
	return find_named(cfg->tenants, cfg->n_tenants, sizeof(*cfg->tenants), ns);
}

const struct kt_nodepool *kt_config_pool(const struct kt_config *cfg, const char *name)
{
	if (!cfg || !name)
		return NULL;
	return find_named(cfg->pools, cfg->n_pools, sizeof(*cfg->pools), name);
}
