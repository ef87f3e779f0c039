/*
 * engine.c: AdmissionReview -> request -> rules -> decision.
 *
 * Both entry points (bytes from the webhook, decoded objects from `check`
 * and `audit`) end in decide(), so every front end gets the same answer.
 * Order: outside tenant namespaces, and requests the rendered webhooks
 * would not send (kinds.c), nothing is judged; then the rules every
 * object shares (namespace mismatch, managed-by objects, external-dns
 * hostnames), then the rules of the request's kind.  A decision is allowed
 * only when no rule denied it, and then (mutating, Pod CREATE) carries the
 * patch.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt/json.h"
#include "internal.h"

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

/*
 * The shape every Kubernetes object must have before any rule reads it
 * (meta, labels and ann: o's, as decide() looked them up).
 */
static bool object_shape(struct kt_pctx *c, struct kt_jv o, struct kt_jv meta, struct kt_jv labels,
			 struct kt_jv ann, struct kt_jv name, struct kt_jv gen, const char *which)
{
	struct kt_jv m;
	const char *k;

	if (!kt_jv_ok(o))
		return true;
	if (!kt_jv_is(o, KT_J_OBJECT)) {
		kt_pctx_deny(c, "request.malformed", which, "%s is not a JSON object", which);
		return false;
	}
	if (kt_jv_absent(meta))
		return true;
	if (!kt_jv_is(meta, KT_J_OBJECT) ||
	    !(kt_jv_absent(labels) || kt_jv_is(labels, KT_J_OBJECT)) ||
	    !(kt_jv_absent(ann) || kt_jv_is(ann, KT_J_OBJECT))) {
		kt_pctx_deny(c, "request.malformed", "metadata",
			     "%s metadata, labels and annotations must be objects", which);
		return false;
	}
	/* names decide the tenant, reserved names and messages: strings or nothing */
	for (int i = 0; i < 3; i++) {
		static const char *const names[] = { "name", "generateName", "namespace" };
		struct kt_jv v = i == 0 ? name : i == 1 ? gen : kt_jv_get(meta, names[i]);

		if (!kt_as_string(c, v, "metadata.%s", names[i]) && !kt_jv_absent(v))
			return false;
	}
	/* label and annotation values are strings; rules compare them as such */
	for (int i = 0; i < 2; i++) {
		/* members of objects (checked above); the key is read for a denial only */
		for (m = kt_jv_first(i ? ann : labels); kt_jv_ok(m); m = kt_jv_next(m)) {
			if (!kt_jv_is(m, KT_J_STRING) && (k = kt_jv_key(m, NULL))) {
				char p[KT_PCTX_PATH_MAX], q[80];

				kt_pctx_deny(c, "request.malformed",
					     kt_pctx_path(p, sizeof(p), "metadata.%s[%s]",
							  i ? "annotations" : "labels",
							  kt_pctx_q(q, sizeof(q), k)),
					     "%s values must be strings",
					     i ? "annotation" : "label");
				return false;
			}
		}
	}
	return true;
}

static bool labelled_managed(struct kt_jv labels)
{
	return kt_jv_streq(kt_jv_get(labels, KT_POLICY_MANAGED_BY_KEY), KT_POLICY_MANAGED_BY_VALUE);
}

/*
 * Would the rendered webhooks send this request?  The same test as their
 * rules and selectors (see policy.h), so that `check` and `audit` judge
 * exactly what the cluster does; the namespace selector is the tenant
 * lookup in decide().
 */
static bool routed(const struct kt_pctx *c, const struct kt_kind *k)
{
	if (k && (k->ops & (1u << c->op)))
		return true;
	return !*c->sub && c->op != KT_OP_CONNECT && (!k || !k->cluster) &&
	       (labelled_managed(c->labels) || labelled_managed(c->old_labels));
}

