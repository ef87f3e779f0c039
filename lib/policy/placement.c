/*
 * placement.c: tenant pods run only on their node pool.
 *
 * The mutation (nodeSelector + toleration of the pool) is what puts a pod
 * in its pool; the validation is what stops it from leaving: the blog's
 * Gatekeeper Assign only added fields, so a pod could still carry a
 * toleration for another pool, a nodeName, an affinity term for another
 * pool or a wildcard toleration.  Every such field is denied here with the
 * change to make.  On a Pod UPDATE only what changed is judged (the API
 * server allows adding tolerations, and retargeting a scheduling-gated pod),
 * so pods admitted earlier keep working.
 */
#include <stdio.h>
#include <string.h>
#include "kt/jwrite.h"
#include "internal.h"

#define KARPENTER_POOL_KEY "karpenter.sh/nodepool"

#define KEY_IS(k, kl, lit) ((kl) == sizeof(lit) - 1 && !memcmp((k), (lit), sizeof(lit) - 1))

/*
 * One pass over the spec for the members placement reads (several times:
 * judged, then mutated), rather than a lookup through every member for
 * each, and for each again.
 */
void kt_podref_read(struct kt_podref *p)
{
	kt_each (m, p->spec) {
		size_t kl = 0;
		const char *k = kt_jv_key(m.v, &kl);

		if (!k)
			break;
		if (KEY_IS(k, kl, "nodeName"))
			p->node_name = m.v;
		else if (KEY_IS(k, kl, "nodeSelector"))
			p->node_selector = m.v;
		else if (KEY_IS(k, kl, "affinity"))
			p->affinity = m.v;
		else if (KEY_IS(k, kl, "tolerations"))
			p->tolerations = m.v;
		else if (KEY_IS(k, kl, "priorityClassName"))
			p->priority_class = m.v;
		else if (KEY_IS(k, kl, "runtimeClassName"))
			p->runtime_class = m.v;
		else if (KEY_IS(k, kl, "schedulerName"))
			p->scheduler_name = m.v;
	}
}

static bool is_pool_key(const struct kt_pctx *c, const char *key)
{
	return !strcmp(key, c->pool_key) || !strcmp(key, KARPENTER_POOL_KEY);
}

static void malformed(struct kt_pctx *c, const char *path, const char *what)
{
	kt_pctx_deny(c, "request.malformed", path, "%s", what);
}

static void judge_node_name(struct kt_pctx *c, const struct kt_podref *p)
{
	struct kt_jv nn = p->node_name;
	char path[KT_PCTX_PATH_MAX], q[80];

	if (kt_jv_absent(nn) || kt_jv_streq(nn, ""))
		return;
	if (kt_jv_ok(p->old_spec) && kt_jv_equal(nn, kt_jv_get(p->old_spec, "nodeName")))
		return; /* bound by the scheduler earlier: not the sender's choice */
	kt_pctx_deny(c, "placement.node-name",
		     kt_pctx_path(path, sizeof(path), "%s.nodeName", p->base),
		     "%s sets nodeName '%s'; remove it: pods of tenant '%s' are scheduled onto node "
		     "pool '%s' only",
		     p->what, kt_pctx_q(q, sizeof(q), kt_jv_str_or(nn, "?")), c->t->name,
		     c->t->node_pool);
}

