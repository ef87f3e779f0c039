/*
 * policy.h: the tenancy policy engine.
 *
 * AdmissionReview bytes in, decision out: a pure function of the review and
 * the tenants file (no I/O, no clock), so the webhook (`serve`), the offline
 * `check` and `audit`, the unit tables and the fuzzer all share one code path
 * and can never disagree.  The HTTPS server adds transport only.
 */
#ifndef KT_POLICY_H
#define KT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "kt/buf.h"
#include "kt/config.h"
#include "kt/err.h"

/*
 * Inputs are bounded: larger or deeper reviews, or with more JSON values,
 * are rejected as KT_E_PARSE (objects given to kt_policy_decide() too).
 */
#define KT_POLICY_MAX_REVIEW_BYTES (3u << 20)
#define KT_POLICY_MAX_DEPTH 64
#define KT_POLICY_MAX_VALUES (1u << 19)

enum kt_policy_mode {
	KT_POLICY_VALIDATE, /* decide only; never a patch */
	KT_POLICY_MUTATE,   /* decide and, when allowed, compute the JSON patch */
};

/* One reason for a denial or a warning. */
struct kt_finding {
	char *rule;    /* stable id, e.g. "placement.foreign-toleration" */
	char *message; /* what to change, e.g. "pod tolerates node pool 'b-pool' but ..." */
	char *path;    /* field path, e.g. "spec.tolerations[1]" (may be NULL) */
};

struct kt_decision {
	bool allowed;
	int code;                    /* 200 allowed, 403 denied */
	char *uid;                   /* request.uid, copied */
	const struct kt_tenant *tenant; /* NULL outside tenant namespaces; borrowed */
	/* what the decision is about, for the log line (copied; may be NULL) */
	char *kind, *namespace, *name, *operation, *user;
	struct kt_finding *denials;  /* why it is denied (empty when allowed) */
	size_t n_denials;
	struct kt_finding *warnings; /* allowed-but-suspicious */
	size_t n_warnings;
	struct kt_buf patch;         /* JSON Patch array; empty when no change */
};

/*
 * Decide an admission.k8s.io/v1 AdmissionReview.  Returns KT_OK with *d
 * filled (allowed or denied), KT_E_PARSE when the body is not a valid review
 * (not JSON, wrong apiVersion/kind, no uid, too large or too deep: the
 * server answers 400 with err->msg), KT_E_NOMEM.  Release *d with
 * kt_decision_release() in every case.
 */
enum kt_rc kt_policy_review(const struct kt_config *cfg, const char *body, size_t len,
			    enum kt_policy_mode mode, struct kt_decision *d, struct kt_err *err);
/*
 * The same, told how the review reached the webhook.  tenant_namespaces_only:
 * it came through a webhook whose selectors send tenant namespaces only (every
 * webhook `render` emits; see lib/render/webhook.c), so a namespace the file
 * does not know is a tenant the loaded file has not caught up with, and is
 * denied (rule tenant.unknown-namespace, naming generation) rather than let
 * through unjudged; DELETE and updates of objects being deleted stay allowed
 * so offboarding completes.  kt_policy_review() is this with route NULL:
 * unknown namespaces are not judged (check, audit, the case tables).
 */
struct kt_review_route {
	bool tenant_namespaces_only;
	unsigned long generation; /* of the loaded tenants file, for the message */
};
enum kt_rc kt_policy_review_routed(const struct kt_config *cfg,
				   const struct kt_review_route *route, const char *body,
				   size_t len, enum kt_policy_mode mode, struct kt_decision *d,
				   struct kt_err *err);
/*
 * The same for a review the caller decoded (borrowed, not modified): the
 * bounds the bytes would have had (depth, values, no NUL) are checked on
 * the tree, then the same decision.
 */
enum kt_rc kt_policy_review_json(const struct kt_config *cfg, json_t *review,
				 enum kt_policy_mode mode, struct kt_decision *d, struct kt_err *err);

