/*
 * config.h: the tenants file, parsed and validated.
 *
 * The tenants file is the single source of truth (global, nodePools,
 * tenants).  kt_config_load() either returns a fully validated, immutable
 * configuration or reports every problem it found; no half-valid config
 * ever reaches the renderer, the policy engine or the servers.
 *
 * All lists are sorted (tenants and node pools by name, string lists
 * lexically unless order matters) so every consumer is deterministic.
 */
#ifndef KT_CONFIG_H
#define KT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt/err.h"
#include "kt/pss.h"

/* Hard limits: the file is trusted more than a request, but still bounded. */
#define KT_CONFIG_MAX_BYTES (64u << 20)
#define KT_CONFIG_MAX_TENANTS 100000
#define KT_CONFIG_MAX_POOLS 10000

struct kt_strv {
	char **v;
	size_t n;
};

struct kt_kv {
	char *key, *value;
};

struct kt_kvv { /* sorted by key, keys unique */
	struct kt_kv *v;
	size_t n;
};

struct kt_nodepool {
	char *name;
	struct kt_strv capacity_types; /* "on-demand", "spot", "reserved"; default on-demand */
	struct kt_strv instance_types; /* "t3a.large" */
	long long empty_ttl;           /* seconds; -1 when not set */
	long long ttl;                 /* seconds; -1 when not set */
	char *cost_code;
	struct kt_kvv prices; /* instance type -> monthly price, decimal text */
	int line, col;        /* where it is defined, for messages */
};

struct kt_limits { /* LimitRange for containers; each list may be empty */
	struct kt_kvv def, def_request, max, min;
};

struct kt_repo {          /* Flux tenant sync; url == NULL when not configured */
	char *url;        /* https:// or ssh:// (git@host:path becomes ssh://git@host/path) */
	char *branch;     /* default "main" */
	char *path;       /* default "./" */
	char *interval;   /* default "1m" */
	char *secret_ref; /* NULL when not set */
};

struct kt_tenant {
	char *name; /* also its namespace */
	char *node_pool;
	const struct kt_nodepool *pool;     /* resolved; borrowed from the config */
	char *operator_group;               /* operatorEdGroup, without prefix; NULL when not set */
	struct kt_strv read_groups;         /* extra read-only groups, without prefix */
	struct kt_strv domains;             /* authorized hostnames; "*.x" allowed */
	struct kt_pss_policy pod_security;  /* default: global.pod_security */
	struct kt_strv allow_service_types; /* subset of NodePort, LoadBalancer */
	struct kt_strv allow_from;          /* tenants allowed to reach this one */
	struct kt_kvv quota;                /* ResourceQuota spec.hard */
	struct kt_limits limits;
	bool has_limits;
	struct kt_repo repo;
	/* admission allow-lists (empty = none allowed, except where noted) */
	struct kt_strv priority_classes;
	struct kt_strv runtime_classes;
	struct kt_strv scheduler_names;  /* empty = default-scheduler only */
	struct kt_strv image_registries; /* empty = any registry */
	struct kt_strv ingress_classes;  /* empty = any class */
	struct kt_strv cert_issuers;     /* "Kind/name"; empty = any issuer */
	bool allow_daemonsets;
	int line, col; /* where it is defined, for messages */
};

struct kt_identities { /* platform identities, exempt from managed-object rules */
	struct kt_strv users, groups, service_accounts; /* "ns:name" */
	bool default_service_accounts; /* serviceAccounts was not set: the defaults below */
};

/*
 * The controllers that write in tenant namespaces on the platform's behalf
 * (docs/controllers.md says why each): the service accounts of
 * platformIdentities when the file does not set the key.  Setting it
 * replaces the whole list.
 */
/* clang-format off */
#define KT_DEFAULT_PLATFORM_SERVICE_ACCOUNTS                                                  \
	{                                                                                     \
		"cert-manager:cert-manager", "flux-system:helm-controller",                   \
		"flux-system:image-automation-controller",                                    \
		"flux-system:image-reflector-controller", "flux-system:kustomize-controller", \
		"flux-system:notification-controller", "flux-system:source-controller",       \
		"kube-system:aws-load-balancer-controller",                                   \
		"kube-system:cloud-controller-manager", "kube-system:service-controller",     \
	}
/* clang-format on */
/* Flux needs these to keep the tenant sync it renders (finalizers, status). */
#define KT_FLUX_KUSTOMIZE_CONTROLLER "flux-system:kustomize-controller"
#define KT_FLUX_SOURCE_CONTROLLER "flux-system:source-controller"

