/*
 * internal.h: what the files of lib/policy share (not installed, not API).
 *
 * One struct kt_pctx carries a decision from dispatch (engine.c) through the
 * rule files: the tenant, the request, the decoded objects (jansson values,
 * borrowed) and the decision being filled.  Rules only ever add findings and
 * patch operations; they never fail except out of memory, which is sticky
 * in c->rc.
 *
 * Who calls whom: engine.c dispatches through the table in kinds.c to the
 * rule files; the rule files call the shared helpers (pctx.c, who.c,
 * patch.c, decode.c) and each other, never engine.c or kinds.c, so no two
 * files call each other (scripts/cycles.py, docs/layout.md).
 */
#ifndef KT_POLICY_INTERNAL_H
#define KT_POLICY_INTERNAL_H

#include <stdbool.h>
#include <string.h>
#include <jansson.h>
#include "kt/jview.h"
#include "kt/policy.h"

/* A finding's message and path are cut to these sizes (bounded allocation). */
#define KT_PCTX_MSG_MAX 512
#define KT_PCTX_PATH_MAX 192

enum kt_op { KT_OP_CREATE, KT_OP_UPDATE, KT_OP_DELETE, KT_OP_CONNECT };

struct kt_pctx {
	const struct kt_config *cfg;
	const struct kt_tenant *t;
	enum kt_policy_mode mode;
	enum kt_op op;
	const char *group, *kind, *sub; /* never NULL; "" when absent */
	const char *ns, *name;          /* never NULL */
	bool platform;                  /* a platform identity sent the request */
	struct kt_jv obj, old;          /* absent when absent or null (DELETE has no obj) */
	/* their metadata, labels and annotations, looked up once (decide() in engine.c) */
	struct kt_jv meta, labels, ann, old_meta, old_labels, old_ann;
	struct kt_jv meta_name, meta_gen; /* the object's metadata.name and generateName */
	struct kt_decision *d;
	const char *pool_key;    /* "<labelDomain>/node-pool" */
	const char *managed_key; /* "app.kubernetes.io/managed-by" */
	unsigned dropped_denials, dropped_warnings;
	enum kt_rc rc; /* KT_E_NOMEM when any allocation failed */
};

