/*
 * proxy_oidc_ca.c: the proxy trusts a private OIDC issuer.  With
 * global.oidc.issuerCA set, the PEM goes into ConfigMap
 * kubetenant-proxy-oidc-ca (a CA certificate is public: no Secret needed),
 * mounted read-only into the proxy and passed as --oidc-ca, so the proxy
 * fetches discovery and keys from that issuer, and from no one else.
 * Without it the proxy uses the system's roots.
 */
#include "internal.h"

#define CA_NAME "kubetenant-proxy-oidc-ca"
#define CA_DIR \
	"/etc/kubetenant-oidc-ca" /* not under the read-only /etc/kubetenant: no nested mount */

enum kt_rc kt_render_proxy_oidc_ca(struct rctx *r)
{
	const char *pem = r->cfg->global.oidc.issuer_ca;

	if (!pem)
		return KT_OK;
	return kt_emit(r, json_pack("{s:s, s:s, s:o, s:{s:s}}", "apiVersion", "v1", "kind",
				    "ConfigMap", "metadata", kt_meta(CA_NAME, KT_SYSTEM_NS, NULL),
				    "data", "ca.crt", pem));
}

/* Append v (new reference) to the array at obj[key]; false when it fails. */
static int append(json_t *obj, const char *key, json_t *v)
{
	return json_array_append_new(json_object_get(obj, key), v) == 0;
}

json_t *kt_with_oidc_ca(const struct rctx *r, json_t *deploy)
{
	json_t *pod, *c;

	if (!deploy || !r->cfg->global.oidc.issuer_ca)
		return deploy;
	pod = json_object_get(json_object_get(json_object_get(deploy, "spec"), "template"), "spec");
	c = json_array_get(json_object_get(pod, "containers"), 0);
	if (append(c, "args", json_string("--oidc-ca")) &&
	    append(c, "args", json_string(CA_DIR "/ca.crt")) &&
	    append(c, "volumeMounts",
		   json_pack("{s:s, s:s, s:b}", "name", "oidc-ca", "mountPath", CA_DIR, "readOnly",
			     1)) &&
	    append(pod, "volumes",
		   json_pack("{s:s, s:{s:s}}", "name", "oidc-ca", "configMap", "name", CA_NAME)))
		return deploy;
	json_decref(deploy);
	return NULL;
}
