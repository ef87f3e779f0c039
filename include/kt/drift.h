/*
 * drift.h: what a live cluster has made of the platform objects `render`
 * produces (used by `audit`).
 *
 * Three kinds of drift:
 *  - missing: rendered, but no live object of that group, kind, namespace
 *    and name;
 *  - changed: a field render sets has another value live (one finding per
 *    field);
 *  - unexpected: a live object labelled app.kubernetes.io/managed-by:
 *    kubetenant that render does not produce (any more), unless it is a
 *    copy of a rendered object's labels: a controller's child (it has
 *    ownerReferences; not believed of RBAC objects and webhook
 *    configurations, which no controller makes), the Endpoints of a rendered Service, a PodMetrics
 *    (metrics.k8s.io), the crd.projectcalico.org object that stores a
 *    rendered projectcalico.org policy.
 *
 * Live objects carry what the API server and controllers wrote (uid,
 * resourceVersion, managedFields, status, defaulted spec fields, caBundle
 * injected by cert-manager), so only what render specifies is compared:
 * a key render leaves out is ignored, a key it sets must match exactly.
 * Where an extra key changes what an object means, the whole subtree must
 * match exactly (no key added): RBAC rules, subjects, roleRef and
 * aggregationRule, label selectors (selector, matchLabels, podSelector,
 * namespaceSelector, objectSelector), nodeSelector, ConfigMap data and
 * ResourceQuota hard.  Arrays must have the same length (an extra subject
 * in a rendered RoleBinding is drift).  Labels under pod-security.kubernetes.io/,
 * the label domain and app.kubernetes.io/managed-by are the platform's: an
 * extra one is drift.  The webhook configurations' namespaceSelector,
 * objectSelector and matchConditions, when render leaves them out, must be
 * empty live (the API server defaults the selectors to {}; anything else
 * would take tenant namespaces out of the webhook's sight).  Resource
 * quantities compare by value ("0.5" and "500m" are equal).  apiVersion is
 * not compared: kubectl returns the served version it prefers.  A rendered
 * object with a namespace also matches a live one without (a namespace on
 * a cluster-scoped kind is dropped at apply).
 */
#ifndef KT_DRIFT_H
#define KT_DRIFT_H

#include <stddef.h>
#include <jansson.h>
#include "kt/err.h"

enum kt_drift_kind { KT_DRIFT_MISSING, KT_DRIFT_CHANGED, KT_DRIFT_UNEXPECTED };

#define KT_DRIFT_PATH_MAX 512 /* a longer field path is cut, ending in "..." */

/* One finding.  Everything is borrowed: valid during the callback only. */
struct kt_drift {
	enum kt_drift_kind kind;
	json_t *object;   /* the rendered object (missing, changed) or the live one (unexpected) */
	size_t live;      /* index of the live object in the array given; (size_t)-1 for missing */
	const char *path; /* changed: the field, "metadata.labels[x]", "subjects[1]"; else "" */
	json_t *rendered; /* changed: the rendered value, NULL when render does not set it */
	json_t *value;    /* changed: the live value, NULL when absent live */
};

typedef enum kt_rc (*kt_drift_fn)(void *ctx, const struct kt_drift *d, struct kt_err *err);

/*
 * Compare rendered (a JSON array of objects, as kt_render_list() gives)
 * with the n objects of live (borrowed) and call fn for each finding:
 * first changed and unexpected objects in live order, then missing ones in
 * rendered order.  label_domain is the tenants file's (the platform's
 * labels start with it).  Returns KT_OK, KT_E_NOMEM, or what fn returned.
 */
enum kt_rc kt_drift_compare(json_t *rendered, json_t *const *live, size_t n,
			    const char *label_domain, kt_drift_fn fn, void *ctx,
			    struct kt_err *err);

/* "missing", "changed", "unexpected". */
const char *kt_drift_kind_name(enum kt_drift_kind k);

#endif
