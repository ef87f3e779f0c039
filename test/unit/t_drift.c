/*
 * t_drift.c: the comparison of rendered platform objects with live ones
 * (lib/policy/drift.c), on objects shaped like `kubectl get -o json` output:
 * what the API server adds is ignored, what render sets must hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kt/drift.h"

#define DOMAIN "platform.example.org"

/* A tenant Namespace as render writes it, and as the API server returns it. */
#define NS_RENDERED                                                                        \
	"{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team-a\"," \
	"\"labels\":{\"app.kubernetes.io/managed-by\":\"kubetenant\","                     \
	"\"" DOMAIN "/purpose\":\"platform-tenant\",\"" DOMAIN "/tenant\":\"team-a\","     \
	"\"pod-security.kubernetes.io/enforce\":\"restricted\","                           \
	"\"pod-security.kubernetes.io/enforce-version\":\"v1.37\"}}}"
#define NS_LIVE                                                                                   \
	"{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team-a\","        \
	"\"uid\":\"5f0c3a57-6d0e-4c43-9a55-2b0f1c7f5a10\",\"resourceVersion\":\"48213\","         \
	"\"creationTimestamp\":\"2026-11-30T09:12:44Z\","                                         \
	"\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\"},"          \
	"\"labels\":{\"app.kubernetes.io/managed-by\":\"kubetenant\","                            \
	"\"kubernetes.io/metadata.name\":\"team-a\","                                             \
	"\"kustomize.toolkit.fluxcd.io/name\":\"platform\","                                      \
	"\"" DOMAIN "/purpose\":\"platform-tenant\",\"" DOMAIN "/tenant\":\"team-a\","            \
	"\"pod-security.kubernetes.io/enforce\":\"%s\","                                          \
	"\"pod-security.kubernetes.io/enforce-version\":\"v1.37\"%s},"                            \
	"\"managedFields\":[{\"manager\":\"kubectl-client-side-apply\",\"operation\":\"Update\"," \
	"\"apiVersion\":\"v1\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{}}]},"                   \
	"\"spec\":{\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Active\"}}"

#define RB_RENDERED                                                                               \
	"{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\",\"metadata\":" \
	"{\"name\":\"tenant-access\",\"namespace\":\"team-a\",\"labels\":"                        \
	"{\"app.kubernetes.io/managed-by\":\"kubetenant\"}},\"subjects\":[{\"kind\":\"Group\","   \
	"\"name\":\"oidc:team-a.devs\",\"apiGroup\":\"rbac.authorization.k8s.io\"}],"             \
	"\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"platform-tenant\","                     \
	"\"apiGroup\":\"rbac.authorization.k8s.io\"}}"

struct found {
	json_t *all; /* [{kind, path, rendered, live, index}] */
	int fail_at; /* the callback fails on this finding (1-based); 0 = never */
};

static enum kt_rc on_drift(void *ctx, const struct kt_drift *d, struct kt_err *err)
{
	struct found *f = ctx;
	json_t *e =
		json_pack("{s:s, s:s, s:s?, s:I}", "kind", kt_drift_kind_name(d->kind), "path",
			  d->path, "name",
			  json_string_value(
				  json_object_get(json_object_get(d->object, "metadata"), "name")),
			  "index", (json_int_t)(d->live == (size_t)-1 ? -1 : (long long)d->live));

	assert_non_null(e);
	if (d->rendered)
		json_object_set(e, "rendered", d->rendered);
	if (d->value)
		json_object_set(e, "live", d->value);
	json_array_append_new(f->all, e);
	if (f->fail_at && (int)json_array_size(f->all) == f->fail_at)
		return kt_err_set(err, KT_E_IO, "stop");
	return KT_OK;
}

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);

	if (!j)
		fprintf(stderr, "bad test JSON: %s at %d: %s\n", e.text, e.position, s);
	assert_non_null(j);
	return j;
}

