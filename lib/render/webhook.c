/*
 * webhook.c: --enforcement webhook (the default), kubetenant's own
 * admission webhook (`kubetenant serve`) and its configuration.
 *
 * Deployment contract (shared with serve): namespace kubetenant-system,
 * Service kubetenant-webhook 443 -> 8443, paths /mutate, /validate,
 * /healthz, /readyz, metrics on 9090; the tenants file from ConfigMap
 * kubetenant-tenants (key tenants.yaml) at /etc/kubetenant/tenants.yaml,
 * TLS from Secret kubetenant-webhook-tls at /etc/kubetenant/tls/.  Both
 * come through one projected volume, so kubelet swaps them atomically and
 * serve's hot reload sees a whole new file or none.
 *
 * What is routed: exactly the engine's table of judged kinds
 * (lib/policy/kinds.c), so no rule can judge what the cluster never sends;
 * t_render proves it for every profile.
 *
 * Why the webhooks cannot lock the cluster: every webhook selects only
 * tenant namespaces (namespaceSelector on the tenant purpose label, or for
 * Namespace objects an objectSelector on the same label), so kube-system,
 * kubetenant-system and the platform namespaces are never sent to us even
 * with failurePolicy Fail; timeoutSeconds 3 bounds a slow replica; two
 * replicas on different nodes, a PodDisruptionBudget and a rolling update
 * with maxUnavailable 0 keep one serving.  serve relies on the same
 * selectors the other way: a namespace its tenants file does not know can
 * only be a tenant it has not loaded yet, so it is denied (t1100 checks
 * that every webhook here selects tenant namespaces only).
 */
#include <stdio.h>
#include <string.h>
#include "kt/policy.h"
#include "internal.h"

#define WH_NAME "kubetenant-webhook"
#define WH_CONFIGMAP "kubetenant-tenants"
#define WH_TLS_SECRET "kubetenant-webhook-tls"
#define WH_CONFIG_NAME "kubetenant"

static json_t *app_labels(const char *app)
{
	return json_pack("{s:s}", "app.kubernetes.io/name", app);
}

/*
 * A Deployment of kubetenant itself: 2 replicas, hardened, probes on https.
 * 128Mi holds the webhook's worst case under its --memory-budget of 48 MiB
 * (one CPU, so one thread): 84 MB measured with the budget filled by
 * bodies and 1011 connections open (scripts/hostile-load.sh, load 5;
 * docs/performance.md), 1.6x below the limit.
 */
json_t *kt_deployment(const struct rctx *r, const char *app, const char *container, json_t *args,
		      json_t *ports, json_t *volumes, json_t *mounts, int automount_token)
{
	json_t *c =
		json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:{s:{s:s, s:s}, s:{s:s, s:s}}, "
			  "s:o, s:o}",
			  "name", container, "image", r->image, "imagePullPolicy", "IfNotPresent",
			  "args", args, "ports", ports, "livenessProbe", kt_https_probe("/healthz"),
			  "readinessProbe", kt_https_probe("/readyz"), "resources", "requests",
			  "cpu", "50m", "memory", "32Mi", "limits", "cpu", "1", "memory", "128Mi",
			  "securityContext", kt_hardened_container_security(), "volumeMounts",
			  mounts);
	json_t *pod = json_pack("{s:s, s:b, s:o, s:o, s:[o], s:o}", "serviceAccountName", app,
				"automountServiceAccountToken", automount_token, "securityContext",
				kt_hardened_pod_security(), "affinity", kt_spread_affinity(app),
				"containers", c, "volumes", volumes);

	return json_pack("{s:s, s:s, s:o, s:{s:i, s:i, s:{s:o}, s:{s:s, s:{s:i, s:i}}, "
			 "s:{s:{s:o}, s:o}}}",
			 "apiVersion", "apps/v1", "kind", "Deployment", "metadata",
			 kt_meta(app, KT_SYSTEM_NS, app_labels(app)), "spec", "replicas", 2,
			 "revisionHistoryLimit", 3, "selector", "matchLabels", app_labels(app),
			 "strategy", "type", "RollingUpdate", "rollingUpdate", "maxUnavailable", 0,
			 "maxSurge", 1, "template", "metadata", "labels",
			 json_pack("{s:s, s:s}", KT_MANAGED_BY_KEY, KT_MANAGED_BY,
				   "app.kubernetes.io/name", app),
			 "spec", pod);
}

