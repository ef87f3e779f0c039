/*
 * network_system.c: keep tenant pods away from kubetenant-system (the
 * webhook's 8443 and 9090, the proxy's 8443), in every --network profile.
 *
 * Who must still get in: the API server calling the webhook, which is not
 * a pod (a host-network static pod, or a managed control plane outside the
 * cluster); kubelet probes (from the node, which every plugin admits);
 * Prometheus scraping 9090 and the ingress controller reaching the proxy,
 * both in platform namespaces, possibly on the host network.  So the rule
 * wanted is "everyone but tenant pods", and it is written as each API can:
 *
 *  - calico-crd, calico: a Calico NetworkPolicy that Denies sources in
 *    namespaces labelled as tenants, then Allows everything else (without
 *    the Allow, Calico's end-of-tier deny would cut the API server off).
 *  - admin: an Admin-tier ClusterNetworkPolicy that Denies tenant
 *    namespaces; nothing below an Admin-tier Deny can reopen it, and all
 *    other traffic passes to the lower tiers untouched.
 *  - kubernetes: NetworkPolicy can only allow, so it allows pods of every
 *    namespace NOT labelled as a tenant (NotIn also matches unlabelled
 *    ones), and every address by ipBlock for what is not a pod.  The API
 *    means ipBlock for addresses outside the cluster; a plugin that also
 *    matches pod addresses with it (Calico enforcing plain NetworkPolicy
 *    does) lets tenant pods back in: docs/network-system.md.
 *
 * Tenants cannot edit Namespace objects, so none can drop the purpose
 * label to look like a platform namespace (as for the tenant policies).
 */
#include "internal.h"

#define POLICY_NAME "kubetenant-system-ingress"

static enum kt_rc system_kubernetes(struct rctx *r)
{
	return kt_emit(r,
		       json_pack("{s:s, s:s, s:o, s:{s:{}, s:[s], s:[{s:[{s:{s:[{s:s, s:s, s:[s]}]}}, "
				 "{s:{s:s}}, {s:{s:s}}]}]}}",
				 "apiVersion", "networking.k8s.io/v1", "kind", "NetworkPolicy",
				 "metadata", kt_meta(POLICY_NAME, KT_SYSTEM_NS, NULL), "spec",
				 "podSelector", "policyTypes", "Ingress", "ingress", "from",
				 "namespaceSelector", "matchExpressions", "key", r->key_purpose,
				 "operator", "NotIn", "values", KT_PURPOSE_TENANT, "ipBlock",
				 "cidr", "0.0.0.0/0", "ipBlock", "cidr", "::/0"));
}

static enum kt_rc system_calico(struct rctx *r)
{
	const char *api = r->opts->network == KT_NET_CALICO ? "projectcalico.org/v3"
							    : "crd.projectcalico.org/v1";

	/* order 10: before any policy a platform team adds to the namespace at 20+ */
	return kt_emit(r,
		       json_pack("{s:s, s:s, s:o, s:{s:i, s:s, s:[s], s:[{s:s, s:{s:s}}, {s:s}]}}",
				 "apiVersion", api, "kind", "NetworkPolicy", "metadata",
				 kt_meta(POLICY_NAME, KT_SYSTEM_NS, NULL), "spec", "order", 10,
				 "selector", "all()", "types", "Ingress", "ingress", "action",
				 "Deny", "source", "namespaceSelector", r->calico_tenant_selector,
				 "action", "Allow"));
}

static enum kt_rc system_admin(struct rctx *r)
{
	return kt_emit(r, json_pack("{s:s, s:s, s:o, s:{s:s, s:i, s:{s:{s:{s:s}}}, "
				    "s:[{s:s, s:s, s:[{s:o}]}]}}",
				    "apiVersion", "policy.networking.k8s.io/v1alpha2", "kind",
				    "ClusterNetworkPolicy", "metadata",
				    kt_meta(POLICY_NAME, NULL, NULL), "spec", "tier", "Admin",
				    "priority", 10, "subject", "namespaces", "matchLabels",
				    "kubernetes.io/metadata.name", KT_SYSTEM_NS, "ingress", "name",
				    "no-tenants", "action", "Deny", "from", "namespaces",
				    kt_tenant_ns_selector(r)));
}

enum kt_rc kt_render_network_system(struct rctx *r)
{
	switch (r->opts->network) {
	case KT_NET_CALICO_CRD:
	case KT_NET_CALICO:
		return system_calico(r);
	case KT_NET_ADMIN:
		return system_admin(r);
	default:
		return system_kubernetes(r);
	}
}
