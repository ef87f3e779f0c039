/*
 * flux.c: the tenant's Git sync (tenet 3: tenants change their namespace
 * through their manifest repository), when `manifestRepo` is set.
 *
 * Flux's multi-tenancy lockdown, per tenant, all in the tenant namespace:
 *  - ServiceAccount `tenant-flux`, bound by RoleBinding `tenant-flux` to
 *    the built-in `admin` ClusterRole in this namespace only (admin cannot
 *    touch the Namespace object, quotas or other namespaces);
 *  - GitRepository (source.toolkit.fluxcd.io/v1) `tenant-manifests`;
 *  - Kustomization (kustomize.toolkit.fluxcd.io/v1) `tenant-manifests` with
 *    serviceAccountName (the controller impersonates the tenant's account
 *    instead of using its own cluster-admin rights) and targetNamespace
 *    (every object lands in the tenant's namespace).
 * Defaults: branch main, path ./, interval 1m.
 */
#include "internal.h"

#define FLUX_SA "tenant-flux"
#define FLUX_SOURCE "tenant-manifests"

enum kt_rc kt_render_flux(struct rctx *r, const struct kt_tenant *t)
{
	const struct kt_repo *repo = &t->repo;
	const char *interval = repo->interval ? repo->interval : "1m";
	json_t *spec;
	enum kt_rc rc;

	if (!repo->url)
		return KT_OK;
	rc = kt_emit(r, json_pack("{s:s, s:s, s:o}", "apiVersion", "v1", "kind", "ServiceAccount",
				  "metadata", kt_tenant_meta(r, FLUX_SA, t->name, t)));
	if (rc == KT_OK)
		rc = kt_emit(r, json_pack("{s:s, s:s, s:o, s:[{s:s, s:s, s:s}], s:{s:s, s:s, s:s}}",
					  "apiVersion", "rbac.authorization.k8s.io/v1", "kind",
					  "RoleBinding", "metadata",
					  kt_tenant_meta(r, FLUX_SA, t->name, t), "subjects",
					  "kind", "ServiceAccount", "name", FLUX_SA, "namespace",
					  t->name, "roleRef", "kind", "ClusterRole", "name",
					  "admin", "apiGroup", "rbac.authorization.k8s.io"));
	if (rc)
		return rc;
	spec = json_pack("{s:s, s:s, s:{s:s}}", "interval", interval, "url", repo->url, "ref",
			 "branch", repo->branch ? repo->branch : "main");
	if (spec && repo->secret_ref &&
	    json_object_set_new(spec, "secretRef", json_pack("{s:s}", "name", repo->secret_ref))) {
		json_decref(spec);
		spec = NULL;
	}
	rc = kt_emit(r,
		     json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "source.toolkit.fluxcd.io/v1",
			       "kind", "GitRepository", "metadata",
			       kt_tenant_meta(r, FLUX_SOURCE, t->name, t), "spec", spec));
	if (rc)
		return rc;
	return kt_emit(r, json_pack("{s:s, s:s, s:o, s:{s:s, s:s, s:b, s:{s:s, s:s}, s:s, s:s}}",
				    "apiVersion", "kustomize.toolkit.fluxcd.io/v1", "kind",
				    "Kustomization", "metadata",
				    kt_tenant_meta(r, FLUX_SOURCE, t->name, t), "spec", "interval",
				    interval, "path", repo->path ? repo->path : "./", "prune", 1,
				    "sourceRef", "kind", "GitRepository", "name", FLUX_SOURCE,
				    "serviceAccountName", FLUX_SA, "targetNamespace", t->name));
}
