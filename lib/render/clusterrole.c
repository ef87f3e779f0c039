/*
 * clusterrole.c: the `platform-tenant` ClusterRole, bound per namespace by
 * each tenant's `tenant-access` RoleBinding.
 *
 * Read-only by construction: only get, list and watch, and never on
 * secrets (a read of a Secret is a credential leak), never pods/exec,
 * pods/attach or pods/portforward (those are writes in disguise: they
 * reach into a running container).  Tenants change their namespace
 * through Git (Flux), not through kubectl.
 */
#include "internal.h"

struct rule {
	const char *group;
	const char *resources[12];
};

static const struct rule rules[] = {
	{ "",
	  { "configmaps", "endpoints", "events", "limitranges", "persistentvolumeclaims", "pods",
	    "pods/log", "replicationcontrollers", "resourcequotas", "serviceaccounts",
	    "services" } },
	{ "apps", { "daemonsets", "deployments", "replicasets", "statefulsets" } },
	{ "autoscaling", { "horizontalpodautoscalers" } },
	{ "batch", { "cronjobs", "jobs" } },
	{ "cert-manager.io", { "certificaterequests", "certificates" } },
	{ "discovery.k8s.io", { "endpointslices" } },
	{ "events.k8s.io", { "events" } },
	{ "gateway.networking.k8s.io", { "grpcroutes", "httproutes", "tlsroutes" } },
	{ "kustomize.toolkit.fluxcd.io", { "kustomizations" } },
	{ "networking.k8s.io", { "ingresses", "networkpolicies" } },
	{ "policy", { "poddisruptionbudgets" } },
	{ "source.toolkit.fluxcd.io", { "gitrepositories" } },
};

enum kt_rc kt_render_clusterrole(struct rctx *r)
{
	json_t *list = json_array();
	size_t i, j;

	for (i = 0; list && i < sizeof(rules) / sizeof(rules[0]); i++) {
		json_t *res = json_array();

		for (j = 0; res && rules[i].resources[j]; j++)
			if (json_array_append_new(res, json_string(rules[i].resources[j]))) {
				json_decref(res);
				res = NULL;
			}
		if (json_array_append_new(list, json_pack("{s:[s], s:o, s:[sss]}", "apiGroups",
							  rules[i].group, "resources", res, "verbs",
							  "get", "list", "watch"))) {
			json_decref(list);
			list = NULL;
		}
	}
	return kt_emit(r,
		       json_pack("{s:s, s:s, s:o, s:o}", "apiVersion",
				 "rbac.authorization.k8s.io/v1", "kind", "ClusterRole", "metadata",
				 kt_meta(KT_TENANT_ROLE, NULL, NULL), "rules", list));
}
