/*
 * t_podkinds.c: `check --pod-security` (the manifest reader) and the policy
 * engine find the pod of exactly the same kinds, because both read the one
 * table of kt/podkinds.h.  Every row is judged both ways with a pod that
 * violates baseline (hostNetwork): the reader must find that spec, and the
 * engine must deny it for the baseline tenant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "kt/manifest.h"
#include "kt/podkinds.h"
#include "kt/policy.h"
#include "policy_fixture.h"

/* An object of the row's kind whose pod runs on the host network. */
static json_t *object_of(const char *group, const char *kind, const char *const *keys,
			 json_t **spec)
{
	char api[300];
	json_t *obj, *at, *pod;
	size_t i;

	snprintf(api, sizeof(api), "%s%sv1", group, *group ? "/" : "");
	obj = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", api, "kind", kind, "metadata", "name",
			"x");
	pod = json_pack("{s:{s:{s:s}}, s:{s:b, s:[{s:s, s:s}]}}", "metadata", "labels", "app", "x",
			"spec", "hostNetwork", 1, "containers", "name", "c", "image",
			"ghcr.io/acme/x:1");
	assert_non_null(obj);
	assert_non_null(pod);
	*spec = json_object_get(pod, "spec");
	if (!keys[0]) { /* a Pod: the object is the pod */
		json_object_set(obj, "spec", *spec);
		json_decref(pod);
		*spec = json_object_get(obj, "spec");
		return obj;
	}
	at = obj;
	for (i = 0; keys[i + 1]; i++) {
		json_t *next = json_object();

		json_object_set_new(at, keys[i], next);
		at = next;
	}
	json_object_set_new(at, keys[i], pod);
	return obj;
}

static bool engine_denies(json_t *obj)
{
	struct kt_policy_request req = {
		.operation = "CREATE", .ns = "team-a", .user = "dev@team.example.org", .object = obj
	};
	struct kt_decision d;
	struct kt_err err = { 0 };
	bool denied = false;
	size_t i;

	assert_int_equal(kt_policy_decide(kt_policy_fixture(), &req, KT_POLICY_VALIDATE, &d, &err),
			 KT_OK);
	for (i = 0; i < d.n_denials; i++)
		denied = denied || !strcmp(d.denials[i].rule, "pod-security.hostNamespaces");
	kt_decision_release(&d);
	return denied;
}

static void every_row_is_judged_by_both(void **state)
{
	size_t i;

	(void)state;
	assert_true(kt_podkinds_n >= 12);
	for (i = 0; i < kt_podkinds_n; i++) {
		const struct kt_podkind *k = &kt_podkinds[i];
		struct kt_manifest_pod pod;
		struct kt_err err = { 0 };
		json_t *spec, *obj = object_of(k->group, k->kind, k->keys, &spec);

		assert_ptr_equal(kt_podkind_find(k->group, k->kind), k);
		assert_int_equal(kt_manifest_pod_spec(obj, &pod, &err), KT_OK);
		if (pod.spec != spec || strcmp(pod.path, k->path))
			fail_msg("the manifest reader misses %s/%s", k->group, k->kind);
		if (!engine_denies(obj))
			fail_msg("the engine does not judge the pod of %s/%s", k->group, k->kind);
		json_decref(obj);
	}
}

/* extensions/v1beta1 workloads (before Kubernetes 1.16) are judged both ways */
static void extensions_workloads_are_judged(void **state)
{
	static const char *const kinds[] = { "Deployment", "ReplicaSet", "DaemonSet" };
	static const char *const keys[] = { "spec", "template", NULL };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct kt_manifest_pod pod;
		struct kt_err err = { 0 };
		json_t *spec, *obj = object_of("extensions", kinds[i], keys, &spec);

		json_object_set_new(obj, "apiVersion", json_string("extensions/v1beta1"));
		assert_int_equal(kt_manifest_pod_spec(obj, &pod, &err), KT_OK);
		assert_ptr_equal(pod.spec, spec);
		assert_true(engine_denies(obj));
		json_decref(obj);
	}
}

/* a kind of the same name in another group is no workload, for both */
static void other_groups_carry_no_pod(void **state)
{
	static const char *const keys[] = { "spec", "template", NULL };
	struct kt_manifest_pod pod;
	struct kt_err err = { 0 };
	json_t *spec, *obj = object_of("example.com", "Deployment", keys, &spec);

	(void)state;
	assert_null(kt_podkind_find("example.com", "Deployment"));
	assert_null(kt_podkind_find("extensions", "StatefulSet"));
	assert_int_equal(kt_manifest_pod_spec(obj, &pod, &err), KT_OK);
	assert_null(pod.spec);
	assert_false(engine_denies(obj));
	json_decref(obj);
}

static void group_of_api_version(void **state)
{
	char b[8];

	(void)state;
	assert_string_equal(kt_podkind_group_of("apps/v1", b, sizeof(b)), "apps");
	assert_string_equal(kt_podkind_group_of("v1", b, sizeof(b)), "");
	assert_null(kt_podkind_group_of("abcdefgh/v1", b, sizeof(b)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_row_is_judged_by_both),
		cmocka_unit_test(extensions_workloads_are_judged),
		cmocka_unit_test(other_groups_carry_no_pod),
		cmocka_unit_test(group_of_api_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
