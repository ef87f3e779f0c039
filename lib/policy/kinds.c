/*
 * kinds.c: the one table of what the engine judges.
 *
 * A NEW JUDGED KIND IS ADDED HERE, one line, and nowhere else: the
 * webhook configurations route every row (lib/render/webhook.c), the
 * engine dispatches only through a row (engine.c), and t_policy's
 * routes test proves both for every render profile.  A kind a rule file
 * knows but this table lacks is never judged, by the webhook or by
 * `check`; a row whose rule file does not claim it is denied
 * (policy.unjudged), so the table cannot drift silently either way.
 *
 * No version column: the webhook rules use apiVersions "*" with
 * matchPolicy Equivalent, so every served version of a routed resource is
 * sent, and the rules read the fields every version shares.
 */
#include <string.h>
#include "internal.h"

#define C KT_KIND_CREATE
#define CU (KT_KIND_CREATE | KT_KIND_UPDATE)
#define CUD (KT_KIND_CREATE | KT_KIND_UPDATE | KT_KIND_DELETE)
/* clang-format off */
#define NOSUB { NULL }
/* clang-format on */
#define W kt_workloads_dispatch
#define S kt_services_dispatch
#define H kt_hostnames_dispatch
#define M kt_managed_dispatch
#define GKD KT_GK_DOMAINS
#define GKS KT_GK_SERVICE_TYPES
#define GKK KT_GK_KINDS
#define R kt_rbac_dispatch