void kt_pctx_deny(struct kt_pctx *c, const char *rule, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void kt_pctx_warn(struct kt_pctx *c, const char *rule, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "a.b" + "c" -> "a.b.c" in buf (cut to size). */
const char *kt_pctx_path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A value from a request, shortened and made printable for a message. */
const char *kt_pctx_q(char *buf, size_t size, const char *s);

/* A pod or a pod template under judgement. */
struct kt_podref {
	struct kt_jv meta, spec; /* spec is an object (checked by the caller) */
	/* spec's members the rules read, found in one pass (kt_podref_read) */
	struct kt_jv node_name, node_selector, affinity, tolerations;
	struct kt_jv priority_class, runtime_class, scheduler_name;
	struct kt_jv old_meta, old_spec; /* Pod UPDATE only; else absent */
	const char *base;                /* path of spec: "spec", "spec.template.spec" */
	const char *what;                /* "pod", "pod template" */
	bool is_pod;                     /* a Pod (mutated, UPDATE rules), not a template */
	bool daemon;                     /* created by the DaemonSet controller for one node */
	bool solver;                     /* cert-manager's HTTP01 solver (kt_acme_solver) */
};

/* placement.c; kt_podref_read fills the members of p from p->spec */
void kt_podref_read(struct kt_podref *p);
void kt_placement_judge(struct kt_pctx *c, const struct kt_podref *p);
void kt_placement_mutate(struct kt_pctx *c, const struct kt_podref *p);
/* images.c */
void kt_images_judge(struct kt_pctx *c, const struct kt_podref *p);
/* workloads.c: Pods, templates, DaemonSets, ephemeral containers, pod security */
bool kt_workloads_dispatch(struct kt_pctx *c);
/* services.c */
bool kt_services_dispatch(struct kt_pctx *c);
/* hostnames.c */
bool kt_hostnames_dispatch(struct kt_pctx *c);
void kt_hostnames_annotations(struct kt_pctx *c);
/* annotations.c: ingress-nginx annotations of an Ingress */
void kt_annotations_ingress(struct kt_pctx *c);
bool kt_annotations_rules_sorted(void); /* the table's order, for the tests */
/* rbac.c: the subjects and roles of a tenant's RoleBindings */
bool kt_rbac_dispatch(struct kt_pctx *c);
/*
 * csr.c: the names a CA would sign from a CertificateRequest, read the way
 * every plausible reader reads them, or why the request is refused.
 * kt_csr_read takes spec.request (base64 of one PEM block),
 * kt_csr_read_pem the PEM itself.  KT_OK fills *csr (free with
 * kt_csr_release); KT_E_PARSE writes the reason to why ("it has ...");
 * KT_E_NOMEM.  On failure *csr holds nothing to release.
 */
#define KT_CSR_MAX (64u << 10)
#define KT_CSR_NAMES_MAX 256
enum kt_csr_kind { KT_CSR_CN, KT_CSR_DNS, KT_CSR_IP, KT_CSR_URI, KT_CSR_EMAIL };
struct kt_csr_name {
	enum kt_csr_kind kind;
	char *value; /* printable ASCII; an IP address in text form */
};
struct kt_csr {
	struct kt_csr_name *names; /* SANs in order, then the common name (one of the DNS names) */
	size_t n;
	bool ca;            /* basic constraints cA */
	bool subject_email; /* an emailAddress in the subject */
};
enum kt_rc kt_csr_read(const char *b64, size_t len, struct kt_csr *csr, char *why, size_t size);
enum kt_rc kt_csr_read_pem(const unsigned char *pem, size_t len, struct kt_csr *csr, char *why,
			   size_t size);
void kt_csr_release(struct kt_csr *csr);
/* managed.c: managed-by objects, reserved names, the namespace, Calico, Flux */
void kt_managed_judge(struct kt_pctx *c);
bool kt_managed_dispatch(struct kt_pctx *c);
/* A platform identity, or a Kubernetes controller that cleans up after one. */
bool kt_managed_exempt(const struct kt_pctx *c);

/*
 * patch.c: an "add" operation at the JSON pointer path (written as it is:
 * the rules' own, with nothing to escape) followed by the segment seg
 * (escaped; NULL for none), its value written by value() as JSON text
 * (kt/jwrite.h), appended to the JSON Patch in c->d->patch (MUTATE mode
 * only); finish() in engine.c closes it.
 */
typedef enum kt_rc (*kt_patch_value)(struct kt_buf *b, const struct kt_pctx *c);
void kt_patch_add(struct kt_pctx *c, const char *path, const char *seg, kt_patch_value value);

/* pctx.c: an annotation of the object (c->obj), or NULL. */
const char *kt_meta_annotation(const struct kt_pctx *c, const char *key);

/*
 * Typed reads that fail closed: v (absent or JSON null: absent, NULL,
 * false) as the type a rule reads; any other type is denied as
 * request.malformed at the path fmt names (built only then) and reads as
 * absent, NULL or false.  A rule that
 * walked a string as an empty list would pass what it never judged.
 */
struct kt_jv kt_as_list(struct kt_pctx *c, struct kt_jv v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct kt_jv kt_as_object(struct kt_pctx *c, struct kt_jv v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *kt_as_string(struct kt_pctx *c, struct kt_jv v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool kt_as_true(struct kt_pctx *c, struct kt_jv v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* pctx.c: is s in the list? */
bool kt_strv_has(const struct kt_strv *v, const char *s);

/*
 * who.c: writers that are not the tenant.  kt_kube_controller(): the request comes
 * from the kube-controller-manager's controller of that name, under its own
 * service account in kube-system or the manager's shared identity (no
 * tenant can hold either).  kt_controller_ref(): obj names an owner of that
 * apiVersion and kind as its controller.  kt_acme_solver(): obj is one of
 * the HTTP01 solver objects cert-manager makes for a Challenge, sent by a
 * platform identity.
 */
bool kt_kube_controller(const struct kt_pctx *c, const char *name);
bool kt_controller_ref(struct kt_jv obj, const char *api_version, const char *kind);
bool kt_acme_solver(const struct kt_pctx *c);

/*
 * decode.c: review bytes to a new json_t (KT_E_PARSE when too large, too
 * deep, not JSON, with duplicate keys...; free with json_decref), and the
 * same bounds on objects decoded by the caller (depth, values, no NUL in
 * strings or keys; either may be NULL).
 */
enum kt_rc kt_policy_decode(const char *text, size_t len, json_t **out, struct kt_err *err);
enum kt_rc kt_policy_bounds(json_t *obj, json_t *old, struct kt_err *err);
/* Control characters and invalid UTF-8 of s become '?', in place. */
void kt_clean_text(char *s);

/*
 * Reading the view (kt/jview.h) the way the rules do.  Absent and JSON
 * null are the same for Kubernetes (omitempty); a member of another type
 * reads as NULL from the typed getters, and rules that must tell check the
 * type.  Strings never contain NUL (the view refuses \u0000), so their C
 * string is the whole value.
 *
 * kt_each walks the children of a list, in order: the elements of an
 * array, and the member values of an object (a list sent as an object is
 * still judged element by element: fail closed); none for anything else.
 *	kt_each(e, tolerations) { ... e.v (struct kt_jv), e.i (its position) ... }
 */
static inline const char *kt_gets(struct kt_jv obj, const char *key)
{
	return kt_jv_str(kt_jv_get(obj, key));
}

struct kt_each {
	size_t i;
	struct kt_jv v; /* absent when done */
};

#define kt_each(e, parent)                                                 \
	for (struct kt_each e = { 0, kt_jv_first(parent) }; kt_jv_ok(e.v); \
	     e.v = kt_jv_next(e.v), e.i++)

#endif
