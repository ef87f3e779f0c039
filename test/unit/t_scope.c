/*
 * t_scope.c: tenant-scoped lists (lib/proxy/scope.c): which requests are
 * scoped, what a member's view holds, and the list and watch filters, on
 * answers shaped like the API server's (NamespaceList, meta.k8s.io Table
 * with PartialObjectMetadata rows, watch events with BOOKMARK and ERROR).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kt/scope.h"

#define TENANTS "test/fixtures/scope-tenants.yaml"

static struct kt_config *cfg;

/* a member of team-a (operatorEdGroup) and shop (readOnlyGroups), plus noise */
static char *member[] = { "oidc:team-a-devs", "oidc:shop-readers", "team-b-devs",
			  "system:authenticated" };
static char *nobody[] = { "oidc:someone-else", "system:authenticated" };

static int setup(void **state)
{
	(void)state;
	return kt_config_load(TENANTS, &cfg, NULL, NULL) == KT_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kt_config_free(cfg);
	return 0;
}

static struct kt_scope *view(enum kt_scope_res res, char **groups, size_t n)
{
	struct kt_scope *s = NULL;

	assert_int_equal(kt_scope_new(cfg, res, groups, n, &s), KT_OK);
	return s;
}

/* Filter a list; returns the output (static) or NULL when refused. */
static const char *list(const struct kt_scope *s, const char *in)
{
	static char text[8192];
	struct kt_buf out = KT_BUF_INIT;
	enum kt_rc rc = kt_scope_filter_list(s, in, strlen(in), &out);

	snprintf(text, sizeof(text), "%s", out.buf);
	kt_buf_release(&out);
	return rc ? NULL : text;
}

static void matching_requests(void **state)
{
	bool w;

	(void)state;
	assert_int_equal(kt_scope_match("GET", "/api/v1/namespaces", &w), KT_SCOPE_NAMESPACES);
	assert_false(w);
	assert_int_equal(kt_scope_match("GET", "/api/v1/namespaces?limit=500", &w),
			 KT_SCOPE_NAMESPACES);
	assert_int_equal(kt_scope_match("GET",
					"/api/v1/namespaces?labelSelector=a%3Db&watch=true&"
					"resourceVersion=10",
					&w),
			 KT_SCOPE_NAMESPACES);
	assert_true(w);
	assert_int_equal(kt_scope_match("GET", "/api/v1/nodes?watch=1", &w), KT_SCOPE_NODES);
	assert_true(w);
	assert_int_equal(kt_scope_match("GET", "/api/v1/nodes?watch=false", &w), KT_SCOPE_NODES);
	assert_false(w);
	assert_int_equal(kt_scope_match("GET", "/apis/storage.k8s.io/v1/storageclasses", &w),
			 KT_SCOPE_STORAGECLASSES);
	assert_int_equal(kt_scope_match("GET", "/apis/node.k8s.io/v1/runtimeclasses", &w),
			 KT_SCOPE_RUNTIMECLASSES);
	assert_int_equal(kt_scope_match("GET", "/apis/scheduling.k8s.io/v1/priorityclasses", &w),
			 KT_SCOPE_PRIORITYCLASSES);
	assert_int_equal(kt_scope_match("GET", "/apis/networking.k8s.io/v1/ingressclasses", &w),
			 KT_SCOPE_INGRESSCLASSES);
	/* one object, other verbs, other paths: forwarded as the member */
	assert_int_equal(kt_scope_match("GET", "/api/v1/namespaces/team-b", &w), KT_SCOPE_NONE);
	assert_int_equal(kt_scope_match("POST", "/api/v1/namespaces", &w), KT_SCOPE_NONE);
	assert_int_equal(kt_scope_match("DELETE", "/api/v1/namespaces", &w), KT_SCOPE_NONE);
	assert_int_equal(kt_scope_match("GET", "/api/v1/namespaces/", &w), KT_SCOPE_NONE);
	assert_int_equal(kt_scope_match("GET", "/api/v1/watch/namespaces", &w), KT_SCOPE_NONE);
	assert_int_equal(kt_scope_match("GET", "/api/v1/pods", &w), KT_SCOPE_NONE);
	assert_int_equal(kt_scope_match("GET", "/apis/storage.k8s.io/v1beta1/storageclasses", &w),
			 KT_SCOPE_NONE);
	/* a query the API server could read otherwise than we do */
	assert_int_equal(kt_scope_match("GET", "/api/v1/namespaces?w%61tch=true", &w),
			 KT_SCOPE_NONE);
	assert_int_equal(kt_scope_match("GET", "/api/v1/namespaces?watch=true&watch=false", &w),
			 KT_SCOPE_NONE);
	assert_int_equal(kt_scope_match("GET", "/api/v1/namespaces?watch=yes", &w), KT_SCOPE_NONE);
	assert_int_equal(kt_scope_match("GET", "/api/v1/namespaces?watch", &w), KT_SCOPE_NONE);
}

