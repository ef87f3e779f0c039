/*
 * network_admin.c: --network admin, one cluster-scoped
 * policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy per tenant in the
 * Baseline tier (the successor of AdminNetworkPolicy and
 * BaselineAdminNetworkPolicy).
 *
 * Why Baseline and not Admin: Baseline rules sit below the namespace's own
 * NetworkPolicies, so the isolation is the default a tenant can still open
 * with its own policy, exactly like the other profiles.  It lives outside
 * the tenant's namespace, so the tenant cannot even see it to edit it.
 * Rules: Accept the same namespace, the platform namespaces and allowFrom
 * (by `kubernetes.io/metadata.name`, which cannot be forged), then Deny
 * every namespace labelled as a tenant.
 */
#include <stdio.h>
#include "internal.h"

enum kt_rc kt_render_network_admin(struct rctx *r, const struct kt_tenant *t)
{
	json_t *allowed = kt_allowed_namespaces_selector(r, t);
	json_t *ingress = json_pack("[{s:s, s:s, s:[{s:{s:{s:s}}}]}]", "name", "same-namespace",
				    "action", "Accept", "from", "namespaces", "matchLabels",
				    "kubernetes.io/metadata.name", t->name);
	char name[128];

	if (!allowed || !ingress ||
	    (!json_is_null(allowed) &&
	     json_array_append_new(ingress, json_pack("{s:s, s:s, s:[{s:O}]}", "name",
						      "platform-and-allowed", "action", "Accept",
						      "from", "namespaces", allowed))) ||
	    json_array_append_new(ingress, json_pack("{s:s, s:s, s:[{s:o}]}", "name",
						     "other-tenants", "action", "Deny", "from",
						     "namespaces", kt_tenant_ns_selector(r)))) {
		json_decref(ingress);
		ingress = NULL;
	}
	json_decref(allowed);
	snprintf(name, sizeof(name), "kubetenant-%s", t->name);
	return kt_emit(r, json_pack("{s:s, s:s, s:o, s:{s:s, s:i, s:{s:{s:{s:s}}}, s:o}}",
				    "apiVersion", "policy.networking.k8s.io/v1alpha2", "kind",
				    "ClusterNetworkPolicy", "metadata",
				    kt_tenant_meta(r, name, NULL, t), "spec", "tier", "Baseline",
				    "priority", 50, "subject", "namespaces", "matchLabels",
				    "kubernetes.io/metadata.name", t->name, "ingress", ingress));
}
