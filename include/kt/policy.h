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
 * Values: the largest real review measured (an UPDATE of a Pod with 50
 * containers, object and oldObject with managedFields) has 34k in 649 KB;
 * 128k is 3.8x that, and admits reviews as dense as that one up to 2.4 MB
 * (docs/performance.md).
 */
#define KT_POLICY_MAX_REVIEW_BYTES (3u << 20)
#define KT_POLICY_MAX_DEPTH 64
#define KT_POLICY_MAX_VALUES (1u << 17)
/* What decoding may cost per JSON value at most (an empty object: 234 bytes). */
#define KT_POLICY_VALUE_COST 256u

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
	int code;                       /* 200 allowed, 403 denied */
	char *uid;                      /* request.uid, copied */
	const struct kt_tenant *tenant; /* NULL outside tenant namespaces; borrowed */
	/* what the decision is about, for the log line (copied; may be NULL) */
	char *kind, *namespace, *name, *operation, *user;
	struct kt_finding *denials; /* why it is denied (empty when allowed) */
	size_t n_denials;
	struct kt_finding *warnings; /* allowed-but-suspicious */
	size_t n_warnings;
	struct kt_buf patch; /* JSON Patch array; empty when no change */
};

/*
 * Decide an admission.k8s.io/v1 AdmissionReview.  Returns KT_OK with *d
 * filled (allowed or denied), KT_E_PARSE when the body is not a valid review
 * (not JSON, wrong apiVersion/kind, no uid, too large or too deep: the
 * server answers 400 with err->msg), KT_E_NOMEM.  Release *d with
 * kt_decision_release() in every case.
 */
/*
 * The most memory decoding len bytes of review text can take:
 * KT_POLICY_VALUE_COST per JSON value plus the text again (strings and keys
 * are copied), measured without allocating.  KT_E_PARSE, as
 * kt_policy_review() would answer, when the text is too large, too deep or
 * has too many values.  For a server that must admit the decode before it
 * happens.
 */
enum kt_rc kt_policy_decode_cost(const char *text, size_t len, size_t *cost, struct kt_err *err);

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
enum kt_rc kt_policy_review_routed(const struct kt_config *cfg, const struct kt_review_route *route,
				   const char *body, size_t len, enum kt_policy_mode mode,
				   struct kt_decision *d, struct kt_err *err);
/*
 * The same for a review the caller decoded (borrowed, not modified): the
 * bounds the bytes would have had (depth, values, no NUL) are checked on
 * the tree, then the same decision.
 */
enum kt_rc kt_policy_review_json(const struct kt_config *cfg, json_t *review,
				 enum kt_policy_mode mode, struct kt_decision *d,
				 struct kt_err *err);

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
 *  - the Calico isolation policy has this order, after the tenant's own
 *    policies (Kubernetes NetworkPolicies are order 1000 in Calico): a
 *    tenant opens its own door with any order below it (docs/network.md);
 *  - Flux objects of a tenant run as the ServiceAccount the renderer creates
 *    for the tenant's repository (KT_POLICY_FLUX_SERVICE_ACCOUNT).
 */
#define KT_POLICY_MANAGED_BY_KEY "app.kubernetes.io/managed-by"
#define KT_POLICY_MANAGED_BY_VALUE "kubetenant"
/* clang-format off */
#define KT_POLICY_RESERVED_NAMES                                                              \
	{ "tenant-access", "tenant-isolation", "restrict-other-tenants", "tenant-quota",        \
	  "tenant-limits", "tenant-flux", "tenant-manifests", "platform-tenant" }
/* clang-format on */
#define KT_POLICY_RESERVED_PREFIX "kubetenant"
#define KT_POLICY_CALICO_ISOLATION_ORDER 10000
#define KT_POLICY_FLUX_SERVICE_ACCOUNT "tenant-flux"
/* the read-only ClusterRole the renderer makes for tenants; bindable like admin, edit, view */
#define KT_POLICY_TENANT_ROLE "platform-tenant"
const char *kt_policy_flux_service_account(const struct kt_tenant *t); /* borrowed */

/*
 * The kinds the engine judges (lib/policy/kinds.c), the one table the
 * webhook configurations (lib/render/webhook.c) and Gatekeeper's
 * constraints (lib/render/gatekeeper.c) are rendered from.  The engine
 * judges a request only when the rendered webhooks would send it: its
 * kind is in the table (the object itself, or one of the subresources
 * listed, with one of the operations), or the old or new object is
 * labelled managed-by kubetenant (any namespaced kind, any operation but
 * CONNECT, no subresource).  Anything else the cluster admits unseen, and
 * so does `check`.
 */
#define KT_KIND_CREATE 1u
#define KT_KIND_UPDATE 2u
#define KT_KIND_DELETE 4u
/* what Gatekeeper's rendered constraints check for a kind (--enforcement gatekeeper) */
#define KT_GK_DOMAINS 1u       /* AuthorizedDomainPolicy: hostnames in the spec */
#define KT_GK_SERVICE_TYPES 2u /* K8sDenyServiceType: NodePort, LoadBalancer */
#define KT_GK_KINDS 4u         /* K8sTenantKinds: ACME, routes, Flux references, RoleBindings */

struct kt_pctx;
struct kt_kind {
	const char *group, *resource, *kind;
	const char *subresources[3]; /* judged besides the object; NULL-terminated */
	unsigned ops;                /* KT_KIND_* */
	bool cluster;                /* cluster-scoped: selected by the object's labels */
	bool mutate;                 /* Pod CREATE also goes to /mutate */
	unsigned gatekeeper;         /* KT_GK_* */
	/* the rule file's dispatch; NULL: only the rules every object shares */
	bool (*judge)(struct kt_pctx *c);
};
extern const struct kt_kind kt_policy_kinds[];
extern const size_t kt_policy_n_kinds;
/* The row judging group/kind (and subresource sub, "" for none), or NULL. */
const struct kt_kind *kt_policy_kind(const char *group, const char *kind, const char *sub);

/*
 * What the enforcement profile (enum kt_render_enforcement) enforces of a
 * decision about group/kind (subresource sub, may be NULL): under the
 * gatekeeper profile each denial Gatekeeper and the API server would not
 * make becomes a warning "not enforced by gatekeeper (why): ...", the
 * verdict follows, and the patch is dropped (Gatekeeper's Assign mutates
 * instead).  The webhook profile enforces everything.  KT_E_NOMEM leaves
 * *d consistent, with the unconverted denials kept.  docs/enforcement.md.
 */
enum kt_rc kt_policy_enforcement(int enforcement, const char *group, const char *sub,
				 struct kt_decision *d);

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
