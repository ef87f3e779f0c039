/*
 * convert.c: the YAML tree -> struct kt_config, checking every key and
 * every value on the way (unknown keys, types, names, sizes, formats).
 *
 * Nothing stops at the first problem: a bad value is reported and left out
 * of the model, and the walk goes on, so one run shows every problem.  The
 * model built from a file with problems is thrown away by the caller.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "kt/version.h"

#define LABEL_RULE                                                                 \
	"at most 63 lowercase letters, digits or '-', starting and ending with a " \
	"letter or digit"
#define PATH_MAX_LEN 320

/* Ranges for the node pool timers, in seconds (documented in README.md). */
#define EMPTY_TTL_MAX 2592000LL /* 30 days */
#define TTL_MIN 60LL
#define TTL_MAX 31536000LL /* 365 days */

#define FOR_PAIRS(map, p)                                            \
	for (p = (map)->u.pairs; p < (map)->u.pairs + (map)->n; p++) \
		if (!p->dup)

/* ---------------------------------------------------------------- messages */

const char *kt_clip(struct kt_loader *ld, const char *s)
{
	char *out = ld->clip[ld->clip_next++ % 4];
	size_t o = 0, limit = 64;

	for (; *s && o < limit; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f) {
			if (o + 4 > limit)
				break;
			snprintf(out + o, 5, "\\x%02x", c);
			o += 4;
		} else if (c == '\'' || c == '\\') {
			if (o + 2 > limit)
				break;
			out[o++] = '\\';
			out[o++] = (char)c;
		} else {
			out[o++] = (char)c;
		}
	}
	if (*s) {
		memcpy(out + o, "...", 4);
		return out;
	}
	out[o] = '\0';
	return out;
}

void kt_diag_at(struct kt_loader *ld, const struct kt_ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kt_diag_vadd(&ld->sink, n ? n->line : 1, n ? n->col : 1, fmt, ap);
	va_end(ap);
}

#define diag kt_diag_at

static char *dup(struct kt_loader *ld, const char *s)
{
	char *p = strdup(s);

	if (!p)
		ld->sink.nomem = true;
	return p;
}

/* a.sep.b into buf, cut to size; memcpy, as this runs for every key */
static void join(char *buf, size_t size, const char *a, const char *sep, const char *b)
{
	size_t la = strlen(a), ls = *a ? strlen(sep) : 0, lb = strlen(b);

	if (la >= size)
		la = size - 1;
	memcpy(buf, a, la);
	if (ls > size - 1 - la)
		ls = size - 1 - la;
	memcpy(buf + la, sep, ls);
	if (lb > size - 1 - la - ls)
		lb = size - 1 - la - ls;
	memcpy(buf + la + ls, b, lb);
	buf[la + ls + lb] = '\0';
}

static void pathf(char *buf, const char *base, const char *leaf)
{
	join(buf, PATH_MAX_LEN, base, ".", leaf);
}

/* ------------------------------------------------------------------- types */

static bool want_map(struct kt_loader *ld, const struct kt_ynode *n, const char *path)
{
	if (n->kind == KT_Y_MAP)
		return true;
	diag(ld, n, "'%s' must be a mapping", path);
	return false;
}

static bool want_seq(struct kt_loader *ld, const struct kt_ynode *n, const char *path)
{
	if (n->kind == KT_Y_SEQ)
		return true;
	diag(ld, n, "'%s' must be a list", path);
	return false;
}

/*
 * A string value: any scalar but null.  Plain numbers are taken as their
 * text ("costCode: 123" is "123"); the source text is kept, never a
 * re-formatted number.
 */
static const char *want_str(struct kt_loader *ld, const struct kt_ynode *n, const char *path,
			    size_t max)
{
	if (n->kind != KT_Y_SCALAR || kt_y_is_null(n)) {
		diag(ld, n, "'%s' must be a string", path);
		return NULL;
	}
	if (kt_has_ctl(n->u.s, n->n)) {
		diag(ld, n, "'%s' must not contain control characters", path);
		return NULL;
	}
	if (!n->n) {
		diag(ld, n, "'%s' must not be empty", path);
		return NULL;
	}
	if (n->n > max) {
		diag(ld, n, "'%s' is longer than %zu characters", path, max);
		return NULL;
	}
	return n->u.s;
}

static bool want_int(struct kt_loader *ld, const struct kt_ynode *n, const char *path, long long lo,
		     long long hi, long long *out)
{
	const char *s = n->u.s;
	long long v = 0;
	bool neg = false, ok = n->kind == KT_Y_SCALAR && n->plain && n->n;

	if (ok) {
		if (*s == '+' || *s == '-')
			neg = *s++ == '-';
		ok = *s != '\0';
		for (; ok && *s; s++) {
			if (*s < '0' || *s > '9')
				ok = false;
			else if (v < LLONG_MAX / 10)
				v = v * 10 + (*s - '0');
			else
				v = LLONG_MAX; /* saturate: reported as out of range below */
		}
	}
	if (!ok) {
		diag(ld, n, "'%s' must be an integer", path);
		return false;
	}
	v = neg ? -v : v;
	if (v < lo || v > hi) {
		diag(ld, n, "'%s' must be between %lld and %lld seconds", path, lo, hi);
		return false;
	}
	*out = v;
	return true;
}

static void want_bool(struct kt_loader *ld, const struct kt_ynode *n, const char *path, bool *out)
{
	if (!kt_y_is_bool(n, out))
		diag(ld, n, "'%s' must be true or false", path);
}

/* ------------------------------------------------------------------- keys */

/*
 * Which of keys[] a pair's key is, or -1 after reporting it (with the
 * closest known key as a suggestion).
 */
