#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "kt/config.h"

static void *get_schema(void *arg)
{
	(void)arg;
	return (void *)kt_config_schema();
}

/* Built once under pthread_once: racing first callers all get the one string. */
static void first_calls_from_threads_share_one_string(void **state)
{
	pthread_t t[4];
	void *got[4];
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, get_schema, NULL), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], &got[i]), 0);
	assert_non_null(got[0]);
	for (i = 1; i < 4; i++)
		assert_ptr_equal(got[i], got[0]);
	assert_ptr_equal(kt_config_schema(), got[0]);
}

/* One builder makes quota and the four LimitRange maps: they cannot drift apart. */
static void parses_and_quantity_maps_agree(void **state)
{
	const char *text = kt_config_schema();
	static const char *const limits[] = { "default", "defaultRequest", "max", "min" };
	json_error_t jerr;
	json_t *root, *tenant, *quota, *lim;
	size_t i;

	(void)state;
	assert_non_null(text);
	assert_int_equal(text[strlen(text) - 1], '\n');
	root = json_loads(text, 0, &jerr);
	assert_non_null(root);
	tenant =
		json_object_get(json_object_get(json_object_get(json_object_get(root, "properties"),
								"tenants"),
						"additionalProperties"),
				"properties");
	quota = json_object_get(json_object_get(tenant, "quota"), "additionalProperties");
	assert_non_null(json_object_get(quota, "pattern"));
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		lim = json_object_get(json_object_get(json_object_get(json_object_get(tenant,
										      "limits"),
								      "properties"),
						      limits[i]),
				      "additionalProperties");
		assert_true(json_equal(lim, quota));
	}
	json_decref(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_calls_from_threads_share_one_string),
		cmocka_unit_test(parses_and_quantity_maps_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
