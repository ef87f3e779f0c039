/*
 * response.c: a decision as the AdmissionReview the API server expects.
 *
 * Denials become status 403 with one message listing every reason (kubectl
 * prints only status.message) and the same reasons as status.details.causes
 * for machines; warnings go to response.warnings, which kubectl shows as
 * "Warning: ..." even for allowed requests.  The text is written straight
 * into the output buffer, members in a fixed order, so the same decision
 * always gives the same bytes (those jansson wrote when the answer was a
 * tree: t_policy compares).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "kt/jwrite.h"
#include "internal.h"

/* The JSON Patch in base64, as AdmissionReview wants it, encoded in place. */
static enum kt_rc patch_base64(struct kt_buf *b, const struct kt_buf *patch)
{
	enum kt_rc rc;
	int n;

	if (patch->len > (size_t)INT_MAX / 4 * 3 - 3)
		return KT_E_NOMEM;
	if ((rc = kt_buf_grow(b, patch->len / 3 * 4 + 5)))
		return rc;
	n = EVP_EncodeBlock((unsigned char *)b->buf + b->len, (const unsigned char *)patch->buf,
			    (int)patch->len);
	b->len += (size_t)n;
	b->buf[b->len] = '\0';
	return KT_OK;
}

/* "[rule] path: message"; the path and ": " left out when sep is false. */
static enum kt_rc reason_chars(struct kt_buf *b, const struct kt_finding *f, bool sep)
{
	const char *path = f->path ? f->path : "";
	enum kt_rc rc;

	if ((rc = kt_jw_lit(b, "[")) || (rc = kt_jw_chars(b, f->rule, strlen(f->rule))) ||
	    (rc = kt_jw_lit(b, "] ")) || (rc = kt_jw_chars(b, path, strlen(path))) ||
	    (sep && (rc = kt_jw_lit(b, ": "))))
		return rc;
	return kt_jw_chars(b, f->message, strlen(f->message));
}

/* status: code, reason, message (every reason in one line) and details.causes. */
static enum kt_rc status(struct kt_buf *b, const struct kt_decision *d)
{
	enum kt_rc rc;
	size_t i;

	if ((rc = kt_buf_addf(b, ",\"status\":{\"code\":%d,\"reason\":\"Forbidden\",\"message\":\"",
			      d->code ? d->code : 403)))
		return rc;
	if (d->tenant && ((rc = kt_jw_lit(b, "tenant '")) ||
			  (rc = kt_jw_chars(b, d->tenant->name, strlen(d->tenant->name))) ||
			  (rc = kt_jw_lit(b, "': "))))
		return rc;
	for (i = 0; i < d->n_denials; i++)
		if ((i && (rc = kt_jw_lit(b, "; "))) ||
		    (rc = reason_chars(b, &d->denials[i], d->denials[i].path)))
			return rc;
	if (!d->n_denials && (rc = kt_jw_lit(b, "denied")))
		return rc;
	if ((rc = kt_jw_lit(b, "\",\"details\":{\"causes\":[")))
		return rc;
	for (i = 0; i < d->n_denials; i++) {
		const struct kt_finding *f = &d->denials[i];

		if ((rc = kt_buf_adds(b, i ? ",{\"reason\":" : "{\"reason\":")) ||
		    (rc = kt_jw_str(b, f->rule)) || (rc = kt_jw_lit(b, ",\"message\":")) ||
		    (rc = kt_jw_str(b, f->message)) ||
		    (f->path &&
		     ((rc = kt_jw_lit(b, ",\"field\":")) || (rc = kt_jw_str(b, f->path)))) ||
		    (rc = kt_jw_lit(b, "}")))
			return rc;
	}
	return kt_jw_lit(b, "]}}");
}

static enum kt_rc response(struct kt_buf *b, const struct kt_decision *d)
{
	enum kt_rc rc;
	size_t i;

	if ((rc = kt_jw_lit(b, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":"
			       "\"AdmissionReview\",\"response\":{\"uid\":")) ||
	    (rc = kt_jw_str(b, d->uid)) ||
	    (rc = kt_buf_adds(b, d->allowed ? ",\"allowed\":true" : ",\"allowed\":false")))
		return rc;
	if (d->allowed && d->patch.len &&
	    ((rc = kt_jw_lit(b, ",\"patchType\":\"JSONPatch\",\"patch\":\"")) ||
	     (rc = patch_base64(b, &d->patch)) || (rc = kt_jw_lit(b, "\""))))
		return rc;
	if (!d->allowed && (rc = status(b, d)))
		return rc;
	for (i = 0; i < d->n_warnings; i++) {
		const struct kt_finding *f = &d->warnings[i];

		if ((rc = kt_buf_adds(b, i ? ",\"" : ",\"warnings\":[\"")) ||
		    (rc = reason_chars(b, f, f->path && *f->path)) || (rc = kt_jw_lit(b, "\"")))
			return rc;
	}
	if (d->n_warnings && (rc = kt_jw_lit(b, "]")))
		return rc;
	return kt_jw_lit(b, "}}");
}

enum kt_rc kt_policy_response(const struct kt_decision *d, struct kt_buf *out)
{
	/* out of room past out->max is out of memory, as jansson's dump reported it */
	return response(out, d) ? KT_E_NOMEM : KT_OK;
}