static void judge_node_selector(struct kt_pctx *c, const struct kt_podref *p)
{
	struct kt_jv ns = p->node_selector;
	struct kt_jv old = kt_jv_get(p->old_spec, "nodeSelector"), m;
	char path[KT_PCTX_PATH_MAX], q1[80], q2[80];
	const char *pool = c->t->node_pool, *key;

	if (!kt_jv_absent(ns) && !kt_jv_is(ns, KT_J_OBJECT)) {
		malformed(c, kt_pctx_path(path, sizeof(path), "%s.nodeSelector", p->base),
			  "nodeSelector must be an object");
		return;
	}
	if (kt_jv_ok(p->old_spec) && kt_jv_equal(ns, old))
		return;
	for (m = kt_jv_first(ns); kt_jv_ok(m) && (key = kt_jv_key(m, NULL)); m = kt_jv_next(m)) {
#define SEL_PATH                                                         \
	kt_pctx_path(path, sizeof(path), "%s.nodeSelector[%s]", p->base, \
		     kt_pctx_q(q1, sizeof(q1), key))
		if (!kt_jv_is(m, KT_J_STRING)) {
			malformed(c, SEL_PATH, "nodeSelector values must be strings");
			continue;
		}
		if (is_pool_key(c, key) && strcmp(kt_jv_str(m), pool))
			kt_pctx_deny(c, "placement.foreign-pool-selector", SEL_PATH,
				     "%s selects node pool '%s' but tenant '%s' may only use '%s'; "
				     "remove the '%s' selector",
				     p->what, kt_pctx_q(q2, sizeof(q2), kt_jv_str(m)), c->t->name,
				     pool, kt_pctx_q(q1, sizeof(q1), key));
#undef SEL_PATH
	}
	/* a gated pod may be retargeted, but never out of its pool */
	if (p->is_pod && c->op == KT_OP_UPDATE && kt_jv_streq(kt_jv_get(old, c->pool_key), pool) &&
	    !kt_jv_streq(kt_jv_get(ns, c->pool_key), pool))
		kt_pctx_deny(c, "placement.missing-pool-selector",
			     kt_pctx_path(path, sizeof(path), "%s.nodeSelector", p->base),
			     "the update removes nodeSelector '%s: %s'; keep it", c->pool_key,
			     pool);
}

/* Does a node selector requirement admit a node outside the pool? */
static const char *requirement_escape(const struct kt_pctx *c, struct kt_jv req, char *buf,
				      size_t size)
{
	const char *op = kt_gets(req, "operator");
	struct kt_jv values = kt_jv_get(req, "values");
	char q[80];

	if (!op)
		return "has no operator";
	if (strcmp(op, "In")) {
		snprintf(buf, size,
			 "uses operator '%s', which matches nodes of other pools or of "
			 "none; use 'In' with '%s' or leave the key to the platform",
			 kt_pctx_q(q, sizeof(q), op), c->t->node_pool);
		return buf;
	}
	if (!kt_jv_size(values))
		return "has no values";
	kt_each (v, values) {
		if (!kt_jv_streq(v.v, c->t->node_pool)) {
			snprintf(buf, size,
				 "matches node pool '%s' but tenant '%s' may only use '%s'",
				 kt_pctx_q(q, sizeof(q), kt_jv_str_or(v.v, "?")), c->t->name,
				 c->t->node_pool);
			return buf;
		}
	}
	return NULL;
}

/*
 * The term the DaemonSet controller writes into each pod it creates: the
 * one node the pod is for, `matchFields metadata.name In [<node>]`.  The
 * pool's nodeSelector still holds (it is ANDed with every term), so a node
 * outside the pool leaves the pod unschedulable, never placed there.
 */
static bool daemon_node_term(struct kt_jv term)
{
	struct kt_jv mf = kt_jv_get(term, "matchFields"), r = kt_jv_at(mf, 0);
	struct kt_jv values = kt_jv_get(r, "values");

	return kt_jv_size(mf) == 1 && kt_jv_streq(kt_jv_get(r, "key"), "metadata.name") &&
	       kt_jv_streq(kt_jv_get(r, "operator"), "In") && kt_jv_size(values) == 1 &&
	       kt_jv_is(kt_jv_at(values, 0), KT_J_STRING);
}

