/*
 * drift.c: rendered platform objects against the live ones (kt/drift.h).
 *
 * The comparison is a walk over the rendered value only: what render does
 * not say is the API server's or a controller's, and a live object carries
 * plenty of that.  The walk is strict where an extra key would change what
 * an object means (a ClusterRole rule, a label selector) and there no key
 * may be added; the rule is per subtree, so a selector inside a Deployment
 * is exact while the rest of the Deployment may carry defaults.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt/drift.h"
#include "kt/policy.h"

/* Subtrees that must match exactly: any key added live changes their meaning. */
static const char *const exact_keys[] = {
	"selector",       "matchLabels",  "podSelector", "namespaceSelector",
	"objectSelector", "nodeSelector", "data",        "binaryData",
	"hard",
};

/* Top-level fields of RBAC objects: no defaults, every key is a grant. */
static const char *const rbac_keys[] = { "rules", "subjects", "roleRef", "aggregationRule" };

/* Maps of resource quantities, compared by value. */
static const char *const quantity_maps[] = {
	"hard",           "limits", "requests", "default",
	"defaultRequest", "max",    "min",      "maxLimitRequestRatio"
};

/* Webhook fields the API server defaults to "everything"; anything else narrows the webhook. */
static const char *const webhook_empty[] = { "namespaceSelector", "objectSelector",
					     "matchConditions" };

struct walk {
	kt_drift_fn fn;
	void *ctx;
	struct kt_err *err;
	struct kt_drift d;
	const char *label_domain;
	char path[KT_DRIFT_PATH_MAX];
	size_t len;
};

static bool in(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, v[i]))
			return true;
	return false;
}
#define IN(s, v) in(s, v, sizeof(v) / sizeof(v[0]))

const char *kt_drift_kind_name(enum kt_drift_kind k)
{
	switch (k) {
	case KT_DRIFT_MISSING:
		return "missing";
	case KT_DRIFT_CHANGED:
		return "changed";
	case KT_DRIFT_UNEXPECTED:
		return "unexpected";
	}
	return "?";
}

/* Append to the path; returns the length to restore.  A path that does not fit ends in "...". */
static size_t push(struct walk *w, const char *fmt, const char *s, size_t i)
{
	size_t old = w->len, room = sizeof(w->path) - w->len;
	int n;

	if (room <= 4) /* already cut */
		return old;
	n = s ? snprintf(w->path + w->len, room, fmt, s) : snprintf(w->path + w->len, room, fmt, i);
	if (n < 0 || (size_t)n >= room) {
		memcpy(w->path + sizeof(w->path) - 4, "...", 4);
		w->len = sizeof(w->path) - 1;
	} else {
		w->len += (size_t)n;
	}
	return old;
}

static void pop(struct walk *w, size_t len)
{
	w->len = len;
	w->path[len] = '\0';
}

