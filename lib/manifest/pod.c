/*
 * pod.c: where the pod of a workload lives.
 *
 * Kubernetes' own Pod Security Admission judges only Pods, so a Deployment
 * that violates the level is accepted and then silently fails to create its
 * pods.  Finding the pod template lets kubetenant judge the workload itself,
 * when it is applied and offline.
 */
#include <string.h>
#include "kt/manifest.h"

struct workload {
	const char *kind;
	const char *groups; /* API groups, space-separated; "" is the core group */
	const char *path;
	const char *const keys[6]; /* the path to the pod template (or pod) object */
};

/* A pod template is {metadata, spec}; a Pod is too. */
static const struct workload workloads[] = {
	{ "Pod", "", "spec", { NULL } },
	{ "PodTemplate", "", "template.spec", { "template", NULL } },
	{ "ReplicationController", "", "spec.template.spec", { "spec", "template", NULL } },
	{ "Deployment", "apps extensions", "spec.template.spec", { "spec", "template", NULL } },
	{ "ReplicaSet", "apps extensions", "spec.template.spec", { "spec", "template", NULL } },
	{ "DaemonSet", "apps extensions", "spec.template.spec", { "spec", "template", NULL } },
	{ "StatefulSet", "apps", "spec.template.spec", { "spec", "template", NULL } },
	{ "Job", "batch", "spec.template.spec", { "spec", "template", NULL } },
	{ "CronJob", "batch", "spec.jobTemplate.spec.template.spec",
	  { "spec", "jobTemplate", "spec", "template", NULL } },
};

/* "apps/v1" is in group "apps"; "v1" in the core group, spelled "". */
static bool in_groups(const char *api_version, const char *groups)
{
	const char *slash = strchr(api_version, '/'), *g = groups;
	size_t n;

	if (!slash)
		return !*groups;
	n = (size_t)(slash - api_version);
	while (*g) {
		size_t m = strcspn(g, " ");

		if (m == n && !strncmp(g, api_version, n))
			return true;
		g += m + (g[m] == ' ');
	}
	return false;
}

enum kt_rc kt_manifest_pod_spec(json_t *obj, struct kt_manifest_pod *out, struct kt_err *err)
{
	const char *kind = kt_manifest_kind(obj);
	const char *api = json_string_value(json_object_get(obj, "apiVersion"));
	json_t *t = obj;
	size_t i, k;

	out->metadata = out->spec = NULL;
	out->path = NULL;
	if (!api)
		return KT_OK;
	for (i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		if (!strcmp(kind, workloads[i].kind) && in_groups(api, workloads[i].groups))
			break;
	if (i == sizeof(workloads) / sizeof(workloads[0]))
		return KT_OK;
	out->path = workloads[i].path;
	for (k = 0; workloads[i].keys[k] && json_is_object(t); k++)
		t = json_object_get(t, workloads[i].keys[k]);
	if (!json_is_object(t) || !json_is_object(json_object_get(t, "spec")))
		return kt_err_set(err, KT_E_INVALID, "%s has no object at '%s'", kind, out->path);
	out->metadata = json_object_get(t, "metadata");
	out->spec = json_object_get(t, "spec");
	return KT_OK;
}
