/*
 * workloads.c: Pods, pod templates and ephemeral containers.
 *
 * Templates are judged like the pods they will create, at the moment they
 * are applied: the built-in Pod Security admission only looks at Pods, so
 * a bad Deployment is accepted and then silently fails to create pods.
 * Judging the template gives the tenant the exact reason in `kubectl apply`.
 * Pods created from a good template still pass every rule (they are also
 * mutated), so nothing is lost by judging both.
 */
#include <stdio.h>
#include <string.h>
#include "internal.h"


/* The annotations the standard reads (seccomp before v1.19, AppArmor). */
static bool pss_annotation(const char *key)
{
	static const char *const prefixes[] = { "seccomp.security.alpha.kubernetes.io/",
						"container.seccomp.security.alpha.kubernetes.io/",
						"container.apparmor.security.beta.kubernetes.io/" };

	for (size_t i = 0; i < 3; i++)
		if (!strncmp(key, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static bool pss_relevant_change(const struct kt_podref *p)
{
	struct kt_jv *an = kt_jv_get(p->meta, "annotations"),
		     *oan = kt_jv_get(p->old_meta, "annotations");

	if (!p->old_spec || !kt_jv_equal(p->spec, p->old_spec))
		return true;
	/* the annotations the standard reads, in either direction */
	for (int pass = 0; pass < 2; pass++) {
		kt_jv_each(m, pass ? oan : an) {
			if (pss_annotation(m->key) &&
			    !kt_jv_equal(m, kt_jv_get(pass ? an : oan, m->key)))
				return true;
		}
	}
	return false;
}

/*
 * The Pod Security engine takes jansson values, and building a json_t tree
 * costs a malloc per value.  It gets a copy of only the fields the standard
 * reads (upstream k8s.io/pod-security-admission): the host namespace and
 * user flags, os, the pod and container security contexts, container names,
 * host ports, the hosts of probes and lifecycle handlers, and the volumes,
 * whose sources it judges by kind alone, so the allowed kinds (projected
 * token, configMap, secret...: the bulk of a pod) are passed as empty
 * objects.  Everything else (env, resources, mounts, commands, the rest of
 * a probe) cannot change a verdict.  A value of an unexpected type is copied
 * as it is, for the engine to reject.  t_policy_pss.c proves on every
 * upstream fixture that this view and the whole pod get the same verdict.
 */
enum view_how { V_COPY, V_VIEW, V_LIST };

struct view {
	const char *key;
	enum view_how how;
	const struct view *sub; /* V_VIEW, V_LIST: what to keep of the value or elements */
};

static const struct view v_host[] = { { "host", V_COPY, NULL }, { NULL, V_COPY, NULL } };
static const struct view v_handler[] = {
	{ "httpGet", V_VIEW, v_host },
	{ "tcpSocket", V_VIEW, v_host },
	{ NULL, V_COPY, NULL },
};
static const struct view v_lifecycle[] = {
	{ "postStart", V_VIEW, v_handler },
	{ "preStop", V_VIEW, v_handler },
	{ NULL, V_COPY, NULL },
};
static const struct view v_port[] = { { "hostPort", V_COPY, NULL }, { NULL, V_COPY, NULL } };
static const struct view v_container[] = {
	{ "name", V_COPY, NULL },
	{ "securityContext", V_COPY, NULL },
	{ "ports", V_LIST, v_port },
	{ "lifecycle", V_VIEW, v_lifecycle },
	{ "startupProbe", V_VIEW, v_handler },
	{ "livenessProbe", V_VIEW, v_handler },
	{ "readinessProbe", V_VIEW, v_handler },
	{ NULL, V_COPY, NULL },
};
static const struct view v_spec[] = {
	{ "os", V_COPY, NULL },
	{ "hostPID", V_COPY, NULL },
	{ "hostIPC", V_COPY, NULL },
	{ "hostNetwork", V_COPY, NULL },
	{ "hostUsers", V_COPY, NULL },
	{ "securityContext", V_COPY, NULL },
	{ "containers", V_LIST, v_container },
	{ "initContainers", V_LIST, v_container },
	{ "ephemeralContainers", V_LIST, v_container },
	{ "volumes", V_LIST, NULL }, /* NULL: pss_volume */
	{ NULL, V_COPY, NULL },
};

static json_t *pss_view(const struct kt_jv *v, const struct view *keep);

static bool allowed_volume_kind(const char *k)
{
	static const char *const allowed[] = { "configMap", "csi", "downwardAPI", "emptyDir",
					       "ephemeral", "persistentVolumeClaim", "projected",
					       "secret" };

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (!strcmp(k, allowed[i]))
			return true;
	return false;
}

/*
 * A volume whose sources are all of the allowed kinds can fail no check:
 * NULL (leave it out) unless its name is malformed, which the standard
 * rejects.  Others keep their restricted sources whole.
 */
static json_t *pss_volume(const struct kt_jv *vol, bool *skip)
{
	bool judge = false;
	json_t *o, *v;

	*skip = false;
	if (!kt_jv_is(vol, KT_JV_OBJECT))
		return kt_jv_to_json(vol);
	kt_jv_each(m, vol)
		judge = judge || (strcmp(m->key, "name") ? !kt_jv_absent(m) &&
							   !allowed_volume_kind(m->key)
							 : !kt_jv_is(m, KT_JV_STRING));
	if (!judge) {
		*skip = true;
		return NULL;
	}
	o = json_object();
	kt_jv_each(m, vol) {
		bool empty = !kt_jv_absent(m) && allowed_volume_kind(m->key);

		if (!o)
			break;
		v = empty ? json_object() : kt_jv_to_json(m);
		if (!v || json_object_set_new_nocheck(o, m->key, v)) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

static json_t *pss_member(const struct kt_jv *m, const struct view *k)
{
	json_t *a;

	if (k->how == V_COPY || (k->how == V_VIEW && !kt_jv_is(m, KT_JV_OBJECT)) ||
	    (k->how == V_LIST && !kt_jv_is(m, KT_JV_ARRAY)))
		return kt_jv_to_json(m);
	if (k->how == V_VIEW)
		return pss_view(m, k->sub);
	a = json_array();
	kt_jv_each(e, m) {
		bool skip = false;
		json_t *x = k->sub ? pss_view(e, k->sub) : pss_volume(e, &skip);

		if (skip)
			continue;
		if (x && k->sub && k->sub != v_container && json_is_object(x) && !json_object_size(x)) {
			json_decref(x); /* a port without hostPort: nothing to judge */
			continue;
		}
		if (!a || !x || json_array_append_new(a, x)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *pss_view(const struct kt_jv *v, const struct view *keep)
{
	json_t *o, *x;

	if (!kt_jv_is(v, KT_JV_OBJECT))
		return kt_jv_to_json(v);
	o = json_object();
	kt_jv_each(m, v) {
		const struct view *k;

		if (!o)
			break;
		for (k = keep; k->key && (k->key[0] != m->key[0] || strcmp(k->key, m->key)); k++)
			;
		if (!k->key)
			continue;
		x = pss_member(m, k);
		/*
		 * A probe, handler or list left empty (no host, no hostPort) is
		 * the same to the standard as none: leave it out.
		 */
		if (x && k->how != V_COPY && k->sub != v_container &&
		    (json_is_object(x) ? !json_object_size(x) : json_is_array(x) && !json_array_size(x))) {
			json_decref(x);
			continue;
		}
		if (!x || json_object_set_new_nocheck(o, m->key, x)) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

/*
 * Of the pod's metadata the standard reads only its seccomp and AppArmor
 * annotations (values are strings: judge() checked).  *meta stays NULL when
 * there are none, which kt_pss_evaluate() takes as "no metadata".
 */
static bool pss_meta(const struct kt_jv *meta, json_t **out)
{
	json_t *ann = NULL, *v;

	*out = NULL;
	kt_jv_each(m, kt_jv_get(meta, "annotations")) {
		if (!pss_annotation(m->key))
			continue;
		if ((!ann && !(ann = json_object())) || !(v = kt_jv_to_json(m)) ||
		    json_object_set_new_nocheck(ann, m->key, v))
			goto nomem;
	}
	if (ann && (!(*out = json_object()) || json_object_set_new_nocheck(*out, "annotations", ann)))
		goto nomem;
	return true;
nomem:
	json_decref(ann);
	json_decref(*out);
	*out = NULL;
	return false;
}

static void judge_pod_security(struct kt_pctx *c, const struct kt_podref *p)
{
	const struct kt_pss_policy *pol = &c->t->pod_security;
	struct kt_pss_result res = { 0 };
	json_t *meta = NULL, *spec = NULL;
	char ver[16], path[KT_PCTX_PATH_MAX];
	size_t i;

	if (pol->level == KT_PSS_PRIVILEGED || !pss_relevant_change(p))
		return;
	if (pol->minor == KT_PSS_LATEST)
		snprintf(ver, sizeof(ver), "latest");
	else
		snprintf(ver, sizeof(ver), "v1.%d", pol->minor);
	kt_pctx_path(path, sizeof(path), "%s", p->base);
	spec = pss_view(p->spec, v_spec);
	if (!pss_meta(p->meta, &meta) || !spec || kt_pss_evaluate(pol, meta, spec, &res)) {
		c->rc = KT_E_NOMEM;
		goto out;
	}
	for (i = 0; i < res.n; i++) {
		char rule[96];

		snprintf(rule, sizeof(rule), "pod-security.%s", res.v[i].check);
		kt_pctx_deny(c, rule, path, "%s violates PodSecurity \"%s:%s\": %s%s%s%s", p->what,
			     kt_pss_level_name(pol->level), ver, res.v[i].reason ? res.v[i].reason : "",
			     res.v[i].detail ? " (" : "", res.v[i].detail ? res.v[i].detail : "",
			     res.v[i].detail ? ")" : "");
	}
	kt_pss_result_release(&res);
out:
	json_decref(meta);
	json_decref(spec);
}

/* Every rule a pod or a template passes through. */
static void judge_podlike(struct kt_pctx *c, const struct kt_podref *p)
{
	kt_placement_judge(c, p);
	judge_pod_security(c, p);
	kt_images_judge(c, p);
}

static bool get_spec(struct kt_pctx *c, struct kt_jv *holder, const char *path,
		     struct kt_jv **meta, struct kt_jv **spec)
{
	*meta = kt_jv_get(holder, "metadata");
	*spec = kt_jv_get(holder, "spec");
	if (kt_jv_is(*spec, KT_JV_OBJECT) && (kt_jv_absent(*meta) ||
					      kt_jv_is(*meta, KT_JV_OBJECT)))
		return true;
	kt_pctx_deny(c, "request.malformed", path, "%s must have a spec object", path);
	return false;
}

static void judge_pod(struct kt_pctx *c)
{
	struct kt_podref p = { .base = "spec", .what = "pod", .is_pod = true };

	if (!get_spec(c, c->obj, "pod", &p.meta, &p.spec))
		return;
	if (c->op == KT_OP_UPDATE && c->old && kt_jv_is(kt_jv_get(c->old, "spec"), KT_JV_OBJECT)) {
		p.old_meta = kt_jv_get(c->old, "metadata");
		p.old_spec = kt_jv_get(c->old, "spec");
	}
	judge_podlike(c, &p);
	if (c->op == KT_OP_CREATE && c->mode == KT_POLICY_MUTATE && !c->d->n_denials)
		kt_placement_mutate(c, &p);
}

/*
 * pods/ephemeralcontainers: `kubectl debug` adds a container to a running
 * pod; its image and security context are new, nothing else changes.
 */
static void judge_ephemeral(struct kt_pctx *c)
{
	struct kt_podref p = { .base = "spec", .what = "pod", .is_pod = true };

	if (!get_spec(c, c->obj, "pod", &p.meta, &p.spec))
		return;
	judge_pod_security(c, &p);
	if (c->old && kt_jv_is(kt_jv_get(c->old, "spec"), KT_JV_OBJECT)) {
		p.old_meta = kt_jv_get(c->old, "metadata");
		p.old_spec = kt_jv_get(c->old, "spec");
	}
	kt_images_judge(c, &p);
}

struct template_kind {
	const char *group, *kind;
	const char *const path[4]; /* object keys down to the template */
	const char *base;          /* path of its pod spec */
};

static const struct template_kind templates[] = {
	{ "apps", "Deployment", { "spec", "template" }, "spec.template.spec" },
	{ "apps", "ReplicaSet", { "spec", "template" }, "spec.template.spec" },
	{ "apps", "StatefulSet", { "spec", "template" }, "spec.template.spec" },
	{ "apps", "DaemonSet", { "spec", "template" }, "spec.template.spec" },
	{ "batch", "Job", { "spec", "template" }, "spec.template.spec" },
	{ "batch", "CronJob", { "spec", "jobTemplate", "spec", "template" },
	  "spec.jobTemplate.spec.template.spec" },
	{ "", "ReplicationController", { "spec", "template" }, "spec.template.spec" },
	{ "", "PodTemplate", { "template" }, "template.spec" },
};

static void judge_template(struct kt_pctx *c, const struct template_kind *k)
{
	struct kt_podref p = { .base = k->base, .what = "pod template" };
	struct kt_jv *tpl = c->obj;
	char path[KT_PCTX_PATH_MAX];

	if (!strcmp(k->kind, "DaemonSet") && !c->t->allow_daemonsets)
		kt_pctx_deny(c, "placement.daemonset", "kind",
			     "tenant '%s' may not run DaemonSets: they place a pod on every node "
			     "of the pool, shared with other tenants; use a Deployment",
			     c->t->name);
	for (size_t i = 0; i < 4 && k->path[i]; i++)
		tpl = kt_jv_get(tpl, k->path[i]);
	snprintf(path, sizeof(path), "%.*s", (int)(strlen(k->base) - 5), k->base);
	if (!get_spec(c, tpl, path, &p.meta, &p.spec))
		return;
	judge_podlike(c, &p);
}

bool kt_workloads_dispatch(struct kt_pctx *c)
{
	size_t i;

	if (!*c->group && !strcmp(c->kind, "Pod")) {
		if (!*c->sub)
			judge_pod(c);
		else if (!strcmp(c->sub, "ephemeralcontainers"))
			judge_ephemeral(c);
		/* status, resize, binding...: the spec's placement is unchanged */
		return true;
	}
	for (i = 0; i < sizeof(templates) / sizeof(templates[0]); i++) {
		if (strcmp(c->group, templates[i].group) || strcmp(c->kind, templates[i].kind))
			continue;
		if (!*c->sub)
			judge_template(c, &templates[i]);
		return true; /* scale and status do not change the template */
	}
	return false;
}