/* A key as a path step: ".name" when it reads as one, else "[key]" (labels, annotations). */
static size_t push_key(struct walk *w, const char *key)
{
	bool plain = *key != '\0';

	for (const char *p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			plain = false;
	if (plain)
		return push(w, w->len ? ".%s" : "%s", key, 0);
	return push(w, "[%s]", key, 0);
}

static enum kt_rc changed(struct walk *w, json_t *rendered, json_t *value)
{
	w->d.kind = KT_DRIFT_CHANGED;
	w->d.path = w->path;
	w->d.rendered = rendered;
	w->d.value = value;
	return w->fn(w->ctx, &w->d, w->err);
}

/*
 * A Kubernetes quantity ("500m", "1.5Gi", "1e3") as a number; false when s
 * is not one.  Only for comparing: the API server rewrites quantities in
 * canonical form, so "0.5" applied comes back as "500m".
 */
static bool quantity(const char *s, long double *out)
{
	static const struct {
		const char *suffix;
		long double mult;
	} suffixes[] = {
		{ "Ki", 0x1p10L }, { "Mi", 0x1p20L }, { "Gi", 0x1p30L }, { "Ti", 0x1p40L },
		{ "Pi", 0x1p50L }, { "Ei", 0x1p60L }, { "n", 1e-9L },    { "u", 1e-6L },
		{ "m", 1e-3L },    { "", 1 },         { "k", 1e3L },     { "M", 1e6L },
		{ "G", 1e9L },     { "T", 1e12L },    { "P", 1e15L },    { "E", 1e18L },
	};
	const char *p = s;
	char num[64];
	size_t n, i;
	long double v;

	if (*p == '+' || *p == '-')
		p++;
	n = strspn(p, "0123456789");
	if (p[n] == '.')
		n += 1 + strspn(p + n + 1, "0123456789");
	if (n == 0 || (n == 1 && *p == '.') || (size_t)(p - s) + n >= sizeof(num))
		return false;
	memcpy(num, s, (size_t)(p - s) + n);
	num[(size_t)(p - s) + n] = '\0';
	v = strtold(num, NULL);
	p += n;
	if ((*p == 'e' || *p == 'E') && p[1]) {
		char *end;
		long e = strtol(p + 1, &end, 10);

		if (*end || e < -30 || e > 30 || end == p + 1)
			return false;
		*out = v * powl(10, e);
		return true;
	}
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (!strcmp(p, suffixes[i].suffix)) {
			*out = v * suffixes[i].mult;
			return true;
		}
	return false;
}

static bool same_quantity(json_t *a, json_t *b)
{
	long double x, y;

	if (!json_is_string(a) || !json_is_string(b) || !quantity(json_string_value(a), &x) ||
	    !quantity(json_string_value(b), &y))
		return false;
	return fabsl(x - y) <= 1e-12L * fmaxl(fabsl(x), fabsl(y));
}

/* A label only the platform may set: an extra one live is drift. */
static bool platform_label(const struct walk *w, const char *key)
{
	size_t n = strlen(w->label_domain);

	return !strncmp(key, "pod-security.kubernetes.io/", 27) ||
	       !strcmp(key, KT_POLICY_MANAGED_BY_KEY) ||
	       (!strncmp(key, w->label_domain, n) && key[n] == '/');
}

static bool empty(json_t *v)
{
	return json_is_null(v) || ((json_is_object(v) || json_is_array(v)) &&
				   !json_object_size(v) && !json_array_size(v));
}

/*
 * Compare one rendered value r with the live value l (NULL when absent).
 * exact: no key may be added live (this subtree has no defaults).
 * key: the key r sits under ("" in an array of arrays); its children are
 * labels when it is "labels", quantities when it names a quantity map.
 */
static enum kt_rc walk(struct walk *w, json_t *r, json_t *l, bool exact, bool qty, const char *key)
{
	enum kt_rc rc = KT_OK;

	if (!l)
		return changed(w, r, NULL);
	if (json_is_object(r)) {
		bool labels = !strcmp(key, "labels"), q = IN(key, quantity_maps);
		const char *k;
		json_t *rv, *lv;

		if (!json_is_object(l))
			return changed(w, r, l);
		json_object_foreach (r, k, rv) {
			size_t at = push_key(w, k);

			rc = walk(w, rv, json_object_get(l, k), exact || IN(k, exact_keys), q, k);
			pop(w, at);
			if (rc)
				return rc;
		}
		json_object_foreach (l, k, lv) {
			size_t at;

			if (json_object_get(r, k) || (!exact && !(labels && platform_label(w, k))))
				continue;
			at = push_key(w, k);
			rc = changed(w, NULL, lv);
			pop(w, at);
			if (rc)
				return rc;
		}
		return KT_OK;
	}
	if (json_is_array(r)) {
		if (!json_is_array(l) || json_array_size(l) != json_array_size(r))
			return changed(w, r, l);
		for (size_t i = 0; i < json_array_size(r) && !rc; i++) {
			size_t at = push(w, "[%zu]", NULL, i);

			rc = walk(w, json_array_get(r, i), json_array_get(l, i), exact, false, key);
			pop(w, at);
		}
		return rc;
	}
	if (json_equal(r, l) || (qty && same_quantity(r, l)))
		return KT_OK;
	return changed(w, r, l);
}

static enum kt_rc webhooks(struct walk *w, json_t *r, json_t *l)
{
	json_t *rw = json_object_get(r, "webhooks"), *lw = json_object_get(l, "webhooks");
	enum kt_rc rc = KT_OK;

	if (!json_is_array(rw) || !json_is_array(lw) || json_array_size(rw) != json_array_size(lw))
		return KT_OK; /* the walk reported the whole array */
	for (size_t i = 0; i < json_array_size(rw) && !rc; i++)
		for (size_t j = 0; j < sizeof(webhook_empty) / sizeof(*webhook_empty) && !rc; j++) {
			json_t *lv = json_object_get(json_array_get(lw, i), webhook_empty[j]);
			size_t at;

			if (json_object_get(json_array_get(rw, i), webhook_empty[j]) || !lv ||
			    empty(lv))
				continue;
			at = push(w, "webhooks[%zu]", NULL, i);
			push(w, ".%s", webhook_empty[j], 0);
			rc = changed(w, NULL, lv);
			pop(w, at);
		}
	return rc;
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static bool suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && !strcmp(s + n - m, suf);
}

/* One rendered object against its live counterpart, field by field. */
static enum kt_rc compare(struct walk *w, json_t *r, json_t *l)
{
	const char *kind = str(r, "kind"), *av = str(r, "apiVersion"), *k;
	bool rbac = !strncmp(av, "rbac.authorization.k8s.io/", 26);
	enum kt_rc rc = KT_OK;
	json_t *rv;

	pop(w, 0);
	json_object_foreach (r, k, rv) {
		size_t at;

		if (!strcmp(k, "apiVersion") || !strcmp(k, "kind"))
			continue;
		at = push_key(w, k);
		if (!strcmp(k, "metadata")) {
			json_t *lm = json_object_get(l, k);
			const char *mk;
			json_t *mv;

			/* the key matched name and namespace already */
			json_object_foreach (rv, mk, mv) {
				size_t at2;

				if (!strcmp(mk, "name") || !strcmp(mk, "namespace"))
					continue;
				at2 = push_key(w, mk);
				rc = walk(w, mv, json_object_get(lm, mk), false, false, mk);
				pop(w, at2);
				if (rc)
					break;
			}
		} else {
			rc = walk(w, rv, json_object_get(l, k),
				  (rbac && IN(k, rbac_keys)) || IN(k, exact_keys), false, k);
		}
		pop(w, at);
		if (rc)
			return rc;
	}
	if (!strcmp(av, "admissionregistration.k8s.io/v1") && suffix(kind, "WebhookConfiguration"))
		rc = webhooks(w, r, l);
	return rc;
}

/* "group\nKind\nnamespace\nname": no part can contain a newline in a valid object. */
static int key(char *buf, size_t size, json_t *o, bool with_ns)
{
	const char *av = str(o, "apiVersion"), *slash = strchr(av, '/');
	json_t *meta = json_object_get(o, "metadata");
	int n = snprintf(buf, size, "%.*s\n%s\n%s\n%s", slash ? (int)(slash - av) : 0, av,
			 str(o, "kind"), with_ns ? str(meta, "namespace") : "", str(meta, "name"));

	return n > 0 && (size_t)n < size ? 0 : -1;
}

/*
 * An object with the platform's label that no controller made.  Copies of
 * labels that are not: a controller's children (ownerReferences), the
 * Endpoints the endpoints controller keeps for a Service, metrics-server's
 * PodMetrics (a pod's labels), and the crd.projectcalico.org object the
 * Calico API server stores a projectcalico.org policy in (same name, or
 * "default." and the name for the default tier).
 */
static bool ours(json_t *rendered_idx, json_t *o)
{
	json_t *meta = json_object_get(o, "metadata");
	const char *mb = str(json_object_get(meta, "labels"), KT_POLICY_MANAGED_BY_KEY);
	const char *av = str(o, "apiVersion"), *kind = str(o, "kind"), *name = str(meta, "name");
	const char *ns = str(meta, "namespace");
	char k[1024];

	if (strcmp(mb, KT_POLICY_MANAGED_BY_VALUE) || !strncmp(av, "metrics.k8s.io/", 15))
		return false;
	/*
	 * Anyone can write an ownerReference; no controller makes grants or
	 * webhook configurations, so those stay unexpected whatever they claim.
	 */
	if (json_array_size(json_object_get(meta, "ownerReferences")))
		return !strncmp(av, "rbac.authorization.k8s.io/", 26) ||
		       !strncmp(av, "admissionregistration.k8s.io/", 29);
	if (!strcmp(av, "v1") && !strcmp(kind, "Endpoints")) {
		snprintf(k, sizeof(k), "\nService\n%s\n%s", ns, name);
		return !json_object_get(rendered_idx, k);
	}
	if (!strncmp(av, "crd.projectcalico.org/", 22)) {
		if (!strncmp(name, "default.", 8))
			name += 8;
		snprintf(k, sizeof(k), "projectcalico.org\n%s\n%s\n%s", kind, ns, name);
		return !json_object_get(rendered_idx, k);
	}
	return true;
}

enum kt_rc kt_drift_compare(json_t *rendered, json_t *const *live, size_t n,
			    const char *label_domain, kt_drift_fn fn, void *ctx, struct kt_err *err)
{
	struct walk w = { .fn = fn, .ctx = ctx, .err = err, .label_domain = label_domain };
	json_t *idx = json_object(), *alt = json_object(), *r;
	size_t nr = json_array_size(rendered), i;
	bool *seen = calloc(nr ? nr : 1, sizeof(*seen));
	enum kt_rc rc = KT_OK;
	char k[1024];

	if (!idx || !alt || !seen) {
		rc = kt_err_set(err, KT_E_NOMEM, "out of memory comparing with render");
		goto out;
	}
	json_array_foreach (rendered, i, r) {
		if (key(k, sizeof(k), r, true) ||
		    json_object_set_new(idx, k, json_integer((json_int_t)i)))
			goto nomem;
		/* the same object seen as cluster-scoped, if its kind turns out to be */
		if (*str(json_object_get(r, "metadata"), "namespace") &&
		    (key(k, sizeof(k), r, false) ||
		     (!json_object_get(alt, k) &&
		      json_object_set_new(alt, k, json_integer((json_int_t)i)))))
			goto nomem;
	}
	for (i = 0; i < n && !rc; i++) {
		json_t *hit = NULL;

		if (!key(k, sizeof(k), live[i], true)) {
			hit = json_object_get(idx, k);
			if (!hit && !*str(json_object_get(live[i], "metadata"), "namespace"))
				hit = json_object_get(alt, k);
		}
		w.d = (struct kt_drift){ .live = i, .path = "" };
		if (hit) {
			size_t at = (size_t)json_integer_value(hit);

			seen[at] = true;
			w.d.object = json_array_get(rendered, at);
			rc = compare(&w, w.d.object, live[i]);
		} else if (ours(idx, live[i])) {
			w.d.kind = KT_DRIFT_UNEXPECTED;
			w.d.object = live[i];
			rc = fn(ctx, &w.d, err);
		}
	}
	for (i = 0; i < nr && !rc; i++)
		if (!seen[i]) {
			w.d = (struct kt_drift){ .kind = KT_DRIFT_MISSING,
						 .live = (size_t)-1,
						 .path = "",
						 .object = json_array_get(rendered, i) };
			rc = fn(ctx, &w.d, err);
		}
	goto out;
nomem:
	rc = kt_err_set(err, KT_E_NOMEM, "out of memory comparing with render");
out:
	free(seen);
	json_decref(idx);
	json_decref(alt);
	return rc;
}
