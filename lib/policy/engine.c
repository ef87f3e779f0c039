/*
 * engine.c: AdmissionReview -> request -> rules -> decision.
 *
 * Both entry points (bytes from the webhook, decoded objects from `check`
 * and `audit`) end in decide(), so every front end gets the same answer.
 * Order: outside tenant namespaces nothing is judged; then the rules every
 * object shares (namespace mismatch, managed-by objects, external-dns
 * hostnames), then the rules of the request's kind.  A decision is allowed
 * only when no rule denied it, and then (mutating, Pod CREATE) carries the
 * patch.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* ---- findings ---- */

/*
 * A copy safe for any output: control characters and bytes that are not
 * valid UTF-8 (a CSR's names are raw bytes; a message may cut a sequence)
 * become '?', so responses and logs stay valid JSON and one line.
 */
static char *dup_clean(const char *s)
{
	size_t n = strlen(s), i = 0;
	char *r = malloc(n + 1);

	if (!r)
		return NULL;
	memcpy(r, s, n + 1);
	while (i < n) {
		unsigned char ch = (unsigned char)r[i];
		size_t l;

		if (ch < 0x80) {
			if (ch < 0x20 || ch == 0x7f)
				r[i] = '?';
			i++;
			continue;
		}
		l = kt_jv_utf8_len((unsigned char *)r + i, (unsigned char *)r + n);
		if (!l) {
			r[i++] = '?';
			continue;
		}
		i += l;
	}
	return r;
}

static void add_finding(struct kt_pctx *c, bool denial, const char *rule, const char *path,
			const char *fmt, va_list ap)
{
	struct kt_finding **v = denial ? &c->d->denials : &c->d->warnings;
	size_t *n = denial ? &c->d->n_denials : &c->d->n_warnings;
	char msg[KT_PCTX_MSG_MAX];
	struct kt_finding *f, *nv;

	if (*n >= KT_POLICY_MAX_FINDINGS) {
		if (denial)
			c->dropped_denials++;
		else
			c->dropped_warnings++;
		return;
	}
	/* grow by powers of two: at most log2(KT_POLICY_MAX_FINDINGS) reallocs */
	if (!(*n & (*n - 1)) || !*n) {
		nv = realloc(*v, (*n ? *n * 2 : 2) * sizeof(**v));
		if (!nv) {
			c->rc = KT_E_NOMEM;
			return;
		}
		*v = nv;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	f = &(*v)[*n];
	f->rule = strdup(rule);
	f->message = dup_clean(msg);
	f->path = path ? dup_clean(path) : NULL;
	(*n)++;
	if (!f->rule || !f->message || (path && !f->path))
		c->rc = KT_E_NOMEM;
}

void kt_pctx_deny(struct kt_pctx *c, const char *rule, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_finding(c, true, rule, path, fmt, ap);
	va_end(ap);
}

void kt_pctx_warn(struct kt_pctx *c, const char *rule, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_finding(c, false, rule, path, fmt, ap);
	va_end(ap);
}

const char *kt_pctx_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return buf;
}

const char *kt_pctx_q(char *buf, size_t size, const char *s)
{
	size_t n;

	if (!s)
		s = "";
	n = strlen(s);
	if (n < size) {
		memcpy(buf, s, n + 1);
	} else if (size > 4) {
		memcpy(buf, s, size - 4);
		memcpy(buf + size - 4, "...", 4);
	} else if (size) {
		buf[0] = '\0';
	}
	return buf;
}

bool kt_strv_has(const struct kt_strv *v, const char *s)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], s))
			return true;
	return false;
}

const char *kt_meta_label(const struct kt_jv *obj, const char *key)
{
	return kt_jv_gets(kt_jv_get(kt_jv_get(obj, "metadata"), "labels"), key);
}

const char *kt_meta_annotation(const struct kt_jv *obj, const char *key)
{
	return kt_jv_gets(kt_jv_get(kt_jv_get(obj, "metadata"), "annotations"), key);
}

const char *kt_policy_flux_service_account(const struct kt_tenant *t)
{
	(void)t; /* the same name in every tenant namespace, as lib/render/flux.c creates it */
	return KT_POLICY_FLUX_SERVICE_ACCOUNT;
}