static void judge(struct kt_pctx *c)
{
	const struct kt_kind *k = kt_policy_kind(c->group, c->kind, c->sub);
	const char *ons;
	char q1[80], q2[80];

	/* the API server refuses these itself, routed or not */
	if (!object_shape(c, c->obj, c->meta, c->labels, c->ann, c->meta_name, c->meta_gen,
			  "object") ||
	    !object_shape(c, c->old, c->old_meta, c->old_labels, c->old_ann,
			  kt_jv_get(c->old_meta, "name"), kt_jv_get(c->old_meta, "generateName"),
			  "oldObject"))
		return;
	/* the API server refuses a mismatch; `check` must too, with a clear reason */
	ons = kt_gets(c->meta, "namespace");
	if (kt_jv_ok(c->obj) && ons && *ons && strcmp(ons, c->ns) && strcmp(c->kind, "Namespace"))
		kt_pctx_deny(c, "request.namespace-mismatch", "metadata.namespace",
			     "object names namespace '%s' but belongs to tenant '%s' in namespace "
			     "'%s'; remove metadata.namespace or set it to '%s'",
			     kt_pctx_q(q1, sizeof(q1), ons), c->t->name,
			     kt_pctx_q(q2, sizeof(q2), c->ns), c->t->name);
	if (!routed(c, k))
		return; /* the cluster admits it unseen: nothing more to judge */
	kt_managed_judge(c);
	if (c->op != KT_OP_CREATE && c->op != KT_OP_UPDATE)
		return;
	if (!kt_jv_ok(c->obj)) {
		kt_pctx_deny(c, "request.malformed", "object", "%s request carries no object",
			     c->op == KT_OP_CREATE ? "CREATE" : "UPDATE");
		return;
	}
	kt_hostnames_annotations(c);
	/* a row no rule file claims would pass unjudged: fail closed */
	if (k && k->judge && !k->judge(c))
		kt_pctx_deny(c, "policy.unjudged", NULL,
			     "%s is routed to the webhook but no rule judges it; the platform must "
			     "fix lib/policy/kinds.c",
			     c->kind);
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
	/* the operations kt_patch_add() wrote: a patch only for an allowed request */
	if (!d->allowed || c->rc)
		kt_buf_release(&d->patch);
	else if (d->patch.len && kt_buf_addch(&d->patch, ']'))
		c->rc = KT_E_NOMEM;
}

/*
 * A namespace the loaded file does not know, reached through a webhook that
 * selects tenant namespaces only: a tenant onboarded before its tenants
 * file was applied and reloaded.  Judging it as "not a tenant" would admit
 * its pods with no pool and no policy, so it is denied, except what
 * offboarding needs once the tenant is gone from the file: DELETE (the
 * namespace controller and the garbage collector) and updates of objects
 * already being deleted (finalizers removed, namespaces/finalize).
 */
static void unknown_namespace(struct kt_pctx *c, const struct kt_review_route *route)
{
	char q[80];

	if (c->op == KT_OP_DELETE ||
	    (c->op == KT_OP_UPDATE &&
	     kt_jv_is(kt_jv_get(c->old_meta, "deletionTimestamp"), KT_J_STRING)))
		return;
	kt_pctx_deny(c, "tenant.unknown-namespace", NULL,
		     "namespace '%s' is labelled as a tenant namespace but the tenants file this "
		     "webhook has loaded (generation %lu) has no tenant for it; apply the "
		     "kubetenant-tenants ConfigMap that lists it, wait until every webhook "
		     "replica reports a newer generation (/readyz, log line 'tenants file "
		     "reloaded'), then retry",
		     kt_pctx_q(q, sizeof(q), c->ns), route->generation);
}

/* Everything both entry points share once the request is decoded. */
static enum kt_rc decide(struct kt_pctx *c, const char *uid, const char *user,
			 const char *tenant_ns, const struct kt_review_route *route,
			 struct kt_err *err)
{
	static const char *const ops[] = { "CREATE", "UPDATE", "DELETE", "CONNECT" };
	struct kt_decision *d = c->d;
	const char *name = c->name;
	char keybuf[256], *key = keybuf;
	size_t ld;

