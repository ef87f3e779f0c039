/*
 * proxy.c: `kubetenant proxy` in the cluster (tenet 3), rendered when
 * global.oidc.issuerURL is set: ServiceAccount, the impersonation
 * ClusterRole and its binding, the serving Certificate, Deployment,
 * PodDisruptionBudget and Service, all named kubetenant-proxy in
 * kubetenant-system.
 *
 * The proxy verifies the tenant's OIDC token and calls the API server as
 * itself with Impersonate-User/Group headers, so its own account needs
 * `impersonate` on users and groups, and nothing else: not on
 * serviceaccounts (a proxy bug must never become "act as any service
 * account"), not on uids, and not on userextras because the rendered proxy
 * sends no extra (RBAC grants extras per key, as userextras/<key>; add the
 * key here if you add --extra).  `--groups-prefix` is always passed with
 * the prefix used in the tenant RoleBindings, so the two cannot disagree.
 *
 * With the tenants file (`-f`, the ConfigMap serve reads) it also lists
 * and watches, as itself, the cluster-scoped collections members may see
 * a part of (docs/proxy-scope.md): list and watch on namespaces, nodes and
 * the four class kinds, never get (a GET of one object stays the
 * member's) and nothing else.
 */
#include <stdio.h>
#include "internal.h"

#define PX_NAME "kubetenant-proxy"
#define PX_TLS_SECRET "kubetenant-proxy-tls"
#define PX_TENANTS "kubetenant-tenants" /* kt_render_tenants_configmap() */
#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/*
 * The container's argv, from a list rather than a pack format: a format
 * with one 's' fewer than its values silently drops the last one (that is
 * how the rendered proxy once lost its --tls-key path).  A NULL value fails
 * the render instead of shortening the list.
 */
static json_t *args(const struct rctx *r)
{
	const struct kt_oidc *o = &r->cfg->global.oidc;
	/* each flag and its value on one line */
	/* clang-format off */
	const char *const v[] = {
		"proxy",
		"--issuer-url", o->issuer_url,
		"--audience", o->dashboard_client_id ? o->dashboard_client_id : "kubetenant-dashboard",
		"--audience", o->client_id ? o->client_id : "kubernetes", /* last: kubectl's */
		"--upstream", "https://kubernetes.default.svc",
		"--upstream-ca", SA_DIR "/ca.crt",
		"--token-file", SA_DIR "/token",
		"--username-claim", o->username_claim ? o->username_claim : "sub",
		"--groups-claim", o->groups_claim ? o->groups_claim : "groups",
		"--groups-prefix", r->group_prefix,
		"--listen", ":8443",
		"--tls-cert", "/etc/kubetenant/tls/tls.crt",
		"--tls-key", "/etc/kubetenant/tls/tls.key",
		"--tenants", "/etc/kubetenant/tenants.yaml",
	};
	/* clang-format on */
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < sizeof(v) / sizeof(v[0]); i++)
		if (json_array_append_new(a, json_string(v[i]))) {
			json_decref(a);
			a = NULL;
		}
	/* the dashboard under /ui/, signing in as its own client (an audience above) */
	if (a && o->dashboard &&
	    (json_array_append_new(a, json_string("--ui")) ||
	     json_array_append_new(a, json_string("--ui-client-id")) ||
	     json_array_append_new(a,
				   json_string(o->dashboard_client_id ? o->dashboard_client_id
								      : "kubetenant-dashboard")))) {
		json_decref(a);
		a = NULL;
	}
	return a;
}

enum kt_rc kt_render_proxy(struct rctx *r)
{
	const char *host = r->cfg->global.oidc.hostname;
	char svc[128];
	json_t *dns;
	enum kt_rc rc;

