/*
 * access.c: the `tenant-access` RoleBinding (the blog's, one per tenant):
 * the tenant's IdP groups, with the OIDC prefix the proxy adds, get the
 * read-only `platform-tenant` ClusterRole in the tenant's namespace only.
 *
 * The prefix matters: the proxy prefixes every IdP group, so an IdP group
 * named like a Kubernetes group ("system:masters") can never match one.
 */
#include "internal.h"

static enum kt_rc add_group(const struct rctx *r, json_t *subjects, const char *group)
{
	return json_array_append_new(subjects, json_pack("{s:s, s:o, s:s}", "kind", "Group", "name",
							 kt_group_name(r, group), "apiGroup",
							 "rbac.authorization.k8s.io"))
		       ? KT_E_NOMEM
		       : KT_OK;
}

enum kt_rc kt_render_access(struct rctx *r, const struct kt_tenant *t)
{
	json_t *subjects;
	enum kt_rc rc = KT_OK;
	size_t i;

	if (!t->operator_group && t->read_groups.n == 0)
		return KT_OK; /* nobody to bind: no RoleBinding at all */
	subjects = json_array();
	if (!subjects)
		return kt_emit(r, NULL);
	if (t->operator_group)
		rc = add_group(r, subjects, t->operator_group);
	for (i = 0; rc == KT_OK && i < t->read_groups.n; i++)
		rc = add_group(r, subjects, t->read_groups.v[i]);
	if (rc) {
		json_decref(subjects);
		return kt_emit(r, NULL);
	}
	return kt_emit(r, json_pack("{s:s, s:s, s:o, s:o, s:{s:s, s:s, s:s}}", "apiVersion",
				    "rbac.authorization.k8s.io/v1", "kind", "RoleBinding",
				    "metadata", kt_tenant_meta(r, "tenant-access", t->name, t),
				    "subjects", subjects, "roleRef", "kind", "ClusterRole", "name",
				    KT_TENANT_ROLE, "apiGroup", "rbac.authorization.k8s.io"));
}
