/*
 * managed.c: what the platform owns inside a tenant namespace.
 *
 * RBAC cannot say "tenants may edit RoleBindings, except the one the
 * platform made": these rules can.  Objects labeled managed-by kubetenant,
 * the tenant Namespace's platform labels and scheduling annotations, the
 * tier of Calico policies (the platform's isolation policy is in default),
 * the identity Flux applies a tenant's repository with and the namespaces
 * Flux objects may refer to.  Platform identities from the tenants file are
 * exempt from these rules (and only these), and so are the Kubernetes
 * controllers that must delete or update such objects (namespace deletion,
 * garbage collection, quota status), which no tenant can act as.
 */
#include <string.h>
#include "internal.h"

static const char *const system_writers[] = {
	"system:serviceaccount:kube-system:namespace-controller",
	"system:serviceaccount:kube-system:generic-garbage-collector",
	"system:serviceaccount:kube-system:resourcequota-controller",
	"system:kube-controller-manager",
};

bool kt_managed_exempt(const struct kt_pctx *c)
{
	if (c->platform)
		return true;
	for (size_t i = 0; i < sizeof(system_writers) / sizeof(system_writers[0]); i++)
		if (c->d->user && !strcmp(c->d->user, system_writers[i]))
			return true;
	return false;
}

/* labels: of the object or the old object */
static bool is_managed(struct kt_jv labels)
{
	return kt_jv_streq(kt_jv_get(labels, KT_POLICY_MANAGED_BY_KEY), KT_POLICY_MANAGED_BY_VALUE);
}

static bool reserved_name(const char *name)
{
	static const char *const names[] = KT_POLICY_RESERVED_NAMES;

	if (!name || !*name)
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return !strncmp(name, KT_POLICY_RESERVED_PREFIX, strlen(KT_POLICY_RESERVED_PREFIX));
}

static bool platform_key(const struct kt_pctx *c, const char *key)
{
	size_t ld = strlen(c->cfg->global.label_domain);

	return !strncmp(key, c->cfg->global.label_domain, ld) && key[ld] == '/';
}

/* Labels and annotations of a tenant Namespace only the platform may set. */
static const char *protected_ns_key(const struct kt_pctx *c, const char *key, bool label)
{
	if (platform_key(c, key))
		return "platform";
	if (label) {
		if (!strncmp(key, "pod-security.kubernetes.io/", 27))
			return "Pod Security";
		if (!strcmp(key, KT_POLICY_MANAGED_BY_KEY) ||
		    !strcmp(key, "kubernetes.io/metadata.name"))
			return "platform";
		return NULL;
	}
	if (!strcmp(key, "scheduler.alpha.kubernetes.io/node-selector") ||
	    !strcmp(key, "scheduler.alpha.kubernetes.io/defaultTolerations") ||
	    !strcmp(key, "scheduler.alpha.kubernetes.io/tolerationsWhitelist"))
		return "node-selector/toleration";
	return NULL;
}

static void judge_namespace_meta(struct kt_pctx *c, bool label)
{
	const char *which = label ? "labels" : "annotations";
	struct kt_jv now = label ? c->labels : c->ann;
	struct kt_jv was = label ? c->old_labels : c->old_ann, m;
	char path[KT_PCTX_PATH_MAX], q[96];
	const char *kind, *key;

	/* keys added or changed, then keys removed */
	for (int pass = 0; pass < 2; pass++) {
		for (m = kt_jv_first(pass ? was : now); kt_jv_ok(m) && (key = kt_jv_key(m, NULL));
		     m = kt_jv_next(m)) {
			struct kt_jv other = kt_jv_get(pass ? now : was, key);

			if (pass && kt_jv_ok(other))
				continue;
			if (!(kind = protected_ns_key(c, key, label)))
				continue;
			if (c->op == KT_OP_UPDATE && kt_jv_equal(m, other))
				continue;
			/* the API server sets this one itself, to the name */
			if (c->op == KT_OP_CREATE && !strcmp(key, "kubernetes.io/metadata.name") &&
			    kt_jv_streq(m, c->ns))
				continue;
			kt_pctx_deny(c,
				     label ? "namespace.platform-label"
					   : "namespace.scheduling-annotation",
				     kt_pctx_path(path, sizeof(path), "metadata.%s[%s]", which,
						  kt_pctx_q(q, sizeof(q), key)),
				     "the %s %s '%s' of namespace '%s' is set by the platform; tenants "
				     "may not %s it",
				     kind, label ? "label" : "annotation", q, c->ns,
				     pass                    ? "remove"
				     : c->op == KT_OP_CREATE ? "set"
							     : "change");
		}
	}
}

