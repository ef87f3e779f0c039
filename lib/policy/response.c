/*
 * response.c: a decision as the AdmissionReview the API server expects.
 *
 * Denials become status 403 with one message listing every reason (kubectl
 * prints only status.message) and the same reasons as status.details.causes
 * for machines; warnings go to response.warnings, which kubectl shows as
 * "Warning: ..." even for allowed requests.  The response is built as a
 * jansson value and serialized by jansson; members are added in a fixed
 * order, so the same decision always gives the same bytes.
 */
#include <limits.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include "kt/json.h"
#include "internal.h"

/* A text of the decision (uid, rule, message...): never invalid UTF-8. */
static json_t *text(const char *s, size_t n)
{
	return kt_json_text(s, n, SIZE_MAX);
}

static json_t *cstr(const char *s)
{
	return text(s, strlen(s));
}

/* The JSON Patch in base64, as AdmissionReview wants it. */
static json_t *patch_base64(const struct kt_buf *patch)
{
	unsigned char *b64;
	json_t *v;
	int n;

	if (patch->len > (size_t)INT_MAX / 4 * 3 - 3)
		return NULL;
	b64 = malloc(patch->len / 3 * 4 + 5);
	if (!b64)
		return NULL;
	n = EVP_EncodeBlock(b64, (const unsigned char *)patch->buf, (int)patch->len);
	v = json_stringn_nocheck((const char *)b64, (size_t)n);
	free(b64);
	return v;
}

/* A warning: "[rule] path: message", or "[rule] message" without a path. */
static json_t *reason(const struct kt_finding *f)
{
	struct kt_buf t = KT_BUF_INIT;
	bool with_path = f->path && *f->path;
	json_t *v = NULL;

	if (!kt_buf_addf(&t, "[%s] %s%s%s", f->rule, with_path ? f->path : "",
			 with_path ? ": " : "", f->message))
		v = text(t.buf, t.len);
	kt_buf_release(&t);
	return v;
}

/* status: code, reason, message (every reason in one line) and details.causes. */
static json_t *status(const struct kt_decision *d)
{
	struct kt_buf msg = KT_BUF_INIT;
	json_t *st = NULL, *causes = json_array(), *cause;
	enum kt_rc rc = causes ? KT_OK : KT_E_NOMEM;
	size_t i;

	if (!rc && d->tenant)
		rc = kt_buf_addf(&msg, "tenant '%s': ", d->tenant->name);
	for (i = 0; !rc && i < d->n_denials; i++) {
		const struct kt_finding *f = &d->denials[i];

		rc = kt_buf_addf(&msg, "%s[%s] %s%s%s", i ? "; " : "", f->rule,
				 f->path ? f->path : "", f->path ? ": " : "", f->message);
		cause = rc ? NULL : json_object();
		if (cause && (json_object_set_new(cause, "reason", cstr(f->rule)) ||
			      json_object_set_new(cause, "message", cstr(f->message)) ||
			      (f->path && json_object_set_new(cause, "field", cstr(f->path)))))
			rc = KT_E_NOMEM;
		if (!cause || json_array_append_new(causes, cause))
			rc = KT_E_NOMEM;
	}
	if (!rc && !d->n_denials)
		rc = kt_buf_adds(&msg, "denied");
	if (!rc)
		st = json_pack("{s:i,s:s,s:o,s:{s:O}}", "code", d->code ? d->code : 403, "reason",
			       "Forbidden", "message", text(msg.buf, msg.len), "details", "causes",
			       causes);
	json_decref(causes);
	kt_buf_release(&msg);
	return st;
}

enum kt_rc kt_policy_response(const struct kt_decision *d, struct kt_buf *out)
{
	json_t *review, *resp, *warnings;
	enum kt_rc rc = KT_E_NOMEM;
	bool ok;
	size_t i;

	kt_json_arena_begin(); /* the response lives until it is text */
	resp = json_object();
	review = json_pack("{s:s,s:s,s:O}", "apiVersion", "admission.k8s.io/v1", "kind",
			   "AdmissionReview", "response", resp);
	ok = review && !json_object_set_new(resp, "uid", cstr(d->uid ? d->uid : "")) &&
	     !json_object_set_new(resp, "allowed", json_boolean(d->allowed));
	if (ok && d->allowed && d->patch.len)
		ok = !json_object_set_new(resp, "patchType", json_string("JSONPatch")) &&
		     !json_object_set_new(resp, "patch", patch_base64(&d->patch));
	if (ok && !d->allowed)
		ok = !json_object_set_new(resp, "status", status(d));
	if (ok && d->n_warnings) {
		ok = (warnings = json_array()) && !json_object_set_new(resp, "warnings", warnings);
		for (i = 0; ok && i < d->n_warnings; i++)
			ok = !json_array_append_new(warnings, reason(&d->warnings[i]));
	}
	if (ok)
		rc = kt_json_dump(review, out);
	json_decref(resp);
	json_decref(review);
	kt_json_arena_end();
	return rc;
}
