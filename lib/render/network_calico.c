/*
 * network_calico.c: --network calico-crd and --network calico, the blog's
 * `restrict-other-tenants` Calico NetworkPolicy in each tenant namespace.
 *
 * The blog's rule (Deny ingress from namespaces labelled
 * `<labelDomain>/purpose == 'platform-tenant'`) is kept verbatim and last.
 * Before it come the Allow rules the blog's cluster needed elsewhere:
 * the tenant's own namespace (its namespace carries the purpose label too,
 * so without this rule the Deny would cut the tenant off from itself),
 * the platform namespaces and the allowFrom tenants, matched by
 * `kubernetes.io/metadata.name` only (see network_kubernetes.c: names
 * cannot be forged, labels could).  Deny by label is safe: tenants cannot
 * edit their Namespace, so none can drop the label to slip through.
 *
 * Order: the blog used 20, meaning "tenants may open their own door with a
 * higher order"; but Calico runs lower orders first, so every tenant
 * policy ran after the Deny and could never admit another tenant.  The
 * policy sits in the default tier at KT_POLICY_CALICO_ISOLATION_ORDER,
 * after the tenant's own Calico policies (any order below it) and after
 * its Kubernetes NetworkPolicies (Calico gives them order 1000): the
 * isolation is the default a tenant can open for itself only, since a
 * namespaced policy selects pods of its own namespace only.  Evaluation
 * order per profile: docs/network.md.
 *
 * calico-crd writes crd.projectcalico.org/v1 (what the blog applied; the
 * storage API of a default Calico install), calico writes the supported
 * projectcalico.org/v3 API (aggregated API server or native v3 CRDs).
 */
#include <string.h>
#include "kt/policy.h"
#include "internal.h"

/* "kubernetes.io/metadata.name in {'a', 'b'}" for platform namespaces + allowFrom */
static json_t *allowed_selector(const struct rctx *r, const struct kt_tenant *t)
{
	const struct kt_strv *plat = &r->cfg->global.platform_namespaces;
	struct kt_buf b = KT_BUF_INIT;
	json_t *s;
	size_t i;
	enum kt_rc rc = kt_buf_adds(&b, "kubernetes.io/metadata.name in {");

	for (i = 0; rc == KT_OK && i < plat->n + t->allow_from.n; i++)
		rc = kt_buf_addf(&b, "%s'%s'", i ? ", " : "",
				 i < plat->n ? plat->v[i] : t->allow_from.v[i - plat->n]);
	if (rc == KT_OK)
		rc = kt_buf_addch(&b, '}');
	s = rc == KT_OK ? json_stringn(b.buf, b.len) : NULL;
	kt_buf_release(&b);
	return s;
}

enum kt_rc kt_render_network_calico(struct rctx *r, const struct kt_tenant *t)
{
	const char *api = r->opts->network == KT_NET_CALICO ? "projectcalico.org/v3"
							    : "crd.projectcalico.org/v1";
	const struct kt_strv *plat = &r->cfg->global.platform_namespaces;
	json_t *rules =
		json_pack("[{s:s, s:{s:s}}]", "action", "Allow", "source", "selector", "all()");

	if (rules && plat->n + t->allow_from.n &&
	    json_array_append_new(rules, json_pack("{s:s, s:{s:o}}", "action", "Allow", "source",
						   "namespaceSelector", allowed_selector(r, t)))) {
		json_decref(rules);
		rules = NULL;
	}
	if (rules && json_array_append_new(rules, json_pack("{s:s, s:{s:s}}", "action", "Deny",
							    "source", "namespaceSelector",
							    r->calico_tenant_selector))) {
		json_decref(rules);
		rules = NULL;
	}
	return kt_emit(r, json_pack("{s:s, s:s, s:o, s:{s:i, s:s, s:[s], s:o}}", "apiVersion", api,
				    "kind", "NetworkPolicy", "metadata",
				    kt_tenant_meta(r, "restrict-other-tenants", t->name, t), "spec",
				    "order", KT_POLICY_CALICO_ISOLATION_ORDER, "selector", "",
				    "types", "Ingress", "ingress", rules));
}