/* Compare the rendered array with the live array (both JSON text); the findings. */
static json_t *compare(const char *rendered, const char *live)
{
	struct found f = { .all = json_array() };
	struct kt_err err = { 0 };
	json_t *r = parse(rendered), *l = parse(live);
	json_t **v = calloc(json_array_size(l) + 1, sizeof(*v));

	for (size_t i = 0; i < json_array_size(l); i++)
		v[i] = json_array_get(l, i);
	assert_int_equal(kt_drift_compare(r, v, json_array_size(l), DOMAIN, on_drift, &f, &err),
			 KT_OK);
	free(v);
	json_decref(r);
	json_decref(l);
	return f.all;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	static char buf[8][8192];
	static int next;
	char *b = buf[next++ % 8];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(buf[0]), f, ap);
	va_end(ap);
	return b;
}

static void assert_finding(json_t *all, size_t i, const char *kind, const char *path,
			   const char *rendered, const char *live)
{
	json_t *e = json_array_get(all, i);
	char *r = json_dumps(json_object_get(e, "rendered"), JSON_ENCODE_ANY | JSON_COMPACT);
	char *l = json_dumps(json_object_get(e, "live"), JSON_ENCODE_ANY | JSON_COMPACT);

	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "kind")), kind);
	assert_string_equal(json_string_value(json_object_get(e, "path")), path);
	assert_string_equal(r ? r : "(not set)", rendered ? rendered : "(not set)");
	assert_string_equal(l ? l : "(not set)", live ? live : "(not set)");
	free(r);
	free(l);
}

static void server_fields_are_not_drift(void **state)
{
	json_t *f;

	(void)state;
	f = compare(fmt("[%s, %s]", NS_RENDERED, RB_RENDERED),
		    fmt("[%s, %s]", fmt(NS_LIVE, "restricted", ""), RB_RENDERED));
	assert_int_equal(json_array_size(f), 0);
	json_decref(f);
}

/* issue 12, defect 10: a tenant Namespace relabelled privileged went unnoticed */
static void relabelled_namespace(void **state)
{
	json_t *f;

	(void)state;
	f = compare(fmt("[%s]", NS_RENDERED), fmt("[%s]", fmt(NS_LIVE, "privileged", "")));
	assert_int_equal(json_array_size(f), 1);
	assert_finding(f, 0, "changed", "metadata.labels[pod-security.kubernetes.io/enforce]",
		       "\"restricted\"", "\"privileged\"");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "name")),
			    "team-a");
	json_decref(f);
}

/* a platform label render does not set is drift too; anyone else's label is not */
static void extra_platform_labels(void **state)
{
	json_t *f;

	(void)state;
	f = compare(fmt("[%s]", NS_RENDERED),
		    fmt("[%s]", fmt(NS_LIVE, "restricted",
				    ",\"pod-security.kubernetes.io/warn\":\"privileged\","
				    "\"" DOMAIN "/node-pool\":\"gpu\",\"team\":\"blue\"")));
	assert_int_equal(json_array_size(f), 2);
	assert_finding(f, 0, "changed", "metadata.labels[pod-security.kubernetes.io/warn]", NULL,
		       "\"privileged\"");
	assert_finding(f, 1, "changed", "metadata.labels[" DOMAIN "/node-pool]", NULL, "\"gpu\"");
	json_decref(f);
	/* and a platform label removed */
	f = compare(fmt("[%s]", NS_RENDERED),
		    "[{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team-a\","
		    "\"labels\":{\"kubernetes.io/metadata.name\":\"team-a\"}}}]");
	assert_int_equal(json_array_size(f), 5);
	assert_finding(f, 0, "changed", "metadata.labels[app.kubernetes.io/managed-by]",
		       "\"kubetenant\"", NULL);
	json_decref(f);
}

/* issue 12, defect 10: tenant-access rebound to cluster-admin for system:authenticated */
static void rebound_rolebinding(void **state)
{
	json_t *f;

	(void)state;
	f = compare(fmt("[%s]", RB_RENDERED),
		    "[{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\","
		    "\"metadata\":{\"name\":\"tenant-access\",\"namespace\":\"team-a\","
		    "\"uid\":\"0d3b8a0e-2f4e-4d0b-8a57-0e6a1c2b3d4f\",\"resourceVersion\":\"9\","
		    "\"labels\":{\"app.kubernetes.io/managed-by\":\"kubetenant\"}},"
		    "\"subjects\":[{\"kind\":\"Group\",\"name\":\"system:authenticated\","
		    "\"apiGroup\":\"rbac.authorization.k8s.io\"}],"
		    "\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"cluster-admin\","
		    "\"apiGroup\":\"rbac.authorization.k8s.io\"}}]");
	assert_int_equal(json_array_size(f), 2);
	assert_finding(f, 0, "changed", "subjects[0].name", "\"oidc:team-a.devs\"",
		       "\"system:authenticated\"");
	assert_finding(f, 1, "changed", "roleRef.name", "\"platform-tenant\"", "\"cluster-admin\"");
	json_decref(f);
}