json_t *kt_service_account(const char *name, int automount)
{
	return json_pack("{s:s, s:s, s:o, s:b}", "apiVersion", "v1", "kind", "ServiceAccount",
			 "metadata", kt_meta(name, KT_SYSTEM_NS, app_labels(name)),
			 "automountServiceAccountToken", automount);
}

json_t *kt_pdb(const char *app)
{
	return json_pack("{s:s, s:s, s:o, s:{s:i, s:{s:o}}}", "apiVersion", "policy/v1", "kind",
			 "PodDisruptionBudget", "metadata",
			 kt_meta(app, KT_SYSTEM_NS, app_labels(app)), "spec", "minAvailable", 1,
			 "selector", "matchLabels", app_labels(app));
}

json_t *kt_service(const char *app, json_t *ports)
{
	return json_pack("{s:s, s:s, s:o, s:{s:s, s:o, s:o}}", "apiVersion", "v1", "kind",
			 "Service", "metadata", kt_meta(app, KT_SYSTEM_NS, app_labels(app)), "spec",
			 "type", "ClusterIP", "selector", app_labels(app), "ports", ports);
}

/* The common part of every webhook entry. */
static json_t *hook(const char *name, const char *path, json_t *rules)
{
	return json_pack("{s:s, s:{s:{s:s, s:s, s:s, s:i}}, s:o, s:s, s:s, s:s, s:i, s:[s]}",
			 "name", name, "clientConfig", "service", "namespace", KT_SYSTEM_NS, "name",
			 WH_NAME, "path", path, "port", 443, "rules", rules, "failurePolicy",
			 "Fail", "matchPolicy", "Equivalent", "sideEffects", "None",
			 "timeoutSeconds", 3, "admissionReviewVersions", "v1");
}

static int set_selector(const struct rctx *r, json_t *h, const char *which)
{
	return !h || json_object_set_new(h, which, kt_tenant_ns_selector(r));
}

static json_t *rule(const char *group, json_t *ops, json_t *resources, const char *scope)
{
	return json_pack("{s:[s], s:[s], s:O, s:o, s:s}", "apiGroups", group, "apiVersions", "*",
			 "operations", ops, "resources", resources, "scope", scope);
}

static json_t *ops_json(unsigned ops)
{
	json_t *a = json_array();

	if (a && (ops & KT_KIND_CREATE) && json_array_append_new(a, json_string("CREATE")))
		goto fail;
	if (a && (ops & KT_KIND_UPDATE) && json_array_append_new(a, json_string("UPDATE")))
		goto fail;
	if (a && (ops & KT_KIND_DELETE) && json_array_append_new(a, json_string("DELETE")))
		goto fail;
	return a;
fail:
	json_decref(a);
	return NULL;
}

/* Adds s to the array, or frees it and returns -1. */
static int append_str(json_t *a, const char *s)
{
	return json_array_append_new(a, json_string(s));
}

/*
 * The rules of one webhook from the judged kinds (lib/policy/kinds.c):
 * the rows that are cluster-scoped or not, or only those that mutate (Pod
 * CREATE, no subresource).  Rows of one group with the same operations
 * share a rule, in table order.
 */
