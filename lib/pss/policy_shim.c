/*
 * policy_shim.c: a private stand-in for kt_pss_policy_parse() and
 * kt_pss_level_name(), which the "config" branch owns in lib/pss/policy.c.
 * This file is deleted when that branch lands in main.
 */
#include <stdlib.h>
#include <string.h>
#include "kt/pss.h"

const char *kt_pss_level_name(enum kt_pss_level level)
{
	switch (level) {
	case KT_PSS_PRIVILEGED: return "privileged";
	case KT_PSS_BASELINE: return "baseline";
	case KT_PSS_RESTRICTED: return "restricted";
	}
	return "unknown";
}

enum kt_rc kt_pss_policy_parse(const char *s, struct kt_pss_policy *out, struct kt_err *err)
{
	static const char *const names[] = { "privileged", "baseline", "restricted" };
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	int i;

	for (i = 0; i < 3; i++)
		if (strlen(names[i]) == n && !strncmp(s, names[i], n))
			break;
	if (i == 3)
		return kt_err_set(err, KT_E_INVALID, "unknown pod security level in '%s'", s);
	out->level = (enum kt_pss_level)i;
	out->minor = KT_PSS_LATEST;
	if (!colon || !strcmp(colon + 1, "latest"))
		return KT_OK;
	if (!strncmp(colon + 1, "v1.", 3) && colon[4] >= '0' && colon[4] <= '9') {
		char *end;
		long m = strtol(colon + 4, &end, 10);

		if (!*end && m >= 0 && m <= KT_PSS_LATEST_MINOR && (colon[4] != '0' || !colon[5])) {
			out->minor = (int)m;
			return KT_OK;
		}
	}
	return kt_err_set(err, KT_E_INVALID, "invalid pod security version in '%s' (want v1.N or latest)", s);
}