/* group, resource, kind, {subresources}, ops, cluster, mutate, gatekeeper, judge */
const struct kt_kind kt_policy_kinds[] = {
	{ "", "pods", "Pod", { "ephemeralcontainers", NULL }, CU, false, true, 0, W },
	{ "", "podtemplates", "PodTemplate", NOSUB, CU, false, false, 0, W },
	{ "", "replicationcontrollers", "ReplicationController", NOSUB, CU, false, false, 0, W },
	{ "apps", "daemonsets", "DaemonSet", NOSUB, CU, false, false, 0, W },
	{ "apps", "deployments", "Deployment", NOSUB, CU, false, false, 0, W },
	{ "apps", "replicasets", "ReplicaSet", NOSUB, CU, false, false, 0, W },
	{ "apps", "statefulsets", "StatefulSet", NOSUB, CU, false, false, 0, W },
	/* served by no current API server, but the pod-kinds table (lib/manifest/podkinds.c) reads them */
	{ "extensions", "daemonsets", "DaemonSet", NOSUB, CU, false, false, 0, W },
	{ "extensions", "deployments", "Deployment", NOSUB, CU, false, false, 0, W },
	{ "extensions", "replicasets", "ReplicaSet", NOSUB, CU, false, false, 0, W },
	{ "batch", "cronjobs", "CronJob", NOSUB, CU, false, false, 0, W },
	{ "batch", "jobs", "Job", NOSUB, CU, false, false, 0, W },
	{ "", "services", "Service", { "status", NULL }, CU, false, false, GKS, S },
	{ "", "endpoints", "Endpoints", NOSUB, CU, false, false, 0, S },
	{ "discovery.k8s.io", "endpointslices", "EndpointSlice", NOSUB, CU, false, false, 0, S },
	{ "networking.k8s.io", "ingresses", "Ingress", NOSUB, CU, false, false, GKD, H },
	{ "extensions", "ingresses", "Ingress", NOSUB, CU, false, false, GKD, H },
	{ "gateway.networking.k8s.io", "gateways", "Gateway", NOSUB, CU, false, false, GKD, H },
	{ "gateway.networking.k8s.io", "listenersets", "ListenerSet", NOSUB, CU, false, false, GKD,
	  H },
	{ "gateway.networking.k8s.io", "httproutes", "HTTPRoute", NOSUB, CU, false, false,
	  GKD | GKK, H },
	{ "gateway.networking.k8s.io", "grpcroutes", "GRPCRoute", NOSUB, CU, false, false,
	  GKD | GKK, H },
	{ "gateway.networking.k8s.io", "tlsroutes", "TLSRoute", NOSUB, CU, false, false, GKD | GKK,
	  H },
	{ "gateway.networking.k8s.io", "tcproutes", "TCPRoute", NOSUB, CU, false, false, GKK, H },
	{ "gateway.networking.k8s.io", "udproutes", "UDPRoute", NOSUB, CU, false, false, GKK, H },
	{ "gateway.networking.x-k8s.io", "gateways", "Gateway", NOSUB, CU, false, false, 0, H },
	{ "gateway.networking.x-k8s.io", "listenersets", "ListenerSet", NOSUB, CU, false, false, 0,
	  H },
	{ "gateway.networking.x-k8s.io", "xlistenersets", "XListenerSet", NOSUB, CU, false, false,
	  0, H },
	{ "cert-manager.io", "certificates", "Certificate", NOSUB, CU, false, false, GKD, H },
	{ "cert-manager.io", "certificaterequests", "CertificateRequest", NOSUB, CU, false, false,
	  0, H },
	{ "acme.cert-manager.io", "orders", "Order", NOSUB, CU, false, false, GKK, H },
	{ "acme.cert-manager.io", "challenges", "Challenge", NOSUB, CU, false, false, GKK, H },
	{ "externaldns.k8s.io", "dnsendpoints", "DNSEndpoint", NOSUB, CU, false, false, 0, H },
	{ "crd.projectcalico.org", "networkpolicies", "NetworkPolicy", NOSUB, CU, false, false, 0,
	  M },
	{ "projectcalico.org", "networkpolicies", "NetworkPolicy", NOSUB, CU, false, false, 0, M },
	{ "kustomize.toolkit.fluxcd.io", "kustomizations", "Kustomization", NOSUB, CU, false, false,
	  GKK, M },
	{ "helm.toolkit.fluxcd.io", "helmreleases", "HelmRelease", NOSUB, CU, false, false, GKK,
	  M },
	{ "notification.toolkit.fluxcd.io", "alerts", "Alert", NOSUB, CU, false, false, GKK, M },
	{ "notification.toolkit.fluxcd.io", "receivers", "Receiver", NOSUB, CU, false, false, GKK,
	  M },
	{ "image.toolkit.fluxcd.io", "imagepolicies", "ImagePolicy", NOSUB, CU, false, false, GKK,
	  M },
	{ "image.toolkit.fluxcd.io", "imageupdateautomations", "ImageUpdateAutomation", NOSUB, CU,
	  false, false, GKK, M },
	{ "source.extensions.fluxcd.io", "artifactgenerators", "ArtifactGenerator", NOSUB, CU,
	  false, false, GKK, M },
	/* a tenant's RoleBindings bind only the tenant (rbac.c) */
	{ "rbac.authorization.k8s.io", "rolebindings", "RoleBinding", NOSUB, CU, false, false, GKK,
	  R },
	/* kinds the platform renders into tenant namespaces: their names are reserved */
	{ "", "serviceaccounts", "ServiceAccount", NOSUB, C, false, false, 0, NULL },
	{ "", "resourcequotas", "ResourceQuota", NOSUB, C, false, false, 0, NULL },
	{ "", "limitranges", "LimitRange", NOSUB, C, false, false, 0, NULL },
	{ "networking.k8s.io", "networkpolicies", "NetworkPolicy", NOSUB, C, false, false, 0,
	  NULL },
	{ "source.toolkit.fluxcd.io", "gitrepositories", "GitRepository", NOSUB, C, false, false, 0,
	  NULL },
	/* the tenant's own Namespace: its platform labels, annotations, deletion */
	{ "", "namespaces", "Namespace", { "finalize", "status", NULL }, CUD, true, false, 0, NULL },
};

const size_t kt_policy_n_kinds = sizeof(kt_policy_kinds) / sizeof(kt_policy_kinds[0]);

const struct kt_kind *kt_policy_kind(const char *group, const char *kind, const char *sub)
{
	for (size_t i = 0; i < kt_policy_n_kinds; i++) {
		const struct kt_kind *k = &kt_policy_kinds[i];

		if (strcmp(k->group, group) || strcmp(k->kind, kind))
			continue;
		if (!*sub)
			return k;
		for (size_t j = 0; k->subresources[j]; j++)
			if (!strcmp(k->subresources[j], sub))
				return k;
		return NULL;
	}
	return NULL;
}