static void extra_subject_and_extra_rule_keys(void **state)
{
	json_t *f;

	(void)state;
	f = compare(fmt("[%s]", RB_RENDERED),
		    "[{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\","
		    "\"metadata\":{\"name\":\"tenant-access\",\"namespace\":\"team-a\","
		    "\"labels\":{\"app.kubernetes.io/managed-by\":\"kubetenant\"}},"
		    "\"subjects\":[{\"kind\":\"Group\",\"name\":\"oidc:team-a.devs\","
		    "\"apiGroup\":\"rbac.authorization.k8s.io\"},{\"kind\":\"User\","
		    "\"name\":\"mallory\",\"apiGroup\":\"rbac.authorization.k8s.io\"}],"
		    "\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"platform-tenant\","
		    "\"apiGroup\":\"rbac.authorization.k8s.io\"}}]");
	assert_int_equal(json_array_size(f), 1);
	assert_finding(f, 0, "changed", "subjects",
		       "[{\"kind\":\"Group\",\"name\":\"oidc:team-a.devs\","
		       "\"apiGroup\":\"rbac.authorization.k8s.io\"}]",
		       "[{\"kind\":\"Group\",\"name\":\"oidc:team-a.devs\","
		       "\"apiGroup\":\"rbac.authorization.k8s.io\"},{\"kind\":\"User\","
		       "\"name\":\"mallory\",\"apiGroup\":\"rbac.authorization.k8s.io\"}]");
	json_decref(f);
	/* a key added to an RBAC rule changes what it grants: exact there */
	f = compare("[{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\","
		    "\"metadata\":{\"name\":\"platform-tenant\"},\"rules\":[{\"apiGroups\":[\"\"],"
		    "\"resources\":[\"pods\"],\"verbs\":[\"get\"]}]}]",
		    "[{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\","
		    "\"metadata\":{\"name\":\"platform-tenant\",\"uid\":\"x\"},\"rules\":[{"
		    "\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"get\"],"
		    "\"resourceNames\":[\"a\"]}],\"aggregationRule\":{}}]");
	assert_int_equal(json_array_size(f), 1);
	assert_finding(f, 0, "changed", "rules[0].resourceNames", NULL, "[\"a\"]");
	json_decref(f);
}