static const char ns_list[] =
	"{\"kind\":\"NamespaceList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"42\","
	"\"continue\":\"x\",\"remainingItemCount\":7},\"items\":["
	"{\"metadata\":{\"name\":\"team-a\",\"labels\":{\"kubetenant.io/tenant\":\"team-a\"}}},"
	"{\"metadata\":{\"name\":\"team-b\"}},"
	"{\"metadata\":{\"name\":\"shop\"}},"
	"{\"metadata\":{\"name\":\"kube-system\"}},"
	"{\"metadata\":{\"labels\":{\"kubetenant.io/tenant\":\"team-a\"}}},"
	"{\"metadata\":\"team-a\"},{\"name\":\"team-a\"},\"team-a\",null]}";

static void namespaces_of_the_members_tenants(void **state)
{
	struct kt_scope *s = view(KT_SCOPE_NAMESPACES, member, 4);
	const char *out;

	(void)state;
	assert_int_equal(kt_scope_tenants(s), 2);
	out = list(s, ns_list);
	assert_non_null(out);
	assert_string_equal(out, "{\"kind\":\"NamespaceList\",\"apiVersion\":\"v1\",\"metadata\":{"
				 "\"resourceVersion\":\"42\",\"continue\":\"x\"},\"items\":[{"
				 "\"metadata\":{\"name\":\"team-a\",\"labels\":{"
				 "\"kubetenant.io/tenant\":\"team-a\"}}},{\"metadata\":{\"name\":"
				 "\"shop\"}}]}");
	kt_scope_free(s);

	/* in no tenant (a group without the prefix does not count): empty, not an error */
	s = view(KT_SCOPE_NAMESPACES, nobody, 2);
	assert_int_equal(kt_scope_tenants(s), 0);
	assert_string_equal(list(s, ns_list),
			    "{\"kind\":\"NamespaceList\",\"apiVersion\":\"v1\",\"metadata\":{"
			    "\"resourceVersion\":\"42\",\"continue\":\"x\"},\"items\":[]}");
	kt_scope_free(s);
	s = view(KT_SCOPE_NAMESPACES, member + 2, 1);
	assert_int_equal(kt_scope_tenants(s), 0);
	kt_scope_free(s);
}