static void judge_namespace(struct kt_pctx *c)
{
	if (c->op == KT_OP_DELETE) {
		if (!is_managed(c->old_labels))
			kt_pctx_deny(c, "namespace.delete", NULL,
				     "namespace '%s' of tenant '%s' is deleted by the platform only",
				     c->ns, c->t->name);
		return;
	}
	if (c->op != KT_OP_CREATE && c->op != KT_OP_UPDATE)
		return;
	/* namespaces/status and namespaces/finalize carry the whole object too */
	judge_namespace_meta(c, true);
	judge_namespace_meta(c, false);
}

void kt_managed_judge(struct kt_pctx *c)
{
	char q[96];

	if (kt_managed_exempt(c))
		return;
	/* status writes (controllers) cannot change what the platform set */
	if ((c->op == KT_OP_UPDATE || c->op == KT_OP_DELETE) && strcmp(c->sub, "status") &&
	    is_managed(c->old_labels)) {
		kt_pctx_deny(c, "managed.protected-object", NULL,
			     "%s '%s' is managed by the platform (label %s=%s); tenants may not %s "
			     "it: change the tenants file instead",
			     c->kind, kt_pctx_q(q, sizeof(q), c->name), KT_POLICY_MANAGED_BY_KEY,
			     KT_POLICY_MANAGED_BY_VALUE,
			     c->op == KT_OP_DELETE ? "delete" : "change");
		return;
	}
	if (!*c->group && !strcmp(c->kind, "Namespace"))
		judge_namespace(c);
	if ((c->op == KT_OP_CREATE || c->op == KT_OP_UPDATE) && is_managed(c->labels) &&
	    !is_managed(c->old_labels))
		kt_pctx_deny(c, "managed.reserved-label",
			     "metadata.labels[" KT_POLICY_MANAGED_BY_KEY "]",
			     "the label %s=%s marks objects of the platform; remove it",
			     KT_POLICY_MANAGED_BY_KEY, KT_POLICY_MANAGED_BY_VALUE);
	if (c->op == KT_OP_CREATE && strcmp(c->kind, "Namespace")) {
		const char *name = kt_jv_str(c->meta_name);

		if (!name)
			name = kt_jv_str(c->meta_gen);
		if (reserved_name(name))
			kt_pctx_deny(c, "managed.reserved-name", "metadata.name",
				     "the name '%s' is reserved for objects of the platform; choose "
				     "another name",
				     kt_pctx_q(q, sizeof(q), name));
	}
}

/* ---- Calico ---- */

/*
 * The isolation policy is the tenant's default, last in the default tier:
 * any order a tenant picks only decides for its own pods (a namespaced
 * policy selects nothing elsewhere), so no order is refused.  One after
 * the isolation policy (or with none: Calico runs those last) can no
 * longer admit other tenants, which is worth a warning.  Other tiers run
 * before the default tier and are the platform's.
 */
static void judge_calico(struct kt_pctx *c)
{
	struct kt_jv spec = kt_jv_get(c->obj, "spec"), order = kt_jv_get(spec, "order");
	const char *tier = kt_as_string(c, kt_jv_get(spec, "tier"), "spec.tier");

	if (!kt_jv_absent(order) && !kt_jv_is(order, KT_J_NUMBER))
		kt_pctx_deny(c, "request.malformed", "spec.order", "order must be a number");
	else if (kt_jv_absent(order) || kt_jv_num(order) >= KT_POLICY_CALICO_ISOLATION_ORDER)
		kt_pctx_warn(c, "network.calico-order", "spec.order",
			     "this policy runs after the platform's isolation policy (order %d): "
			     "it cannot admit traffic from other tenants; use an order below %d "
			     "to open your namespace to them",
			     KT_POLICY_CALICO_ISOLATION_ORDER, KT_POLICY_CALICO_ISOLATION_ORDER);
	if (tier && *tier && strcmp(tier, "default"))
		kt_pctx_deny(c, "network.calico-tier", "spec.tier",
			     "Calico tier '%s' is evaluated before the platform's isolation policy; "
			     "use the default tier",
			     tier);
}

/* ---- Flux ---- */

static void judge_ref_ns(struct kt_pctx *c, struct kt_jv ref, const char *path)
{
	const char *ns;
	char q[96];

	if (!kt_jv_absent(ref) && !kt_jv_is(ref, KT_J_OBJECT)) { /* path ends with ".namespace" */
		char rp[KT_PCTX_PATH_MAX];

		kt_pctx_path(rp, sizeof(rp), "%.*s", (int)(strlen(path) - 10), path);
		kt_pctx_deny(c, "request.malformed", rp, "%s must be an object", rp);
		return;
	}
	ns = kt_as_string(c, kt_jv_get(ref, "namespace"), "%s", path);

	if (ns && *ns && strcmp(ns, c->ns))
		kt_pctx_deny(c, "flux.cross-namespace-ref", path,
			     "reference to namespace '%s'; tenant '%s' may only refer to objects in "
			     "namespace '%s'",
			     kt_pctx_q(q, sizeof(q), ns), c->t->name, c->ns);
}

