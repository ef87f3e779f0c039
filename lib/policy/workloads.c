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
#include "kt/podkinds.h"
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
	struct kt_jv an = kt_jv_get(p->meta, "annotations"),
		     oan = kt_jv_get(p->old_meta, "annotations"), m;
	const char *key;

	if (!kt_jv_ok(p->old_spec) || !kt_jv_equal(p->spec, p->old_spec))
		return true;
	/* the annotations the standard reads, in either direction */
	for (int pass = 0; pass < 2; pass++) {
		for (m = kt_jv_first(pass ? oan : an); kt_jv_ok(m) && (key = kt_jv_key(m, NULL));
		     m = kt_jv_next(m)) {
			if (pss_annotation(key) && !kt_jv_equal(m, kt_jv_get(pass ? an : oan, key)))
				return true;
		}
	}
	return false;
}

static void judge_pod_security(struct kt_pctx *c, const struct kt_podref *p)
{
	const struct kt_pss_policy *pol = &c->t->pod_security;
	struct kt_pss_result res = { 0 };
	char ver[16], path[KT_PCTX_PATH_MAX];
	size_t i;

	if (pol->level == KT_PSS_PRIVILEGED || !pss_relevant_change(p))
		return;
	/* the pod itself: the standard reads the spec and the annotations of the metadata */
	if (kt_pss_evaluate_view(pol, p->meta, p->spec, &res)) {
		c->rc = KT_E_NOMEM;
		return;
	}
	if (!res.n) {
		kt_pss_result_release(&res);
		return; /* the messages' parts are worded for violations only */
	}
	if (pol->minor == KT_PSS_LATEST)
		snprintf(ver, sizeof(ver), "latest");
	else
		snprintf(ver, sizeof(ver), "v1.%d", pol->minor);
	kt_pctx_path(path, sizeof(path), "%s", p->base);
	for (i = 0; i < res.n; i++) {
		char rule[96];

		snprintf(rule, sizeof(rule), "pod-security.%s", res.v[i].check);
		kt_pctx_deny(c, rule, path, "%s violates PodSecurity \"%s:%s\": %s%s%s%s", p->what,
			     kt_pss_level_name(pol->level), ver,
			     res.v[i].reason ? res.v[i].reason : "", res.v[i].detail ? " (" : "",
			     res.v[i].detail ? res.v[i].detail : "", res.v[i].detail ? ")" : "");
	}
	kt_pss_result_release(&res);
}

/* Every rule a pod or a template passes through. */
static void judge_podlike(struct kt_pctx *c, const struct kt_podref *p)
{
	kt_placement_judge(c, p);
	judge_pod_security(c, p);
	kt_images_judge(c, p);
}

/* The metadata and spec of holder into p (meta: holder's own, when known). */
static bool get_spec(struct kt_pctx *c, struct kt_jv holder, struct kt_jv meta, const char *path,
		     struct kt_podref *p)
{
	p->meta = meta;
	p->spec = kt_jv_get(holder, "spec");
	if (kt_jv_is(p->spec, KT_J_OBJECT) && (kt_jv_absent(meta) || kt_jv_is(meta, KT_J_OBJECT))) {
		kt_podref_read(p);
		return true;
	}
	kt_pctx_deny(c, "request.malformed", path, "%s must have a spec object", path);
	return false;
}

static void judge_pod(struct kt_pctx *c)
{
	struct kt_podref p = { .base = "spec", .what = "pod", .is_pod = true };

	if (!get_spec(c, c->obj, c->meta, "pod", &p))
		return;
	if (c->op == KT_OP_UPDATE && kt_jv_ok(c->old) &&
	    kt_jv_is(kt_jv_get(c->old, "spec"), KT_J_OBJECT)) {
		p.old_meta = c->old_meta;
		p.old_spec = kt_jv_get(c->old, "spec");
	}
	p.daemon = c->op == KT_OP_CREATE && c->t->allow_daemonsets &&
		   kt_kube_controller(c, "daemon-set-controller") &&
		   kt_controller_ref(c->obj, "apps/v1", "DaemonSet");
	p.solver = kt_acme_solver(c);
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

	if (!get_spec(c, c->obj, c->meta, "pod", &p))
		return;
	judge_pod_security(c, &p);
	if (kt_jv_ok(c->old) && kt_jv_is(kt_jv_get(c->old, "spec"), KT_J_OBJECT)) {
		p.old_meta = c->old_meta;
		p.old_spec = kt_jv_get(c->old, "spec");
	}
	kt_images_judge(c, &p);
}

/*
 * The DaemonSet controller picks the nodes from the template alone: without
 * the pool's nodeSelector and toleration it makes a pod for every untainted
 * node outside the pool (each held Pending by the pool selector the pod gets,
 * using up the quota) and none on the pool's tainted nodes.
 */
static void judge_daemonset_pool(struct kt_pctx *c, const struct kt_podref *p)
{
	const char *pool = c->t->node_pool;
	bool tol = false;

	kt_each (t, p->tolerations)
		tol = tol || (kt_jv_streq(kt_jv_get(t.v, "key"), c->pool_key) &&
			      kt_jv_streq(kt_jv_get(t.v, "value"), pool));
	if (kt_jv_streq(kt_jv_get(p->node_selector, c->pool_key), pool) && tol)
		return;
	kt_pctx_deny(c, "placement.daemonset-pool", "spec.template.spec",
		     "the DaemonSet controller places pods by the template alone: add nodeSelector "
		     "'%s: %s' and the toleration {key: %s, operator: Equal, value: %s, effect: "
		     "NoSchedule} so that it runs on the nodes of pool '%s' only",
		     c->pool_key, pool, c->pool_key, pool, pool);
}

static void judge_template(struct kt_pctx *c, const struct kt_podkind *k)
{
	struct kt_podref p = { .base = k->path, .what = "pod template" };
	struct kt_jv tpl = c->obj;
	char path[KT_PCTX_PATH_MAX];

	if (!strcmp(k->kind, "DaemonSet") && !c->t->allow_daemonsets)
		kt_pctx_deny(c, "placement.daemonset", "kind",
			     "tenant '%s' may not run DaemonSets: they place a pod on every node "
			     "of the pool, shared with other tenants; use a Deployment",
			     c->t->name);
	for (size_t i = 0; k->keys[i]; i++)
		tpl = kt_jv_get(tpl, k->keys[i]);
	snprintf(path, sizeof(path), "%.*s", (int)(strlen(k->path) - 5), k->path);
	if (!get_spec(c, tpl, kt_jv_get(tpl, "metadata"), path, &p))
		return;
	judge_podlike(c, &p);
	if (!strcmp(k->kind, "DaemonSet") && c->t->allow_daemonsets)
		judge_daemonset_pool(c, &p);
}

bool kt_workloads_dispatch(struct kt_pctx *c)
{
	const struct kt_podkind *k = kt_podkind_find(c->group, c->kind);

	if (!k)
		return false;
	if (!k->keys[0]) { /* a Pod */
		if (!*c->sub)
			judge_pod(c);
		else if (!strcmp(c->sub, "ephemeralcontainers"))
			judge_ephemeral(c);
		/* status, resize, binding...: the spec's placement is unchanged */
		return true;
	}
	if (!*c->sub)
		judge_template(c, k);
	return true; /* scale and status do not change the template */
}