	rc = kt_emit(r, kt_service_account(PX_NAME, 1));
	/* the webhook's ConfigMap: rendered here when there is no webhook */
	if (rc == KT_OK && r->opts->enforcement != KT_ENF_WEBHOOK)
		rc = kt_render_tenants_configmap(r);
	if (rc == KT_OK)
		rc = kt_emit(r,
			     json_pack("{s:s, s:s, s:o, s:[{s:[s], s:[ss], s:[s]}, {s:[s], s:[ss], s:[ss]}, "
				       "{s:[s], s:[s], s:[ss]}, {s:[s], s:[s], s:[ss]}, {s:[s], s:[s], s:[ss]}, "
				       "{s:[s], s:[s], s:[ss]}]}",
				       "apiVersion", "rbac.authorization.k8s.io/v1", "kind",
				       "ClusterRole", "metadata", kt_meta(PX_NAME, NULL, NULL),
				       "rules", "apiGroups", "", "resources", "groups", "users",
				       "verbs", "impersonate", "apiGroups", "", "resources",
				       "namespaces", "nodes", "verbs", "list", "watch", "apiGroups",
				       "networking.k8s.io", "resources", "ingressclasses", "verbs",
				       "list", "watch", "apiGroups", "scheduling.k8s.io",
				       "resources", "priorityclasses", "verbs", "list", "watch",
				       "apiGroups", "node.k8s.io", "resources", "runtimeclasses",
				       "verbs", "list", "watch", "apiGroups", "storage.k8s.io",
				       "resources", "storageclasses", "verbs", "list", "watch"));
	if (rc == KT_OK)
		rc = kt_emit(r, json_pack("{s:s, s:s, s:o, s:[{s:s, s:s, s:s}], s:{s:s, s:s, s:s}}",
					  "apiVersion", "rbac.authorization.k8s.io/v1", "kind",
					  "ClusterRoleBinding", "metadata",
					  kt_meta(PX_NAME, NULL, NULL), "subjects", "kind",
					  "ServiceAccount", "name", PX_NAME, "namespace",
					  KT_SYSTEM_NS, "roleRef", "kind", "ClusterRole", "name",
					  PX_NAME, "apiGroup", "rbac.authorization.k8s.io"));
	if (rc)
		return rc;
	snprintf(svc, sizeof(svc), "%s.%s.svc", PX_NAME, KT_SYSTEM_NS);
	dns = host ? json_pack("[ss]", host, svc) : json_pack("[s]", svc);
	rc = kt_emit(r, kt_serving_certificate(PX_NAME, PX_TLS_SECRET, dns));
	if (rc == KT_OK)
		rc = kt_emit(r,
			     kt_with_oidc_ca(
				     r,
				     kt_deployment(r, PX_NAME, "proxy", args(r),
						   json_pack("[{s:s, s:i, s:s}]", "name", "https",
							     "containerPort", 8443, "protocol",
							     "TCP"),
						   json_pack("[{s:s, s:{s:[{s:{s:s, s:[{s:s, s:s}]}}, {s:{s:s, s:[{s:s, s:s}, "
							     "{s:s, s:s}]}}]}}]",
							     "name", "config", "projected",
							     "sources", "configMap", "name",
							     PX_TENANTS, "items", "key",
							     "tenants.yaml", "path", "tenants.yaml",
							     "secret", "name", PX_TLS_SECRET,
							     "items", "key", "tls.crt", "path",
							     "tls/tls.crt", "key", "tls.key",
							     "path", "tls/tls.key"),
						   json_pack("[{s:s, s:s, s:b}]", "name", "config",
							     "mountPath", "/etc/kubetenant",
							     "readOnly", 1),
						   1)));
	if (rc == KT_OK)
		rc = kt_emit(r, kt_pdb(PX_NAME));
	if (rc == KT_OK)
		rc = kt_emit(r, kt_service(PX_NAME, json_pack("[{s:s, s:i, s:s, s:s}]", "name",
							      "https", "port", 443, "targetPort",
							      "https", "protocol", "TCP")));
	return rc;
}