/*
 * The same for an already decoded object (used by `check` and `audit`):
 * `object` (borrowed) is judged as operation ("CREATE", "UPDATE", ...) in
 * namespace ns by the given user and groups (may be NULL: a tenant user).
 * old_object may be NULL.
 */
struct kt_policy_request {
	const char *operation, *ns, *user, *sub_resource;
	const char *const *groups; /* NULL-terminated, may be NULL */
	json_t *object, *old_object;
	const char *uid;
	bool dry_run;
	/*
	 * Treat the sender as a platform identity even when user/groups do not
	 * name one (audit judges objects the platform rendered this way).
	 */
	bool platform;
};
enum kt_rc kt_policy_decide(const struct kt_config *cfg, const struct kt_policy_request *req,
			    enum kt_policy_mode mode, struct kt_decision *d, struct kt_err *err);

/* The AdmissionReview response JSON for a decision (uid, allowed, status, patch, warnings). */
enum kt_rc kt_policy_response(const struct kt_decision *d, struct kt_buf *out);

void kt_decision_release(struct kt_decision *d);

/*
 * Contract with the renderer: what the engine protects and expects.
 *  - objects labeled KT_POLICY_MANAGED_BY_KEY=KT_POLICY_MANAGED_BY_VALUE are
 *    the platform's; tenants cannot create, change or delete them;
 *  - names tenants may not create in their namespace: KT_POLICY_RESERVED_NAMES
 *    and any name starting with KT_POLICY_RESERVED_PREFIX;
 *  - the Calico isolation policy has this order; tenant Calico policies must
 *    come after it (a larger order, or none);
 *  - Flux objects of a tenant run as the ServiceAccount the renderer creates
 *    for the tenant's repository (KT_POLICY_FLUX_SERVICE_ACCOUNT).
 */
#define KT_POLICY_MANAGED_BY_KEY "app.kubernetes.io/managed-by"
#define KT_POLICY_MANAGED_BY_VALUE "kubetenant"
#define KT_POLICY_RESERVED_NAMES                                                              \
	{ "tenant-access", "tenant-isolation", "restrict-other-tenants", "tenant-quota",        \
	  "tenant-limits", "tenant-flux", "tenant-manifests", "platform-tenant" }
#define KT_POLICY_RESERVED_PREFIX "kubetenant"
#define KT_POLICY_CALICO_ISOLATION_ORDER 20
#define KT_POLICY_FLUX_SERVICE_ACCOUNT "tenant-flux"
const char *kt_policy_flux_service_account(const struct kt_tenant *t); /* borrowed */

/* Caps on findings per decision (the rest are counted in one last finding). */
#define KT_POLICY_MAX_FINDINGS 32

/*
 * Apply an RFC 6902 JSON Patch (add, remove, replace, test, move, copy) to
 * *doc in place (used by `check --show-mutations` and to re-judge a mutated
 * object).  On error *doc may be partly patched.  KT_E_PARSE when the patch
 * is not a JSON array of operations, KT_E_INVALID when an operation does not
 * apply, KT_E_NOMEM.
 */
enum kt_rc kt_policy_patch_apply(json_t **doc, const char *patch, size_t len, struct kt_err *err);

/*
 * Judge one object of a live cluster the way `audit` does: as a CREATE by a
 * tenant user in its own namespace, in validating mode (live pods must carry
 * their pool's selector already), after removing what the API server and
 * the scheduler set (status, server metadata, a bound pod's nodeName) and
 * attributing platform-rendered objects (managed-by kubetenant, the tenant
 * Namespace) to the platform.  node_pool is the pool label of the node a
 * pod runs on ("" when the node has none, NULL when unknown): a pod on
 * another pool's node is denied as placement.foreign-node.  *judged is
 * false when the object is not in a tenant namespace or is written by an
 * in-tree controller (endpoints); *d is filled in every case and must be
 * released.  object is borrowed and not modified.
 */
enum kt_rc kt_policy_audit(const struct kt_config *cfg, json_t *object, const char *node_pool,
			   struct kt_decision *d, bool *judged, struct kt_err *err);

#endif
