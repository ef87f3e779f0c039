/*
 * fuzz_scope.c: the scoped-list filter (lib/proxy/scope.c) on hostile
 * upstream JSON.  The first byte picks namespaces or nodes (bit 0), list or
 * watch (bit 1) and the size of the watch's chunks (the rest); the other
 * bytes are the API server's answer.  Whatever comes in, what goes out
 * must hold, checked against an oracle written apart from the filter:
 *  - a list answer is JSON; every item and every Table row it keeps is a
 *    namespace of the member's tenants (team-a, shop) or a node of their
 *    pools (label kubetenant.io/node-pool pool-a or pool-shop);
 *  - no metadata.remainingItemCount survives;
 *  - a watch gives whole JSON events, one a line, each of which is a
 *    BOOKMARK, an ERROR, or an ADDED/MODIFIED/DELETED of such an object.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kt/scope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char tenants[] =
	"global: {tenantHostPrefix: apps.example.com, clusterName: fuzz}\n"
	"nodePools:\n"
	"  pool-a: {instances: {instanceTypes: [t3a.large]}, costCode: a}\n"
	"  pool-shop: {instances: {instanceTypes: [t3a.large]}, costCode: s}\n"
	"  pool-b: {instances: {instanceTypes: [t3a.large]}, costCode: b}\n"
	"tenants:\n"
	"  team-a: {nodePool: pool-a, operatorEdGroup: devs}\n"
	"  shop: {nodePool: pool-shop, readOnlyGroups: [readers]}\n"
	"  team-b: {nodePool: pool-b, operatorEdGroup: others}\n";

static bool allowed(bool nodes, const json_t *meta)
{
	const char *v = nodes ? json_string_value(json_object_get(json_object_get(meta, "labels"),
								  "kubetenant.io/node-pool"))
			      : json_string_value(json_object_get(meta, "name"));

	if (!v || !json_is_string(json_object_get(meta, "name")))
		return false;
	return nodes ? !strcmp(v, "pool-a") || !strcmp(v, "pool-shop")
		     : !strcmp(v, "team-a") || !strcmp(v, "shop");
}

/* A list or Table the filter let through. */
static void check_list(bool nodes, const json_t *v)
{
	const json_t *x;
	size_t i;

	if (json_object_get(json_object_get(v, "metadata"), "remainingItemCount"))
		abort();
	json_array_foreach (json_object_get(v, "items"), i, x)
		if (!allowed(nodes, json_object_get(x, "metadata")))
			abort();
	json_array_foreach (json_object_get(v, "rows"), i, x)
		if (!allowed(nodes, json_object_get(json_object_get(x, "object"), "metadata")))
			abort();
	if (!json_is_array(json_object_get(v, "items")) &&
	    !json_is_array(json_object_get(v, "rows")) &&
	    strcmp(json_string_value(json_object_get(v, "kind")), "Status"))
		abort();
}

static void check_events(bool nodes, const struct kt_buf *out)
{
	const char *s = out->buf, *nl;

	for (; s < out->buf + out->len; s = nl + 1) {
		json_t *v, *obj;
		const char *type;

		nl = memchr(s, '\n', (size_t)(out->buf + out->len - s));
		if (!nl || !(v = json_loadb(s, (size_t)(nl - s), 0, NULL)))
			abort();
		type = json_string_value(json_object_get(v, "type"));
		obj = json_object_get(v, "object");
		if (!type || !json_is_object(obj))
			abort();
		if (strcmp(type, "BOOKMARK") && strcmp(type, "ERROR")) {
			if (strcmp(type, "ADDED") && strcmp(type, "MODIFIED") &&
			    strcmp(type, "DELETED"))
				abort();
			if (json_object_get(obj, "rows")) {
				if (!json_array_size(json_object_get(obj, "rows")))
					abort();
				check_list(nodes, obj);
			} else if (!allowed(nodes, json_object_get(obj, "metadata"))) {
				abort();
			}
		}
		json_decref(v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kt_config *cfg;
	static char *groups[] = { "oidc:devs", "oidc:readers", "others" };
	struct kt_buf out = KT_BUF_INIT;
	struct kt_scope *s = NULL;
	bool nodes, watch;
	size_t step, i, n;

	if (!cfg && kt_config_parse(tenants, sizeof(tenants) - 1, "fuzz", &cfg, NULL, NULL))
		abort();
	if (!size)
		return 0;
	nodes = data[0] & 1;
	watch = data[0] & 2;
	step = (size_t)(data[0] >> 2) + 1;
	data++;
	size--;
	if (kt_scope_new(cfg, nodes ? KT_SCOPE_NODES : KT_SCOPE_NAMESPACES, groups, 3, &s))
		return 0;
	if (!watch) {
		if (kt_scope_filter_list(s, (const char *)data, size, &out) == KT_OK) {
			json_t *v = json_loadb(out.buf, out.len, 0, NULL);

			if (!v)
				abort();
			check_list(nodes, v);
			json_decref(v);
		}
	} else {
		struct kt_scope_watch w;

		kt_scope_watch_init(&w);
		for (i = 0; i < size; i += n) {
			n = size - i < step ? size - i : step;
			if (kt_scope_watch_feed(s, &w, (const char *)data + i, n, &out))
				break;
		}
		check_events(nodes, &out);
		kt_scope_watch_release(&w);
	}
	kt_buf_release(&out);
	kt_scope_free(s);
	return 0;
}