/* ---- identities ---- */

static bool platform_user(const struct kt_config *cfg, const char *user)
{
	const struct kt_identities *id = &cfg->global.platform;
	static const char sa[] = "system:serviceaccount:";
	size_t i;

	if (!user || !*user)
		return false;
	if (kt_strv_has(&id->users, user))
		return true;
	if (strncmp(user, sa, sizeof(sa) - 1))
		return false;
	/* "system:serviceaccount:ns:name" against "ns:name" */
	for (i = 0; i < id->service_accounts.n; i++)
		if (!strcmp(user + sizeof(sa) - 1, id->service_accounts.v[i]))
			return true;
	return false;
}

static bool platform_group(const struct kt_config *cfg, const char *group)
{
	return group && kt_strv_has(&cfg->global.platform.groups, group);
}

/* ---- decision ---- */

static enum kt_rc set_str(char **dst, const char *s)
{
	if (!s)
		return KT_OK;
	*dst = strdup(s);
	return *dst ? KT_OK : KT_E_NOMEM;
}

void kt_decision_release(struct kt_decision *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n_denials; i++) {
		free(d->denials[i].rule);
		free(d->denials[i].message);
		free(d->denials[i].path);
	}
	for (i = 0; i < d->n_warnings; i++) {
		free(d->warnings[i].rule);
		free(d->warnings[i].message);
		free(d->warnings[i].path);
	}
	free(d->denials);
	free(d->warnings);
	free(d->uid);
	free(d->kind);
	free(d->namespace);
	free(d->name);
	free(d->operation);
	free(d->user);
	kt_buf_release(&d->patch);
	memset(d, 0, sizeof(*d));
	d->patch = (struct kt_buf)KT_BUF_INIT;
}

static void decision_init(struct kt_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->patch = (struct kt_buf)KT_BUF_INIT;
	d->code = 403;
}

static bool parse_op(const char *s, enum kt_op *op)
{
	static const char *const names[] = { "CREATE", "UPDATE", "DELETE", "CONNECT" };
	size_t i;

	for (i = 0; i < 4; i++)
		if (s && !strcmp(s, names[i])) {
			*op = (enum kt_op)i;
			return true;
		}
	return false;
}

/* The shape every Kubernetes object must have before any rule reads it. */
static bool object_shape(struct kt_pctx *c, struct kt_jv *o, const char *which)
{
	struct kt_jv *meta;

	if (!o)
		return true;
	if (!kt_jv_is(o, KT_JV_OBJECT)) {
		kt_pctx_deny(c, "request.malformed", which, "%s is not a JSON object", which);
		return false;
	}
	meta = kt_jv_get(o, "metadata");
	if (kt_jv_absent(meta))
		return true;
	if (!kt_jv_is(meta, KT_JV_OBJECT) ||
	    !(kt_jv_absent(kt_jv_get(meta, "labels")) ||
	      kt_jv_is(kt_jv_get(meta, "labels"), KT_JV_OBJECT)) ||
	    !(kt_jv_absent(kt_jv_get(meta, "annotations")) ||
	      kt_jv_is(kt_jv_get(meta, "annotations"), KT_JV_OBJECT))) {
		kt_pctx_deny(c, "request.malformed", "metadata",
			     "%s metadata, labels and annotations must be objects", which);
		return false;
	}
	/* label and annotation values are strings; rules compare them as such */
	for (int i = 0; i < 2; i++) {
		kt_jv_each(m, kt_jv_get(meta, i ? "annotations" : "labels")) {
			if (!kt_jv_is(m, KT_JV_STRING)) {
				char p[KT_PCTX_PATH_MAX], q[80];

				kt_pctx_deny(c, "request.malformed",
					     kt_pctx_path(p, sizeof(p), "metadata.%s[%s]",
							  i ? "annotations" : "labels",
							  kt_pctx_q(q, sizeof(q), m->key)),
					     "%s values must be strings",
					     i ? "annotation" : "label");
				return false;
			}
		}
	}
	return true;
}

