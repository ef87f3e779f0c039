/*
 * internal.h: what the per-kind files of lib/render share.
 *
 * Each output kind lives in its own file and exposes one or two
 * kt_render_<kind>() functions that build objects and hand them to
 * kt_emit() (emit.c).  They never print and never keep an object:
 * kt_emit() passes it to the caller's callback and drops it.
 */
#ifndef KT_RENDER_INTERNAL_H
#define KT_RENDER_INTERNAL_H

#include <jansson.h>
#include "kt/config.h"
#include "kt/render.h"

#define KT_MANAGED_BY_KEY "app.kubernetes.io/managed-by"
#define KT_MANAGED_BY "kubetenant"
#define KT_SYSTEM_NS "kubetenant-system"
#define KT_TENANT_ROLE "platform-tenant"
#define KT_PURPOSE_TENANT "platform-tenant"

/* Label keys under the label domain; long enough for a 253-byte domain. */
#define KT_LABEL_KEY_MAX 320

struct rctx {
	const struct kt_config *cfg;
	const struct kt_render_opts *opts;
	const char *group_prefix;
	const char *image;
	kt_render_fn fn;
	void *fn_ctx;
	struct kt_err *err;
	/* <labelDomain>/purpose, /tenant, /node-pool, /cost-code */
	char key_purpose[KT_LABEL_KEY_MAX], key_tenant[KT_LABEL_KEY_MAX];
	char key_pool[KT_LABEL_KEY_MAX], key_cost[KT_LABEL_KEY_MAX];
	/* "<labelDomain>/purpose == 'platform-tenant'" (Calico selector) */
	char calico_tenant_selector[KT_LABEL_KEY_MAX + 64];
};

/* emit.c: hand obj (a new reference, may be NULL after a failed build) to the callback. */
enum kt_rc kt_emit(struct rctx *r, json_t *obj);

/*
 * metadata: {name, namespace (when ns != NULL), labels: {managed-by, extra}}.
 * extra (may be NULL) is a new reference merged after managed-by.  Returns
 * a new reference or NULL on allocation failure.
 */
json_t *kt_meta(const char *name, const char *ns, json_t *extra);

/* kt_meta() plus the tenant label, for objects that belong to one tenant. */
json_t *kt_tenant_meta(const struct rctx *r, const char *name, const char *ns,
		       const struct kt_tenant *t);

/* A JSON array of strings (new reference), NULL on failure. */
json_t *kt_strv_json(const struct kt_strv *v);

/* {key: value, ...} from a kt_kvv (new reference), NULL on failure. */
json_t *kt_kvv_json(const struct kt_kvv *v);

/* "<prefix><group>" in a new JSON string. */
json_t *kt_group_name(const struct rctx *r, const char *group);

/* Label selector {matchLabels: {<labelDomain>/purpose: platform-tenant}}. */
json_t *kt_tenant_ns_selector(const struct rctx *r);

/* Per-kind builders, in output order. */
enum kt_rc kt_render_system_namespace(struct rctx *r);
enum kt_rc kt_render_clusterrole(struct rctx *r);
enum kt_rc kt_render_gatekeeper_cluster(struct rctx *r);
enum kt_rc kt_render_webhook(struct rctx *r);
enum kt_rc kt_render_tenants_configmap(struct rctx *r);
enum kt_rc kt_render_webhook_configs(struct rctx *r); /* last of all: see webhook.c */
enum kt_rc kt_render_proxy_oidc_ca(struct rctx *r);
enum kt_rc kt_render_proxy(struct rctx *r);
enum kt_rc kt_render_proxy_exposure(struct rctx *r);
enum kt_rc kt_render_cluster_info(struct rctx *r);
enum kt_rc kt_render_network_system(struct rctx *r);
enum kt_rc kt_render_nodepool(struct rctx *r, const struct kt_nodepool *p);
enum kt_rc kt_render_provisioner(struct rctx *r, const struct kt_nodepool *p);
enum kt_rc kt_render_namespace(struct rctx *r, const struct kt_tenant *t);
enum kt_rc kt_render_access(struct rctx *r, const struct kt_tenant *t);
enum kt_rc kt_render_network_kubernetes(struct rctx *r, const struct kt_tenant *t);
enum kt_rc kt_render_network_calico(struct rctx *r, const struct kt_tenant *t);
enum kt_rc kt_render_network_admin(struct rctx *r, const struct kt_tenant *t);
enum kt_rc kt_render_quota(struct rctx *r, const struct kt_tenant *t);
enum kt_rc kt_render_flux(struct rctx *r, const struct kt_tenant *t);
enum kt_rc kt_render_tenant_info(struct rctx *r, const struct kt_tenant *t);
enum kt_rc kt_render_gatekeeper_tenant(struct rctx *r, const struct kt_tenant *t);

/* The proxy Deployment deploy (consumed) with --oidc-ca mounted when issuerCA is set. */
json_t *kt_with_oidc_ca(const struct rctx *r, json_t *deploy);
/* The proxy's exposure: --proxy-exposure when given, else global.oidc.exposure. */
enum kt_exposure kt_proxy_exposure(const struct rctx *r);

/* Names shared by the webhook and the proxy (cert-manager CA chain). */
enum kt_rc kt_render_ca_issuers(struct rctx *r);
#define KT_CA_ISSUER "kubetenant-ca"

/* Hardened container/pod pieces shared by the webhook and proxy Deployments. */
json_t *kt_hardened_container_security(void);
json_t *kt_hardened_pod_security(void);
json_t *kt_https_probe(const char *path);
json_t *kt_serving_certificate(const char *name, const char *secret, json_t *dns_names);
json_t *kt_spread_affinity(const char *app);

/* kubetenant's own workloads in kubetenant-system (webhook.c). */
json_t *kt_deployment(const struct rctx *r, const char *app, const char *container, json_t *args,
		      json_t *ports, json_t *volumes, json_t *mounts, int automount_token);
json_t *kt_service_account(const char *name, int automount);
json_t *kt_pdb(const char *app);
json_t *kt_service(const char *app, json_t *ports);

/* Node pool pieces shared by both Karpenter APIs (nodepool.c). */
json_t *kt_pool_labels(const struct rctx *r, const struct kt_nodepool *p);
json_t *kt_pool_taints(const struct rctx *r, const struct kt_nodepool *p);
json_t *kt_pool_requirements(const struct kt_nodepool *p);
json_t *kt_pool_tags(const struct kt_nodepool *p);

/* {matchExpressions: [metadata.name In platform + allowFrom]}, or JSON null when both are empty. */
json_t *kt_allowed_namespaces_selector(const struct rctx *r, const struct kt_tenant *t);

#endif