static json_t *kind_rules(bool cluster, bool mutate)
{
	json_t *rules = json_array(), *groups = json_array(), *opsv = json_array();
	size_t i, j, n;
	int bad = !rules || !groups || !opsv;

	for (i = 0; !bad && i < kt_policy_n_kinds; i++) {
		const struct kt_kind *k = &kt_policy_kinds[i];
		unsigned ops = mutate ? KT_KIND_CREATE : k->ops;
		json_t *res = NULL;

		if (k->cluster != cluster || (mutate && !k->mutate))
			continue;
		n = json_array_size(rules);
		for (j = 0; j < n; j++)
			if (!strcmp(json_string_value(json_array_get(groups, j)), k->group) &&
			    json_integer_value(json_array_get(opsv, j)) == (json_int_t)ops)
				res = json_object_get(json_array_get(rules, j), "resources");
		if (!res) {
			json_t *o = ops_json(ops);

			res = json_array();
			bad = !o || !res ||
			      json_array_append_new(rules,
						    rule(k->group, o, res,
							 cluster ? "Cluster" : "Namespaced")) ||
			      append_str(groups, k->group) ||
			      json_array_append_new(opsv, json_integer(ops));
			json_decref(o);
			if (bad)
				break;
		}
		bad = append_str(res, k->resource);
		for (j = 0; !bad && !mutate && k->subresources[j]; j++) {
			char sub[128];

			snprintf(sub, sizeof(sub), "%s/%s", k->resource, k->subresources[j]);
			bad = append_str(res, sub);
		}
	}
	json_decref(groups);
	json_decref(opsv);
	if (bad) {
		json_decref(rules);
		return NULL;
	}
	return rules;
}

static json_t *webhook_config(const char *kind, json_t *hooks)
{
	char ca[128];
	json_t *md = kt_meta(WH_CONFIG_NAME, NULL, NULL);

	snprintf(ca, sizeof(ca), "%s/%s", KT_SYSTEM_NS, WH_NAME);
	if (md && json_object_set_new(md, "annotations",
				      json_pack("{s:s}", "cert-manager.io/inject-ca-from", ca))) {
		json_decref(md);
		md = NULL;
	}
	return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "admissionregistration.k8s.io/v1",
			 "kind", kind, "metadata", md, "webhooks", hooks);
}

static json_t *mutating(const struct rctx *r)
{
	json_t *h = hook("pods.mutate.kubetenant.io", "/mutate", kind_rules(false, true));

	/* a later mutating webhook may move the pod off its pool: run again after it */
	if (set_selector(r, h, "namespaceSelector") ||
	    json_object_set_new(h, "reinvocationPolicy", json_string("IfNeeded"))) {
		json_decref(h);
		return NULL;
	}
	return webhook_config("MutatingWebhookConfiguration", json_pack("[o]", h));
}

static json_t *validating(const struct rctx *r)
{
	json_t *all = json_pack("[sss]", "CREATE", "UPDATE", "DELETE");
	json_t *objects = hook("tenant-objects.validate.kubetenant.io", "/validate",
			       kind_rules(false, false));
	/*
	 * Objects kubetenant manages (or that claim to be) in tenant
	 * namespaces: any kind, any change.  The objectSelector sends only
	 * labelled objects (old or new), so status writes of ordinary pods
	 * never reach the webhook.
	 */
	json_t *managed =
		hook("managed-objects.validate.kubetenant.io", "/validate",
		     json_pack("[o]", rule("*", all, json_pack("[s]", "*"), "Namespaced")));
	json_t *ns =
		hook("namespaces.validate.kubetenant.io", "/validate", kind_rules(true, false));

	json_decref(all);
	if (set_selector(r, objects, "namespaceSelector") ||
	    set_selector(r, managed, "namespaceSelector") ||
	    (managed && json_object_set_new(managed, "objectSelector",
					    json_pack("{s:{s:s}}", "matchLabels", KT_MANAGED_BY_KEY,
						      KT_MANAGED_BY))) ||
	    set_selector(r, ns, "objectSelector")) {
		json_decref(objects);
		json_decref(managed);
		json_decref(ns);
		return NULL;
	}
	return webhook_config("ValidatingWebhookConfiguration",
			      json_pack("[ooo]", objects, managed, ns));
}