static void judge_terms(struct kt_pctx *c, const struct kt_podref *p, struct kt_jv terms,
			bool required)
{
	char path[KT_PCTX_PATH_MAX], tpath[KT_PCTX_PATH_MAX], why[256];

	/* paths are built only for findings (most pods have none): formats until then */
#define TFMT "%s.affinity.nodeAffinity.%s"
#define TARGS                                                                                  \
	p->base, required ? "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms" \
			  : "preferredDuringSchedulingIgnoredDuringExecution"
#define TPATH kt_pctx_path(tpath, sizeof(tpath), TFMT, TARGS)
	if (!kt_jv_absent(terms) && !kt_jv_is(terms, KT_J_ARRAY)) {
		malformed(c, TPATH, "node affinity terms must be a list");
		return;
	}
	kt_each (term, terms) {
		struct kt_jv sel = required ? term.v : kt_jv_get(term.v, "preference");

		if (!kt_jv_is(sel, KT_J_OBJECT)) {
			malformed(c, kt_pctx_path(path, sizeof(path), "%s[%zu]", TPATH, term.i),
				  "node affinity term must be an object");
			continue;
		}
		if (required &&
		    kt_jv_size(kt_as_list(c, kt_jv_get(sel, "matchFields"),
					  TFMT "[%zu].matchFields", TARGS, term.i)) &&
		    !(p->daemon && daemon_node_term(sel)))
			kt_pctx_deny(c, "placement.node-affinity-fields",
				     kt_pctx_path(path, sizeof(path), "%s[%zu].matchFields", TPATH,
						  term.i),
				     "%s pins nodes by name with matchFields; remove it: pods of "
				     "tenant '%s' are scheduled onto node pool '%s' only",
				     p->what, c->t->name, c->t->node_pool);
		kt_each (req, kt_as_list(c, kt_jv_get(sel, "matchExpressions"),
					 TFMT "[%zu]%s.matchExpressions", TARGS, term.i,
					 required ? "" : ".preference")) {
			const char *key = kt_gets(req.v, "key"), *esc;

#define EPATH                                                                              \
	kt_pctx_path(path, sizeof(path), "%s[%zu]%s.matchExpressions[%zu]", TPATH, term.i, \
		     required ? "" : ".preference", req.i)
			if (!key) {
				malformed(c, EPATH, "node selector requirement has no key");
				continue;
			}
			if (!is_pool_key(c, key) ||
			    !(esc = requirement_escape(c, req.v, why, sizeof(why))))
				continue;
			if (required)
				kt_pctx_deny(c, "placement.foreign-pool-affinity", EPATH,
					     "%s requires nodes where '%s' %s", p->what, key, esc);
			else
				kt_pctx_warn(c, "placement.foreign-pool-preference", EPATH,
					     "%s prefers nodes where '%s' %s; the preference can never "
					     "be met",
					     p->what, key, esc);
#undef EPATH
		}
	}
#undef TPATH
#undef TARGS
#undef TFMT
}

static void judge_pod_affinity(struct kt_pctx *c, const struct kt_podref *p, struct kt_jv pa,
			       const char *which)
{
	static const char *const lists[] = { "requiredDuringSchedulingIgnoredDuringExecution",
					     "preferredDuringSchedulingIgnoredDuringExecution" };
	char path[KT_PCTX_PATH_MAX], q[80];
	unsigned l;

	pa = kt_as_object(c, pa, "%s.affinity.%s", p->base, which);
	for (l = 0; l < 2; l++) {
		kt_each (term, kt_as_list(c, kt_jv_get(pa, lists[l]), "%s.affinity.%s.%s", p->base,
					  which, lists[l])) {
			struct kt_jv t = l ? kt_jv_get(term.v, "podAffinityTerm") : term.v;
			struct kt_jv sel = kt_jv_get(t, "namespaceSelector");

#define APATH                                                                                  \
	kt_pctx_path(path, sizeof(path), "%s.affinity.%s.%s[%zu]%s", p->base, which, lists[l], \
		     term.i, l ? ".podAffinityTerm" : "")
			if (!kt_jv_absent(sel)) {
				char p2[KT_PCTX_PATH_MAX];

				kt_pctx_deny(c, "placement.cross-namespace-affinity",
					     kt_pctx_path(p2, sizeof(p2), "%s.namespaceSelector",
							  APATH),
					     "%s %s selects pods of other namespaces with "
					     "namespaceSelector; remove it to stay within namespace "
					     "'%s'",
					     p->what, which, c->ns);
			}
			if (!kt_jv_is(t, KT_J_OBJECT)) {
				malformed(c, APATH, "pod affinity term must be an object");
				continue;
			}
			kt_each (ns,
				 kt_as_list(c, kt_jv_get(t, "namespaces"),
					    "%s.affinity.%s.%s[%zu]%s.namespaces", p->base, which,
					    lists[l], term.i, l ? ".podAffinityTerm" : "")) {
				if (kt_jv_streq(ns.v, c->ns))
					continue;
				kt_pctx_deny(c, "placement.cross-namespace-affinity", APATH,
					     "%s %s selects pods of namespace '%s'; tenant '%s' may only "
					     "refer to its own namespace '%s'",
					     p->what, which,
					     kt_pctx_q(q, sizeof(q), kt_jv_str_or(ns.v, "?")),
					     c->t->name, c->ns);
				break;
			}
#undef APATH
		}
	}
}

