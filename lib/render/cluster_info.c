/*
 * cluster_info.c: kube-public/kubetenant-info, what a member needs before
 * they have any credential (as kubeadm's kube-public/cluster-info): the
 * issuer, the kubectl client ID, the proxy's URL, its CA when private, and
 * the cluster's name.  `kubetenant kubeconfig --from-cluster URL` reads
 * exactly these keys; renaming one breaks every member's first login.
 *
 * The Role lets anyone, signed in or not, `get` this one ConfigMap by name
 * and nothing else: not list, not watch, not another object of kube-public.
 * Nothing secret is in it (an issuer URL and a client ID are public by
 * design, and PKCE needs no client secret).
 */
#include <stdio.h>
#include "internal.h"

#define INFO_NAME "kubetenant-info"
#define INFO_NS "kube-public"

static json_t *proxy_url(const struct kt_oidc *o)
{
	char url[300];

	if (o->hostname)
		snprintf(url, sizeof(url), "https://%s", o->hostname);
	else /* reachable from inside the cluster only; still the proxy's address */
		snprintf(url, sizeof(url), "https://kubetenant-proxy.%s.svc", KT_SYSTEM_NS);
	return json_string(url);
}

static json_t *info_data(const struct rctx *r)
{
	const struct kt_oidc *o = &r->cfg->global.oidc;
	json_t *d = json_pack("{s:s, s:s, s:o}", "issuerURL", o->issuer_url, "clientID",
			      o->client_id ? o->client_id : "kubernetes", "proxyURL", proxy_url(o));

	if (d && o->proxy_ca && json_object_set_new(d, "ca.crt", json_string(o->proxy_ca))) {
		json_decref(d);
		return NULL;
	}
	if (d && json_object_set_new(d, "cluster", json_string(r->cfg->global.cluster_name))) {
		json_decref(d);
		return NULL;
	}
	return d;
}

enum kt_rc kt_render_cluster_info(struct rctx *r)
{
	enum kt_rc rc;

	rc = kt_emit(r, json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", "ConfigMap",
				  "metadata", kt_meta(INFO_NAME, INFO_NS, NULL), "data",
				  info_data(r)));
	if (rc == KT_OK)
		rc = kt_emit(r, json_pack("{s:s, s:s, s:o, s:[{s:[s], s:[s], s:[s], s:[s]}]}",
					  "apiVersion", "rbac.authorization.k8s.io/v1", "kind",
					  "Role", "metadata", kt_meta(INFO_NAME, INFO_NS, NULL),
					  "rules", "apiGroups", "", "resources", "configmaps",
					  "resourceNames", INFO_NAME, "verbs", "get"));
	if (rc == KT_OK)
		rc = kt_emit(r,
			     json_pack("{s:s, s:s, s:o, s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:s}, "
				       "{s:s, s:s, s:s}]}",
				       "apiVersion", "rbac.authorization.k8s.io/v1", "kind",
				       "RoleBinding", "metadata", kt_meta(INFO_NAME, INFO_NS, NULL),
				       "roleRef", "apiGroup", "rbac.authorization.k8s.io", "kind",
				       "Role", "name", INFO_NAME, "subjects", "kind", "Group",
				       "name", "system:unauthenticated", "apiGroup",
				       "rbac.authorization.k8s.io", "kind", "Group", "name",
				       "system:authenticated", "apiGroup",
				       "rbac.authorization.k8s.io"));
	return rc;
}