static void judge_flux(struct kt_pctx *c, bool helm)
{
	struct kt_jv spec = kt_jv_get(c->obj, "spec");
	const char *sa = kt_gets(spec, "serviceAccountName");
	const char *want = kt_policy_flux_service_account(c->t);
	char path[KT_PCTX_PATH_MAX], q[96];

	if (!sa || strcmp(sa, want))
		kt_pctx_deny(c, "flux.service-account", "spec.serviceAccountName",
			     "%s must run as the tenant's service account: set serviceAccountName "
			     "to '%s'%s%s%s",
			     c->kind, want, sa ? " (not '" : "",
			     sa ? kt_pctx_q(q, sizeof(q), sa) : "", sa ? "')" : "");
	if (!kt_jv_absent(kt_jv_get(spec, "kubeConfig")))
		kt_pctx_deny(c, "flux.kubeconfig", "spec.kubeConfig",
			     "%s may not apply to another cluster with kubeConfig; remove it",
			     c->kind);
	if (helm) {
		judge_ref_ns(c, kt_jv_get(kt_jv_get(kt_jv_get(spec, "chart"), "spec"), "sourceRef"),
			     "spec.chart.spec.sourceRef.namespace");
		judge_ref_ns(c, kt_jv_get(spec, "chartRef"), "spec.chartRef.namespace");
	} else {
		judge_ref_ns(c, kt_jv_get(spec, "sourceRef"), "spec.sourceRef.namespace");
	}
	kt_each (dep, kt_as_list(c, kt_jv_get(spec, "dependsOn"), "spec.dependsOn")) {
		kt_pctx_path(path, sizeof(path), "spec.dependsOn[%zu].namespace", dep.i);
		judge_ref_ns(c, dep.v, path);
	}
	for (int k = 0; k < (helm ? 2 : 1); k++) {
		const char *field = k ? "storageNamespace" : "targetNamespace";
		const char *v = kt_as_string(c, kt_jv_get(spec, field), "spec.%s", field);

		if (v && *v && strcmp(v, c->ns))
			kt_pctx_deny(c, "flux.target-namespace",
				     kt_pctx_path(path, sizeof(path), "spec.%s", field),
				     "%s '%s' is not the tenant's namespace '%s'", field,
				     kt_pctx_q(q, sizeof(q), v), c->ns);
	}
}

/*
 * Other Flux kinds that refer to objects by namespace: an Alert forwards
 * the events of its sources (another tenant's, if it may name them), a
 * Receiver triggers its resources, an ImageUpdateAutomation pushes to its
 * source's repository, an ImagePolicy reads its repository's tags, an
 * ArtifactGenerator copies its sources' artifacts.  The field is a
 * reference or, when list is set, a list of them.
 */
static const struct {
	const char *group, *kind, *field;
	bool list;
} flux_refs[] = {
	{ "notification.toolkit.fluxcd.io", "Alert", "eventSources", true },
	{ "notification.toolkit.fluxcd.io", "Receiver", "resources", true },
	{ "image.toolkit.fluxcd.io", "ImageUpdateAutomation", "sourceRef", false },
	{ "image.toolkit.fluxcd.io", "ImagePolicy", "imageRepositoryRef", false },
	{ "source.extensions.fluxcd.io", "ArtifactGenerator", "sources", true },
};

static void judge_flux_refs(struct kt_pctx *c, const char *field, bool list)
{
	struct kt_jv v = kt_jv_get(kt_jv_get(c->obj, "spec"), field);
	char path[KT_PCTX_PATH_MAX];

	if (!list) {
		judge_ref_ns(c, v, kt_pctx_path(path, sizeof(path), "spec.%s.namespace", field));
		return;
	}
	kt_each (ref, v) {
		kt_pctx_path(path, sizeof(path), "spec.%s[%zu].namespace", field, ref.i);
		judge_ref_ns(c, ref.v, path);
	}
}

bool kt_managed_dispatch(struct kt_pctx *c)
{
	const char *g = c->group;

	if (*c->sub)
		return false;
	if ((!strcmp(g, "crd.projectcalico.org") || !strcmp(g, "projectcalico.org")) &&
	    !strcmp(c->kind, "NetworkPolicy")) {
		if (!kt_managed_exempt(c))
			judge_calico(c);
		return true;
	}
	if ((!strcmp(g, "kustomize.toolkit.fluxcd.io") && !strcmp(c->kind, "Kustomization")) ||
	    (!strcmp(g, "helm.toolkit.fluxcd.io") && !strcmp(c->kind, "HelmRelease"))) {
		if (!kt_managed_exempt(c))
			judge_flux(c, g[0] == 'h');
		return true;
	}
	for (size_t i = 0; i < sizeof(flux_refs) / sizeof(flux_refs[0]); i++) {
		if (strcmp(g, flux_refs[i].group) || strcmp(c->kind, flux_refs[i].kind))
			continue;
		if (!kt_managed_exempt(c))
			judge_flux_refs(c, flux_refs[i].field, flux_refs[i].list);
		return true;
	}
	return false;
}