static void tables_keep_rows_by_their_object(void **state)
{
	struct kt_scope *s = view(KT_SCOPE_NAMESPACES, member, 2);
	const char *out;

	(void)state;
	out = list(s, "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":{"
		      "\"resourceVersion\":\"42\"},\"columnDefinitions\":[{\"name\":\"Name\"}],"
		      "\"rows\":[{\"cells\":[\"team-b\",\"Active\"],\"object\":{\"kind\":"
		      "\"PartialObjectMetadata\",\"metadata\":{\"name\":\"team-b\"}}},"
		      "{\"cells\":[\"team-a\",\"Active\"],\"object\":{\"kind\":"
		      "\"PartialObjectMetadata\",\"metadata\":{\"name\":\"team-a\"}}},"
		      "{\"cells\":[\"shop\",\"Active\"]}]}");
	assert_non_null(out);
	assert_string_equal(out,
			    "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\","
			    "\"metadata\":{\"resourceVersion\":\"42\"},\"columnDefinitions\":"
			    "[{\"name\":\"Name\"}],\"rows\":[{\"cells\":[\"team-a\",\"Active\"],"
			    "\"object\":{\"kind\":\"PartialObjectMetadata\",\"metadata\":{"
			    "\"name\":\"team-a\"}}}]}");
	kt_scope_free(s);
}

static void what_is_not_a_list_is_refused(void **state)
{
	struct kt_scope *s = view(KT_SCOPE_NAMESPACES, member, 2);
	const char *status = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
			     "\"status\":\"Failure\",\"message\":\"namespaces is forbidden\","
			     "\"reason\":\"Forbidden\",\"code\":403}";

	(void)state;
	assert_string_equal(list(s, status), status);
	assert_null(list(s, "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team-b\"}}"));
	assert_null(list(s, "{\"kind\":\"NamespaceList\",\"items\":{}}"));
	assert_null(list(s, "{\"kind\":\"NamespaceList\"}"));
	assert_null(list(s, "{\"kind\":\"Table\",\"rows\":null}"));
	assert_null(list(s, "{\"items\":[]}"));
	assert_null(list(s, "[{\"metadata\":{\"name\":\"team-a\"}}]"));
	assert_null(list(s, "{\"kind\":\"NamespaceList\",\"items\":[]"));
	assert_null(list(s, "\x0a\x08\x0a\x02v1\x12\x0dNamespaceList")); /* protobuf */
	/* two "items": which one a client reads is not ours to guess */
	assert_null(list(s, "{\"kind\":\"NamespaceList\",\"items\":[],\"items\":[{\"metadata\":"
			    "{\"name\":\"team-b\"}}]}"));
	kt_scope_free(s);
}

static void nodes_of_the_tenants_pools(void **state)
{
	struct kt_scope *s = view(KT_SCOPE_NODES, member, 2);

	(void)state;
	assert_string_equal(
		list(s, "{\"kind\":\"NodeList\",\"items\":["
			"{\"metadata\":{\"name\":\"n1\",\"labels\":{\"kubetenant.io/node-pool\":"
			"\"pool-a\"}}},"
			"{\"metadata\":{\"name\":\"n2\",\"labels\":{\"kubetenant.io/node-pool\":"
			"\"pool-b\"}}},"
			"{\"metadata\":{\"name\":\"n3\",\"labels\":{\"kubetenant.io/node-pool\":"
			"\"pool-shop\"}}},"
			"{\"metadata\":{\"name\":\"pool-a\"}},"
			"{\"metadata\":{\"name\":\"n5\",\"labels\":{\"other.io/node-pool\":"
			"\"pool-a\"}}}]}"),
		"{\"kind\":\"NodeList\",\"items\":[{\"metadata\":{\"name\":\"n1\",\"labels\":{"
		"\"kubetenant.io/node-pool\":\"pool-a\"}}},{\"metadata\":{\"name\":\"n3\","
		"\"labels\":{\"kubetenant.io/node-pool\":\"pool-shop\"}}}]}");
	kt_scope_free(s);
}

#define CLS(name, ann) "{\"metadata\":{\"name\":\"" name "\"" ann "}}"
#define DEFAULT_ING ",\"annotations\":{\"ingressclass.kubernetes.io/is-default-class\":\"true\"}"
#define DEFAULT_SC ",\"annotations\":{\"storageclass.kubernetes.io/is-default-class\":\"true\"}"

static void classes_the_tenants_may_use(void **state)
{
	struct kt_scope *s;

	(void)state;
	s = view(KT_SCOPE_PRIORITYCLASSES, member, 2);
	assert_string_equal(list(s,
				 "{\"kind\":\"PriorityClassList\",\"items\":[" CLS(
					 "team-a-high",
					 "") "," CLS("team-b-high",
						     "") "," CLS("standard",
								 "") "," CLS("system-node-critical",
									     "") "]}"),
			    "{\"kind\":\"PriorityClassList\",\"items\":[" CLS("team-a-high",
									      "") "," CLS("standard",
											  "") "]}");
	kt_scope_free(s);
	s = view(KT_SCOPE_RUNTIMECLASSES, member, 2);
	assert_string_equal(list(s, "{\"kind\":\"RuntimeClassList\",\"items\":[" CLS(
					    "kata", "") "," CLS("gvisor", "") "]}"),
			    "{\"kind\":\"RuntimeClassList\",\"items\":[" CLS("gvisor", "") "]}");
	kt_scope_free(s);
	/* team-a names nginx-a; shop names none, so it sees the default class only */
	s = view(KT_SCOPE_INGRESSCLASSES, member, 2);
	assert_string_equal(
		list(s, "{\"kind\":\"IngressClassList\",\"items\":[" CLS("nginx-a", "") "," CLS(
				"nginx-b", "") "," CLS("public", DEFAULT_ING) "]}"),
		"{\"kind\":\"IngressClassList\",\"items\":[" CLS("nginx-a",
								 "") "," CLS("public",
									     DEFAULT_ING) "]}");
	kt_scope_free(s);
	s = view(KT_SCOPE_INGRESSCLASSES, member, 1); /* team-a alone: its list only */
	assert_string_equal(list(s, "{\"kind\":\"IngressClassList\",\"items\":[" CLS(
					    "nginx-b", "") "," CLS("public", DEFAULT_ING) "]}"),
			    "{\"kind\":\"IngressClassList\",\"items\":[]}");
	kt_scope_free(s);
	/* the tenants file names no storage class: the cluster's default only */
	s = view(KT_SCOPE_STORAGECLASSES, member, 2);
	assert_string_equal(
		list(s, "{\"kind\":\"StorageClassList\",\"items\":[" CLS("gp3", DEFAULT_SC) "," CLS(
				"io2", "") "," CLS("gp2",
						   ",\"annotations\":{\"storageclass.kubernetes.io/"
						   "is-default-class\":\"false\"}") "]}"),
		"{\"kind\":\"StorageClassList\",\"items\":[" CLS("gp3", DEFAULT_SC) "]}");
	kt_scope_free(s);
	/* in no tenant: not even the default */
	s = view(KT_SCOPE_STORAGECLASSES, nobody, 2);
	assert_string_equal(list(s,
				 "{\"kind\":\"StorageClassList\",\"items\":[" CLS("gp3",
										  DEFAULT_SC) "]}"),
			    "{\"kind\":\"StorageClassList\",\"items\":[]}");
	kt_scope_free(s);
	s = view(KT_SCOPE_PRIORITYCLASSES, nobody, 2);
	assert_string_equal(list(s, "{\"kind\":\"PriorityClassList\",\"items\":[" CLS("standard",
										      "") "]}"),
			    "{\"kind\":\"PriorityClassList\",\"items\":[]}");
	kt_scope_free(s);
}

#define EV(type, name)                                                                             \
	"{\"type\":\"" type "\",\"object\":{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" name \
	"\"}}}"

static void watches_are_filtered_event_by_event(void **state)
{
	static const char stream[] = EV("ADDED", "team-a") "\n" EV("ADDED", "team-b") "\n" EV(
		"MODIFIED",
		"shop") "\n{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Namespace\",\"metadata\":{"
			"\"resourceVersion\":\"50\",\"annotations\":{\"k8s.io/initial-events-end\":"
			"\"true\"}}}}" EV("DELETED", "team-b") "\n" EV(
				"SURPRISE",
				"team-a") "\n{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":"
					  "\"Expired\",\"message\":\"too old resource version: 1 (50)\"}}\n";
	static const char want[] = EV("ADDED", "team-a") "\n" EV(
		"MODIFIED",
		"shop") "\n{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Namespace\",\"metadata\":{"
			"\"resourceVersion\":\"50\",\"annotations\":{\"k8s.io/initial-events-end\":"
			"\"true\"}}}}\n{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
			"\"reason\":\"Expired\",\"message\":\"too old resource version: 1 (50)\"}}\n";
	struct kt_scope *s = view(KT_SCOPE_NAMESPACES, member, 2);
	size_t step, i, n;

	(void)state;
	/* whatever the chunks, the same events come out */
	for (step = 1; step <= sizeof(stream); step += step < 8 ? 1 : 61) {
		struct kt_scope_watch w;
		struct kt_buf out = KT_BUF_INIT;

		kt_scope_watch_init(&w);
		for (i = 0; i < sizeof(stream) - 1; i += n) {
			n = sizeof(stream) - 1 - i < step ? sizeof(stream) - 1 - i : step;
			assert_int_equal(kt_scope_watch_feed(s, &w, stream + i, n, &out), KT_OK);
		}
		assert_string_equal(out.buf, want);
		kt_buf_release(&out);
		kt_scope_watch_release(&w);
	}
	kt_scope_free(s);
}

static void table_watches_keep_their_column_definitions(void **state)
{
	struct kt_scope *s = view(KT_SCOPE_NAMESPACES, member, 2);
	struct kt_scope_watch w;
	struct kt_buf out = KT_BUF_INIT;
	/* the first event carries the columns, for a namespace the member may not see */
	static const char ev[] =
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\","
		"\"metadata\":{},\"columnDefinitions\":[{\"name\":\"Name\"}],\"rows\":[{\"cells\":"
		"[\"team-b\"],\"object\":{\"metadata\":{\"name\":\"team-b\"}}}]}}\n"
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\","
		"\"metadata\":{},\"columnDefinitions\":null,\"rows\":[{\"cells\":[\"team-a\"],"
		"\"object\":{\"metadata\":{\"name\":\"team-a\"}}}]}}\n";

	(void)state;
	kt_scope_watch_init(&w);
	assert_int_equal(kt_scope_watch_feed(s, &w, ev, sizeof(ev) - 1, &out), KT_OK);
	assert_string_equal(out.buf,
			    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Table\",\"apiVersion\":"
			    "\"meta.k8s.io/v1\",\"metadata\":{},\"columnDefinitions\":[{\"name\":"
			    "\"Name\"}],\"rows\":[{\"cells\":[\"team-a\"],\"object\":{\"metadata\":{"
			    "\"name\":\"team-a\"}}}]}}\n");
	kt_buf_release(&out);
	kt_scope_watch_release(&w);
	kt_scope_free(s);
}

static void broken_streams_end(void **state)
{
	static const char *const bad[] = {
		"[" EV("ADDED", "team-a") "]",
		"garbage " EV("ADDED", "team-a"),
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Namespace\",\"metadata\":}}",
		"{\"type\":\"ADDED\"}",
		"{\"type\":\"ADDED\",\"object\":{},\"object\":{\"metadata\":{\"name\":\"team-b\"}}}",
	};
	struct kt_scope *s = view(KT_SCOPE_NAMESPACES, member, 2);
	struct kt_scope_watch w;
	struct kt_buf out = KT_BUF_INIT;
	char *big;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kt_scope_watch_init(&w);
		kt_buf_reset(&out);
		assert_int_equal(kt_scope_watch_feed(s, &w, bad[i], strlen(bad[i]), &out),
				 KT_E_PARSE);
		assert_null(strstr(out.buf, "team-b"));
		kt_scope_watch_release(&w);
	}
	/* an event never ending is bounded */
	big = malloc(KT_SCOPE_MAX_EVENT + 2);
	assert_non_null(big);
	big[0] = '{';
	big[1] = '"';
	memset(big + 2, 'a', KT_SCOPE_MAX_EVENT);
	kt_scope_watch_init(&w);
	assert_int_equal(kt_scope_watch_feed(s, &w, big, KT_SCOPE_MAX_EVENT + 2, &out), KT_E_LIMIT);
	kt_scope_watch_release(&w);
	free(big);
	kt_buf_release(&out);
	kt_scope_free(s);
}

