/*
 * quota.c: the tenant's ResourceQuota (`tenant-quota`, from `quota`) and
 * LimitRange (`tenant-limits`, from `limits`), only when configured.
 *
 * The LimitRange gives containers that ask for nothing a default request
 * and limit, so a quota on requests.cpu does not reject every pod that
 * forgot to set one.
 */
#include "internal.h"

static int set_kvv(json_t *o, const char *key, const struct kt_kvv *v)
{
	return v->n && json_object_set_new(o, key, kt_kvv_json(v));
}

enum kt_rc kt_render_quota(struct rctx *r, const struct kt_tenant *t)
{
	const struct kt_limits *l = &t->limits;
	json_t *item;
	enum kt_rc rc;

	if (t->quota.n) {
		rc = kt_emit(r, json_pack("{s:s, s:s, s:o, s:{s:o}}", "apiVersion", "v1", "kind",
					  "ResourceQuota", "metadata",
					  kt_tenant_meta(r, "tenant-quota", t->name, t), "spec",
					  "hard", kt_kvv_json(&t->quota)));
		if (rc)
			return rc;
	}
	if (!t->has_limits || l->def.n + l->def_request.n + l->max.n + l->min.n == 0)
		return KT_OK;
	item = json_pack("{s:s}", "type", "Container");
	if (item && (set_kvv(item, "default", &l->def) ||
		     set_kvv(item, "defaultRequest", &l->def_request) ||
		     set_kvv(item, "max", &l->max) || set_kvv(item, "min", &l->min))) {
		json_decref(item);
		item = NULL;
	}
	return kt_emit(r, json_pack("{s:s, s:s, s:o, s:{s:[o]}}", "apiVersion", "v1", "kind",
				    "LimitRange", "metadata",
				    kt_tenant_meta(r, "tenant-limits", t->name, t), "spec",
				    "limits", item));
}