static void judge(struct kt_pctx *c)
{
	const char *ons;
	char q1[80], q2[80];

	if (!object_shape(c, c->obj, "object") || !object_shape(c, c->old, "oldObject"))
		return;
	/* the API server refuses a mismatch; `check` must too, with a clear reason */
	ons = kt_jv_gets(kt_jv_get(c->obj, "metadata"), "namespace");
	if (c->obj && ons && *ons && strcmp(ons, c->ns) && strcmp(c->kind, "Namespace"))
		kt_pctx_deny(c, "request.namespace-mismatch", "metadata.namespace",
			     "object names namespace '%s' but belongs to tenant '%s' in namespace "
			     "'%s'; remove metadata.namespace or set it to '%s'",
			     kt_pctx_q(q1, sizeof(q1), ons), c->t->name,
			     kt_pctx_q(q2, sizeof(q2), c->ns), c->t->name);
	kt_managed_judge(c);
	if (c->op != KT_OP_CREATE && c->op != KT_OP_UPDATE)
		return;
	if (!c->obj) {
		kt_pctx_deny(c, "request.malformed", "object", "%s request carries no object",
			     c->op == KT_OP_CREATE ? "CREATE" : "UPDATE");
		return;
	}
	kt_hostnames_annotations(c);
	if (kt_workloads_dispatch(c) || kt_services_dispatch(c) || kt_hostnames_dispatch(c))
		return;
	kt_managed_dispatch(c);
}

static void finish(struct kt_pctx *c)
{
	struct kt_decision *d = c->d;

	if (c->dropped_denials) {
		d->n_denials--; /* make room: the cap holds */
		free(d->denials[d->n_denials].rule);
		free(d->denials[d->n_denials].message);
		free(d->denials[d->n_denials].path);
		c->dropped_denials++;
		kt_pctx_deny(c, "policy.more-findings", NULL, "%u more denials not shown",
			     c->dropped_denials);
	}
	if (c->dropped_warnings) {
		d->n_warnings--;
		free(d->warnings[d->n_warnings].rule);
		free(d->warnings[d->n_warnings].message);
		free(d->warnings[d->n_warnings].path);
		c->dropped_warnings++;
		kt_pctx_warn(c, "policy.more-findings", NULL, "%u more warnings not shown",
			     c->dropped_warnings);
	}
	d->allowed = d->n_denials == 0;
	d->code = d->allowed ? 200 : 403;
	if (!d->allowed || c->mode != KT_POLICY_MUTATE)
		kt_buf_release(&d->patch);
	else if (c->n_patch_ops && kt_buf_addch(&d->patch, ']'))
		c->rc = KT_E_NOMEM;
}

/* Everything both entry points share once the request is decoded. */
static enum kt_rc decide(struct kt_pctx *c, const char *uid, const char *user,
			 const char *tenant_ns, struct kt_err *err)
{
	static const char *const ops[] = { "CREATE", "UPDATE", "DELETE", "CONNECT" };
	struct kt_decision *d = c->d;
	const char *name = c->name;
	size_t ld;
	char *key;

	if (!*name)
		name = kt_jv_gets(kt_jv_get(c->obj ? c->obj : c->old, "metadata"), "name");
	if (!name)
		name = kt_jv_gets(kt_jv_get(c->obj, "metadata"), "generateName");
	if (set_str(&d->uid, uid) || set_str(&d->kind, c->kind) || set_str(&d->namespace, c->ns) ||
	    set_str(&d->name, name) || set_str(&d->operation, ops[c->op]) ||
	    set_str(&d->user, user))
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	c->name = name ? name : "";
	d->tenant = kt_config_tenant_by_ns(c->cfg, tenant_ns);
	c->t = d->tenant;
	if (!c->t) {
		/* not a tenant namespace: allowed untouched */
		d->allowed = true;
		d->code = 200;
		return KT_OK;
	}
	ld = strlen(c->cfg->global.label_domain);
	key = kt_jv_alloc(c->a, ld + sizeof("/node-pool"));
	if (!key)
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	memcpy(key, c->cfg->global.label_domain, ld);
	memcpy(key + ld, "/node-pool", sizeof("/node-pool"));
	c->pool_key = key;
	c->managed_key = KT_POLICY_MANAGED_BY_KEY;
	judge(c);
	finish(c);
	if (c->rc)
		return kt_err_set(err, c->rc, "out of memory while deciding");
	return KT_OK;
}

