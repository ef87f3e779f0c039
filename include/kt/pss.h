/*
 * pss.h: the Kubernetes Pod Security Standards, evaluated in C.
 *
 * A pure function of a decoded Pod spec (jansson), a level and a policy
 * version: no I/O, no clock.  Messages follow the upstream wording so users
 * recognise them.
 */
#ifndef KT_PSS_H
#define KT_PSS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "kt/jview.h"
#include "kt/err.h"

enum kt_pss_level {
	KT_PSS_PRIVILEGED = 0,
	KT_PSS_BASELINE,
	KT_PSS_RESTRICTED,
};

/* Newest policy version this build knows; "latest" means this one. */
#define KT_PSS_LATEST_MINOR 37

struct kt_pss_policy {
	enum kt_pss_level level;
	int minor; /* policy version v1.<minor>; KT_PSS_LATEST for "latest" */
};
#define KT_PSS_LATEST (-1)

/*
 * Parse "baseline", "restricted:v1.30", "privileged", "restricted:latest".
 * Returns KT_E_INVALID (with a message in err) on anything else.
 */
enum kt_rc kt_pss_policy_parse(const char *s, struct kt_pss_policy *out, struct kt_err *err);
const char *kt_pss_level_name(enum kt_pss_level level);

/* One violated check: its upstream id ("allowPrivilegeEscalation") and reason. */
struct kt_pss_violation {
	const char *check; /* static string */
	char *reason;      /* e.g. "allowPrivilegeEscalation != false" */
	char *detail; /* e.g. "container \"app\" must set securityContext.allowPrivilegeEscalation=false" */
};

struct kt_pss_result {
	bool allowed;
	struct kt_pss_violation *v;
	size_t n;
};

/*
 * Evaluate a pod (metadata may be NULL; spec is the PodSpec object) at the
 * given policy.  Borrowed references only; fills *res, which the caller
 * releases with kt_pss_result_release().  Returns KT_E_NOMEM only.
 *
 *  - Violations come in upstream's order (baseline checks, then restricted,
 *    each by check id), with upstream's reason and detail.
 *  - An allowed pod allocates nothing: res->v is NULL and res->n is 0.
 *  - A field the checks read with the wrong JSON type (or a NULL or
 *    non-object spec) is the violation "invalidPodSpec" naming the field:
 *    fail closed, as the API server could not decode the pod either.
 *  - A minor newer than KT_PSS_LATEST_MINOR evaluates as the newest policy,
 *    as upstream clamps to its newest registered version.
 */
enum kt_rc kt_pss_evaluate_view(const struct kt_pss_policy *pol, struct kt_jv pod_metadata,
				struct kt_jv pod_spec, struct kt_pss_result *res);
/* The same for a tree decoded elsewhere (through its JSON text and a view). */
enum kt_rc kt_pss_evaluate(const struct kt_pss_policy *pol, json_t *pod_metadata, json_t *pod_spec,
			   struct kt_pss_result *res);
void kt_pss_result_release(struct kt_pss_result *res);

/*
 * "reason (detail)" joined by ", ", as the API server prints them after
 * 'violates PodSecurity "restricted:latest": '.  "" when allowed.  Returns a
 * new string; free with free(); NULL when out of memory.
 */
char *kt_pss_result_message(const struct kt_pss_result *res);

#endif
