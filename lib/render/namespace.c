/*
 * namespace.c: the tenant's Namespace, and kubetenant's own.
 *
 * The tenant Namespace carries what every other control keys on: the
 * purpose label (webhook namespaceSelector, Calico and Gatekeeper
 * selectors), the tenant, node pool and cost code, and the Pod Security
 * Admission labels.  Tenants have no write access to Namespace objects,
 * so none of these can be changed from inside the tenant.
 */
#include <stdio.h>
#include "internal.h"

static const char *level_name(enum kt_pss_level l)
{
	switch (l) {
	case KT_PSS_PRIVILEGED:
		return "privileged";
	case KT_PSS_BASELINE:
		return "baseline";
	default:
		return "restricted";
	}
}

/*
 * enforce, audit and warn at the same level, each with its version pinned:
 * "latest" would silently tighten with the next cluster upgrade, so it is
 * written as the newest version this build knows.
 */
static enum kt_rc add_pss_labels(json_t *labels, const struct kt_pss_policy *p)
{
	static const char *const modes[] = { "enforce", "audit", "warn" };
	char key[64], version[16];
	int minor = p->minor == KT_PSS_LATEST ? KT_PSS_LATEST_MINOR : p->minor;
	size_t i;

	snprintf(version, sizeof(version), "v1.%d", minor);
	for (i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "pod-security.kubernetes.io/%s", modes[i]);
		if (json_object_set_new(labels, key, json_string(level_name(p->level))))
			return KT_E_NOMEM;
		snprintf(key, sizeof(key), "pod-security.kubernetes.io/%s-version", modes[i]);
		if (json_object_set_new(labels, key, json_string(version)))
			return KT_E_NOMEM;
	}
	return KT_OK;
}

static json_t *namespace(json_t *metadata)
{
	return json_pack("{s:s, s:s, s:o}", "apiVersion", "v1", "kind", "Namespace", "metadata",
			 metadata);
}

enum kt_rc kt_render_namespace(struct rctx *r, const struct kt_tenant *t)
{
	const struct kt_nodepool *p = t->pool; /* resolved by the loader */
	json_t *labels =
		json_pack("{s:s, s:s, s:s, s:s*}", r->key_purpose, KT_PURPOSE_TENANT, r->key_tenant,
			  t->name, r->key_pool, t->node_pool, r->key_cost, p ? p->cost_code : NULL);

	if (labels && add_pss_labels(labels, &t->pod_security)) {
		json_decref(labels);
		labels = NULL;
	}
	return kt_emit(r, labels ? namespace(kt_meta(t->name, NULL, labels)) : NULL);
}

/* kubetenant-system runs only our own hardened pods: restricted, pinned. */
enum kt_rc kt_render_system_namespace(struct rctx *r)
{
	struct kt_pss_policy restricted = { .level = KT_PSS_RESTRICTED, .minor = KT_PSS_LATEST };
	json_t *labels = json_object();

	if (labels && add_pss_labels(labels, &restricted)) {
		json_decref(labels);
		labels = NULL;
	}
	return kt_emit(r, labels ? namespace(kt_meta(KT_SYSTEM_NS, NULL, labels)) : NULL);
}
