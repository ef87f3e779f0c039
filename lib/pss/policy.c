/*
 * policy.c: Pod Security Standards policy names, "level[:version]", as the
 * pod-security.kubernetes.io/<mode> and <mode>-version labels spell them.
 */
#include <string.h>
#include "kt/pss.h"

const char *kt_pss_level_name(enum kt_pss_level level)
{
	switch (level) {
	case KT_PSS_PRIVILEGED:
		return "privileged";
	case KT_PSS_BASELINE:
		return "baseline";
	case KT_PSS_RESTRICTED:
		return "restricted";
	}
	return "restricted";
}

enum kt_rc kt_pss_policy_parse(const char *s, struct kt_pss_policy *out, struct kt_err *err)
{
	static const enum kt_pss_level levels[] = { KT_PSS_PRIVILEGED, KT_PSS_BASELINE,
						    KT_PSS_RESTRICTED };
	const char *colon = strchr(s, ':'), *v;
	size_t len = colon ? (size_t)(colon - s) : strlen(s), i;
	int minor = 0;

	for (i = 0; i < 3; i++) {
		const char *name = kt_pss_level_name(levels[i]);

		if (strlen(name) == len && !strncmp(s, name, len))
			break;
	}
	if (i == 3)
		return kt_err_set(err, KT_E_INVALID,
				  "unknown pod security level '%.*s' (expected "
				  "'privileged', 'baseline' or 'restricted')",
				  len > 32 ? 32 : (int)len, s);
	if (!colon || !strcmp(colon + 1, "latest")) {
		out->level = levels[i];
		out->minor = KT_PSS_LATEST;
		return KT_OK;
	}
	/* "v1.<minor>": no sign, no leading zero, at most three digits */
	v = colon + 1;
	if (strncmp(v, "v1.", 3) || !v[3] || (v[3] == '0' && v[4]) || strlen(v + 3) > 3)
		goto bad;
	for (v += 3; *v; v++) {
		if (*v < '0' || *v > '9')
			goto bad;
		minor = minor * 10 + (*v - '0');
	}
	if (minor > KT_PSS_LATEST_MINOR)
		return kt_err_set(err, KT_E_INVALID,
				  "pod security version 'v1.%d' is newer than "
				  "'v1.%d', the newest this build knows",
				  minor, KT_PSS_LATEST_MINOR);
	out->level = levels[i];
	out->minor = minor;
	return KT_OK;
bad:
	return kt_err_set(err, KT_E_INVALID,
			  "invalid pod security version '%.32s' (expected "
			  "'latest' or 'v1.<minor>')",
			  colon + 1);
}