	/* every rule reads these: looked up once */
	c->meta = kt_jv_get(c->obj, "metadata");
	c->old_meta = kt_jv_get(c->old, "metadata");
	c->meta_name = kt_jv_get(c->meta, "name");
	c->meta_gen = kt_jv_get(c->meta, "generateName");
	if (!*name)
		name = kt_jv_ok(c->obj) ? kt_jv_str(c->meta_name) : kt_gets(c->old_meta, "name");
	if (!name)
		name = kt_jv_str(c->meta_gen);
	if (set_str(&d->uid, uid) || set_str(&d->kind, c->kind) || set_str(&d->namespace, c->ns) ||
	    set_str(&d->name, name) || set_str(&d->operation, ops[c->op]) ||
	    set_str(&d->user, user))
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	c->name = name ? name : "";
	d->tenant = kt_config_tenant_by_ns(c->cfg, tenant_ns);
	c->t = d->tenant;
	if (!c->t && route && route->tenant_namespaces_only) {
		unknown_namespace(c, route);
		finish(c);
		return c->rc ? kt_err_set(err, c->rc, "out of memory while deciding") : KT_OK;
	}
	if (!c->t) {
		/* not a tenant namespace: allowed untouched */
		d->allowed = true;
		d->code = 200;
		return KT_OK;
	}
	c->labels = kt_jv_get(c->meta, "labels");
	c->ann = kt_jv_get(c->meta, "annotations");
	c->old_labels = kt_jv_get(c->old_meta, "labels");
	c->old_ann = kt_jv_get(c->old_meta, "annotations");
	/* "<labelDomain>/node-pool", on the stack unless the domain is unusually long */
	ld = strlen(c->cfg->global.label_domain);
	if (ld + sizeof("/node-pool") > sizeof(keybuf) &&
	    !(key = malloc(ld + sizeof("/node-pool"))))
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	memcpy(key, c->cfg->global.label_domain, ld);
	memcpy(key + ld, "/node-pool", sizeof("/node-pool"));
	c->pool_key = key;
	c->managed_key = KT_POLICY_MANAGED_BY_KEY;
	judge(c);
	finish(c);
	c->pool_key = NULL;
	if (key != keybuf)
		free(key);
	if (c->rc)
		return kt_err_set(err, c->rc, "out of memory while deciding");
	return KT_OK;
}

/* ---- AdmissionReview bytes ---- */

static enum kt_rc want_str(struct kt_jv obj, const char *key, bool required, const char **out,
			   struct kt_err *err)
{
	struct kt_jv v = kt_jv_get(obj, key);

	*out = "";
	if (kt_jv_absent(v)) {
		if (required)
			return kt_err_set(err, KT_E_PARSE, "request.%s is missing", key);
		return KT_OK;
	}
	if (!kt_jv_is(v, KT_J_STRING))
		return kt_err_set(err, KT_E_PARSE, "request.%s must be a string", key);
	*out = kt_jv_str(v);
	return KT_OK;
}

/* A review within the bounds: the request, then decide(). */
static enum kt_rc review(const struct kt_config *cfg, struct kt_jv root, enum kt_policy_mode mode,
			 const struct kt_review_route *route, struct kt_decision *d,
			 struct kt_err *err)
{
	struct kt_jv req, v, ui, groups, g;
	struct kt_pctx c = { 0 };
	const char *uid, *op, *user = "", *ns, *group = "", *res = "", *s;
	enum kt_rc rc = KT_E_PARSE;
	bool plat = false;
	size_t i;

