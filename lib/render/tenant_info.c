/*
 * tenant_info.c: the `kubetenant-tenant` ConfigMap in each tenant's
 * namespace: what the dashboard shows a member and RBAC cannot tell them
 * (their pool, cost code, hostnames, Pod Security level, Service types,
 * the pool's instance prices).  Read through `platform-tenant`, which
 * already reads the namespace's ConfigMaps; nothing here is a secret: it
 * is the tenant's own entry in the tenants file.  Lists are one item per
 * line, prices a JSON object, so the page needs no YAML parser.
 */
#include <stdio.h>
#include "kt/buf.h"
#include "internal.h"

#define INFO_NAME "kubetenant-tenant"

static int set(json_t *data, const char *key, const char *value)
{
	return value && json_object_set_new(data, key, json_string(value));
}

static int set_buf(json_t *data, const char *key, struct kt_buf *b, int bad)
{
	bad = bad || json_object_set_new(data, key, json_stringn(b->buf, b->len));
	kt_buf_release(b);
	return bad;
}

static int add_lines(json_t *data, const char *key, const char *first, const struct kt_strv *v)
{
	struct kt_buf b = KT_BUF_INIT;
	int bad = first && kt_buf_addf(&b, "%s\n", first);
	size_t i;

	for (i = 0; i < v->n; i++)
		bad = bad || kt_buf_addf(&b, "%s\n", v->v[i]);
	return set_buf(data, key, &b, bad);
}

static int add_hostnames(const struct rctx *r, json_t *data, const struct kt_tenant *t)
{
	const char *prefix = r->cfg->global.tenant_host_prefix;
	struct kt_buf b = KT_BUF_INIT;
	int bad = prefix && *prefix &&
		  kt_buf_addf(&b, "%s.%s\n*.%s.%s\n", t->name, prefix, t->name, prefix);
	size_t i;

	for (i = 0; i < t->domains.n; i++)
		bad = bad || kt_buf_addf(&b, "%s\n", t->domains.v[i]);
	return set_buf(data, "hostnames", &b, bad);
}

/* The validated decimal text as JSON numbers, exactly as written in the tenants file. */
static int add_prices(json_t *data, const struct kt_nodepool *p)
{
	struct kt_buf b = KT_BUF_INIT;
	int bad = kt_buf_adds(&b, "{");
	size_t i;

	for (i = 0; i < p->prices.n; i++)
		bad = bad || kt_buf_addf(&b, "%s\"%s\":%s", i ? "," : "", p->prices.v[i].key,
					 p->prices.v[i].value);
	bad = bad || kt_buf_adds(&b, "}");
	return set_buf(data, "prices", &b, bad);
}

enum kt_rc kt_render_tenant_info(struct rctx *r, const struct kt_tenant *t)
{
	const struct kt_nodepool *p = t->pool;
	json_t *data = json_object();
	char pss[32];

	if (t->pod_security.minor == KT_PSS_LATEST)
		snprintf(pss, sizeof(pss), "%s:latest", kt_pss_level_name(t->pod_security.level));
	else
		snprintf(pss, sizeof(pss), "%s:v1.%d", kt_pss_level_name(t->pod_security.level),
			 t->pod_security.minor);
	if (!data || set(data, "tenant", t->name) || set(data, "nodePool", t->node_pool) ||
	    (p && set(data, "costCode", p->cost_code)) || set(data, "podSecurity", pss) ||
	    add_lines(data, "serviceTypes", "ClusterIP", &t->allow_service_types) ||
	    add_hostnames(r, data, t) || set(data, "poolLabel", r->key_pool) ||
	    (p && add_lines(data, "instanceTypes", NULL, &p->instance_types)) ||
	    (p && p->prices.n && add_prices(data, p))) {
		json_decref(data);
		return kt_emit(r, NULL);
	}
	return kt_emit(r, json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", "ConfigMap",
				    "metadata", kt_tenant_meta(r, INFO_NAME, t->name, t), "data",
				    data));
}
