/*
 * audit.h: what the two outputs of `kubetenant audit` share: the denials
 * (audit.c) and the drift from render (audit_drift.c).
 */
#ifndef KT_CMD_AUDIT_H
#define KT_CMD_AUDIT_H

#include <stdbool.h>
#include <jansson.h>
#include "kt/config.h"
#include "kt/manifest.h"
#include "kt/render.h"

struct audit_drift {
	struct kt_render_opts opts; /* the profile render is run with */
	const char *tenants; /* the tenants file as given: where a missing object comes from */
	bool json;
	json_t *findings; /* --format json: one entry per finding; else NULL */
	unsigned rendered, missing, changed, unexpected, fields;
};

/*
 * Render cfg with a->opts, compare with the dump in set and report each
 * finding (a text line on stdout, or an entry in a->findings).  Returns 0,
 * or an exit code after printing why.
 */
int audit_drift(struct audit_drift *a, const struct kt_config *cfg,
		const struct kt_manifest_set *set);

/* "file:line: [namespace ]Kind/name: " for a finding's text line. */
void audit_put_object(const char *file, int line, json_t *obj);

#endif