static void accept_asks_for_json_only(void **state)
{
	struct kt_buf b = KT_BUF_INIT;

	(void)state;
	assert_int_equal(kt_scope_accept("application/json;as=Table;v=v1;g=meta.k8s.io,"
					 "application/json;as=Table;v=v1beta1;g=meta.k8s.io, "
					 "application/json",
					 &b),
			 KT_OK);
	assert_string_equal(b.buf, "application/json;as=Table;v=v1;g=meta.k8s.io,"
				   "application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
				   "application/json");
	kt_scope_accept("application/vnd.kubernetes.protobuf,application/json", &b);
	assert_string_equal(b.buf, "application/json");
	kt_scope_accept("application/vnd.kubernetes.protobuf;as=Table", &b);
	assert_string_equal(b.buf, "application/json");
	kt_scope_accept("application/jsonx, application/yaml", &b);
	assert_string_equal(b.buf, "application/json");
	kt_scope_accept(NULL, &b);
	assert_string_equal(b.buf, "application/json");
	kt_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matching_requests),
		cmocka_unit_test(namespaces_of_the_members_tenants),
		cmocka_unit_test(tables_keep_rows_by_their_object),
		cmocka_unit_test(what_is_not_a_list_is_refused),
		cmocka_unit_test(nodes_of_the_tenants_pools),
		cmocka_unit_test(classes_the_tenants_may_use),
		cmocka_unit_test(watches_are_filtered_event_by_event),
		cmocka_unit_test(table_watches_keep_their_column_definitions),
		cmocka_unit_test(broken_streams_end),
		cmocka_unit_test(accept_asks_for_json_only),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