	if (!kt_jv_is(root, KT_J_OBJECT))
		return kt_err_set(err, rc, "AdmissionReview must be a JSON object");
	if (!kt_jv_streq(kt_jv_get(root, "apiVersion"), "admission.k8s.io/v1") ||
	    !kt_jv_streq(kt_jv_get(root, "kind"), "AdmissionReview"))
		return kt_err_set(err, rc,
				  "expected apiVersion 'admission.k8s.io/v1' and kind "
				  "'AdmissionReview'");
	req = kt_jv_get(root, "request");
	if (!kt_jv_is(req, KT_J_OBJECT))
		return kt_err_set(err, rc, "AdmissionReview has no request object");
	if ((rc = want_str(req, "uid", true, &uid, err)) ||
	    (rc = want_str(req, "operation", true, &op, err)) ||
	    (rc = want_str(req, "namespace", false, &ns, err)) ||
	    (rc = want_str(req, "name", false, &c.name, err)) ||
	    (rc = want_str(req, "subResource", false, &c.sub, err)))
		return rc;
	rc = KT_E_PARSE;
	if (!*uid || strlen(uid) > 128)
		return kt_err_set(err, rc, "request.uid must have 1 to 128 characters");
	if (!parse_op(op, &c.op))
		return kt_err_set(err, rc,
				  "request.operation '%.32s' is not CREATE, UPDATE, DELETE "
				  "or CONNECT",
				  op);
	v = kt_jv_get(req, "kind");
	if (!kt_jv_is(v, KT_J_OBJECT) || !(c.kind = kt_gets(v, "kind")))
		return kt_err_set(err, rc, "request.kind must be an object with a kind");
	group = kt_gets(v, "group");
	c.group = group ? group : "";
	if ((s = kt_gets(kt_jv_get(req, "resource"), "resource")))
		res = s;
	ui = kt_jv_get(req, "userInfo");
	if (!kt_jv_absent(ui)) {
		groups = kt_jv_get(ui, "groups");
		if (!kt_jv_is(ui, KT_J_OBJECT) ||
		    !(kt_jv_absent(groups) || kt_jv_is(groups, KT_J_ARRAY)))
			return kt_err_set(err, rc, "request.userInfo is malformed");
		if ((s = kt_gets(ui, "username")))
			user = s;
		plat = platform_user(cfg, user);
		for (i = 0, g = kt_jv_first_elem(groups); kt_jv_ok(g); i++, g = kt_jv_next(g)) {
			if (!kt_jv_is(g, KT_J_STRING))
				return kt_err_set(err, rc,
						  "request.userInfo.groups must be strings");
			plat = plat || platform_group(cfg, kt_jv_str(g));
		}
	}
	/* absent and null alike: no object */
	c.obj = kt_jv_get(req, "object");
	c.old = kt_jv_get(req, "oldObject");
	if (kt_jv_absent(c.obj))
		c.obj = (struct kt_jv){ 0 };
	if (kt_jv_absent(c.old))
		c.old = (struct kt_jv){ 0 };
	c.cfg = cfg;
	c.mode = mode;
	c.ns = ns;
	c.platform = plat;
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
	return decide(&c, uid, user, ns, route, err);
}

enum kt_rc kt_policy_review(const struct kt_config *cfg, const char *body, size_t len,
			    enum kt_policy_mode mode, struct kt_decision *d, struct kt_err *err)
{
	return kt_policy_review_routed(cfg, NULL, body, len, mode, d, err);
}

enum kt_rc kt_policy_review_routed(const struct kt_config *cfg, const struct kt_review_route *route,
				   const char *body, size_t len, enum kt_policy_mode mode,
				   struct kt_decision *d, struct kt_err *err)
{
	struct kt_jview *view;
	enum kt_rc rc;

