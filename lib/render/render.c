/*
 * render.c: the order of the objects and the profile names.  The helpers
 * every output kind shares are in emit.c, so the per-kind files call
 * emit.c and render.c calls them: no two files call each other.
 */
#include <stdio.h>
#include <string.h>
#include "internal.h"

static const char *const network_names[] = { "kubernetes", "calico-crd", "calico", "admin" };
static const char *const enforcement_names[] = { "webhook", "gatekeeper" };
static const char *const karpenter_names[] = { "v1", "v1alpha5" };
static const char *const exposure_names[] = { "none", "ingress", "gateway" }; /* enum kt_exposure */

static int lookup(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

#define NAMES(a) (sizeof(a) / sizeof((a)[0]))

int kt_render_network_parse(const char *s)
{
	return lookup(network_names, NAMES(network_names), s);
}

int kt_render_enforcement_parse(const char *s)
{
	return lookup(enforcement_names, NAMES(enforcement_names), s);
}

int kt_render_karpenter_parse(const char *s)
{
	return lookup(karpenter_names, NAMES(karpenter_names), s);
}

int kt_render_exposure_parse(const char *s)
{
	return lookup(exposure_names, NAMES(exposure_names), s);
}

const char *kt_render_network_name(enum kt_render_network n)
{
	return (size_t)n < NAMES(network_names) ? network_names[n] : "?";
}

const char *kt_render_enforcement_name(enum kt_render_enforcement e)
{
	return (size_t)e < NAMES(enforcement_names) ? enforcement_names[e] : "?";
}

const char *kt_render_karpenter_name(enum kt_render_karpenter k)
{
	return (size_t)k < NAMES(karpenter_names) ? karpenter_names[k] : "?";
}

static enum kt_rc render_cluster(struct rctx *r)
{
	const struct kt_render_opts *o = r->opts;
	int system = o->enforcement == KT_ENF_WEBHOOK || r->cfg->global.oidc.issuer_url;
	enum kt_rc rc = KT_OK;

	if (system)
		rc = kt_render_system_namespace(r);
	if (rc == KT_OK)
		rc = kt_render_clusterrole(r);
	if (rc == KT_OK && system)
		rc = kt_render_ca_issuers(r);
	if (rc == KT_OK && o->enforcement == KT_ENF_GATEKEEPER)
		rc = kt_render_gatekeeper_cluster(r);
	if (rc == KT_OK && o->enforcement == KT_ENF_WEBHOOK)
		rc = kt_render_webhook(r);
	if (rc == KT_OK && r->cfg->global.oidc.issuer_url)
		rc = kt_render_proxy_oidc_ca(r);
	if (rc == KT_OK && r->cfg->global.oidc.issuer_url)
		rc = kt_render_proxy(r);
	if (rc == KT_OK && r->cfg->global.oidc.issuer_url)
		rc = kt_render_proxy_exposure(r);
	if (rc == KT_OK && r->cfg->global.oidc.issuer_url)
		rc = kt_render_cluster_info(r);
	if (rc == KT_OK && system)
		rc = kt_render_network_system(r);
	return rc;
}

static enum kt_rc render_tenant(struct rctx *r, const struct kt_tenant *t)
{
	const struct kt_render_opts *o = r->opts;
	enum kt_rc rc;

	rc = kt_render_namespace(r, t);
	if (rc == KT_OK)
		rc = kt_render_access(r, t);
	if (rc == KT_OK) {
		switch (o->network) {
		case KT_NET_CALICO_CRD:
		case KT_NET_CALICO:
			rc = kt_render_network_calico(r, t);
			break;
		case KT_NET_ADMIN:
			rc = kt_render_network_admin(r, t);
			break;
		default:
			rc = kt_render_network_kubernetes(r, t);
			break;
		}
	}
	if (rc == KT_OK)
		rc = kt_render_quota(r, t);
	if (rc == KT_OK)
		rc = kt_render_flux(r, t);
	if (rc == KT_OK && r->cfg->global.oidc.issuer_url && r->cfg->global.oidc.dashboard)
		rc = kt_render_tenant_info(r, t);
	if (rc == KT_OK && o->enforcement == KT_ENF_GATEKEEPER)
		rc = kt_render_gatekeeper_tenant(r, t);
	return rc;
}

static enum kt_rc label_key(char *dst, const char *domain, const char *name, struct kt_err *err)
{
	int n = snprintf(dst, KT_LABEL_KEY_MAX, "%s/%s", domain, name);

	if (n < 0 || n >= KT_LABEL_KEY_MAX)
		return kt_err_set(err, KT_E_INVALID, "label domain '%.64s...' is too long", domain);
	return KT_OK;
}

enum kt_rc kt_render(const struct kt_config *cfg, const struct kt_render_opts *opts,
		     kt_render_fn fn, void *ctx, struct kt_err *err)
{
	const char *ld = cfg->global.label_domain ? cfg->global.label_domain : "kubetenant.io";
	struct rctx r = {
		.cfg = cfg,
		.opts = opts,
		.fn = fn,
		.fn_ctx = ctx,
		.err = err,
	};
	enum kt_rc rc;
	size_t i;

	r.group_prefix = opts->group_prefix         ? opts->group_prefix
			 : cfg->global.group_prefix ? cfg->global.group_prefix
						    : "oidc:";
	r.image = cfg->global.image     ? cfg->global.image
		  : opts->default_image ? opts->default_image
					: "kubetenant/kubetenant:latest";
	if ((rc = label_key(r.key_purpose, ld, "purpose", err)) ||
	    (rc = label_key(r.key_tenant, ld, "tenant", err)) ||
	    (rc = label_key(r.key_pool, ld, "node-pool", err)) ||
	    (rc = label_key(r.key_cost, ld, "cost-code", err)))
		return rc;
	snprintf(r.calico_tenant_selector, sizeof(r.calico_tenant_selector), "%s == '%s'",
		 r.key_purpose, KT_PURPOSE_TENANT);

	if (opts->tenant) {
		/* one lookup per run: a scan keeps the renderer free of the loader's index */
		for (i = 0; i < cfg->n_tenants; i++)
			if (!strcmp(cfg->tenants[i].name, opts->tenant))
				break;
		if (i == cfg->n_tenants)
			return kt_err_set(err, KT_E_INVALID,
					  "tenant '%s' is not in the tenants file", opts->tenant);
		/*
		 * The webhook must know the tenant before its Namespace exists: it
		 * denies a tenant-labelled namespace it does not know (fail closed),
		 * so the tenants file that lists it comes first.
		 */
		if (opts->enforcement == KT_ENF_WEBHOOK && (rc = kt_render_tenants_configmap(&r)))
			return rc;
		return render_tenant(&r, &cfg->tenants[i]);
	}
	rc = render_cluster(&r);
	for (i = 0; rc == KT_OK && i < cfg->n_pools; i++)
		rc = opts->karpenter == KT_KARPENTER_V1ALPHA5
			     ? kt_render_provisioner(&r, &cfg->pools[i])
			     : kt_render_nodepool(&r, &cfg->pools[i]);
	for (i = 0; rc == KT_OK && i < cfg->n_tenants; i++)
		rc = render_tenant(&r, &cfg->tenants[i]);
	if (rc == KT_OK && opts->enforcement == KT_ENF_WEBHOOK)
		rc = kt_render_webhook_configs(&r);
	return rc;
}

static enum kt_rc collect(void *ctx, json_t *obj, struct kt_err *err)
{
	if (json_array_append(ctx, obj))
		return kt_err_set(err, KT_E_NOMEM, "out of memory collecting objects");
	return KT_OK;
}

enum kt_rc kt_render_list(const struct kt_config *cfg, const struct kt_render_opts *opts,
			  json_t **out, struct kt_err *err)
{
	json_t *list = json_array();
	enum kt_rc rc;

	if (!list)
		return kt_err_set(err, KT_E_NOMEM, "out of memory collecting objects");
	rc = kt_render(cfg, opts, collect, list, err);
	if (rc) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return KT_OK;
}

/* A name safe as one path component: DNS-1123-ish, no "/" and no leading ".". */
static int safe_component(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			return 0;
	}
	return 1;
}

enum kt_rc kt_render_path(json_t *obj, struct kt_buf *out, struct kt_err *err)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	json_t *md = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(md, "name"));
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	enum kt_rc rc;
	size_t i, start;

	if (!kind || !name || !safe_component(kind) || !safe_component(name) ||
	    (ns && !safe_component(ns)))
		return kt_err_set(err, KT_E_INVALID, "object '%s' has no usable kind or name",
				  name ? name : "?");
	rc = kt_buf_addf(out, "%s/", ns ? ns : "_cluster");
	start = out->len;
	if (rc == KT_OK)
		rc = kt_buf_addf(out, "%s-%s.yaml", kind, name);
	if (rc)
		return kt_err_set(err, rc, "out of memory naming files");
	for (i = start; i < start + strlen(kind); i++)
		if (out->buf[i] >= 'A' && out->buf[i] <= 'Z')
			out->buf[i] = (char)(out->buf[i] - 'A' + 'a');
	return KT_OK;
}