/* ---- AdmissionReview bytes ---- */

static enum kt_rc want_str(struct kt_jv *obj, const char *key, bool required, const char **out,
			   struct kt_err *err)
{
	struct kt_jv *v = kt_jv_get(obj, key);

	*out = "";
	if (kt_jv_absent(v)) {
		if (required)
			return kt_err_set(err, KT_E_PARSE, "request.%s is missing", key);
		return KT_OK;
	}
	if (!kt_jv_is(v, KT_JV_STRING))
		return kt_err_set(err, KT_E_PARSE, "request.%s must be a string", key);
	*out = v->u.s;
	return KT_OK;
}

#define KT_REVIEW_STACK 32768

enum kt_rc kt_policy_review(const struct kt_config *cfg, const char *body, size_t len,
			    enum kt_policy_mode mode, struct kt_decision *d, struct kt_err *err)
{
	char stack[KT_REVIEW_STACK] __attribute__((aligned(16)));
	struct kt_jv_arena a;
	struct kt_jv *root, *req, *v, *ui;
	struct kt_pctx c = { 0 };
	const char *uid, *op, *user = "", *ns, *group = "", *res = "";
	enum kt_rc rc;
	bool plat = false;

	decision_init(d);
	if (len > KT_POLICY_MAX_REVIEW_BYTES)
		return kt_err_set(err, KT_E_PARSE, "review of %zu bytes is larger than %u bytes", len,
				  KT_POLICY_MAX_REVIEW_BYTES);
	kt_jv_arena_init(&a, stack, sizeof(stack));
	rc = kt_jv_parse(&a, body, len, KT_POLICY_MAX_DEPTH, &root, err);
	if (rc)
		goto out;
	rc = KT_E_PARSE;
	if (!kt_jv_is(root, KT_JV_OBJECT)) {
		kt_err_set(err, rc, "AdmissionReview must be a JSON object");
		goto out;
	}
	if (!kt_jv_streq(kt_jv_get(root, "apiVersion"), "admission.k8s.io/v1") ||
	    !kt_jv_streq(kt_jv_get(root, "kind"), "AdmissionReview")) {
		kt_err_set(err, rc, "expected apiVersion 'admission.k8s.io/v1' and kind "
				    "'AdmissionReview'");
		goto out;
	}
	req = kt_jv_get(root, "request");
	if (!kt_jv_is(req, KT_JV_OBJECT)) {
		kt_err_set(err, rc, "AdmissionReview has no request object");
		goto out;
	}
	if ((rc = want_str(req, "uid", true, &uid, err)) || (rc = want_str(req, "operation", true,
									    &op, err)) ||
	    (rc = want_str(req, "namespace", false, &ns, err)) ||
	    (rc = want_str(req, "name", false, &c.name, err)) ||
	    (rc = want_str(req, "subResource", false, &c.sub, err)))
		goto out;
	rc = KT_E_PARSE;
	if (!*uid || strlen(uid) > 128) {
		kt_err_set(err, rc, "request.uid must have 1 to 128 characters");
		goto out;
	}
	if (!parse_op(op, &c.op)) {
		kt_err_set(err, rc, "request.operation '%.32s' is not CREATE, UPDATE, DELETE or "
				    "CONNECT", op);
		goto out;
	}
	v = kt_jv_get(req, "kind");
	if (!kt_jv_is(v, KT_JV_OBJECT) || !kt_jv_gets(v, "kind")) {
		kt_err_set(err, rc, "request.kind must be an object with a kind");
		goto out;
	}
	c.kind = kt_jv_gets(v, "kind");
	group = kt_jv_gets(v, "group");
	c.group = group ? group : "";
	v = kt_jv_get(req, "resource");
	if (kt_jv_is(v, KT_JV_OBJECT) && kt_jv_gets(v, "resource"))
		res = kt_jv_gets(v, "resource");
	ui = kt_jv_get(req, "userInfo");
	if (!kt_jv_absent(ui)) {
		struct kt_jv *groups = kt_jv_get(ui, "groups");

		if (!kt_jv_is(ui, KT_JV_OBJECT) || !(kt_jv_absent(groups) ||
						     kt_jv_is(groups, KT_JV_ARRAY))) {
			kt_err_set(err, rc, "request.userInfo is malformed");
			goto out;
		}
		if (kt_jv_gets(ui, "username"))
			user = kt_jv_gets(ui, "username");
		plat = platform_user(cfg, user);
		kt_jv_each(g, groups) {
			if (!kt_jv_is(g, KT_JV_STRING)) {
				kt_err_set(err, rc, "request.userInfo.groups must be strings");
				goto out;
			}
			plat = plat || platform_group(cfg, g->u.s);
		}
	}
	c.obj = kt_jv_get(req, "object");
	c.old = kt_jv_get(req, "oldObject");
	if (kt_jv_absent(c.obj))
		c.obj = NULL;
	if (kt_jv_absent(c.old))
		c.old = NULL;
	c.cfg = cfg;
	c.mode = mode;
	c.ns = ns;
	c.platform = plat;
	c.a = &a;
	c.d = d;
	/*
	 * A Namespace is cluster-scoped: the tenant it belongs to is its name
	 * (the API server also reports it as request.namespace; either works).
	 */
	if (!*c.group && !strcmp(res, "namespaces") && *c.name)
		ns = c.name;
	if (!*c.group && !strcmp(c.kind, "Namespace") && !*res && *c.name)
		ns = c.name;
	c.ns = ns;
	rc = decide(&c, uid, user, ns, err);
out:
	kt_jv_arena_release(&a);
	return rc;
}