	decision_init(d);
	if (len > KT_POLICY_MAX_REVIEW_BYTES)
		return kt_err_set(err, KT_E_PARSE, "review of %zu bytes is larger than %u bytes",
				  len, KT_POLICY_MAX_REVIEW_BYTES);
	/* the decision holds copies of what it keeps: the view is this thread's, reused */
	if (!(view = kt_jview_thread()))
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	rc = kt_jview_parse(view, body, len, KT_POLICY_MAX_DEPTH, KT_POLICY_MAX_VALUES, err);
	if (!rc)
		rc = review(cfg, kt_jview_root(view), mode, route, d, err);
	kt_jview_done(view);
	return rc;
}

enum kt_rc kt_policy_review_json(const struct kt_config *cfg, json_t *root,
				 enum kt_policy_mode mode, struct kt_decision *d,
				 struct kt_err *err)
{
	struct kt_buf text = KT_BUF_INIT;
	struct kt_jview view = KT_JVIEW_INIT;
	struct kt_jv vroot;
	enum kt_rc rc;

	decision_init(d);
	rc = kt_policy_bounds(root, NULL, err);
	if (!rc && !(rc = kt_json_view(root, &text, &view, &vroot, err)))
		rc = review(cfg, vroot, mode, NULL, d, err);
	kt_jview_release(&view);
	kt_buf_release(&text);
	return rc;
}

/* ---- decoded objects ---- */

enum kt_rc kt_policy_decide(const struct kt_config *cfg, const struct kt_policy_request *req,
			    enum kt_policy_mode mode, struct kt_decision *d, struct kt_err *err)
{
	struct kt_pctx c = { 0 };
	struct kt_buf text[2] = { KT_BUF_INIT, KT_BUF_INIT };
	struct kt_jview view[2] = { KT_JVIEW_INIT, KT_JVIEW_INIT };
	json_t *obj = req->object, *old = req->old_object;
	struct kt_jv src;
	const char *av, *slash, *ns = req->ns ? req->ns : "", *user = req->user;
	char *group = NULL;
	enum kt_rc rc;
	size_t i;

	decision_init(d);
	if (!req->operation || !parse_op(req->operation, &c.op))
		return kt_err_set(err, KT_E_INVALID,
				  "operation '%s' is not CREATE, UPDATE, DELETE "
				  "or CONNECT",
				  req->operation ? req->operation : "");
	if (json_is_null(obj))
		obj = NULL;
	if (json_is_null(old))
		old = NULL;
	if ((rc = kt_policy_bounds(obj, old, err)) ||
	    (rc = kt_json_view(obj, &text[0], &view[0], &c.obj, err)) ||
	    (rc = kt_json_view(old, &text[1], &view[1], &c.old, err)))
		goto out;
	src = kt_jv_ok(c.obj) ? c.obj : c.old;
	av = kt_gets(src, "apiVersion");
	c.kind = kt_gets(src, "kind");
	if (!av || !c.kind) {
		rc = kt_err_set(err, KT_E_INVALID, "object has no apiVersion or kind");
		goto out;
	}
	slash = strchr(av, '/');
	group = strndup(av, slash ? (size_t)(slash - av) : 0);
	if (!group) {
		rc = kt_err_set(err, KT_E_NOMEM, "out of memory");
		goto out;
	}
	c.group = group;
	c.sub = req->sub_resource ? req->sub_resource : "";
	c.name = "";
	c.platform = req->platform || platform_user(cfg, user);
	for (i = 0; req->groups && req->groups[i]; i++)
		c.platform = c.platform || platform_group(cfg, req->groups[i]);
	c.cfg = cfg;
	c.mode = mode;
	c.d = d;
	if (!*c.group && !strcmp(c.kind, "Namespace")) {
		const char *n = kt_gets(kt_jv_get(src, "metadata"), "name");

		ns = n ? n : "";
	}
	c.ns = ns;
	rc = decide(&c, req->uid, user, ns, NULL, err);
out:
	for (i = 0; i < 2; i++) {
		kt_jview_release(&view[i]);
		kt_buf_release(&text[i]);
	}
	free(group);
	return rc;
}