static void missing_and_unexpected(void **state)
{
	json_t *f;

	(void)state;
	f = compare(fmt("[%s, %s]", NS_RENDERED, RB_RENDERED),
		    fmt("[%s, %s, %s, %s, %s, %s]", fmt(NS_LIVE, "restricted", ""),
			/* labelled by the platform, rendered by nobody */
			"{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":"
			"\"ClusterRoleBinding\",\"metadata\":{\"name\":\"kubetenant-debug\","
			"\"labels\":{\"app.kubernetes.io/managed-by\":\"kubetenant\"}},"
			"\"subjects\":[{\"kind\":\"Group\",\"name\":\"system:authenticated\"}],"
			"\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"cluster-admin\"}}",
			/* a controller's copy of the label: a ReplicaSet of a rendered Deployment */
			"{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":"
			"\"kubetenant-webhook-6d9f7c5b8\",\"namespace\":\"kubetenant-system\","
			"\"labels\":{\"app.kubernetes.io/managed-by\":\"kubetenant\"},"
			"\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
			"\"name\":\"kubetenant-webhook\",\"uid\":\"u\",\"controller\":true}]}}",
			/* the endpoints controller copies a Service's labels, with no owner */
			"{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{\"name\":"
			"\"team-a\",\"namespace\":\"team-a\",\"labels\":"
			"{\"app.kubernetes.io/managed-by\":\"kubetenant\"}}}",
			"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
			"\"kube-root-ca.crt\",\"namespace\":\"team-a\"}}",
			/* no controller makes grants: an owner claimed is not believed */
			"{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\","
			"\"metadata\":{\"name\":\"kubetenant-extra\",\"namespace\":\"team-a\","
			"\"labels\":{\"app.kubernetes.io/managed-by\":\"kubetenant\"},"
			"\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
			"\"name\":\"team-a\",\"uid\":\"5f0c3a57\"}]}}"));
	/* team-a has no rendered Service, so its labelled Endpoints is unexpected */
	assert_int_equal(json_array_size(f), 4);
	assert_finding(f, 0, "unexpected", "", NULL, NULL);
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "name")),
			    "kubetenant-debug");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(f, 0), "index")), 1);
	assert_finding(f, 1, "unexpected", "", NULL, NULL);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(f, 1), "index")), 3);
	assert_finding(f, 2, "unexpected", "", NULL, NULL);
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 2), "name")),
			    "kubetenant-extra");
	assert_finding(f, 3, "missing", "", NULL, NULL);
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 3), "name")),
			    "tenant-access");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(f, 3), "index")), -1);
	json_decref(f);
	/* the Endpoints of a rendered Service is the endpoints controller's */
	f = compare("[{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"w\","
		    "\"namespace\":\"s\"},\"spec\":{\"type\":\"ClusterIP\"}}]",
		    "[{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"w\","
		    "\"namespace\":\"s\"},\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":"
		    "\"10.96.12.7\",\"sessionAffinity\":\"None\"}},{\"apiVersion\":\"v1\","
		    "\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"w\",\"namespace\":\"s\","
		    "\"labels\":{\"app.kubernetes.io/managed-by\":\"kubetenant\"}}}]");
	assert_int_equal(json_array_size(f), 0);
	json_decref(f);
	/* metrics-server's copy of a pod's labels; Calico's storage of a v3 policy */
	f = compare("[{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"NetworkPolicy\","
		    "\"metadata\":{\"name\":\"restrict-other-tenants\",\"namespace\":\"a\"}}]",
		    "[{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"NetworkPolicy\","
		    "\"metadata\":{\"name\":\"restrict-other-tenants\",\"namespace\":\"a\"}},"
		    "{\"apiVersion\":\"crd.projectcalico.org/v1\",\"kind\":\"NetworkPolicy\","
		    "\"metadata\":{\"name\":\"default.restrict-other-tenants\",\"namespace\":\"a\","
		    "\"labels\":{\"app.kubernetes.io/managed-by\":\"kubetenant\"}}},"
		    "{\"apiVersion\":\"crd.projectcalico.org/v1\",\"kind\":\"NetworkPolicy\","
		    "\"metadata\":{\"name\":\"default.allow-all\",\"namespace\":\"a\","
		    "\"labels\":{\"app.kubernetes.io/managed-by\":\"kubetenant\"}}},"
		    "{\"apiVersion\":\"metrics.k8s.io/v1beta1\",\"kind\":\"PodMetrics\","
		    "\"metadata\":{\"name\":\"kubetenant-webhook-6d9f7c5b8-x2x7q\",\"namespace\":"
		    "\"kubetenant-system\",\"labels\":{\"app.kubernetes.io/managed-by\":"
		    "\"kubetenant\"}},\"containers\":[]}]");
	assert_int_equal(json_array_size(f), 1);
	assert_finding(f, 0, "unexpected", "", NULL, NULL);
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "name")),
			    "default.allow-all");
	json_decref(f);
}

