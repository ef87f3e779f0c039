/*
 * proxy_expose.c: how members reach the proxy from outside the cluster,
 * at global.oidc.proxyHostname (global.oidc.exposure, or
 * `render --proxy-exposure`, which wins).
 *
 * ingress: an ingress-nginx Ingress that terminates TLS with a public
 * Certificate from global.oidc.certIssuer and re-encrypts to the proxy,
 * verifying the proxy's own certificate against the kubetenant-ca that
 * signed it (ca.crt in the proxy's TLS Secret).  The bearer token travels
 * inside both TLS hops; nothing else about the member is needed upstream.
 *
 * gateway: a Gateway with one TLS listener in Passthrough mode and a
 * TLSRoute to the proxy's Service: the member's TLS ends at the proxy
 * itself, so the certificate they see is the proxy's (kubetenant-ca) and
 * the kubeconfig must trust that CA (global.oidc.proxyCA, published by
 * cluster_info.c).  A Gateway cannot re-encrypt without a
 * BackendTLSPolicy, whose CA must sit in a ConfigMap nothing here fills.
 */
#include "internal.h"

#define PX_NAME "kubetenant-proxy"
#define PX_TLS_SECRET "kubetenant-proxy-tls"
#define PX_PUBLIC "kubetenant-proxy-public"
#define PX_PUBLIC_SECRET "kubetenant-proxy-public-tls"
#define NGINX "nginx.ingress.kubernetes.io/"
/* Watches and `kubectl exec` stay open: an hour, not ingress-nginx's 60 s. */
#define STREAM_TIMEOUT "3600"
/* The API server's own request body limit is 3 MiB. */
#define BODY_MAX "3m"

enum kt_exposure kt_proxy_exposure(const struct rctx *r)
{
	return r->opts->set_exposure ? r->opts->exposure : r->cfg->global.oidc.exposure;
}

static json_t *public_certificate(const struct kt_oidc *o)
{
	return json_pack("{s:s, s:s, s:o, s:{s:s, s:[s], s:{s:s, s:i}, s:{s:s, s:s, s:s}}}",
			 "apiVersion", "cert-manager.io/v1", "kind", "Certificate", "metadata",
			 kt_meta(PX_PUBLIC, KT_SYSTEM_NS, NULL), "spec", "secretName",
			 PX_PUBLIC_SECRET, "dnsNames", o->hostname, "privateKey", "algorithm",
			 "ECDSA", "size", 256, "issuerRef", "name",
			 o->issuer_name ? o->issuer_name : KT_CA_ISSUER, "kind",
			 o->issuer_kind ? o->issuer_kind : "Issuer", "group", "cert-manager.io");
}

static json_t *ingress(const struct kt_oidc *o)
{
	json_t *md = kt_meta(PX_NAME, KT_SYSTEM_NS, NULL);
	json_t *ann = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
				NGINX "backend-protocol", "HTTPS", NGINX "proxy-ssl-verify", "on",
				NGINX "proxy-ssl-secret", KT_SYSTEM_NS "/" PX_TLS_SECRET,
				NGINX "proxy-ssl-name", PX_NAME "." KT_SYSTEM_NS ".svc",
				NGINX "proxy-ssl-server-name", "on", NGINX "proxy-read-timeout",
				STREAM_TIMEOUT, NGINX "proxy-send-timeout", STREAM_TIMEOUT,
				NGINX "proxy-buffering", "off", NGINX "proxy-body-size", BODY_MAX);

	if (md && (!ann || json_object_set_new(md, "annotations", ann))) {
		json_decref(md);
		md = NULL;
	}
	return json_pack("{s:s, s:s, s:o, s:{s:s, s:[{s:[s], s:s}], s:[{s:s, s:{s:[{s:s, s:s, "
			 "s:{s:{s:s, s:{s:s}}}}]}}]}}",
			 "apiVersion", "networking.k8s.io/v1", "kind", "Ingress", "metadata", md,
			 "spec", "ingressClassName", o->ingress_class ? o->ingress_class : "nginx",
			 "tls", "hosts", o->hostname, "secretName", PX_PUBLIC_SECRET, "rules",
			 "host", o->hostname, "http", "paths", "path", "/", "pathType", "Prefix",
			 "backend", "service", "name", PX_NAME, "port", "name", "https");
}

static json_t *gateway(const struct kt_oidc *o)
{
	return json_pack("{s:s, s:s, s:o, s:{s:s, s:[{s:s, s:s, s:i, s:s, s:{s:s}, s:{s:{s:s}, "
			 "s:[{s:s, s:s}]}}]}}",
			 "apiVersion", "gateway.networking.k8s.io/v1", "kind", "Gateway",
			 "metadata", kt_meta(PX_NAME, KT_SYSTEM_NS, NULL), "spec",
			 "gatewayClassName", o->gateway_class, "listeners", "name", "proxy",
			 "hostname", o->hostname, "port", 443, "protocol", "TLS", "tls", "mode",
			 "Passthrough", "allowedRoutes", "namespaces", "from", "Same", "kinds",
			 "group", "gateway.networking.k8s.io", "kind", "TLSRoute");
}

static json_t *tls_route(const struct kt_oidc *o)
{
	return json_pack("{s:s, s:s, s:o, s:{s:[{s:s, s:s}], s:[s], s:[{s:[{s:s, s:i}]}]}}",
			 "apiVersion", "gateway.networking.k8s.io/v1", "kind", "TLSRoute",
			 "metadata", kt_meta(PX_NAME, KT_SYSTEM_NS, NULL), "spec", "parentRefs",
			 "name", PX_NAME, "sectionName", "proxy", "hostnames", o->hostname, "rules",
			 "backendRefs", "name", PX_NAME, "port", 443);
}

enum kt_rc kt_render_proxy_exposure(struct rctx *r)
{
	const struct kt_oidc *o = &r->cfg->global.oidc;
	enum kt_exposure e = kt_proxy_exposure(r);
	const char *what = e == KT_EXPOSE_GATEWAY ? "gateway" : "ingress";
	enum kt_rc rc;

	if (e == KT_EXPOSE_NONE)
		return KT_OK;
	/* the file's own setting was checked by the loader; the flag is checked here */
	if (!o->hostname)
		return kt_err_set(r->err, KT_E_INVALID,
				  "proxy exposure '%s' needs "
				  "global.oidc.proxyHostname in the tenants file",
				  what);
	if (e == KT_EXPOSE_GATEWAY && !o->gateway_class)
		return kt_err_set(r->err, KT_E_INVALID,
				  "proxy exposure 'gateway' needs "
				  "global.oidc.gatewayClassName in the tenants file");
	if (e == KT_EXPOSE_GATEWAY) {
		rc = kt_emit(r, gateway(o));
		return rc ? rc : kt_emit(r, tls_route(o));
	}
	rc = kt_emit(r, public_certificate(o));
	return rc ? rc : kt_emit(r, ingress(o));
}
