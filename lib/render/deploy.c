/*
 * deploy.c: what kubetenant's own Deployments (webhook and proxy) share:
 * the cert-manager CA chain that signs their serving certificates, and the
 * hardened pod and container settings.
 *
 * The CA chain is self-contained (no cluster-wide issuer needed): a
 * self-signed Issuer signs a CA Certificate, whose Secret backs a CA
 * Issuer that signs the serving certificates.  cert-manager's CA injector
 * copies that CA into the webhook configurations (the inject-ca-from
 * annotation), so the API server trusts exactly this chain.
 */
#include <stdio.h>
#include "internal.h"

#define SELFSIGNED_ISSUER "kubetenant-selfsigned"
#define CA_SECRET "kubetenant-ca"

static json_t *issuer(const char *name, json_t *spec)
{
	return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "cert-manager.io/v1", "kind",
			 "Issuer", "metadata", kt_meta(name, KT_SYSTEM_NS, NULL), "spec", spec);
}

static json_t *certificate(const char *name, json_t *spec)
{
	return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "cert-manager.io/v1", "kind",
			 "Certificate", "metadata", kt_meta(name, KT_SYSTEM_NS, NULL), "spec",
			 spec);
}

enum kt_rc kt_render_ca_issuers(struct rctx *r)
{
	enum kt_rc rc;

	rc = kt_emit(r, issuer(SELFSIGNED_ISSUER, json_pack("{s:{}}", "selfSigned")));
	if (rc == KT_OK)
		rc = kt_emit(r,
			     certificate(CA_SECRET,
					 json_pack("{s:b, s:s, s:s, s:s, s:s, s:{s:s, s:i}, s:{s:s, "
						   "s:s, s:s}}",
						   "isCA", 1, "commonName", "kubetenant-ca",
						   "secretName", CA_SECRET, "duration", "87600h",
						   "renewBefore", "720h", "privateKey", "algorithm",
						   "ECDSA", "size", 256, "issuerRef", "name",
						   SELFSIGNED_ISSUER, "kind", "Issuer", "group",
						   "cert-manager.io")));
	if (rc == KT_OK)
		rc = kt_emit(r, issuer(KT_CA_ISSUER,
				       json_pack("{s:{s:s}}", "ca", "secretName", CA_SECRET)));
	return rc;
}

/* 90 days, renewed 30 days ahead, a fresh key each time (the servers reload it live). */
json_t *kt_serving_certificate(const char *name, const char *secret, json_t *dns_names)
{
	return certificate(name,
			   json_pack("{s:s, s:o, s:s, s:s, s:{s:s, s:i, s:s}, s:[ss], "
				     "s:{s:s, s:s, s:s}}",
				     "secretName", secret, "dnsNames", dns_names, "duration",
				     "2160h", "renewBefore", "720h", "privateKey", "algorithm",
				     "ECDSA", "size", 256, "rotationPolicy", "Always", "usages",
				     "digital signature", "server auth", "issuerRef", "name",
				     KT_CA_ISSUER, "kind", "Issuer", "group", "cert-manager.io"));
}

/* Non-root, no privilege escalation, no capabilities, read-only root, RuntimeDefault seccomp. */
json_t *kt_hardened_container_security(void)
{
	return json_pack("{s:b, s:b, s:b, s:i, s:i, s:{s:[s]}, s:{s:s}}",
			 "allowPrivilegeEscalation", 0, "readOnlyRootFilesystem", 1, "runAsNonRoot",
			 1, "runAsUser", 65532, "runAsGroup", 65532, "capabilities", "drop", "ALL",
			 "seccompProfile", "type", "RuntimeDefault");
}

json_t *kt_hardened_pod_security(void)
{
	return json_pack("{s:b, s:{s:s}}", "runAsNonRoot", 1, "seccompProfile", "type",
			 "RuntimeDefault");
}

json_t *kt_https_probe(const char *path)
{
	return json_pack("{s:{s:s, s:s, s:s}, s:i, s:i, s:i}", "httpGet", "path", path, "port",
			 "https", "scheme", "HTTPS", "periodSeconds", 10, "timeoutSeconds", 2,
			 "failureThreshold", 3);
}

/*
 * Replicas on different nodes when the cluster has them: preferred, not
 * required, so a one-node test cluster still schedules both.
 */
json_t *kt_spread_affinity(const char *app)
{
	return json_pack("{s:{s:[{s:i, s:{s:{s:{s:s}}, s:s}}]}}", "podAntiAffinity",
			 "preferredDuringSchedulingIgnoredDuringExecution", "weight", 100,
			 "podAffinityTerm", "labelSelector", "matchLabels",
			 "app.kubernetes.io/name", app, "topologyKey", "kubernetes.io/hostname");
}