/* The API server writes quantities in canonical form; a label is not a quantity. */
static void quantities_compare_by_value(void **state)
{
	json_t *f;

	(void)state;
	f = compare("[{\"apiVersion\":\"v1\",\"kind\":\"ResourceQuota\",\"metadata\":{\"name\":"
		    "\"q\",\"namespace\":\"a\",\"labels\":{\"v\":\"0.5\"}},\"spec\":{\"hard\":{"
		    "\"requests.cpu\":\"0.5\",\"limits.memory\":\"1Gi\",\"pods\":\"10\","
		    "\"requests.storage\":\"1e3\"}}}]",
		    "[{\"apiVersion\":\"v1\",\"kind\":\"ResourceQuota\",\"metadata\":{\"name\":"
		    "\"q\",\"namespace\":\"a\",\"labels\":{\"v\":\"500m\"}},\"spec\":{\"hard\":{"
		    "\"requests.cpu\":\"500m\",\"limits.memory\":\"1073741824\",\"pods\":\"11\","
		    "\"requests.storage\":\"1k\"}},\"status\":{}}]");
	assert_int_equal(json_array_size(f), 2);
	assert_finding(f, 0, "changed", "metadata.labels.v", "\"0.5\"", "\"500m\"");
	assert_finding(f, 1, "changed", "spec.hard.pods", "\"10\"", "\"11\"");
	json_decref(f);
	/* a quota added live is drift: hard is exact */
	f = compare("[{\"apiVersion\":\"v1\",\"kind\":\"ResourceQuota\",\"metadata\":{\"name\":"
		    "\"q\",\"namespace\":\"a\"},\"spec\":{\"hard\":{\"pods\":\"10\"}}}]",
		    "[{\"apiVersion\":\"v1\",\"kind\":\"ResourceQuota\",\"metadata\":{\"name\":"
		    "\"q\",\"namespace\":\"a\"},\"spec\":{\"hard\":{\"pods\":\"10\","
		    "\"requests.cpu\":\"0\"}}}]");
	assert_int_equal(json_array_size(f), 1);
	assert_finding(f, 0, "changed", "spec.hard[requests.cpu]", NULL, "\"0\"");
	json_decref(f);
}

/* Selectors are exact; a webhook's defaulted selectors must stay empty. */
static void selectors_and_webhooks(void **state)
{
	json_t *f;

	(void)state;
	f = compare("[{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
		    "\"metadata\":{\"name\":\"tenant-isolation\",\"namespace\":\"a\"},\"spec\":"
		    "{\"podSelector\":{},\"policyTypes\":[\"Ingress\"]}}]",
		    "[{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
		    "\"metadata\":{\"name\":\"tenant-isolation\",\"namespace\":\"a\"},\"spec\":"
		    "{\"podSelector\":{\"matchLabels\":{\"x\":\"y\"}},\"policyTypes\":"
		    "[\"Ingress\"]}}]");
	assert_int_equal(json_array_size(f), 1);
	assert_finding(f, 0, "changed", "spec.podSelector.matchLabels", NULL, "{\"x\":\"y\"}");
	json_decref(f);

	f = compare("[{\"apiVersion\":\"admissionregistration.k8s.io/v1\",\"kind\":"
		    "\"ValidatingWebhookConfiguration\",\"metadata\":{\"name\":\"kubetenant\"},"
		    "\"webhooks\":[{\"name\":\"a\",\"clientConfig\":{\"service\":{\"name\":\"w\"}},"
		    "\"namespaceSelector\":{\"matchLabels\":{\"p\":\"t\"}}},{\"name\":\"b\"}]}]",
		    "[{\"apiVersion\":\"admissionregistration.k8s.io/v1\",\"kind\":"
		    "\"ValidatingWebhookConfiguration\",\"metadata\":{\"name\":\"kubetenant\"},"
		    "\"webhooks\":[{\"name\":\"a\",\"clientConfig\":{\"service\":{\"name\":\"w\","
		    "\"port\":443},\"caBundle\":\"LS0tLS1CRUdJTg==\"},\"namespaceSelector\":"
		    "{\"matchLabels\":{\"p\":\"t\"}},\"objectSelector\":{},\"matchPolicy\":"
		    "\"Equivalent\"},{\"name\":\"b\",\"namespaceSelector\":{},\"objectSelector\":"
		    "{\"matchLabels\":{\"never\":\"x\"}},\"matchConditions\":[{\"name\":\"n\","
		    "\"expression\":\"false\"}]}]}]");
	assert_int_equal(json_array_size(f), 2);
	assert_finding(f, 0, "changed", "webhooks[1].objectSelector", NULL,
		       "{\"matchLabels\":{\"never\":\"x\"}}");
	assert_finding(f, 1, "changed", "webhooks[1].matchConditions", NULL,
		       "[{\"name\":\"n\",\"expression\":\"false\"}]");
	json_decref(f);
}

