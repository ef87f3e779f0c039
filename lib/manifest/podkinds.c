/*
 * podkinds.c: the one table of kinds that carry a pod (see kt/podkinds.h).
 *
 * The extensions group served Deployments, ReplicaSets and DaemonSets until
 * Kubernetes 1.16; old manifests and old clusters still use it, and a kind
 * that is not judged would pass silently, so it is here as well.
 */
#include <string.h>
#include "kt/podkinds.h"

/* clang-format off */
#define TEMPLATE { "spec", "template", NULL }
/* clang-format on */

const struct kt_podkind kt_podkinds[] = {
	{ "", "Pod", "pods", { NULL }, "spec" },
	{ "", "PodTemplate", "podtemplates", { "template", NULL }, "template.spec" },
	{ "", "ReplicationController", "replicationcontrollers", TEMPLATE, "spec.template.spec" },
	{ "apps", "Deployment", "deployments", TEMPLATE, "spec.template.spec" },
	{ "apps", "ReplicaSet", "replicasets", TEMPLATE, "spec.template.spec" },
	{ "apps", "StatefulSet", "statefulsets", TEMPLATE, "spec.template.spec" },
	{ "apps", "DaemonSet", "daemonsets", TEMPLATE, "spec.template.spec" },
	{ "extensions", "Deployment", "deployments", TEMPLATE, "spec.template.spec" },
	{ "extensions", "ReplicaSet", "replicasets", TEMPLATE, "spec.template.spec" },
	{ "extensions", "DaemonSet", "daemonsets", TEMPLATE, "spec.template.spec" },
	{ "batch", "Job", "jobs", TEMPLATE, "spec.template.spec" },
	{ "batch",
	  "CronJob",
	  "cronjobs",
	  { "spec", "jobTemplate", "spec", "template", NULL },
	  "spec.jobTemplate.spec.template.spec" },
};

const size_t kt_podkinds_n = sizeof(kt_podkinds) / sizeof(kt_podkinds[0]);

const struct kt_podkind *kt_podkind_find(const char *group, const char *kind)
{
	size_t i;

	for (i = 0; i < kt_podkinds_n; i++)
		if (!strcmp(group, kt_podkinds[i].group) && !strcmp(kind, kt_podkinds[i].kind))
			return &kt_podkinds[i];
	return NULL;
}

const char *kt_podkind_group_of(const char *api_version, char *buf, size_t size)
{
	const char *slash = strchr(api_version, '/');
	size_t n = slash ? (size_t)(slash - api_version) : 0;

	if (n >= size)
		return NULL;
	memcpy(buf, api_version, n);
	buf[n] = '\0';
	return buf;
}