struct kt_global {
	char *cluster_hostname;   /* NULL when not set */
	char *tenant_host_prefix; /* always set */
	char *cluster_name;       /* always set */
	char *cluster_dns;        /* IPv4 or IPv6 literal; NULL when not set */
	char *label_domain;       /* default "kubetenant.io" */
	char *group_prefix;       /* default "oidc:"; may be "" */
	struct kt_strv platform_namespaces;
	struct kt_pss_policy pod_security; /* default restricted:latest */
	struct kt_identities platform;
	struct kt_strv default_priority_classes; /* the cluster's globalDefault class(es) */
	char *image;                             /* default "kubetenant/kubetenant:<version>" */
	struct kt_oidc {                   /* the proxy; issuer_url == NULL: no proxy rendered */
		char *issuer_url;          /* oidc.issuerURL */
		char *client_id;           /* oidc.clientID: the token audience */
		char *username_claim;      /* oidc.usernameClaim, default "sub" */
		char *groups_claim;        /* oidc.groupsClaim, default "groups" */
		char *hostname;            /* oidc.proxyHostname: public name of the proxy */
		char *dashboard_client_id; /* oidc.dashboardClientID, default "kubetenant-dashboard" */
		char *issuer_ca; /* oidc.issuerCA: PEM the proxy trusts for the issuer; NULL = system */
		char *proxy_ca; /* oidc.proxyCA: PEM members trust for the proxy; NULL = public CA */
		enum kt_exposure { /* oidc.exposure: how the proxy is reached from outside */
				   KT_EXPOSE_NONE = 0,
				   KT_EXPOSE_INGRESS,
				   KT_EXPOSE_GATEWAY,
		} exposure;
		char *ingress_class; /* oidc.ingressClassName, default "nginx" */
		char *gateway_class; /* oidc.gatewayClassName; NULL when not set */
		char *issuer_kind;   /* oidc.certIssuer.kind: Issuer (default) or ClusterIssuer */
		char *issuer_name;   /* oidc.certIssuer.name, default "kubetenant-ca" */
		bool dashboard;      /* oidc.dashboard: the proxy serves /ui/ (--ui) */
	} oidc;
	int line, col; /* of the 'global' key, for messages */
};

struct kt_config {
	char *path;    /* as given to kt_config_load ("<stdin>" for "-") */
	uint64_t hash; /* kt_hash_bytes() of the text it was parsed from */
	struct kt_global global;
	struct kt_nodepool *pools; /* sorted by name */
	size_t n_pools;
	struct kt_tenant *tenants; /* sorted by name */
	size_t n_tenants;
};

/* One problem found in a tenants file. */
struct kt_diag {
	int line, col;
	char *msg;
};

struct kt_diags {
	struct kt_diag *v;
	size_t n;
};
void kt_diags_release(struct kt_diags *d);

/*
 * Load and validate a tenants file.  On success *out is a new config (free
 * with kt_config_free()).  On KT_E_INVALID or KT_E_PARSE, every problem is
 * appended to *diags (sorted by line, then column) and *out is untouched;
 * on KT_E_IO or KT_E_NOMEM, err says why.  diags may be NULL.
 */
enum kt_rc kt_config_load(const char *path, struct kt_config **out, struct kt_diags *diags,
			  struct kt_err *err);

/*
 * Read a tenants file's bytes into *text (KT_BUF_INIT), as kt_config_load()
 * does: KT_E_IO when it cannot be read or is over KT_CONFIG_MAX_BYTES.
 * For callers that keep the bytes (audit compares them with the cluster).
 */
struct kt_buf;
enum kt_rc kt_config_read(const char *path, struct kt_buf *text, struct kt_err *err);

/* The same from memory; name is used in messages only. */
enum kt_rc kt_config_parse(const char *text, size_t len, const char *name, struct kt_config **out,
			   struct kt_diags *diags, struct kt_err *err);

void kt_config_free(struct kt_config *cfg);

/* Tenant owning a namespace, or NULL (binary search; borrowed). */
const struct kt_tenant *kt_config_tenant_by_ns(const struct kt_config *cfg, const char *ns);
const struct kt_nodepool *kt_config_pool(const struct kt_config *cfg, const char *name);

/*
 * Advisory findings on a loaded config, appended to *out with line:col: a
 * node pool no tenant uses, a tenant nobody can read (no operatorEdGroup
 * nor readOnlyGroups), a tenant whose pods run privileged, tenants and no
 * platformNamespaces (nothing outside a tenant can reach it).  `validate
 * --strict` fails on them.  Returns KT_E_NOMEM only.
 */
enum kt_rc kt_config_lint(const struct kt_config *cfg, struct kt_diags *out);

/*
 * JSON Schema (draft 2020-12) of the tenants file, ending in a newline.
 * Borrowed static string, built on the first call (thread-safe, pthread_once);
 * NULL if that build ran out of memory.
 */
const char *kt_config_schema(void);

#endif
