/*
 * audit_drift.c: `audit`'s second output, the drift between the dump and
 * what `render` produces for the same tenants file and profile (kt/drift.h).
 *
 * A platform object a tenant cannot touch through the webhook can still be
 * changed by whoever holds cluster rights: a Namespace relabelled
 * privileged, a RoleBinding rebound to cluster-admin.  Judging such objects
 * as a CREATE says nothing (they are the platform's); comparing them with
 * what render says they must be does.
 *
 * Text: one line per finding, in the shape of a denial,
 *   file:line: namespace Kind/name: drift.changed: path: rendered X, live Y
 * with values as compact JSON (so "1" and 1 differ visibly), cut at
 * VALUE_MAX bytes; a missing object names the tenants file instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt.h"
#include "kt/drift.h"
#include "kt/policy.h"
#include "audit.h"

#define VALUE_MAX 200

struct ctx {
	struct audit_drift *a;
	const struct kt_manifest_set *set;
	json_t *last; /* the last object counted as changed */
};

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

void audit_put_object(const char *file, int line, json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *ns = str(meta, "namespace"), *name = str(meta, "name");

	if (line > 0)
		printf("%s:%d: ", file, line);
	else
		printf("%s: ", file);
	if (*ns) {
		kt_put_safe(ns);
		putchar(' ');
	}
	kt_put_safe(*str(obj, "kind") ? str(obj, "kind") : "(no kind)");
	putchar('/');
	kt_put_safe(*name ? name : "(unnamed)");
	printf(": ");
}

/*
 * A value as compact JSON, cut to VALUE_MAX bytes.  A long string is shown
 * from a little before the first byte where it differs from the other side
 * (a tenants file edited live differs somewhere in its middle).
 */
static void put_value(json_t *v, json_t *other)
{
	const char *s = json_string_value(v), *o = json_string_value(other);
	size_t from = 0, len;
	json_t *cut = NULL;
	char *text;

	if (!v) {
		printf("(not set)");
		return;
	}
	if (s && o && json_string_length(v) > VALUE_MAX / 2) {
		while (s[from] && s[from] == o[from])
			from++;
		from = from > 40 ? from - 40 : 0;
		while (from && ((unsigned char)s[from] & 0xc0) == 0x80) /* not inside a character */
			from--;
		len = strlen(s + from);
		cut = json_stringn(s + from, len > VALUE_MAX ? VALUE_MAX : len);
		/* cutting may split a character: jansson refuses it, show the start instead */
		if (!cut)
			from = 0;
	}
	text = json_dumps(cut ? cut : v, JSON_ENCODE_ANY | JSON_COMPACT);
	json_decref(cut);
	if (!text) {
		printf("(?)");
		return;
	}
	if (from)
		printf("...");
	if (strlen(text) > VALUE_MAX)
		memcpy(text + VALUE_MAX - 3, "...", 4);
	kt_put_safe(text);
	free(text);
}

static enum kt_rc on_drift(void *ctx, const struct kt_drift *d, struct kt_err *err)
{
	struct ctx *c = ctx;
	struct audit_drift *a = c->a;
	const struct kt_manifest_obj *mo = d->live != (size_t)-1 ? &c->set->objs[d->live] : NULL;
	const char *file = mo ? mo->file : a->tenants, *what = kt_drift_kind_name(d->kind);
	int line = mo ? mo->line : 0;

	switch (d->kind) {
	case KT_DRIFT_MISSING:
		a->missing++;
		break;
	case KT_DRIFT_UNEXPECTED:
		a->unexpected++;
		break;
	case KT_DRIFT_CHANGED:
		a->fields++;
		if (c->last != d->object)
			a->changed++;
		c->last = d->object;
		break;
	}
	if (a->json) {
		json_t *meta = json_object_get(d->object, "metadata");
		json_t *e =
			json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "drift", what, "file",
				  file, "line", line, "apiVersion", str(d->object, "apiVersion"),
				  "kind", str(d->object, "kind"), "namespace",
				  str(meta, "namespace"), "name", str(meta, "name"));

		if (!e || json_array_append_new(a->findings, e))
			return kt_err_set(err, KT_E_NOMEM, "out of memory");
		if (d->kind != KT_DRIFT_CHANGED)
			return KT_OK;
		if (json_object_set_new(e, "path", json_string(d->path)) ||
		    (d->rendered && json_object_set(e, "rendered", d->rendered)) ||
		    (d->value && json_object_set(e, "live", d->value)))
			return kt_err_set(err, KT_E_NOMEM, "out of memory");
		return KT_OK;
	}
	audit_put_object(file, line, d->object);
	printf("drift.%s: ", what);
	switch (d->kind) {
	case KT_DRIFT_MISSING:
		printf("rendered, not in the dump\n");
		break;
	case KT_DRIFT_UNEXPECTED:
		printf("labelled %s=%s but not rendered\n", KT_POLICY_MANAGED_BY_KEY,
		       KT_POLICY_MANAGED_BY_VALUE);
		break;
	case KT_DRIFT_CHANGED:
		kt_put_safe(d->path);
		printf(": rendered ");
		put_value(d->rendered, d->value);
		printf(", live ");
		put_value(d->value, d->rendered);
		putchar('\n');
		break;
	}
	return KT_OK;
}

int audit_drift(struct audit_drift *a, const struct kt_config *cfg,
		const struct kt_manifest_set *set)
{
	struct ctx c = { .a = a, .set = set };
	struct kt_err err = { 0 };
	json_t *rendered = NULL, **live = NULL;
	int rc = KT_EXIT_OK;
	size_t i;

	if (kt_render_list(cfg, &a->opts, &rendered, &err))
		goto fail;
	a->rendered = (unsigned)json_array_size(rendered);
	live = malloc((set->n ? set->n : 1) * sizeof(*live));
	if (!live) {
		kt_err_set(&err, KT_E_NOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < set->n; i++)
		live[i] = set->objs[i].obj;
	if (kt_drift_compare(rendered, live, set->n, cfg->global.label_domain, on_drift, &c, &err))
		goto fail;
	goto out;
fail:
	kt_error("%s", err.msg[0] ? err.msg : kt_rc_str(err.rc));
	rc = err.rc == KT_E_INVALID ? KT_EXIT_USAGE : KT_EXIT_INTERNAL;
out:
	free(live);
	json_decref(rendered);
	return rc;
}