/* The whole tenants file, as serve reads it (also first of `render --tenant`: see render.c). */
enum kt_rc kt_render_tenants_configmap(struct rctx *r)
{
	json_t *data = json_object();

	if (data &&
	    json_object_set_new(data, "tenants.yaml",
				json_stringn(r->opts->tenants_yaml ? r->opts->tenants_yaml : "",
					     r->opts->tenants_yaml_len))) {
		json_decref(data);
		/* not valid UTF-8 or no memory: the loader accepted it, so memory */
		data = NULL;
	}
	return kt_emit(r, json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", "ConfigMap",
				    "metadata", kt_meta(WH_CONFIGMAP, KT_SYSTEM_NS, NULL), "data",
				    data));
}

enum kt_rc kt_render_webhook(struct rctx *r)
{
	enum kt_rc rc;
	char dns1[128], dns2[160];

	rc = kt_emit(r, kt_service_account(WH_NAME, 0));
	if (rc == KT_OK)
		rc = kt_render_tenants_configmap(r);
	if (rc)
		return rc;
	snprintf(dns1, sizeof(dns1), "%s.%s.svc", WH_NAME, KT_SYSTEM_NS);
	snprintf(dns2, sizeof(dns2), "%s.%s.svc.cluster.local", WH_NAME, KT_SYSTEM_NS);
	rc = kt_emit(r,
		     kt_serving_certificate(WH_NAME, WH_TLS_SECRET, json_pack("[ss]", dns1, dns2)));
	if (rc)
		return rc;
	rc = kt_emit(r,
		     kt_deployment(r, WH_NAME, "webhook",
				   json_pack("[sssssssssssss]", "serve", "-f",
					     "/etc/kubetenant/tenants.yaml", "--tls-cert",
					     "/etc/kubetenant/tls/tls.crt", "--tls-key",
					     "/etc/kubetenant/tls/tls.key", "--listen", ":8443",
					     "--metrics-listen", ":9090", "--memory-budget", "48"),
				   json_pack("[{s:s, s:i, s:s}, {s:s, s:i, s:s}]", "name", "https",
					     "containerPort", 8443, "protocol", "TCP", "name",
					     "metrics", "containerPort", 9090, "protocol", "TCP"),
				   json_pack("[{s:s, s:{s:[{s:{s:s, s:[{s:s, s:s}]}}, {s:{s:s, s:[{s:s, s:s}, "
					     "{s:s, s:s}]}}]}}]",
					     "name", "config", "projected", "sources", "configMap",
					     "name", WH_CONFIGMAP, "items", "key", "tenants.yaml",
					     "path", "tenants.yaml", "secret", "name",
					     WH_TLS_SECRET, "items", "key", "tls.crt", "path",
					     "tls/tls.crt", "key", "tls.key", "path",
					     "tls/tls.key"),
				   json_pack("[{s:s, s:s, s:b}]", "name", "config", "mountPath",
					     "/etc/kubetenant", "readOnly", 1),
				   0));
	if (rc == KT_OK)
		rc = kt_emit(r, kt_pdb(WH_NAME));
	if (rc == KT_OK)
		rc = kt_emit(r, kt_service(WH_NAME,
					   json_pack("[{s:s, s:i, s:s, s:s}, {s:s, s:i, s:s, s:s}]",
						     "name", "https", "port", 443, "targetPort",
						     "https", "protocol", "TCP", "name", "metrics",
						     "port", 9090, "targetPort", "metrics",
						     "protocol", "TCP")));
	return rc;
}

/*
 * The admission configurations come last in the stream: on a first
 * `kubectl apply`, every tenant object is created before the API server
 * starts calling a webhook whose pods are not ready yet (failurePolicy
 * Fail would refuse them all).
 */
enum kt_rc kt_render_webhook_configs(struct rctx *r)
{
	enum kt_rc rc = kt_emit(r, mutating(r));

	return rc ? rc : kt_emit(r, validating(r));
}
