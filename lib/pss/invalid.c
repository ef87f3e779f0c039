/*
 * invalid.c: word a field of the wrong JSON type (check "invalid").  Both
 * the decoder (evaluate.c) and the checks (checks.c) find such fields; the
 * wording lives here so neither has to call the other back.
 */
#include <string.h>
#include "internal.h"

static const char *const list_path[L_COUNT] = {
	[L_INIT] = "spec.initContainers",
	[L_MAIN] = "spec.containers",
	[L_EPHEMERAL] = "spec.ephemeralContainers",
};

void kt_pss_invalid(struct pss_eval *e, const struct ctr_view *c, const char *field,
		    const char *want)
{
	struct kt_buf b = KT_BUF_INIT;

	e->bad |= CK_BIT(CK_INVALID);
	if (!e->collect)
		return;
	if (c)
		kt_buf_addf(&b, "%s[%zu]%s%s must be %s", list_path[c->list], c->index,
			    *field ? "." : "", field, want);
	else if (!strncmp(field, "securityContext.", 16))
		kt_buf_addf(&b, "spec.%s must be %s", field, want); /* the pod's */
	else
		kt_buf_addf(&b, "%s must be %s", field, want);
	kt_strvec_addn(e, &e->c[CK_INVALID].names, b.buf, b.len);
	kt_buf_release(&b);
}
