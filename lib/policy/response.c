/*
 * response.c: a decision as the AdmissionReview the API server expects.
 *
 * Denials become status 403 with one message listing every reason (kubectl
 * prints only status.message) and the same reasons as status.details.causes
 * for machines; warnings go to response.warnings, which kubectl shows as
 * "Warning: ..." even for allowed requests.
 */
#include <string.h>
#include "internal.h"

static enum kt_rc add_base64(struct kt_buf *b, const unsigned char *s, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0, out = (n + 2) / 3 * 4;
	enum kt_rc rc = kt_buf_grow(b, out);
	char *d;

	if (rc)
		return rc;
	d = b->buf + b->len;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];

		d[o++] = tab[v >> 18];
		d[o++] = tab[v >> 12 & 63];
		d[o++] = tab[v >> 6 & 63];
		d[o++] = tab[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0);

		d[o++] = tab[v >> 18];
		d[o++] = tab[v >> 12 & 63];
		d[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		d[o++] = '=';
	}
	b->len += o;
	b->buf[b->len] = '\0';
	return KT_OK;
}

/* "[rule] path: message" */
static enum kt_rc add_reason(struct kt_buf *b, const struct kt_finding *f)
{
	struct kt_buf t = KT_BUF_INIT;
	enum kt_rc rc;

	rc = kt_buf_addch(&t, '[');
	if (!rc)
		rc = kt_buf_adds(&t, f->rule);
	if (!rc)
		rc = kt_buf_adds(&t, "] ");
	if (!rc && f->path && *f->path) {
		rc = kt_buf_adds(&t, f->path);
		if (!rc)
			rc = kt_buf_adds(&t, ": ");
	}
	if (!rc)
		rc = kt_buf_adds(&t, f->message);
	if (!rc)
		rc = kt_buf_add_json_str(b, t.buf, t.len);
	kt_buf_release(&t);
	return rc;
}

enum kt_rc kt_policy_response(const struct kt_decision *d, struct kt_buf *out)
{
	enum kt_rc rc;
	size_t i;

#define ADD(s) do { if ((rc = kt_buf_adds(out, s))) return rc; } while (0)
#define STR(s) do { if ((rc = kt_buf_add_json_str(out, s, strlen(s)))) return rc; } while (0)
	/* one allocation in the common case: the patch grows by a third in base64 */
	if ((rc = kt_buf_grow(out, 512 + d->patch.len / 3 * 4 + 4)))
		return rc;
	ADD("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"response\":"
	    "{\"uid\":");
	STR(d->uid ? d->uid : "");
	ADD(d->allowed ? ",\"allowed\":true" : ",\"allowed\":false");
	if (d->allowed && d->patch.len) {
		ADD(",\"patchType\":\"JSONPatch\",\"patch\":\"");
		if ((rc = add_base64(out, (const unsigned char *)d->patch.buf, d->patch.len)))
			return rc;
		ADD("\"");
	}
	if (!d->allowed) {
		struct kt_buf msg = KT_BUF_INIT;

		rc = KT_OK;
		if (d->tenant)
			rc = kt_buf_addf(&msg, "tenant '%s': ", d->tenant->name);
		for (i = 0; !rc && i < d->n_denials; i++) {
			const struct kt_finding *f = &d->denials[i];

			rc = kt_buf_addf(&msg, "%s[%s] %s%s%s", i ? "; " : "", f->rule,
					 f->path ? f->path : "", f->path ? ": " : "", f->message);
		}
		if (!rc && !d->n_denials)
			rc = kt_buf_adds(&msg, "denied");
		if (!rc)
			rc = kt_buf_addf(out, ",\"status\":{\"code\":%d,\"reason\":\"Forbidden\","
					      "\"message\":", d->code ? d->code : 403);
		if (!rc)
			rc = kt_buf_add_json_str(out, msg.buf, msg.len);
		kt_buf_release(&msg);
		if (rc)
			return rc;
		ADD(",\"details\":{\"causes\":[");
		for (i = 0; i < d->n_denials; i++) {
			const struct kt_finding *f = &d->denials[i];

			ADD(i ? ",{\"reason\":" : "{\"reason\":");
			STR(f->rule);
			ADD(",\"message\":");
			STR(f->message);
			if (f->path) {
				ADD(",\"field\":");
				STR(f->path);
			}
			ADD("}");
		}
		ADD("]}}");
	}
	if (d->n_warnings) {
		ADD(",\"warnings\":[");
		for (i = 0; i < d->n_warnings; i++) {
			if (i)
				ADD(",");
			if ((rc = add_reason(out, &d->warnings[i])))
				return rc;
		}
		ADD("]");
	}
	ADD("}}");
#undef ADD
#undef STR
	return KT_OK;
}
