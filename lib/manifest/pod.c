/*
 * pod.c: where the pod of a workload lives.
 *
 * Kubernetes' own Pod Security Admission judges only Pods, so a Deployment
 * that violates the level is accepted and then silently fails to create its
 * pods.  Finding the pod template lets kubetenant judge the workload itself,
 * when it is applied and offline.
 */
#include "kt/manifest.h"
#include "kt/podkinds.h"

enum kt_rc kt_manifest_pod_spec(json_t *obj, struct kt_manifest_pod *out, struct kt_err *err)
{
	const char *kind = kt_manifest_kind(obj);
	const char *api = json_string_value(json_object_get(obj, "apiVersion"));
	const struct kt_podkind *pk;
	char group[256];
	json_t *t = obj;
	size_t k;

	out->metadata = out->spec = NULL;
	out->path = NULL;
	if (!api || !kt_podkind_group_of(api, group, sizeof(group)) ||
	    !(pk = kt_podkind_find(group, kind)))
		return KT_OK;
	out->path = pk->path;
	for (k = 0; pk->keys[k] && json_is_object(t); k++)
		t = json_object_get(t, pk->keys[k]);
	if (!json_is_object(t) || !json_is_object(json_object_get(t, "spec")))
		return kt_err_set(err, KT_E_INVALID, "%s has no object at '%s'", kind, out->path);
	out->metadata = json_object_get(t, "metadata");
	out->spec = json_object_get(t, "spec");
	return KT_OK;
}
