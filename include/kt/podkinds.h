/*
 * podkinds.h: the kinds that carry a pod or a pod template, in one table.
 *
 * `check --pod-security` (lib/manifest/pod.c) and the policy engine
 * (lib/policy/workloads.c) both find the pod of an object through this
 * table, so they can never judge different kinds.  A row is one API group
 * and kind: the same kind in another group (a CRD named "Job") is not here
 * and carries no pod.
 */
#ifndef KT_PODKINDS_H
#define KT_PODKINDS_H

#include <stddef.h>

#define KT_PODKIND_MAX_KEYS 4

struct kt_podkind {
	const char *group; /* API group; "" is the core group */
	const char *kind;
	const char *resource; /* the plural the API server routes it by */
	/* object keys down to the object holding {metadata, spec}; none for a Pod */
	const char *const keys[KT_PODKIND_MAX_KEYS + 1];
	const char *path; /* field path of the pod spec, for messages */
};

extern const struct kt_podkind kt_podkinds[];
extern const size_t kt_podkinds_n;

/* The row of group and kind, or NULL when that kind carries no pod. */
const struct kt_podkind *kt_podkind_find(const char *group, const char *kind);

/* "apps/v1" -> "apps" into buf, "v1" -> ""; NULL when it does not fit. */
const char *kt_podkind_group_of(const char *api_version, char *buf, size_t size);

#endif
