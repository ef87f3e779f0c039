/* Test double of the config loader and policy engine, for linking before they land. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "kt/policy.h"
#include "kt/buf.h"

static char *dupstr(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);
	if (path2) v = json_object_get(v, path2);
	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

enum kt_rc kt_policy_review(const struct kt_config *cfg, const char *body, size_t len,
			    enum kt_policy_mode mode, struct kt_decision *d, struct kt_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, 0, &je), *req, *obj;
	memset(d, 0, sizeof(*d));
	if (!root) return kt_err_set(err, KT_E_PARSE, "not JSON: %s", je.text);
	if (!json_is_string(json_object_get(root, "apiVersion")) ||
	    strcmp(json_string_value(json_object_get(root, "apiVersion")), "admission.k8s.io/v1") ||
	    !json_is_string(json_object_get(root, "kind")) ||
	    strcmp(json_string_value(json_object_get(root, "kind")), "AdmissionReview")) {
		json_decref(root);
		return kt_err_set(err, KT_E_PARSE, "not an admission.k8s.io/v1 AdmissionReview");
	}
	req = json_object_get(root, "request");
	d->uid = dupstr(req, "uid", NULL);
	if (!d->uid) { json_decref(root); return kt_err_set(err, KT_E_PARSE, "request.uid is missing"); }
	d->kind = dupstr(req, "kind", "kind");
	d->namespace = dupstr(req, "namespace", NULL);
	d->name = dupstr(req, "name", NULL);
	d->operation = dupstr(req, "operation", NULL);
	d->user = dupstr(req, "userInfo", "username");
	d->tenant = kt_config_tenant_by_ns(cfg, d->namespace);
	d->allowed = true; d->code = 200;
	obj = json_object_get(req, "object");
	if (d->tenant && json_object_get(json_object_get(obj, "spec"), "nodeName")) {
		d->allowed = false; d->code = 403;
		d->denials = calloc(1, sizeof(*d->denials)); d->n_denials = 1;
		d->denials[0].rule = strdup("placement.node-name");
		d->denials[0].message = strdup("pods of tenant may not set spec.nodeName");
	} else if (d->tenant && mode == KT_POLICY_MUTATE) {
		kt_buf_adds(&d->patch, "[{\"op\":\"add\",\"path\":\"/spec/nodeSelector\",\"value\":{\"pool\":\"x\"}}]");
	}
	json_decref(root);
	return KT_OK;
}

enum kt_rc kt_policy_response(const struct kt_decision *d, struct kt_buf *out)
{
	json_t *r = json_pack("{s:s,s:s,s:{s:s,s:b}}", "apiVersion", "admission.k8s.io/v1", "kind",
			      "AdmissionReview", "response", "uid", d->uid, "allowed", d->allowed);
	json_t *resp = json_object_get(r, "response");
	char *s;
	if (!d->allowed)
		json_object_set_new(resp, "status", json_pack("{s:i,s:s}", "code", d->code, "message", d->denials[0].message));
	if (d->patch.len) {
		static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		struct kt_buf b = KT_BUF_INIT; size_t i; const unsigned char *p = (const unsigned char *)d->patch.buf;
		for (i = 0; i < d->patch.len; i += 3) {
			unsigned v = p[i] << 16 | (i + 1 < d->patch.len ? p[i + 1] << 8 : 0) | (i + 2 < d->patch.len ? p[i + 2] : 0);
			kt_buf_addch(&b, tbl[v >> 18 & 63]); kt_buf_addch(&b, tbl[v >> 12 & 63]);
			kt_buf_addch(&b, i + 1 < d->patch.len ? tbl[v >> 6 & 63] : '=');
			kt_buf_addch(&b, i + 2 < d->patch.len ? tbl[v & 63] : '=');
		}
		json_object_set_new(resp, "patchType", json_string("JSONPatch"));
		json_object_set_new(resp, "patch", json_string(b.buf));
		kt_buf_release(&b);
	}
	s = json_dumps(r, JSON_COMPACT);
	kt_buf_adds(out, s);
	free(s); json_decref(r);
	return KT_OK;
}

void kt_decision_release(struct kt_decision *d)
{
	size_t i;
	for (i = 0; i < d->n_denials; i++) { free(d->denials[i].rule); free(d->denials[i].message); }
	free(d->denials);
	free(d->uid); free(d->kind); free(d->namespace); free(d->name); free(d->operation); free(d->user);
	kt_buf_release(&d->patch);
	memset(d, 0, sizeof(*d));
}
