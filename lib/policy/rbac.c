/*
 * rbac.c: a tenant's RoleBindings bind the tenant and nobody else.
 *
 * admin in a namespace (the tenant-flux ServiceAccount has it) may bind any
 * subject there, and any role it holds itself: enough to hand the
 * namespace to every authenticated user, to another tenant's groups or to
 * another namespace's service accounts (a workload of someone else then
 * acts inside this tenant, and this tenant's quota pays for it).  A
 * RoleBinding written by a tenant may name only:
 *  - its namespace's service accounts: kind ServiceAccount in the
 *    namespace (or with none, which means the namespace), the User
 *    system:serviceaccount:<ns>:<name>, the Group system:serviceaccounts:<ns>;
 *  - the tenant's groups from the tenants file (operatorEdGroup,
 *    readOnlyGroups) with the group prefix the proxy adds;
 * and as its role any Role of the namespace, or one of the ClusterRoles
 * made to be bound per namespace: admin, edit, view and the platform's
 * read-only tenant role.  Platform identities are exempt.
 */
#include <string.h>
#include "internal.h"

static bool own_group(const struct kt_pctx *c, const char *g)
{
	static const char sa[] = "system:serviceaccounts:";
	const char *prefix = c->cfg->global.group_prefix ? c->cfg->global.group_prefix : "";
	size_t pl = strlen(prefix);

	if (!strncmp(g, sa, sizeof(sa) - 1))
		return !strcmp(g + sizeof(sa) - 1, c->ns);
	if (strncmp(g, prefix, pl))
		return false;
	g += pl;
	return (c->t->operator_group && !strcmp(g, c->t->operator_group)) ||
	       kt_strv_has(&c->t->read_groups, g);
}

/* Only the service-account form: the tenants file names no users of a tenant. */
static bool own_user(const struct kt_pctx *c, const char *u)
{
	static const char sa[] = "system:serviceaccount:";
	size_t nl = strlen(c->ns);

	if (strncmp(u, sa, sizeof(sa) - 1))
		return false;
	u += sizeof(sa) - 1;
	return !strncmp(u, c->ns, nl) && u[nl] == ':' && u[nl + 1] && !strchr(u + nl + 1, ':');
}

static bool own_subject(const struct kt_pctx *c, const char *kind, struct kt_jv s)
{
	const char *name = kt_gets(s, "name"), *ns;

	if (!name || !*name)
		return false;
	if (!strcmp(kind, "ServiceAccount")) {
		ns = kt_gets(s, "namespace");
		return !ns || !*ns || !strcmp(ns, c->ns);
	}
	if (!strcmp(kind, "Group"))
		return own_group(c, name);
	return !strcmp(kind, "User") && own_user(c, name);
}

static void judge_subjects(struct kt_pctx *c, struct kt_jv subjects)
{
	char path[KT_PCTX_PATH_MAX], q1[96], q2[64];

	kt_each (s, subjects) {
		const char *kind = kt_gets(s.v, "kind");

		if (own_subject(c, kind ? kind : "", s.v))
			continue;
		kt_pctx_deny(c, "rbac.foreign-subject",
			     kt_pctx_path(path, sizeof(path), "subjects[%zu]", s.i),
			     "%s '%s'%s%s is not of tenant '%s': a tenant's RoleBindings may bind only "
			     "the service accounts of namespace '%s' and the tenant's groups",
			     kind ? kt_pctx_q(q2, sizeof(q2), kind) : "subject",
			     kt_pctx_q(q1, sizeof(q1), kt_gets(s.v, "name")),
			     kt_gets(s.v, "namespace") ? " of namespace " : "",
			     kt_gets(s.v, "namespace") ? kt_gets(s.v, "namespace") : "", c->t->name,
			     c->ns);
	}
}

static void judge_role_ref(struct kt_pctx *c, struct kt_jv ref)
{
	static const char *const bindable[] = { "admin", "edit", "view", KT_POLICY_TENANT_ROLE };
	const char *kind = kt_gets(ref, "kind"), *name = kt_gets(ref, "name");
	char q[96];

	if (kind && !strcmp(kind, "Role"))
		return; /* a Role of this namespace grants at most what its author holds here */
	if (!kind || strcmp(kind, "ClusterRole") || !name) {
		kt_pctx_deny(c, "request.malformed", "roleRef",
			     "roleRef must name a Role or a ClusterRole");
		return;
	}
	for (size_t i = 0; i < sizeof(bindable) / sizeof(bindable[0]); i++)
		if (!strcmp(name, bindable[i]))
			return;
	kt_pctx_deny(c, "rbac.cluster-role", "roleRef.name",
		     "ClusterRole '%s' is not one a tenant may bind; bind admin, edit, view, "
		     "%s or a Role of the namespace",
		     kt_pctx_q(q, sizeof(q), name), KT_POLICY_TENANT_ROLE);
}

bool kt_rbac_dispatch(struct kt_pctx *c)
{
	if (*c->sub || strcmp(c->group, "rbac.authorization.k8s.io") ||
	    strcmp(c->kind, "RoleBinding"))
		return false;
	if (kt_managed_exempt(c))
		return true;
	judge_role_ref(c, kt_jv_get(c->obj, "roleRef"));
	judge_subjects(c, kt_jv_get(c->obj, "subjects"));
	return true;
}