static void judge_affinity(struct kt_pctx *c, const struct kt_podref *p)
{
	struct kt_jv aff = p->affinity, na;
	char path[KT_PCTX_PATH_MAX];

	if (kt_jv_absent(aff))
		return;
	if (kt_jv_ok(p->old_spec) && kt_jv_equal(aff, kt_jv_get(p->old_spec, "affinity")))
		return;
	if (!kt_jv_is(aff, KT_J_OBJECT)) {
		malformed(c, kt_pctx_path(path, sizeof(path), "%s.affinity", p->base),
			  "affinity must be an object");
		return;
	}
	na = kt_as_object(c, kt_jv_get(aff, "nodeAffinity"), "%s.affinity.nodeAffinity", p->base);
	judge_terms(c, p,
		    kt_jv_get(kt_as_object(
				      c,
				      kt_jv_get(na,
						"requiredDuringSchedulingIgnoredDuringExecution"),
				      "%s.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution",
				      p->base),
			      "nodeSelectorTerms"),
		    true);
	judge_terms(c, p, kt_jv_get(na, "preferredDuringSchedulingIgnoredDuringExecution"), false);
	judge_pod_affinity(c, p, kt_jv_get(aff, "podAffinity"), "podAffinity");
	judge_pod_affinity(c, p, kt_jv_get(aff, "podAntiAffinity"), "podAntiAffinity");
}

/*
 * Taints a tenant pod must never tolerate: the control plane's, the
 * critical-addons one, Karpenter's own (disrupted, unregistered, ...), a
 * cordon, and any other platform taint under the label domain.  The
 * not-ready/unreachable taints may be tolerated for NoExecute only: that is
 * what the DefaultTolerationSeconds admission plugin adds to every pod.
 */
static const char *system_taint(const struct kt_pctx *c, const char *key, struct kt_jv tol)
{
	static const char *const exact[] = {
		"node-role.kubernetes.io/control-plane",
		"node-role.kubernetes.io/master",
		"CriticalAddonsOnly",
		"node.kubernetes.io/unschedulable",
		"node.cloudprovider.kubernetes.io/uninitialized",
		"node.cloudprovider.kubernetes.io/shutdown",
	};
	size_t i, ld = strlen(c->cfg->global.label_domain);

	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (!strcmp(key, exact[i]))
			return "a system taint";
	if (!strncmp(key, "karpenter.sh/", 13) || !strncmp(key, "karpenter.k8s.aws/", 18))
		return "a Karpenter system taint";
	if (!strncmp(key, c->cfg->global.label_domain, ld) && key[ld] == '/')
		return "a platform taint";
	if (!strcmp(key, "node.kubernetes.io/not-ready") ||
	    !strcmp(key, "node.kubernetes.io/unreachable"))
		return kt_jv_streq(kt_jv_get(tol, "effect"), "NoExecute")
			       ? NULL
			       : "a node-condition taint (only effect NoExecute may be tolerated)";
	return NULL;
}

