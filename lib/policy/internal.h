/*
 * internal.h: what the files of lib/policy share (not installed, not API).
 *
 * One struct kt_pctx carries a decision from dispatch (engine.c) through the
 * rule files: the tenant, the request, the decoded objects (struct kt_jv in
 * the decision's arena) and the decision being filled.  Rules only ever add
 * findings and patch operations; they never fail except out of memory,
 * which is sticky in c->rc.
 */
#ifndef KT_POLICY_INTERNAL_H
#define KT_POLICY_INTERNAL_H

#include <stdbool.h>
#include "kt/policy.h"
#include "jv.h"

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
	struct kt_jv *obj, *old;        /* NULL when absent (DELETE has no obj) */
	struct kt_jv_arena *a;
	struct kt_decision *d;
	const char *pool_key;           /* "<labelDomain>/node-pool" */
	const char *managed_key;        /* "app.kubernetes.io/managed-by" */
	size_t n_patch_ops;
	unsigned dropped_denials, dropped_warnings;
	enum kt_rc rc;                  /* KT_E_NOMEM when any allocation failed */
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
	struct kt_jv *meta, *spec;         /* spec is an object (checked by the caller) */
	struct kt_jv *old_meta, *old_spec; /* Pod UPDATE only; else NULL */
	const char *base;                  /* path of spec: "spec", "spec.template.spec" */
	const char *what;                  /* "pod", "pod template" */
	bool is_pod;                       /* a Pod (mutated, UPDATE rules), not a template */
};

/* placement.c */
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
/* managed.c: managed-by objects, reserved names, the namespace, Calico, Flux */
void kt_managed_judge(struct kt_pctx *c);
bool kt_managed_dispatch(struct kt_pctx *c);

/* patch.c: JSON Patch operations appended to c->d->patch (MUTATE mode only) */
void kt_patch_add(struct kt_pctx *c, const char *const *ptr, size_t n, const char *value_json);
/* Append s (n bytes) as a JSON string literal. */
enum kt_rc kt_buf_add_json_str(struct kt_buf *b, const char *s, size_t n);

/* Label or annotation value of an object, or NULL. */
const char *kt_meta_label(const struct kt_jv *obj, const char *key);
const char *kt_meta_annotation(const struct kt_jv *obj, const char *key);

/* Is s in the list? */
bool kt_strv_has(const struct kt_strv *v, const char *s);

#endif
