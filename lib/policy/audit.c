/*
 * audit.c: judging what already runs (Gatekeeper's audit, without a cluster).
 *
 * A live object differs from a manifest in what the API server and the
 * controllers wrote into it.  Those parts are removed or attributed before
 * the object goes through the same kt_policy_decide() as `check`, so audit
 * reports exactly what today's webhook would refuse if the object were
 * created again now.
 */
#include <string.h>
#include "internal.h"

/*
 * What the in-tree controllers and cert-manager write in tenant namespaces:
 * EndpointSlices and Endpoints kept in sync with Services; ACME Orders made
 * from a CertificateRequest, Challenges from an Order, and the HTTP01
 * solver's Pod, Service and Ingress owned by a Challenge.  The webhook
 * judges these by who writes them (docs/controllers.md); a dump does not
 * say, so they are attributed by their controller, like the rest.
 */
/* obj names an owner of that apiVersion and kind as its controller. */
static bool controller_ref(const json_t *obj, const char *api_version, const char *kind)
{
	json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), *ref;
	const char *av, *k;
	size_t i;

	json_array_foreach (refs, i, ref) {
		av = json_string_value(json_object_get(ref, "apiVersion"));
		k = json_string_value(json_object_get(ref, "kind"));
		if (json_is_true(json_object_get(ref, "controller")) && av && k &&
		    !strcmp(av, api_version) && !strcmp(k, kind))
			return true;
	}
	return false;
}

static bool controller_written(json_t *o, const char *kind)
{
	json_t *labels = json_object_get(json_object_get(o, "metadata"), "labels");
	const char *mb = json_string_value(
		json_object_get(labels, "endpointslice.kubernetes.io/managed-by"));
	const char *skip = json_string_value(
		json_object_get(labels, "endpointslice.kubernetes.io/skip-mirror"));

	if (!strcmp(kind, "Order") && controller_ref(o, "cert-manager.io/v1", "CertificateRequest"))
		return true;
	/* Challenges of an Order; solver objects of a Challenge (as the webhook reads them) */
	if (controller_ref(o, "acme.cert-manager.io/v1", "Order") ||
	    controller_ref(o, "acme.cert-manager.io/v1", "Challenge"))
		return true;
	if (!strcmp(kind, "EndpointSlice"))
		return mb && (!strcmp(mb, "endpointslice-controller.k8s.io") ||
			      !strcmp(mb, "endpointslicemirroring-controller.k8s.io"));
	/* the endpoints controller marks every Endpoints it writes so it is not mirrored */
	return !strcmp(kind, "Endpoints") && skip && !strcmp(skip, "true");
}

static void strip(json_t *o)
{
	static const char *const server_meta[] = { "uid",
						   "resourceVersion",
						   "generation",
						   "creationTimestamp",
						   "managedFields",
						   "selfLink",
						   "deletionTimestamp",
						   "deletionGracePeriodSeconds" };
	json_t *meta = json_object_get(o, "metadata");

	json_object_del(o, "status");
	for (size_t i = 0; i < sizeof(server_meta) / sizeof(server_meta[0]); i++)
		json_object_del(meta, server_meta[i]);
}

enum kt_rc kt_policy_audit(const struct kt_config *cfg, json_t *object, const char *node_pool,
			   struct kt_decision *d, bool *judged, struct kt_err *err)
{
	struct kt_policy_request req = { .operation = "CREATE" };
	const char *av = json_string_value(json_object_get(object, "apiVersion"));
	const char *kind = json_string_value(json_object_get(object, "kind"));
	json_t *meta = json_object_get(object, "metadata"), *copy = NULL, *spec;
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *mb = json_string_value(
		json_object_get(json_object_get(meta, "labels"), KT_POLICY_MANAGED_BY_KEY));
	const struct kt_tenant *t;
	bool core = av && !strchr(av, '/'), is_ns, is_pod;
	enum kt_rc rc;

	memset(d, 0, sizeof(*d));
	d->patch = (struct kt_buf)KT_BUF_INIT;
	d->allowed = true;
	d->code = 200;
	*judged = false;
	if (!json_is_object(object) || !av || !kind)
		return kt_err_set(err, KT_E_INVALID, "object has no apiVersion or kind");
	is_ns = core && !strcmp(kind, "Namespace");
	is_pod = core && !strcmp(kind, "Pod");
	t = kt_config_tenant_by_ns(cfg, is_ns ? name : ns);
	if (!t || controller_written(object, kind))
		return KT_OK;
	copy = json_deep_copy(object);
	if (!copy)
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	strip(copy);
	spec = json_object_get(copy, "spec");
	/* the scheduler wrote nodeName; where the node is, node_pool tells */
	if (is_pod)
		json_object_del(spec, "nodeName");
	req.ns = t->name;
	req.object = copy;
	req.platform = is_ns || (mb && !strcmp(mb, KT_POLICY_MANAGED_BY_VALUE));
	rc = kt_policy_decide(cfg, &req, KT_POLICY_VALIDATE, d, err);
	if (!rc && is_pod && node_pool && strcmp(node_pool, t->node_pool)) {
		struct kt_pctx c = { .d = d };
		const char *node = json_string_value(
			json_object_get(json_object_get(object, "spec"), "nodeName"));

		kt_pctx_deny(&c, "placement.foreign-node", "spec.nodeName",
			     "pod runs on node '%s' of %s%s%s but tenant '%s' may only use '%s'",
			     node ? node : "?", *node_pool ? "node pool '" : "no node pool",
			     node_pool, *node_pool ? "'" : "", t->name, t->node_pool);
		d->allowed = false;
		d->code = 403;
		rc = c.rc ? kt_err_set(err, c.rc, "out of memory") : KT_OK;
	}
	*judged = !rc;
	json_decref(copy);
	return rc;
}