/* ---- decoded objects ---- */

enum kt_rc kt_policy_decide(const struct kt_config *cfg, const struct kt_policy_request *req,
			    enum kt_policy_mode mode, struct kt_decision *d, struct kt_err *err)
{
	char stack[8192] __attribute__((aligned(16)));
	struct kt_jv_arena a;
	struct kt_pctx c = { 0 };
	struct kt_jv *src;
	const char *av, *slash, *ns = req->ns ? req->ns : "", *user = req->user;
	enum kt_rc rc;
	size_t i;

	decision_init(d);
	if (!req->operation || !parse_op(req->operation, &c.op))
		return kt_err_set(err, KT_E_INVALID, "operation '%s' is not CREATE, UPDATE, DELETE "
						     "or CONNECT",
				  req->operation ? req->operation : "");
	kt_jv_arena_init(&a, stack, sizeof(stack));
	c.obj = c.old = NULL;
	if (req->object && !json_is_null(req->object) &&
	    (rc = kt_jv_from_json(&a, req->object, KT_POLICY_MAX_DEPTH, &c.obj, err)))
		goto out;
	if (req->old_object && !json_is_null(req->old_object) &&
	    (rc = kt_jv_from_json(&a, req->old_object, KT_POLICY_MAX_DEPTH, &c.old, err)))
		goto out;
	src = c.obj ? c.obj : c.old;
	av = kt_jv_gets(src, "apiVersion");
	c.kind = kt_jv_gets(src, "kind");
	if (!av || !c.kind) {
		rc = kt_err_set(err, KT_E_INVALID, "object has no apiVersion or kind");
		goto out;
	}
	slash = strchr(av, '/');
	c.group = slash ? kt_jv_strndup(&a, av, (size_t)(slash - av)) : "";
	if (!c.group) {
		rc = kt_err_set(err, KT_E_NOMEM, "out of memory");
		goto out;
	}
	c.sub = req->sub_resource ? req->sub_resource : "";
	c.name = "";
	c.platform = req->platform || platform_user(cfg, user);
	for (i = 0; req->groups && req->groups[i]; i++)
		c.platform = c.platform || platform_group(cfg, req->groups[i]);
	c.cfg = cfg;
	c.mode = mode;
	c.a = &a;
	c.d = d;
	if (!*c.group && !strcmp(c.kind, "Namespace")) {
		const char *n = kt_jv_gets(kt_jv_get(src, "metadata"), "name");

		ns = n ? n : "";
	}
	c.ns = ns;
	rc = decide(&c, req->uid, user, ns, err);
out:
	kt_jv_arena_release(&a);
	return rc;
}
