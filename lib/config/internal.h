/*
 * internal.h: what the files of lib/config share (and test/unit/t_config.c
 * reaches for).  Not part of the public API: include/kt/config.h is.
 *
 * Loading is three passes over one arena:
 *   yaml.c     the YAML reader (lib/yaml) -> a tree of kt_ynode with line:col
 *              for every node, worded for a tenants file;
 *   convert.c  tree -> struct kt_config, checking every key and value;
 *   validate.c checks across the whole file (references, namespaces,
 *              hostname ownership) and the advisory lint.
 * check.c holds the pure syntax checks (names, domains, quantities...).
 */
#ifndef KT_CONFIG_INTERNAL_H
#define KT_CONFIG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include "kt/arena.h"
#include "kt/config.h"
#include "kt/yaml.h"

/* Bounds on what one file may hold, besides those in config.h. */
#define KT_Y_MAX_DEPTH 32           /* the schema needs 6 levels */
#define KT_Y_MAX_SCALAR (64u << 10) /* bytes in one scalar */
#define KT_Y_MAX_WEIGHT (1u << 22)  /* nodes reachable once aliases are followed */
#define KT_MAX_DIAGS 1000           /* problems reported before giving up */
#define KT_MAX_LIST 1000            /* entries in one list */
#define KT_MAX_RESOURCES 64         /* entries in quota or one limits section */
#define KT_MAX_STRLEN 1024          /* a free-form string */

/* ------------------------------------------------------------ diagnostics */

struct kt_diag_sink {
	struct kt_diags d;
	size_t dropped; /* problems past KT_MAX_DIAGS */
	bool nomem;
};
void kt_diag_add(struct kt_diag_sink *s, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void kt_diag_vadd(struct kt_diag_sink *s, int line, int col, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
/* Sort by line, then column, keeping the order of equal positions; move into *out. */
void kt_diag_finish(struct kt_diag_sink *s, struct kt_diags *out);

/* ------------------------------------------------------------ the reading */

/*
 * Parse text (NUL-terminated, len bytes) into *root (in arena a).  Returns
 * KT_OK, KT_E_PARSE (not YAML, or not one document: problems in sink),
 * KT_E_INVALID (YAML, but with duplicate keys or a bad alias: problems in
 * sink, *root usable) or KT_E_NOMEM.
 */
enum kt_rc kt_config_yaml(const char *text, size_t len, struct kt_arena *a,
			  struct kt_diag_sink *sink, struct kt_ynode **root);

/* Plain-scalar resolution (YAML 1.2 core schema). */
bool kt_y_is_null(const struct kt_ynode *n);
bool kt_y_is_bool(const struct kt_ynode *n, bool *val);

/* ------------------------------------------------------------ conversion */

/* Where each checked value came from, for the checks across the file. */
struct kt_tmark {
	const struct kt_ynode *key, *node_pool, *pod_security;
	const struct kt_ynode **domains;    /* parallel to tenant->domains */
	const struct kt_ynode **allow_from; /* parallel to tenant->allow_from */
	const struct kt_ynode *limits;
};

struct kt_loader {
	struct kt_arena arena;
	struct kt_diag_sink sink;
	struct kt_config *cfg;
	struct kt_tmark *tmarks; /* parallel to cfg->tenants */
	const struct kt_ynode *prefix_node, *cluster_host_node, *proxy_host_node;
	const struct kt_ynode *exposure_node, *dashboard_client_node; /* global.oidc */
	const struct kt_ynode **pns_marks; /* parallel to global.platform_namespaces */
	const struct kt_tenant **by_name;  /* tenants sorted by name, while loading */
	bool service_accounts_set;         /* platformIdentities.serviceAccounts was given */
	char clip[4][96];                  /* kt_clip() ring */
	unsigned clip_next;
};

/* User text for a message: at most ~64 bytes, non-printables as \xNN. */
const char *kt_clip(struct kt_loader *ld, const char *s);
void kt_diag_at(struct kt_loader *ld, const struct kt_ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

enum kt_rc kt_convert(struct kt_loader *ld, const struct kt_ynode *root);
void kt_validate(struct kt_loader *ld);
/* Tenant by name during loading (binary search over ld->by_name), or -1. */
long kt_loader_tenant(const struct kt_loader *ld, const char *name);

/* ---------------------------------------------------------- pure checks */

/*
 * Why s (n bytes) is not one or more PEM X.509 certificates and nothing
 * else, or NULL when it is (lib/config/pem.c).
 */
const char *kt_pem_problem(const char *s, size_t n);

bool kt_is_dns_label(const char *s);      /* RFC 1123 label, lowercase, <= 63 */
bool kt_is_dns_subdomain(const char *s);  /* dot-separated labels, <= 253 */
bool kt_is_label_value(const char *s);    /* Kubernetes label value, non-empty */
bool kt_is_qualified_name(const char *s); /* [prefix/]name as in label keys */
bool kt_is_ip_literal(const char *s);

/* NULL when s is a valid hostname, else why not ("has an empty label"). */
const char *kt_domain_problem(const char *s, bool allow_wildcard);

/*
 * A Kubernetes resource.Quantity, exactly: sign, digits with an optional
 * fraction, then one of the decimal SI suffixes (n u m "" k M G T P E), a
 * binary one (Ki Mi Gi Ti Pi Ei) or an exponent (e/E and a signed integer).
 * The value is kept exact: digits[0..nd) times 10^exp10 (no leading zeros,
 * nd == 0 for zero), so two quantities compare without rounding.
 */
struct kt_quantity {
	bool neg;
	int nd;
	long exp10;
	char digits[96];
};
bool kt_quantity_parse(const char *s, struct kt_quantity *q);
int kt_quantity_cmp(const struct kt_quantity *a, const struct kt_quantity *b);
bool kt_quantity_is_integer(const struct kt_quantity *q);

/* NULL if name is a valid ResourceQuota key, else why not. */
const char *kt_quota_name_problem(const char *name);
/* NULL if name is a valid LimitRange (Container) resource, else why not. */
const char *kt_limit_name_problem(const char *name);
/* closest standard name to suggest for a misspelt one, or NULL */
const char *kt_quota_suggest(const char *name);
const char *kt_limit_suggest(const char *name);
/* true for object-count quota keys, whose values must be whole numbers */
bool kt_quota_is_count(const char *name);

bool kt_is_git_url(const char *s);   /* https://, ssh:// or git@host:path */
bool kt_is_https_url(const char *s); /* https://host[:port][/path] */
bool kt_is_git_ref(const char *s);   /* a branch name git would accept */
bool kt_is_duration(const char *s);  /* Go duration: 1m, 1h30m, 90s ... */
bool kt_is_repo_path(const char *s); /* relative, no '..' */
bool kt_is_ec2_type(const char *s);  /* t3a.large, u-6tb1.metal */
bool kt_is_registry(const char *s);  /* host[:port][/path] */
bool kt_is_image_ref(const char *s);
bool kt_has_ctl(const char *s, size_t n); /* control bytes or NUL within n */

/* Levenshtein distance, ASCII case ignored, capped at cap+1. */
size_t kt_edit_distance(const char *a, const char *b, size_t cap);
/* The closest candidate to s worth suggesting, or NULL. */
const char *kt_suggest(const char *s, const char *const *cand, size_t n);

#endif
