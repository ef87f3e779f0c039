/*
 * network_kubernetes.c: --network kubernetes (the default), one
 * networking.k8s.io/v1 NetworkPolicy per tenant that every CNI enforces.
 *
 * It selects every pod of the tenant and admits ingress only from the same
 * namespace, from the platform namespaces (ingress controller, monitoring)
 * and from the tenants in allowFrom.  Namespaces are matched ONLY by
 * `kubernetes.io/metadata.name`, which the API server sets from the
 * namespace's own name and nobody can change: a label a tenant could put on
 * its namespace (or a namespace it could create) could otherwise be used to
 * look like a platform namespace.  NetworkPolicies are additive, so a tenant
 * can still open its door with its own policy; it cannot open another's.
 */
#include "internal.h"

/* {matchExpressions: [kubernetes.io/metadata.name In (platform namespaces + allowFrom)]} */
json_t *kt_allowed_namespaces_selector(const struct rctx *r, const struct kt_tenant *t)
{
	const struct kt_strv *plat = &r->cfg->global.platform_namespaces;
	json_t *values = json_array();
	size_t i;

	if (plat->n + t->allow_from.n == 0) {
		json_decref(values);
		return json_null();
	}
	for (i = 0; values && i < plat->n + t->allow_from.n; i++) {
		const char *ns = i < plat->n ? plat->v[i] : t->allow_from.v[i - plat->n];

		if (json_array_append_new(values, json_string(ns))) {
			json_decref(values);
			values = NULL;
		}
	}
	return json_pack("{s:[{s:s, s:s, s:o}]}", "matchExpressions", "key",
			 "kubernetes.io/metadata.name", "operator", "In", "values", values);
}

enum kt_rc kt_render_network_kubernetes(struct rctx *r, const struct kt_tenant *t)
{
	json_t *allowed = kt_allowed_namespaces_selector(r, t);
	json_t *from = json_pack("[{s:{}}]", "podSelector");

	if (!allowed || !from ||
	    (!json_is_null(allowed) &&
	     json_array_append_new(from, json_pack("{s:O}", "namespaceSelector", allowed)))) {
		json_decref(from);
		from = NULL;
	}
	json_decref(allowed);
	return kt_emit(r,
		       json_pack("{s:s, s:s, s:o, s:{s:{}, s:[s], s:[{s:o}]}}", "apiVersion",
				 "networking.k8s.io/v1", "kind", "NetworkPolicy", "metadata",
				 kt_tenant_meta(r, "tenant-isolation", t->name, t), "spec",
				 "podSelector", "policyTypes", "Ingress", "ingress", "from", from));
}