static bool has_toleration(struct kt_jv tols, struct kt_jv t)
{
	kt_each (o, tols)
		if (kt_jv_equal(o.v, t))
			return true;
	return false;
}

static void judge_tolerations(struct kt_pctx *c, const struct kt_podref *p)
{
	struct kt_jv tols = p->tolerations;
	struct kt_jv old = kt_jv_get(p->old_spec, "tolerations");
	char path[KT_PCTX_PATH_MAX], q1[80], q2[80];
	const char *pool = c->t->node_pool;

	if (kt_jv_absent(tols))
		return;
	if (!kt_jv_is(tols, KT_J_ARRAY)) {
		malformed(c, kt_pctx_path(path, sizeof(path), "%s.tolerations", p->base),
			  "tolerations must be a list");
		return;
	}
	kt_each (t, tols) {
		const char *key, *op, *value, *sys;

#define TOLPATH kt_pctx_path(path, sizeof(path), "%s.tolerations[%zu]", p->base, t.i)
		if (!kt_jv_is(t.v, KT_J_OBJECT)) {
			malformed(c, TOLPATH, "toleration must be an object");
			continue;
		}
		/* UPDATE: only tolerations the request adds are the sender's choice */
		if (kt_jv_ok(old) && has_toleration(old, t.v))
			continue;
		/* value and effect are read only where they matter: most tolerations are the API server's */
		key = kt_gets(t.v, "key");
		op = kt_gets(t.v, "operator");
		key = key ? key : "";
		op = op && *op ? op : "Equal";
		if (strcmp(op, "Equal") && strcmp(op, "Exists")) {
			malformed(c, TOLPATH, "toleration operator must be 'Equal' or 'Exists'");
			continue;
		}
		if (!*key) {
			if (!strcmp(op, "Exists"))
				kt_pctx_deny(c, "placement.wildcard-toleration", TOLPATH,
					     "%s tolerates every taint (empty key with operator "
					     "Exists); tolerate specific taints instead",
					     p->what);
			else
				malformed(c, TOLPATH,
					  "a toleration without key must use operator Exists");
			continue;
		}
		if (!strcmp(key, c->pool_key)) {
			if (!strcmp(op, "Exists"))
				kt_pctx_deny(c, "placement.wildcard-toleration", TOLPATH,
					     "%s tolerates every node pool ('%s' with operator "
					     "Exists); remove it, the platform adds the toleration for "
					     "'%s'",
					     p->what, key, pool);
			else if (!(value = kt_gets(t.v, "value")) || strcmp(value, pool))
				kt_pctx_deny(c, "placement.foreign-toleration", TOLPATH,
					     "%s tolerates node pool '%s' but tenant '%s' may only use "
					     "'%s'",
					     p->what, kt_pctx_q(q1, sizeof(q1), value ? value : ""),
					     c->t->name, pool);
			continue;
		}
		sys = system_taint(c, key, t.v);
		/* DaemonSet pods stay on a cordoned node: the controller adds this one */
		if (sys && p->daemon && !strcmp(key, "node.kubernetes.io/unschedulable") &&
		    !strcmp(op, "Exists") && kt_jv_streq(kt_jv_get(t.v, "effect"), "NoSchedule"))
			continue;
		if (sys)
			kt_pctx_deny(c, "placement.system-toleration", TOLPATH,
				     "%s tolerates '%s', %s; remove the toleration", p->what,
				     kt_pctx_q(q2, sizeof(q2), key), sys);
#undef TOLPATH
	}
}

/* "allowed: 'a', 'b'" or "remove it", cut to size. */
static const char *allowed_list(char *buf, size_t size, const char *dflt, const struct kt_strv *v)
{
	size_t i, n;

	if (!dflt && !v->n)
		return "remove it";
	n = (size_t)snprintf(buf, size, "allowed:");
	for (i = 0; i <= v->n && n < size; i++) {
		const char *s = i == 0 ? dflt : v->v[i - 1];

		if (s)
			n += (size_t)snprintf(buf + n, size - n, "%s '%s'",
					      n > sizeof("allowed:") - 1 ? "," : "", s);
	}
	return buf;
}

