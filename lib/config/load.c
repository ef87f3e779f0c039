/*
 * load.c: kt_config_load() and kt_config_parse(), the three passes glued
 * together, and the final touches of a valid model (sorting, defaults that
 * depend on other keys, resolved node pools).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kt/buf.h"
#include "kt/hash.h"
#include "internal.h"

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kt_kv *)a)->key, ((const struct kt_kv *)b)->key);
}

static void sort_strv(struct kt_strv *v)
{
	if (v->n > 1)
		qsort(v->v, v->n, sizeof(*v->v), str_cmp);
}

static void sort_kvv(struct kt_kvv *v)
{
	if (v->n > 1)
		qsort(v->v, v->n, sizeof(*v->v), kv_cmp);
}

static bool set(char **field, const char *value)
{
	if (!*field)
		*field = strdup(value);
	return *field != NULL;
}

/*
 * Only for a valid model: every list sorted, every tenant's pool resolved.
 * Validation has sorted the pools already, and the tenants by pointer:
 * they are laid out in that order here.
 */
static enum kt_rc finish(struct kt_config *cfg, const struct kt_tenant *const *by_name)
{
	struct kt_global *g = &cfg->global;
	struct kt_tenant *sorted;
	size_t i;

	if (g->platform.default_service_accounts) {
		static const char *const dflt[] = KT_DEFAULT_PLATFORM_SERVICE_ACCOUNTS;
		size_t n = sizeof(dflt) / sizeof(dflt[0]);

		g->platform.service_accounts.v = calloc(n, sizeof(char *));
		if (!g->platform.service_accounts.v)
			return KT_E_NOMEM;
		for (i = 0; i < n; i++)
			if (!(g->platform.service_accounts.v[g->platform.service_accounts.n++] =
				      strdup(dflt[i])))
				return KT_E_NOMEM;
	}
	sort_strv(&g->platform_namespaces);
	sort_strv(&g->default_priority_classes);
	sort_strv(&g->platform.users);
	sort_strv(&g->platform.groups);
	sort_strv(&g->platform.service_accounts);
	for (i = 0; i < cfg->n_pools; i++) {
		sort_strv(&cfg->pools[i].capacity_types);
		sort_strv(&cfg->pools[i].instance_types);
		sort_kvv(&cfg->pools[i].prices);
	}
	sorted = malloc((cfg->n_tenants ? cfg->n_tenants : 1) * sizeof(*sorted));
	if (!sorted)
		return KT_E_NOMEM;
	for (i = 0; i < cfg->n_tenants; i++)
		sorted[i] = *by_name[i];
	free(cfg->tenants);
	cfg->tenants = sorted;
	for (i = 0; i < cfg->n_tenants; i++) {
		struct kt_tenant *t = &cfg->tenants[i];

		t->pool = kt_config_pool(cfg, t->node_pool);
		if (!t->pool)
			return KT_E_INTERNAL;
		sort_strv(&t->read_groups);
		sort_strv(&t->domains);
		sort_strv(&t->allow_service_types);
		sort_strv(&t->allow_from);
		sort_kvv(&t->quota);
		sort_kvv(&t->limits.def);
		sort_kvv(&t->limits.def_request);
		sort_kvv(&t->limits.max);
		sort_kvv(&t->limits.min);
		sort_strv(&t->priority_classes);
		sort_strv(&t->runtime_classes);
		sort_strv(&t->scheduler_names);
		sort_strv(&t->image_registries);
		sort_strv(&t->ingress_classes);
		sort_strv(&t->cert_issuers);
		if (t->repo.url && (!set(&t->repo.branch, "main") || !set(&t->repo.path, "./") ||
				    !set(&t->repo.interval, "1m")))
			return KT_E_NOMEM;
	}
	return KT_OK;
}

enum kt_rc kt_config_parse(const char *text, size_t len, const char *name, struct kt_config **out,
			   struct kt_diags *diags, struct kt_err *err)
{
	struct kt_loader ld = { 0 };
	struct kt_ynode *root = NULL;
	struct kt_config *cfg = NULL;
	enum kt_rc rc, yrc;
	char *copy = NULL;

	if (!name)
		name = "<memory>";
	if (len > KT_CONFIG_MAX_BYTES) {
		kt_diag_add(&ld.sink, 1, 1, "the tenants file is larger than %u bytes",
			    KT_CONFIG_MAX_BYTES);
		rc = KT_E_PARSE;
		goto out;
	}
	/* libfyaml wants a NUL-terminated string; callers (the fuzzer) may not have one */
	copy = malloc(len + 1);
	cfg = calloc(1, sizeof(*cfg));
	if (!copy || !cfg) {
		rc = KT_E_NOMEM;
		goto out;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	cfg->hash = kt_hash_bytes(text, len, 0);
	cfg->path = strdup(name);
	if (!cfg->path) {
		rc = KT_E_NOMEM;
		goto out;
	}
	yrc = rc = kt_config_yaml(copy, len, &ld.arena, &ld.sink, &root);
	if (rc == KT_E_NOMEM || rc == KT_E_PARSE || (rc == KT_E_INVALID && !root))
		goto out;
	ld.cfg = cfg;
	rc = kt_convert(&ld, root);
	if (rc == KT_OK && root)
		kt_validate(&ld);
	if (ld.sink.nomem)
		rc = KT_E_NOMEM;
	if (rc == KT_E_NOMEM)
		goto out;
	if (ld.sink.d.n || ld.sink.dropped || yrc != KT_OK) {
		rc = KT_E_INVALID;
		goto out;
	}
	cfg->global.platform.default_service_accounts = !ld.service_accounts_set;
	rc = finish(cfg, ld.by_name);
	if (rc == KT_OK) {
		*out = cfg;
		cfg = NULL;
	}
out:
	if (rc == KT_E_NOMEM)
		kt_err_set(err, rc, "out of memory loading '%s'", name);
	else if (rc == KT_E_INTERNAL)
		kt_err_set(err, rc, "inconsistent model after loading '%s'", name);
	else if (rc != KT_OK)
		kt_err_set(err, rc, "'%s' has %zu problem%s", name, ld.sink.d.n + ld.sink.dropped,
			   ld.sink.d.n + ld.sink.dropped == 1 ? "" : "s");
	kt_diag_finish(&ld.sink, rc == KT_E_NOMEM ? NULL : diags);
	kt_config_free(cfg);
	kt_arena_release(&ld.arena);
	free(copy);
	return rc;
}

enum kt_rc kt_config_read(const char *path, struct kt_buf *text, struct kt_err *err)
{
	enum kt_rc rc = kt_buf_read_file(text, path, KT_CONFIG_MAX_BYTES, err);

	if (rc != KT_E_LIMIT)
		return rc;
	/* a file too big is one that cannot be read as a tenants file */
	return kt_err_set(err, KT_E_IO, "'%s' is larger than %u MiB, the limit for a tenants file",
			  path, KT_CONFIG_MAX_BYTES >> 20);
}

enum kt_rc kt_config_load(const char *path, struct kt_config **out, struct kt_diags *diags,
			  struct kt_err *err)
{
	struct kt_buf text = KT_BUF_INIT;
	enum kt_rc rc;

	rc = kt_config_read(path, &text, err);
	if (rc == KT_OK)
		rc = kt_config_parse(text.buf, text.len, strcmp(path, "-") ? path : "<stdin>", out,
				     diags, err);
	kt_buf_release(&text);
	return rc;
}