/* A namespace on a cluster-scoped kind is dropped at apply; versions may differ. */
static void matching(void **state)
{
	json_t *f;

	(void)state;
	f = compare("[{\"apiVersion\":\"mutations.gatekeeper.sh/v1beta1\",\"kind\":\"Assign\","
		    "\"metadata\":{\"name\":\"a-sel\",\"namespace\":\"gatekeeper-system\"},"
		    "\"spec\":{\"location\":\"spec.nodeSelector\"}},{\"apiVersion\":"
		    "\"autoscaling/v2\",\"kind\":\"HorizontalPodAutoscaler\",\"metadata\":"
		    "{\"name\":\"h\",\"namespace\":\"n\"},\"spec\":{\"maxReplicas\":3}}]",
		    "[{\"apiVersion\":\"mutations.gatekeeper.sh/v1\",\"kind\":\"Assign\","
		    "\"metadata\":{\"name\":\"a-sel\"},\"spec\":{\"location\":"
		    "\"spec.nodeSelector\"}},{\"apiVersion\":\"autoscaling/v1\",\"kind\":"
		    "\"HorizontalPodAutoscaler\",\"metadata\":{\"name\":\"h\",\"namespace\":"
		    "\"other\"},\"spec\":{\"maxReplicas\":3}}]");
	/* the HPA in another namespace is not the rendered one */
	assert_int_equal(json_array_size(f), 1);
	assert_finding(f, 0, "missing", "", NULL, NULL);
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "name")), "h");
	json_decref(f);
	/* a type change is drift: "3" is not 3 */
	f = compare("[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":"
		    "\"d\",\"namespace\":\"n\"},\"spec\":{\"replicas\":2}}]",
		    "[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":"
		    "\"d\",\"namespace\":\"n\"},\"spec\":{\"replicas\":\"2\"}}]");
	assert_int_equal(json_array_size(f), 1);
	assert_finding(f, 0, "changed", "spec.replicas", "2", "\"2\"");
	json_decref(f);
}

/* Hostile shapes: long keys are cut, the callback's error stops the walk. */
static void bounds_and_errors(void **state)
{
	struct found f = { .all = json_array(), .fail_at = 1 };
	struct kt_err err = { 0 };
	char key[2000];
	json_t *r, *l;
	json_t *v[1];

	(void)state;
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	r = json_pack("[{s:s, s:s, s:{s:s, s:{s:s}}}]", "apiVersion", "v1", "kind", "ConfigMap",
		      "metadata", "name", "c", "labels", key, "a");
	l = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}", "apiVersion", "v1", "kind", "ConfigMap",
		      "metadata", "name", "c", "labels", key, "b");
	v[0] = l;
	assert_int_equal(kt_drift_compare(r, v, 1, DOMAIN, on_drift, &f, &err), KT_E_IO);
	assert_string_equal(err.msg, "stop");
	assert_int_equal(json_array_size(f.all), 1);
	{
		const char *p =
			json_string_value(json_object_get(json_array_get(f.all, 0), "path"));

		assert_int_equal(strlen(p), KT_DRIFT_PATH_MAX - 1);
		assert_string_equal(p + strlen(p) - 3, "...");
	}
	json_decref(f.all);
	json_decref(r);
	json_decref(l);
	/* nothing live at all: every rendered object is missing */
	f = (struct found){ .all = json_array() };
	r = parse(fmt("[%s, %s]", NS_RENDERED, RB_RENDERED));
	assert_int_equal(kt_drift_compare(r, NULL, 0, DOMAIN, on_drift, &f, &err), KT_OK);
	assert_int_equal(json_array_size(f.all), 2);
	json_decref(f.all);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(server_fields_are_not_drift),
		cmocka_unit_test(relabelled_namespace),
		cmocka_unit_test(extra_platform_labels),
		cmocka_unit_test(rebound_rolebinding),
		cmocka_unit_test(extra_subject_and_extra_rule_keys),
		cmocka_unit_test(missing_and_unexpected),
		cmocka_unit_test(quantities_compare_by_value),
		cmocka_unit_test(selectors_and_webhooks),
		cmocka_unit_test(matching),
		cmocka_unit_test(bounds_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