/* A per-tenant allow-list on one pod field (v, the spec's); always-denied values first. */
static void judge_allowed(struct kt_pctx *c, const struct kt_podref *p, const char *field,
			  struct kt_jv v, const char *rule, const struct kt_strv *allowed,
			  const char *dflt, const char *const *never, const char *hint)
{
	char path[KT_PCTX_PATH_MAX], q[80], list[256];
	const char *s;

#define FPATH kt_pctx_path(path, sizeof(path), "%s.%s", p->base, field)
	if (kt_jv_absent(v))
		return;
	s = kt_jv_str(v);
	if (!s) {
		malformed(c, FPATH, "must be a string");
		return;
	}
	if (!*s || (kt_jv_ok(p->old_spec) && kt_jv_equal(v, kt_jv_get(p->old_spec, field))))
		return;
	for (; never && *never; never++)
		if (!strcmp(s, *never)) {
			kt_pctx_deny(c, rule, FPATH,
				     "%s uses %s '%s', which is reserved for the cluster's system "
				     "components",
				     p->what, field, s);
			return;
		}
	if ((dflt && !strcmp(s, dflt)) || kt_strv_has(allowed, s))
		return;
	kt_pctx_deny(c, rule, FPATH, "%s uses %s '%s', which tenant '%s' may not use; %s%s",
		     p->what, field, kt_pctx_q(q, sizeof(q), s), c->t->name,
		     allowed_list(list, sizeof(list), dflt, allowed), hint ? hint : "");
#undef FPATH
}

static bool is_pool_toleration(const struct kt_pctx *c, struct kt_jv t);

/*
 * The validating pass sees the pod after the mutating one: a tenant pod
 * without its pool's nodeSelector means the mutation did not run (webhook
 * removed, or bypassed), and it would schedule onto any untainted node.
 */
static void judge_mutated(struct kt_pctx *c, const struct kt_podref *p)
{
	char path[KT_PCTX_PATH_MAX];
	bool tol = false;

	/* a selector for another pool is denied by judge_node_selector already */
	if (!kt_jv_ok(kt_jv_get(p->node_selector, c->pool_key)))
		kt_pctx_deny(c, "placement.missing-pool-selector",
			     kt_pctx_path(path, sizeof(path), "%s.nodeSelector", p->base),
			     "%s lacks nodeSelector '%s: %s', which the mutating webhook adds; "
			     "check that it is installed",
			     p->what, c->pool_key, c->t->node_pool);
	kt_each (t, p->tolerations)
		tol = tol || is_pool_toleration(c, t.v);
	if (!tol)
		kt_pctx_warn(c, "placement.missing-pool-toleration",
			     kt_pctx_path(path, sizeof(path), "%s.tolerations", p->base),
			     "%s does not tolerate the taint of node pool '%s' and will not "
			     "schedule",
			     p->what, c->t->node_pool);
}

void kt_placement_judge(struct kt_pctx *c, const struct kt_podref *p)
{
	static const char *const critical[] = { "system-node-critical", "system-cluster-critical",
						NULL };
	const struct kt_tenant *t = c->t;
	struct kt_jv pc;

	if (p->is_pod && c->op == KT_OP_CREATE && c->mode == KT_POLICY_VALIDATE)
		judge_mutated(c, p);
	judge_node_name(c, p);
	judge_node_selector(c, p);
	judge_affinity(c, p);
	judge_tolerations(c, p);
	/*
	 * The Priority admission plugin names the cluster's globalDefault class
	 * in every pod that names none, before webhooks run: that class is every
	 * tenant's (global.defaultPriorityClasses).  Only pods get it, so only
	 * a pod's message says where it may come from.
	 */
	pc = p->priority_class;
	if (!kt_strv_has(&c->cfg->global.default_priority_classes, kt_jv_str_or(pc, "")))
		judge_allowed(c, p, "priorityClassName", pc, "placement.priority-class",
			      &t->priority_classes, NULL, critical,
			      p->is_pod ? " (if the API server set it from the cluster's "
					  "globalDefault PriorityClass, list that class in "
					  "global.defaultPriorityClasses)"
					: NULL);
	judge_allowed(c, p, "runtimeClassName", p->runtime_class, "placement.runtime-class",
		      &t->runtime_classes, NULL, NULL, NULL);
	judge_allowed(c, p, "schedulerName", p->scheduler_name, "placement.scheduler-name",
		      &t->scheduler_names, "default-scheduler", NULL, NULL);
}

