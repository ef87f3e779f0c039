/*
 * fuzz_pss.c: manifest bytes -> objects -> pod spec -> Pod Security verdict
 * at baseline and restricted, at latest and at a version picked from the
 * input.  Must not crash, leak or trip a sanitizer on any input.
 */
#include <stdint.h>
#include <stdlib.h>
#include "kt/manifest.h"
#include "kt/pss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_manifest_set set = KT_MANIFEST_SET_INIT;
	struct kt_err err;
	/* a leading '{' exercises the strict JSON mode too */
	const char *name = size && data[0] == '{' ? "fuzz.json" : "fuzz.yaml";
	size_t i;
	int l, v;

	if (kt_manifest_parse(&set, name, (const char *)data, size, &err)) {
		/* a failed parse must leave an empty set with nothing to free */
		if (set.n || set.objs || set.files)
			abort();
		return 0;
	}
	for (i = 0; i < set.n; i++) {
		struct kt_manifest_pod pod;

		if (kt_manifest_pod_spec(set.objs[i].obj, &pod, &err) || !pod.spec)
			continue;
		for (l = KT_PSS_BASELINE; l <= KT_PSS_RESTRICTED; l++) {
			for (v = 0; v < 2; v++) {
				struct kt_pss_policy pol = {
					(enum kt_pss_level)l,
					v ? (int)(size % (KT_PSS_LATEST_MINOR + 1)) : KT_PSS_LATEST
				};
				struct kt_pss_result res;

				if (kt_pss_evaluate(&pol, pod.metadata, pod.spec, &res))
					continue;
				free(kt_pss_result_message(&res));
				kt_pss_result_release(&res);
			}
		}
	}
	kt_manifest_set_release(&set);
	return 0;
}