static int key_of(struct kt_loader *ld, const struct kt_ypair *p, const char *const *keys, size_t n,
		  const char *path)
{
	const struct kt_ynode *k = p->key;
	const char *sug;
	size_t i;

	if (k->kind != KT_Y_SCALAR || kt_y_is_null(k)) {
		diag(ld, k, "keys in '%s' must be strings", *path ? path : "the tenants file");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (k->n == strlen(keys[i]) && !memcmp(k->u.s, keys[i], k->n))
			return (int)i;
	if (k->n == 2 && !memcmp(k->u.s, "<<", 2)) {
		diag(ld, k, "merge keys ('<<') are not supported; write the keys out");
		return -1;
	}
	sug = kt_has_ctl(k->u.s, k->n) ? NULL : kt_suggest(k->u.s, keys, n);
	if (sug)
		diag(ld, k, "unknown key '%s%s%s'; did you mean '%s'?", path, *path ? "." : "",
		     kt_clip(ld, k->u.s), sug);
	else
		diag(ld, k, "unknown key '%s%s%s'", path, *path ? "." : "", kt_clip(ld, k->u.s));
	return -1;
}

static void require(struct kt_loader *ld, const struct kt_ynode *at, unsigned seen,
		    unsigned required, const char *const *keys, const char *path)
{
	unsigned i;

	for (i = 0; i < 32; i++)
		if ((required & (1u << i)) && !(seen & (1u << i)))
			diag(ld, at, "missing required key '%s%s%s'", path, *path ? "." : "",
			     keys[i]);
}

/* ------------------------------------------------------------------ lists */

typedef bool (*item_fn)(struct kt_loader *ld, const struct kt_ynode *n, const char *s,
			const char *path);

struct strref {
	const char *s;
	size_t i;
};

static int strref_cmp(const void *x, const void *y)
{
	const struct strref *a = x, *b = y;
	int c = strcmp(a->s, b->s);

	return c ? c : (a->i > b->i) - (a->i < b->i);
}

static void list_dups(struct kt_loader *ld, char **v, const struct kt_ynode **marks, size_t n,
		      const char *path)
{
	struct strref *r;
	size_t i, j;

	if (n <= 16) {
		for (i = 1; i < n; i++)
			for (j = 0; j < i; j++)
				if (!strcmp(v[i], v[j])) {
					diag(ld, marks[i], "duplicate entry '%s' in '%s'",
					     kt_clip(ld, v[i]), path);
					break;
				}
		return;
	}
	r = malloc(n * sizeof(*r));
	if (!r) {
		ld->sink.nomem = true;
		return;
	}
	for (i = 0; i < n; i++)
		r[i] = (struct strref){ v[i], i };
	qsort(r, n, sizeof(*r), strref_cmp);
	for (i = 1; i < n; i++)
		if (!strcmp(r[i].s, r[i - 1].s))
			diag(ld, marks[r[i].i], "duplicate entry '%s' in '%s'", kt_clip(ld, r[i].s),
			     path);
	free(r);
}

/*
 * A list of strings, each checked by check (may be NULL).  Valid entries go
 * to out; *marks (arena, may be NULL) gets the node of each, in step.
 */
static void get_strv(struct kt_loader *ld, const struct kt_ynode *v, const char *path,
		     size_t maxlen, item_fn check, struct kt_strv *out,
		     const struct kt_ynode ***marks)
{
	const struct kt_ynode **m;
	size_t i;

	if (!want_seq(ld, v, path))
		return;
	if (v->n > KT_MAX_LIST) {
		diag(ld, v, "'%s' has more than %d entries", path, KT_MAX_LIST);
		return;
	}
	out->v = calloc(v->n ? v->n : 1, sizeof(*out->v));
	m = kt_arena_alloc(&ld->arena, (v->n ? v->n : 1) * sizeof(*m));
	if (!out->v || !m) {
		ld->sink.nomem = true;
		return;
	}
	for (i = 0; i < v->n; i++) {
		const struct kt_ynode *item = v->u.items[i];
		char ipath[PATH_MAX_LEN + 16];
		const char *s;

		/* the common case first: the item's path is only needed for a message */
		if (item->kind == KT_Y_SCALAR && item->n && item->n <= maxlen &&
		    !kt_y_is_null(item) && !kt_has_ctl(item->u.s, item->n)) {
			s = item->u.s;
		} else {
			snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
			s = want_str(ld, item, ipath, maxlen);
		}
		if (!s || (check && !check(ld, item, s, path)))
			continue;
		out->v[out->n] = dup(ld, s);
		if (!out->v[out->n])
			return;
		m[out->n++] = item;
	}
	list_dups(ld, out->v, m, out->n, path);
	if (marks)
		*marks = m;
}

/* One list entry: fine when ok, else "'s' in 'path' must be <what>". */
static bool item_ok(struct kt_loader *ld, const struct kt_ynode *n, const char *s, const char *path,
		    bool ok, const char *what)
{
	if (!ok)
		diag(ld, n, "'%s' in '%s' must be %s", kt_clip(ld, s), path, what);
	return ok;
}

static bool check_label(struct kt_loader *ld, const struct kt_ynode *n, const char *s,
			const char *path)
{
	return item_ok(ld, n, s, path, kt_is_dns_label(s), "a DNS-1123 label (" LABEL_RULE ")");
}

static bool check_subdomain(struct kt_loader *ld, const struct kt_ynode *n, const char *s,
			    const char *path)
{
	return item_ok(ld, n, s, path, kt_is_dns_subdomain(s),
		       "a DNS-1123 subdomain (lowercase "
		       "labels joined by '.', at most 253 characters)");
}

static bool check_domain(struct kt_loader *ld, const struct kt_ynode *n, const char *s,
			 const char *path)
{
	const char *why = kt_domain_problem(s, true);

	(void)path;
	if (!why)
		return true;
	diag(ld, n, "domain '%s' %s", kt_clip(ld, s), why);
	return false;
}

/* Tenant-facing IdP groups: a "system:" group is a Kubernetes identity. */
static bool check_tenant_group(struct kt_loader *ld, const struct kt_ynode *n, const char *s,
			       const char *path)
{
	(void)path;
	if (strncmp(s, "system:", 7))
		return true;
	diag(ld, n,
	     "group '%s' is a Kubernetes system group; tenant groups must not start with "
	     "'system:'",
	     kt_clip(ld, s));
	return false;
}

static bool check_platform_group(struct kt_loader *ld, const struct kt_ynode *n, const char *s,
				 const char *path)
{
	(void)path;
	if (strcmp(s, "system:authenticated") && strcmp(s, "system:unauthenticated") &&
	    strcmp(s, "system:serviceaccounts"))
		return true;
	diag(ld, n, "group '%s' would make everyone a platform identity", kt_clip(ld, s));
	return false;
}

static bool check_service_account(struct kt_loader *ld, const struct kt_ynode *n, const char *s,
				  const char *path)
{
	const char *colon = strchr(s, ':');
	char ns[64];
	bool ok = false;

	if (colon && (size_t)(colon - s) < sizeof(ns)) {
		memcpy(ns, s, (size_t)(colon - s));
		ns[colon - s] = '\0';
		ok = kt_is_dns_label(ns) && kt_is_dns_subdomain(colon + 1);
	}
	return item_ok(ld, n, s, path, ok, "'namespace:name'");
}

static bool one_of(struct kt_loader *ld, const struct kt_ynode *n, const char *s, const char *path,
		   const char *const *allowed, size_t count, const char *list)
{
	const char *sug;
	size_t i;

	for (i = 0; i < count; i++)
		if (!strcmp(s, allowed[i]))
			return true;
	sug = kt_suggest(s, allowed, count);
	if (sug)
		diag(ld, n, "'%s' in '%s' is not one of %s; did you mean '%s'?", kt_clip(ld, s),
		     path, list, sug);
	else
		diag(ld, n, "'%s' in '%s' is not one of %s", kt_clip(ld, s), path, list);
	return false;
}

static bool check_capacity(struct kt_loader *ld, const struct kt_ynode *n, const char *s,
			   const char *path)
{
	static const char *const v[] = { "on-demand", "spot", "reserved" };

	return one_of(ld, n, s, path, v, 3, "'on-demand', 'spot' or 'reserved'");
}

static bool check_service_type(struct kt_loader *ld, const struct kt_ynode *n, const char *s,
			       const char *path)
{
	static const char *const v[] = { "NodePort", "LoadBalancer" };

	return one_of(ld, n, s, path, v, 2, "'NodePort' or 'LoadBalancer'");
}

static bool check_ec2(struct kt_loader *ld, const struct kt_ynode *n, const char *s,
		      const char *path)
{
	return item_ok(ld, n, s, path, kt_is_ec2_type(s), "an EC2 instance type, like 't3a.large'");
}

static bool check_priority_class(struct kt_loader *ld, const struct kt_ynode *n, const char *s,
				 const char *path)
{
	if (!check_subdomain(ld, n, s, path))
		return false;
	if (strncmp(s, "system-", 7))
		return true;
	diag(ld, n, "priority class '%s' is reserved for the platform", kt_clip(ld, s));
	return false;
}

static bool check_registry(struct kt_loader *ld, const struct kt_ynode *n, const char *s,
			   const char *path)
{
	return item_ok(ld, n, s, path, kt_is_registry(s),
		       "a registry host with an optional port "
		       "and path, like 'ghcr.io/acme' (no scheme, no tag)");
}

static bool check_issuer(struct kt_loader *ld, const struct kt_ynode *n, const char *s,
			 const char *path)
{
	return item_ok(ld, n, s, path,
		       (!strncmp(s, "Issuer/", 7) && kt_is_dns_subdomain(s + 7)) ||
			       (!strncmp(s, "ClusterIssuer/", 14) && kt_is_dns_subdomain(s + 14)),
		       "'Issuer/<name>' or 'ClusterIssuer/<name>'");
}

static bool check_tenant_ref(struct kt_loader *ld, const struct kt_ynode *n, const char *s,
			     const char *path)
{
	return check_label(ld, n, s, path); /* existence is checked once all tenants are known */
}

/* ------------------------------------------------------------- resources */

/*
 * quota or one limits section: resource name -> quantity.  vals (arena) gets
 * the parsed quantity and node of each kept entry, in step with out.
 */
struct qval {
	struct kt_quantity q;
	const struct kt_ynode *node;
};

static void get_resources(struct kt_loader *ld, const struct kt_ynode *v, const char *path,
			  bool quota, struct kt_kvv *out, struct qval **vals)
{
	const struct kt_ypair *p;
	struct qval *qv;

	if (!want_map(ld, v, path))
		return;
	if (v->n > KT_MAX_RESOURCES) {
		diag(ld, v, "'%s' has more than %d entries", path, KT_MAX_RESOURCES);
		return;
	}
	out->v = calloc(v->n ? v->n : 1, sizeof(*out->v));
	qv = kt_arena_alloc(&ld->arena, (v->n ? v->n : 1) * sizeof(*qv));
	if (!out->v || !qv) {
		ld->sink.nomem = true;
		return;
	}
	FOR_PAIRS (v, p) {
		const char *name, *why, *text, *sug;
		char vpath[PATH_MAX_LEN + 80];
		struct kt_quantity q;

		if (p->key->kind != KT_Y_SCALAR || kt_y_is_null(p->key) ||
		    kt_has_ctl(p->key->u.s, p->key->n)) {
			diag(ld, p->key, "keys in '%s' must be resource names", path);
			continue;
		}
		name = p->key->u.s;
		why = p->key->n > 253 ? "is longer than 253 characters"
		      : quota         ? kt_quota_name_problem(name)
				      : kt_limit_name_problem(name);
		if (why) {
			sug = strchr(name, '/') ? NULL
			      : quota           ? kt_quota_suggest(name)
						: kt_limit_suggest(name);
			if (sug)
				diag(ld, p->key, "resource '%s' in '%s' %s; did you mean '%s'?",
				     kt_clip(ld, name), path, why, sug);
			else
				diag(ld, p->key, "resource '%s' in '%s' %s", kt_clip(ld, name),
				     path, why);
			continue;
		}
		join(vpath, sizeof(vpath), path, ".", name);
		if (p->value->kind != KT_Y_SCALAR || kt_y_is_null(p->value)) {
			diag(ld, p->value, "'%s' must be a quantity, like '500m' or '2Gi'", vpath);
			continue;
		}
		text = p->value->u.s;
		if (kt_has_ctl(text, p->value->n) || !kt_quantity_parse(text, &q)) {
			diag(ld, p->value, "invalid quantity '%s' for '%s'", kt_clip(ld, text),
			     vpath);
			continue;
		}
		if (q.neg) {
			diag(ld, p->value, "'%s' must not be negative", vpath);
			continue;
		}
		if (quota && kt_quota_is_count(name) && !kt_quantity_is_integer(&q)) {
			diag(ld, p->value, "'%s' counts objects and must be a whole number", vpath);
			continue;
		}
		out->v[out->n].key = dup(ld, name);
		out->v[out->n].value = dup(ld, text);
		if (!out->v[out->n].key || !out->v[out->n].value) {
			free(out->v[out->n].key);
			free(out->v[out->n].value);
			return;
		}
		qv[out->n].q = q;
		qv[out->n].node = p->value;
		out->n++;
	}
	if (vals)
		*vals = qv;
}

/* --------------------------------------------------------- mapping walker */

/* The keys a mapping may hold; bit k of required: keys[k] must be given. */
struct section {
	const char *const *keys;
	int n;
	unsigned required;
};

typedef void (*key_fn)(struct kt_loader *ld, int k, const struct kt_ypair *p, const char *path,
		       void *ctx);

/*
 * Hands each known key of the mapping v (at path; at is where a missing key
 * is reported) to on_key with the key's own path.  A null value counts as
 * not given, so an optional key may be left empty.  Returns the keys seen.
 */
static unsigned walk(struct kt_loader *ld, const struct kt_ynode *at, const struct kt_ynode *v,
		     const char *path, const struct section *sec, key_fn on_key, void *ctx)
{
	const struct kt_ypair *p;
	unsigned seen = 0;

	if (!want_map(ld, v, path))
		return 0;
	FOR_PAIRS (v, p) {
		char kpath[PATH_MAX_LEN];
		int k = key_of(ld, p, sec->keys, (size_t)sec->n, path);

		if (k < 0)
			continue;
		seen |= 1u << k;
		pathf(kpath, path, sec->keys[k]);
		if (!kt_y_is_null(p->value))
			on_key(ld, k, p, kpath, ctx);
		else if (sec->required & (1u << k))
			diag(ld, p->value, "'%s' must not be empty", kpath);
	}
	require(ld, at, seen, sec->required, sec->keys, path);
	return seen;
}

/* A string value that must pass ok(): "'path' must be <what>" when not. */
static void set_str(struct kt_loader *ld, const struct kt_ynode *v, const char *path, size_t max,
		    bool (*ok)(const char *), const char *what, char **dst)
{
	const char *s = want_str(ld, v, path, max);

	if (!s)
		return;
	if (ok && !ok(s)) {
		diag(ld, v, "'%s' must be %s", path, what);
		return;
	}
	*dst = dup(ld, s);
}

/* ----------------------------------------------------------------- global */

enum {
	G_CLUSTER_HOSTNAME,
	G_PREFIX,
	G_CLUSTER_NAME,
	G_CLUSTER_DNS,
	G_LABEL_DOMAIN,
	G_GROUP_PREFIX,
	G_PLATFORM_NS,
	G_POD_SECURITY,
	G_IDENTITIES,
	G_IMAGE,
	G_OIDC,
	G_DEFAULT_PRIORITY,
	G_N
};
static const char *const global_keys[] = {
	"clusterHostname",
	"tenantHostPrefix",
	"clusterName",
	"clusterDNS",
	"labelDomain",
	"groupPrefix",
	"platformNamespaces",
	"podSecurity",
	"platformIdentities",
	"image",
	"oidc",
	"defaultPriorityClasses",
};
static const struct section global_section = { global_keys, G_N,
					       (1u << G_PREFIX) | (1u << G_CLUSTER_NAME) };

enum { ID_USERS, ID_GROUPS, ID_SERVICE_ACCOUNTS, ID_N };
static const char *const identity_keys[] = { "users", "groups", "serviceAccounts" };
static const struct section identity_section = { identity_keys, ID_N, 0 };

enum {
	O_ISSUER,
	O_CLIENT,
	O_USER_CLAIM,
	O_GROUPS_CLAIM,
	O_HOSTNAME,
	O_DASHBOARD_CLIENT,
	O_ISSUER_CA,
	O_PROXY_CA,
	O_EXPOSURE,
	O_INGRESS_CLASS,
	O_GATEWAY_CLASS,
	O_CERT_ISSUER,
	O_DASHBOARD,
	O_N
};
static const char *const oidc_keys[] = {
	"issuerURL",         "clientID",   "usernameClaim", "groupsClaim", "proxyHostname",
	"dashboardClientID", "issuerCA",   "proxyCA",       "exposure",    "ingressClassName",
	"gatewayClassName",  "certIssuer", "dashboard",
};
static const struct section oidc_section = { oidc_keys, O_N, 0 };

enum { CI_KIND, CI_NAME, CI_N };
static const char *const cert_issuer_keys[] = { "kind", "name" };
static const struct section cert_issuer_section = { cert_issuer_keys, CI_N,
						    (1u << CI_KIND) | (1u << CI_NAME) };

/* PEM text of a CA: long and multi-line, so not want_str()'s rules. */
#define PEM_MAX_LEN 65536

/* A hostname kubetenant itself uses: no wildcard. */
static char *get_host(struct kt_loader *ld, const struct kt_ynode *v, const char *path)
{
	const char *s = want_str(ld, v, path, 253), *why;

	if (!s)
		return NULL;
	why = kt_domain_problem(s, false);
	if (why) {
		diag(ld, v, "'%s' is not a valid hostname: '%s' %s", path, kt_clip(ld, s), why);
		return NULL;
	}
	return dup(ld, s);
}

static bool cluster_name_ok(const char *s)
{
	size_t n = strlen(s);

	/* EKS cluster names: 1-100 of [0-9A-Za-z_-], starting alphanumeric */
	return n && n <= 100 && s[0] != '-' && s[0] != '_' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

static bool ip_address(const char *s)
{
	return s[0] != '[' && kt_is_ip_literal(s);
}

static bool https_url(const char *s)
{
	return kt_is_https_url(s);
}

static void get_pss(struct kt_loader *ld, const struct kt_ynode *v, const char *path,
		    struct kt_pss_policy *out)
{
	const char *s = want_str(ld, v, path, 64);
	struct kt_err err = { 0 };

	if (s && kt_pss_policy_parse(s, out, &err))
		diag(ld, v, "'%s': %s", path, err.msg);
}

/* Problems are reported at the key: a block scalar's own position is its first content line. */
static void get_pem(struct kt_loader *ld, const struct kt_ypair *p, const char *path, char **dst)
{
	const struct kt_ynode *v = p->value;
	const char *why;

	if (v->kind != KT_Y_SCALAR || kt_y_is_null(v)) {
		diag(ld, p->key, "'%s' must be a string", path);
		return;
	}
	if (v->n > PEM_MAX_LEN) {
		diag(ld, p->key, "'%s' is longer than %d characters", path, PEM_MAX_LEN);
		return;
	}
	why = kt_pem_problem(v->u.s, v->n);
	if (why) {
		diag(ld, p->key, "'%s' must be PEM certificates: %s", path, why);
		return;
	}
	*dst = dup(ld, v->u.s);
}

static bool cert_issuer_kind(const char *s)
{
	return !strcmp(s, "Issuer") || !strcmp(s, "ClusterIssuer");
}

static void on_cert_issuer(struct kt_loader *ld, int k, const struct kt_ypair *p, const char *path,
			   void *ctx)
{
	struct kt_oidc *o = ctx;

	if (k == CI_KIND)
		set_str(ld, p->value, path, 32, cert_issuer_kind, "Issuer or ClusterIssuer",
			&o->issuer_kind);
	else
		set_str(ld, p->value, path, 253, kt_is_dns_subdomain,
			"a DNS-1123 subdomain, like 'letsencrypt'", &o->issuer_name);
}

static void get_exposure(struct kt_loader *ld, const struct kt_ynode *v, const char *path,
			 struct kt_oidc *o)
{
	const char *s = want_str(ld, v, path, 16);

	if (!s)
		return;
	if (!strcmp(s, "ingress"))
		o->exposure = KT_EXPOSE_INGRESS;
	else if (!strcmp(s, "gateway"))
		o->exposure = KT_EXPOSE_GATEWAY;
	else if (strcmp(s, "none"))
		diag(ld, v, "'%s' must be ingress, gateway or none, not '%s'", path,
		     kt_clip(ld, s));
}

static void on_oidc(struct kt_loader *ld, int k, const struct kt_ypair *p, const char *path,
		    void *ctx)
{
	struct kt_global *g = ctx;

	switch (k) {
	case O_DASHBOARD_CLIENT:
		set_str(ld, p->value, path, 256, NULL, NULL, &g->oidc.dashboard_client_id);
		ld->dashboard_client_node = p->value;
		break;
	case O_ISSUER_CA:
		get_pem(ld, p, path, &g->oidc.issuer_ca);
		break;
	case O_PROXY_CA:
		get_pem(ld, p, path, &g->oidc.proxy_ca);
		break;
	case O_EXPOSURE:
		get_exposure(ld, p->value, path, &g->oidc);
		ld->exposure_node = p->value;
		break;
	case O_INGRESS_CLASS:
		set_str(ld, p->value, path, 253, kt_is_dns_subdomain,
			"a DNS-1123 subdomain, like 'nginx'", &g->oidc.ingress_class);
		break;
	case O_GATEWAY_CLASS:
		set_str(ld, p->value, path, 253, kt_is_dns_subdomain,
			"a DNS-1123 subdomain, like 'cilium'", &g->oidc.gateway_class);
		break;
	case O_CERT_ISSUER:
		walk(ld, p->key, p->value, path, &cert_issuer_section, on_cert_issuer, &g->oidc);
		break;
	case O_ISSUER:
		set_str(ld, p->value, path, 2048, https_url, "an https:// URL",
			&g->oidc.issuer_url);
		break;
	case O_CLIENT:
		set_str(ld, p->value, path, 256, NULL, NULL, &g->oidc.client_id);
		break;
	case O_USER_CLAIM:
		set_str(ld, p->value, path, 256, NULL, NULL, &g->oidc.username_claim);
		break;
	case O_GROUPS_CLAIM:
		set_str(ld, p->value, path, 256, NULL, NULL, &g->oidc.groups_claim);
		break;
	case O_HOSTNAME:
		g->oidc.hostname = get_host(ld, p->value, path);
		ld->proxy_host_node = p->value;
		break;
	case O_DASHBOARD:
		want_bool(ld, p->value, path, &g->oidc.dashboard);
		break;
	}
}

static void on_identity(struct kt_loader *ld, int k, const struct kt_ypair *p, const char *path,
			void *ctx)
{
	struct kt_identities *id = ctx;

	if (k == ID_USERS)
		get_strv(ld, p->value, path, 256, NULL, &id->users, NULL);
	else if (k == ID_GROUPS)
		get_strv(ld, p->value, path, 256, check_platform_group, &id->groups, NULL);
	else {
		get_strv(ld, p->value, path, 317, check_service_account, &id->service_accounts,
			 NULL);
		ld->service_accounts_set = true; /* even to []: the defaults are replaced */
	}
}

/* What the keys of global.oidc need from each other. */
static void check_oidc(struct kt_loader *ld, const struct kt_oidc *o)
{
	const char *name = o->exposure == KT_EXPOSE_GATEWAY ? "gateway" : "ingress";

	if (o->exposure != KT_EXPOSE_NONE && !o->hostname)
		diag(ld, ld->exposure_node,
		     "'global.oidc.exposure: %s' needs "
		     "'global.oidc.proxyHostname', the name members reach the proxy at",
		     name);
	if (o->exposure == KT_EXPOSE_GATEWAY && !o->gateway_class)
		diag(ld, ld->exposure_node,
		     "'global.oidc.exposure: gateway' needs "
		     "'global.oidc.gatewayClassName'");
	if (o->dashboard_client_id && o->client_id && !strcmp(o->dashboard_client_id, o->client_id))
		diag(ld, ld->dashboard_client_node,
		     "'global.oidc.dashboardClientID' must differ "
		     "from 'global.oidc.clientID': the two clients have different redirect URIs");
}

static void on_global(struct kt_loader *ld, int k, const struct kt_ypair *p, const char *path,
		      void *ctx)
{
	struct kt_global *g = ctx;
	const struct kt_ynode *v = p->value;
	const char *s;

	switch (k) {
	case G_CLUSTER_HOSTNAME:
		g->cluster_hostname = get_host(ld, v, path);
		ld->cluster_host_node = v;
		break;
	case G_PREFIX:
		g->tenant_host_prefix = get_host(ld, v, path);
		ld->prefix_node = v;
		/* '*.<63-char tenant>.<prefix>' must still fit in 253 */
		if (g->tenant_host_prefix && strlen(g->tenant_host_prefix) > 187) {
			diag(ld, v,
			     "'%s' must be at most 187 characters, so that "
			     "'*.<tenant>.<prefix>' fits in 253",
			     path);
			free(g->tenant_host_prefix);
			g->tenant_host_prefix = NULL;
		}
		break;
	case G_CLUSTER_NAME:
		set_str(ld, v, path, 100, cluster_name_ok,
			"1 to 100 letters, digits, '-' or '_', "
			"starting with a letter or digit",
			&g->cluster_name);
		break;
	case G_CLUSTER_DNS:
		set_str(ld, v, path, 64, ip_address, "an IPv4 or IPv6 address", &g->cluster_dns);
		break;
	case G_LABEL_DOMAIN:
		set_str(ld, v, path, 253, kt_is_dns_subdomain,
			"a DNS-1123 subdomain, like 'platform.example.org'", &g->label_domain);
		break;
	case G_GROUP_PREFIX:
		/* the one string that may be empty: "" means no prefix */
		if (v->kind == KT_Y_SCALAR && !v->n && !v->plain) {
			g->group_prefix = dup(ld, "");
			break;
		}
		s = want_str(ld, v, path, 64);
		if (s && !strncmp(s, "system:", 7))
			diag(ld, v, "'%s' must not start with 'system:'", path);
		else if (s)
			g->group_prefix = dup(ld, s);
		break;
	case G_PLATFORM_NS:
		get_strv(ld, v, path, 63, check_label, &g->platform_namespaces, &ld->pns_marks);
		break;
	case G_POD_SECURITY:
		get_pss(ld, v, path, &g->pod_security);
		break;
	case G_IDENTITIES:
		walk(ld, p->key, v, path, &identity_section, on_identity, &g->platform);
		break;
	case G_IMAGE:
		set_str(ld, v, path, 255, kt_is_image_ref,
			"an image reference, like 'registry.example.org/kubetenant:0.1.0'",
			&g->image);
		break;
	case G_DEFAULT_PRIORITY:
		get_strv(ld, v, path, 253, check_priority_class, &g->default_priority_classes,
			 NULL);
		break;
	case G_OIDC:
		if ((walk(ld, p->key, v, path, &oidc_section, on_oidc, g) & (1u << O_ISSUER)) &&
		    g->oidc.issuer_url && !g->oidc.client_id)
			diag(ld, p->key,
			     "missing required key 'global.oidc.clientID' (needed with "
			     "'issuerURL')");
		check_oidc(ld, &g->oidc);
		break;
	}
}

/* -------------------------------------------------------------- node pools */

enum { P_INSTANCES, P_COST_CODE, P_PRICES, P_N };
static const char *const pool_keys[] = { "instances", "costCode", "prices" };
static const struct section pool_section = { pool_keys, P_N,
					     (1u << P_INSTANCES) | (1u << P_COST_CODE) };

enum { I_CAPACITY, I_TYPES, I_EMPTY_TTL, I_TTL, I_N };
static const char *const instance_keys[] = { "capacityTypes", "instanceTypes", "emptyTtl", "ttl" };
static const struct section instance_section = { instance_keys, I_N, 1u << I_TYPES };

static void non_empty_strv(struct kt_loader *ld, const struct kt_ynode *v, const char *path,
			   size_t maxlen, item_fn check, struct kt_strv *out)
{
	get_strv(ld, v, path, maxlen, check, out, NULL);
	if (v->kind == KT_Y_SEQ && !v->n)
		diag(ld, v, "'%s' must not be empty", path);
}

static void on_instances(struct kt_loader *ld, int k, const struct kt_ypair *p, const char *path,
			 void *ctx)
{
	struct kt_nodepool *np = ctx;

	switch (k) {
	case I_CAPACITY:
		non_empty_strv(ld, p->value, path, 16, check_capacity, &np->capacity_types);
		break;
	case I_TYPES:
		non_empty_strv(ld, p->value, path, 64, check_ec2, &np->instance_types);
		break;
	case I_EMPTY_TTL:
		want_int(ld, p->value, path, 0, EMPTY_TTL_MAX, &np->empty_ttl);
		break;
	case I_TTL:
		want_int(ld, p->value, path, TTL_MIN, TTL_MAX, &np->ttl);
		break;
	}
}

/* A monthly price: a plain decimal, at most 9 digits and 4 decimals (no exponent, no sign). */
static bool price_ok(const char *s)
{
	size_t i = strspn(s, "0123456789"), f;

	if (!i || i > 9)
		return false;
	if (!s[i])
		return true;
	f = strspn(s + i + 1, "0123456789");
	return s[i] == '.' && f && f <= 4 && !s[i + 1 + f];
}

/* prices: {instanceType: monthly price}, for the dashboard's cost estimate only. */
static void get_prices(struct kt_loader *ld, const struct kt_ynode *v, const char *path,
		       struct kt_kvv *out)
{
	const struct kt_ypair *p;

	if (!want_map(ld, v, path))
		return;
	if (v->n > 64) {
		diag(ld, v, "'%s' has more than 64 entries", path);
		return;
	}
	out->v = calloc(v->n ? v->n : 1, sizeof(*out->v));
	if (!out->v) {
		ld->sink.nomem = true;
		return;
	}
	FOR_PAIRS (v, p) {
		char vpath[PATH_MAX_LEN + 80];
		const char *s;

		if (p->key->kind != KT_Y_SCALAR || kt_y_is_null(p->key) ||
		    !check_ec2(ld, p->key, p->key->u.s, path))
			continue;
		join(vpath, sizeof(vpath), path, ".", p->key->u.s);
		s = p->value->kind == KT_Y_SCALAR && !kt_y_is_null(p->value) ? p->value->u.s : NULL;
		if (!s || kt_has_ctl(s, p->value->n) || !price_ok(s)) {
			diag(ld, p->value, "'%s' must be a price per month, like 54.90", vpath);
			continue;
		}
		out->v[out->n].key = dup(ld, p->key->u.s);
		out->v[out->n].value = dup(ld, s);
		if (!out->v[out->n].key || !out->v[out->n].value) {
			free(out->v[out->n].key);
			free(out->v[out->n].value);
			return;
		}
		out->n++;
	}
}

static void on_pool(struct kt_loader *ld, int k, const struct kt_ypair *p, const char *path,
		    void *ctx)
{
	struct kt_nodepool *np = ctx;

	if (k == P_PRICES)
		get_prices(ld, p->value, path, &np->prices);
	else if (k == P_INSTANCES)
		walk(ld, p->key, p->value, path, &instance_section, on_instances, np);
	else
		set_str(ld, p->value, path, 63, kt_is_label_value,
			"a label value (at most 63 "
			"letters, digits, '-', '_' or '.', starting and ending with a letter or "
			"digit)",
			&np->cost_code);
}

/*
 * The entries of nodePools or tenants: a mapping of DNS-1123 names, each
 * checked, then handed to on_entry with its path.
 */
typedef void (*entry_fn)(struct kt_loader *ld, const struct kt_ypair *p, const char *path);

static void named_entries(struct kt_loader *ld, const struct kt_ynode *v, const char *section,
			  const char *what, entry_fn on_entry)
{
	const struct kt_ypair *p;

	FOR_PAIRS (v, p) {
		char path[PATH_MAX_LEN];

		if (p->key->kind != KT_Y_SCALAR || kt_y_is_null(p->key)) {
			diag(ld, p->key, "keys in '%s' must be %s names", section, what);
			continue;
		}
		if (kt_has_ctl(p->key->u.s, p->key->n) || !kt_is_dns_label(p->key->u.s))
			diag(ld, p->key, "%s name '%s' must be a DNS-1123 label (" LABEL_RULE ")",
			     what, kt_clip(ld, p->key->u.s));
		join(path, sizeof(path), section, ".", kt_clip(ld, p->key->u.s));
		on_entry(ld, p, path);
		if (ld->sink.nomem)
			return;
	}
}

static void on_pool_entry(struct kt_loader *ld, const struct kt_ypair *p, const char *path)
{
	struct kt_config *cfg = ld->cfg;
	struct kt_nodepool *np = &cfg->pools[cfg->n_pools];

	np->name = dup(ld, p->key->u.s);
	if (!np->name)
		return;
	np->line = p->key->line;
	np->col = p->key->col;
	np->empty_ttl = -1;
	np->ttl = -1;
	cfg->n_pools++;
	walk(ld, p->key, p->value, path, &pool_section, on_pool, np);
	for (size_t i = 0; i < np->prices.n; i++) {
		size_t j;

		for (j = 0; j < np->instance_types.n; j++)
			if (!strcmp(np->prices.v[i].key, np->instance_types.v[j]))
				break;
		if (j == np->instance_types.n && np->instance_types.n)
			diag(ld, p->key,
			     "'%s.prices' names '%s', which is not in its "
			     "instances.instanceTypes",
			     path, np->prices.v[i].key);
	}
	if (!np->capacity_types.v) {
		np->capacity_types.v = calloc(1, sizeof(char *));
		if (np->capacity_types.v)
			np->capacity_types.v[0] = dup(ld, "on-demand");
		if (!np->capacity_types.v || !np->capacity_types.v[0])
			ld->sink.nomem = true;
		else
			np->capacity_types.n = 1;
	}
}

static void get_pools(struct kt_loader *ld, const struct kt_ynode *v)
{
	if (!want_map(ld, v, "nodePools"))
		return;
	if (v->n > KT_CONFIG_MAX_POOLS) {
		diag(ld, v, "'nodePools' has more than %d node pools", KT_CONFIG_MAX_POOLS);
		return;
	}
	ld->cfg->pools = calloc(v->n ? v->n : 1, sizeof(*ld->cfg->pools));
	if (!ld->cfg->pools) {
		ld->sink.nomem = true;
		return;
	}
	named_entries(ld, v, "nodePools", "node pool", on_pool_entry);
}

/* ----------------------------------------------------------------- tenants */

enum {
	T_NODE_POOL,
	T_OPERATOR,
	T_READ_GROUPS,
	T_DOMAINS,
	T_POD_SECURITY,
	T_SERVICE_TYPES,
	T_ALLOW_FROM,
	T_QUOTA,
	T_LIMITS,
	T_REPO,
	T_PRIORITY,
	T_RUNTIME,
	T_SCHEDULERS,
	T_REGISTRIES,
	T_INGRESS,
	T_ISSUERS,
	T_DAEMONSETS,
	T_N
};
static const char *const tenant_keys[] = {
	"nodePool",        "operatorEdGroup",   "readOnlyGroups",  "domains",
	"podSecurity",     "allowServiceTypes", "allowFrom",       "quota",
	"limits",          "manifestRepo",      "priorityClasses", "runtimeClasses",
	"schedulerNames",  "imageRegistries",   "ingressClasses",  "certIssuers",
	"allowDaemonSets",
};
static const struct section tenant_section = { tenant_keys, T_N, 1u << T_NODE_POOL };

enum { L_DEFAULT, L_DEFAULT_REQUEST, L_MAX, L_MIN, L_N };
static const char *const limit_keys[] = { "default", "defaultRequest", "max", "min" };
static const struct section limit_section = { limit_keys, L_N, 0 };

enum { R_URL, R_BRANCH, R_PATH, R_INTERVAL, R_SECRET, R_N };
static const char *const repo_keys[] = { "url", "branch", "path", "interval", "secretRef" };
static const struct section repo_section = { repo_keys, R_N, 1u << R_URL };

struct limits_ctx {
	struct kt_kvv *sec[L_N];
	struct qval *vals[L_N];
};

/*
 * The order Kubernetes requires within a LimitRange, per resource:
 * min <= defaultRequest <= default <= max.
 */
static void check_limit_order(struct kt_loader *ld, const char *path, struct limits_ctx *c)
{
	static const int pairs[][2] = {
		{ L_MIN, L_DEFAULT_REQUEST },
		{ L_MIN, L_DEFAULT },
		{ L_MIN, L_MAX },
		{ L_DEFAULT_REQUEST, L_DEFAULT },
		{ L_DEFAULT_REQUEST, L_MAX },
		{ L_DEFAULT, L_MAX },
	};
	size_t k, i, j;

	for (k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++) {
		int lo = pairs[k][0], hi = pairs[k][1];
		const struct kt_kvv *a = c->sec[lo], *b = c->sec[hi];

		if (!c->vals[lo] || !c->vals[hi])
			continue;
		for (i = 0; i < a->n; i++)
			for (j = 0; j < b->n; j++)
				if (!strcmp(a->v[i].key, b->v[j].key) &&
				    kt_quantity_cmp(&c->vals[lo][i].q, &c->vals[hi][j].q) > 0)
					diag(ld, c->vals[lo][i].node,
					     "'%s.%s.%s' (%s) is greater than '%s.%s.%s' (%s)",
					     path, limit_keys[lo], a->v[i].key,
					     kt_clip(ld, a->v[i].value), path, limit_keys[hi],
					     b->v[j].key, kt_clip(ld, b->v[j].value));
	}
}

static void on_limits(struct kt_loader *ld, int k, const struct kt_ypair *p, const char *path,
		      void *ctx)
{
	struct limits_ctx *c = ctx;

	get_resources(ld, p->value, path, false, c->sec[k], &c->vals[k]);
}

static void get_limits(struct kt_loader *ld, const struct kt_ypair *p, const char *path,
		       struct kt_tenant *t)
{
	struct limits_ctx c = {
		{ &t->limits.def, &t->limits.def_request, &t->limits.max, &t->limits.min },
		{ NULL },
	};

	walk(ld, p->key, p->value, path, &limit_section, on_limits, &c);
	check_limit_order(ld, path, &c);
	t->has_limits =
		t->limits.def.n || t->limits.def_request.n || t->limits.max.n || t->limits.min.n;
}

static void on_repo(struct kt_loader *ld, int k, const struct kt_ypair *p, const char *path,
		    void *ctx)
{
	struct kt_repo *r = ctx;
	const struct kt_ynode *v = p->value;

	switch (k) {
	case R_URL:
		set_str(ld, v, path, 2048, kt_is_git_url,
			"an https:// or ssh:// URL, or git@host:path", &r->url);
		if (r->url && !strncmp(r->url, "git@", 4)) {
			/* Flux reads only URLs: git@host:path is ssh://git@host/path */
			const char *colon = strchr(r->url, ':');
			size_t n = strlen(r->url) + 8;
			char *url = malloc(n);

			if (url)
				snprintf(url, n, "ssh://%.*s/%s", (int)(colon - r->url), r->url,
					 colon + 1);
			else
				ld->sink.nomem = true;
			free(r->url);
			r->url = url;
		}
		break;
	case R_BRANCH:
		set_str(ld, v, path, 255, kt_is_git_ref, "a valid git branch name", &r->branch);
		break;
	case R_PATH:
		set_str(ld, v, path, KT_MAX_STRLEN, kt_is_repo_path,
			"a relative path inside the repository (no leading '/', no '..')",
			&r->path);
		break;
	case R_INTERVAL:
		set_str(ld, v, path, 32, kt_is_duration,
			"a positive duration, like '1m' or '1h30m'", &r->interval);
		break;
	case R_SECRET:
		set_str(ld, v, path, 253, kt_is_dns_subdomain,
			"a Secret name (a DNS-1123 subdomain)", &r->secret_ref);
		break;
	}
}

struct tenant_ctx {
	struct kt_tenant *t;
	struct kt_tmark *tm;
};

static void on_tenant(struct kt_loader *ld, int k, const struct kt_ypair *p, const char *path,
		      void *ctx)
{
	struct kt_tenant *t = ((struct tenant_ctx *)ctx)->t;
	struct kt_tmark *tm = ((struct tenant_ctx *)ctx)->tm;
	const struct kt_ynode *v = p->value;
	const char *s;

	switch (k) {
	case T_NODE_POOL:
		s = want_str(ld, v, path, 63);
		if (s && !kt_is_dns_label(s))
			diag(ld, v, "node pool name '%s' must be a DNS-1123 label (" LABEL_RULE ")",
			     kt_clip(ld, s));
		else if (s) {
			t->node_pool = dup(ld, s);
			tm->node_pool = v;
		}
		break;
	case T_OPERATOR:
		s = want_str(ld, v, path, 256);
		if (s && check_tenant_group(ld, v, s, path))
			t->operator_group = dup(ld, s);
		break;
	case T_READ_GROUPS:
		get_strv(ld, v, path, 256, check_tenant_group, &t->read_groups, NULL);
		break;
	case T_DOMAINS:
		get_strv(ld, v, path, 253, check_domain, &t->domains, &tm->domains);
		break;
	case T_POD_SECURITY:
		get_pss(ld, v, path, &t->pod_security);
		tm->pod_security = v;
		break;
	case T_SERVICE_TYPES:
		get_strv(ld, v, path, 16, check_service_type, &t->allow_service_types, NULL);
		break;
	case T_ALLOW_FROM:
		get_strv(ld, v, path, 63, check_tenant_ref, &t->allow_from, &tm->allow_from);
		break;
	case T_QUOTA:
		get_resources(ld, v, path, true, &t->quota, NULL);
		break;
	case T_LIMITS:
		get_limits(ld, p, path, t);
		break;
	case T_REPO:
		walk(ld, p->key, v, path, &repo_section, on_repo, &t->repo);
		break;
	case T_PRIORITY:
		get_strv(ld, v, path, 253, check_priority_class, &t->priority_classes, NULL);
		break;
	case T_RUNTIME:
		get_strv(ld, v, path, 253, check_subdomain, &t->runtime_classes, NULL);
		break;
	case T_SCHEDULERS:
		get_strv(ld, v, path, 253, check_subdomain, &t->scheduler_names, NULL);
		break;
	case T_REGISTRIES:
		get_strv(ld, v, path, 255, check_registry, &t->image_registries, NULL);
		break;
	case T_INGRESS:
		get_strv(ld, v, path, 253, check_subdomain, &t->ingress_classes, NULL);
		break;
	case T_ISSUERS:
		get_strv(ld, v, path, 267, check_issuer, &t->cert_issuers, NULL);
		break;
	case T_DAEMONSETS:
		want_bool(ld, v, path, &t->allow_daemonsets);
		break;
	}
}

static void on_tenant_entry(struct kt_loader *ld, const struct kt_ypair *p, const char *path)
{
	struct kt_config *cfg = ld->cfg;
	struct tenant_ctx c = { &cfg->tenants[cfg->n_tenants], &ld->tmarks[cfg->n_tenants] };

	memset(c.tm, 0, sizeof(*c.tm));
	c.tm->key = p->key;
	c.t->name = dup(ld, p->key->u.s);
	if (!c.t->name)
		return;
	c.t->line = p->key->line;
	c.t->col = p->key->col;
	c.t->pod_security = cfg->global.pod_security;
	cfg->n_tenants++;
	walk(ld, p->key, p->value, path, &tenant_section, on_tenant, &c);
}

static void get_tenants(struct kt_loader *ld, const struct kt_ynode *v)
{
	if (!want_map(ld, v, "tenants"))
		return;
	if (v->n > KT_CONFIG_MAX_TENANTS) {
		diag(ld, v, "'tenants' has more than %d tenants", KT_CONFIG_MAX_TENANTS);
		return;
	}
	ld->cfg->tenants = calloc(v->n ? v->n : 1, sizeof(*ld->cfg->tenants));
	ld->tmarks = kt_arena_alloc(&ld->arena, (v->n ? v->n : 1) * sizeof(*ld->tmarks));
	if (!ld->cfg->tenants || !ld->tmarks) {
		ld->sink.nomem = true;
		return;
	}
	named_entries(ld, v, "tenants", "tenant", on_tenant_entry);
}

/* ------------------------------------------------------------------- root */

static const char *const top_keys[] = { "global", "nodePools", "tenants" };

static bool set_default(struct kt_loader *ld, char **field, const char *value)
{
	if (*field)
		return true;
	*field = dup(ld, value);
	return *field != NULL;
}

enum kt_rc kt_convert(struct kt_loader *ld, const struct kt_ynode *root)
{
	const struct kt_ynode *found[3] = { NULL }, *keys[3] = { NULL };
	struct kt_global *g = &ld->cfg->global;
	const struct kt_ypair *p;

	g->pod_security.level = KT_PSS_RESTRICTED;
	g->pod_security.minor = KT_PSS_LATEST;
	if (!root) {
		kt_diag_add(&ld->sink, 1, 1, "the tenants file is empty");
		return KT_E_INVALID;
	}
	if (root->kind != KT_Y_MAP) {
		diag(ld, root,
		     "the tenants file must be a mapping with the keys 'global', "
		     "'nodePools' and 'tenants'");
		return KT_E_INVALID;
	}
	FOR_PAIRS (root, p) {
		int k = key_of(ld, p, top_keys, 3, "");

		if (k >= 0) {
			found[k] = p->value;
			keys[k] = p->key;
		}
	}
	/* global first: tenants inherit its podSecurity */
	if (!found[0])
		diag(ld, root, "missing required key 'global'");
	else if (kt_y_is_null(found[0]))
		diag(ld, keys[0], "'global' must not be empty");
	else
		walk(ld, keys[0], found[0], "global", &global_section, on_global, g);
	if (keys[0]) {
		g->line = keys[0]->line;
		g->col = keys[0]->col;
	}
	if (found[1] && !kt_y_is_null(found[1]))
		get_pools(ld, found[1]);
	if (found[2] && !kt_y_is_null(found[2]))
		get_tenants(ld, found[2]);
	if (!set_default(ld, &g->label_domain, "kubetenant.io") ||
	    !set_default(ld, &g->group_prefix, "oidc:") ||
	    !set_default(ld, &g->image, "kubetenant/kubetenant:" KT_VERSION) ||
	    !set_default(ld, &g->oidc.username_claim, "sub") ||
	    !set_default(ld, &g->oidc.groups_claim, "groups") ||
	    !set_default(ld, &g->oidc.dashboard_client_id, "kubetenant-dashboard") ||
	    !set_default(ld, &g->oidc.ingress_class, "nginx") ||
	    !set_default(ld, &g->oidc.issuer_kind, "Issuer") ||
	    !set_default(ld, &g->oidc.issuer_name, "kubetenant-ca"))
		return KT_E_NOMEM;
	return ld->sink.nomem ? KT_E_NOMEM : KT_OK;
}