static bool is_pool_toleration(const struct kt_pctx *c, struct kt_jv t)
{
	const char *op, *effect;

	/* the key first: the API server's own tolerations are told apart there */
	if (!kt_jv_streq(kt_jv_get(t, "key"), c->pool_key) ||
	    !kt_jv_streq(kt_jv_get(t, "value"), c->t->node_pool))
		return false;
	op = kt_gets(t, "operator");
	effect = kt_gets(t, "effect");
	return (!op || !strcmp(op, "Equal")) &&
	       (!effect || !*effect || !strcmp(effect, "NoSchedule"));
}

/* The values the patch adds, written as JSON (the tenants file's strings, escaped anyway). */
static enum kt_rc pool_name(struct kt_buf *b, const struct kt_pctx *c)
{
	return kt_jw_str(b, c->t->node_pool);
}

static enum kt_rc pool_selector(struct kt_buf *b, const struct kt_pctx *c)
{
	enum kt_rc rc;

	if ((rc = kt_jw_lit(b, "{")) || (rc = kt_jw_str(b, c->pool_key)) ||
	    (rc = kt_jw_lit(b, ":")) || (rc = pool_name(b, c)))
		return rc;
	return kt_jw_lit(b, "}");
}

static enum kt_rc pool_toleration(struct kt_buf *b, const struct kt_pctx *c)
{
	enum kt_rc rc;

	if ((rc = kt_jw_lit(b, "{\"key\":")) || (rc = kt_jw_str(b, c->pool_key)) ||
	    (rc = kt_jw_lit(b, ",\"operator\":\"Equal\",\"value\":")) || (rc = pool_name(b, c)))
		return rc;
	return kt_jw_lit(b, ",\"effect\":\"NoSchedule\"}");
}

static enum kt_rc pool_tolerations(struct kt_buf *b, const struct kt_pctx *c)
{
	enum kt_rc rc;

	if ((rc = kt_jw_lit(b, "[")) || (rc = pool_toleration(b, c)))
		return rc;
	return kt_jw_lit(b, "]");
}

/*
 * Pod CREATE: add the pool's nodeSelector and toleration unless present.
 * Runs after the rules, so a selector of another pool was already denied
 * (a silent overwrite would hide the tenant's mistake).  Idempotent: a
 * second pass over the patched pod finds both and adds nothing.
 */
void kt_placement_mutate(struct kt_pctx *c, const struct kt_podref *p)
{
	struct kt_jv ns = p->node_selector;
	struct kt_jv tols = p->tolerations;
	bool found = false;

	if (!kt_jv_ok(kt_jv_get(ns, c->pool_key))) {
		if (kt_jv_absent(ns))
			kt_patch_add(c, "/spec/nodeSelector", NULL, pool_selector);
		else
			kt_patch_add(c, "/spec/nodeSelector", c->pool_key, pool_name);
	}
	kt_each (t, tols)
		found = found || is_pool_toleration(c, t.v);
	if (!found) {
		if (kt_jv_absent(tols))
			kt_patch_add(c, "/spec/tolerations", NULL, pool_tolerations);
		else
			kt_patch_add(c, "/spec/tolerations/-", NULL, pool_toleration);
	}
}
