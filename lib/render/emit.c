/*
 * emit.c: the helpers every output kind shares: handing an object to the
 * caller (emit) and the metadata, selectors and small conversions the
 * per-kind files build their objects from.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

enum kt_rc kt_emit(struct rctx *r, json_t *obj)
{
	enum kt_rc rc;

	if (!obj)
		return kt_err_set(r->err, KT_E_NOMEM, "out of memory building objects");
	rc = r->fn(r->fn_ctx, obj, r->err);
	json_decref(obj);
	return rc;
}

json_t *kt_meta(const char *name, const char *ns, json_t *extra)
{
	json_t *labels = json_pack("{s:s}", KT_MANAGED_BY_KEY, KT_MANAGED_BY);

	if (labels && extra && json_object_update(labels, extra)) {
		json_decref(labels);
		labels = NULL;
	}
	json_decref(extra);
	if (!labels)
		return NULL;
	return json_pack("{s:s, s:s*, s:o}", "name", name, "namespace", ns, "labels", labels);
}

json_t *kt_tenant_meta(const struct rctx *r, const char *name, const char *ns,
		       const struct kt_tenant *t)
{
	return kt_meta(name, ns, json_pack("{s:s}", r->key_tenant, t->name));
}

json_t *kt_strv_json(const struct kt_strv *v)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < v->n; i++)
		if (json_array_append_new(a, json_string(v->v[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *kt_kvv_json(const struct kt_kvv *v)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; o && i < v->n; i++)
		if (json_object_set_new(o, v->v[i].key, json_string(v->v[i].value))) {
			json_decref(o);
			return NULL;
		}
	return o;
}

json_t *kt_group_name(const struct rctx *r, const char *group)
{
	size_t lp = strlen(r->group_prefix), lg = strlen(group);
	char *s = malloc(lp + lg + 1);
	json_t *j;

	if (!s)
		return NULL;
	memcpy(s, r->group_prefix, lp);
	memcpy(s + lp, group, lg + 1);
	j = json_stringn(s, lp + lg);
	free(s);
	return j;
}

json_t *kt_tenant_ns_selector(const struct rctx *r)
{
	return json_pack("{s:{s:s}}", "matchLabels", r->key_purpose, KT_PURPOSE_TENANT);
}
