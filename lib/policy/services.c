/*
 * services.c: Services and endpoints.
 *
 * A NodePort or LoadBalancer opens the tenant to the outside world past the
 * shared ingress (and node ports open every node, of every pool); an
 * ExternalName can point at another tenant's service through the ingress
 * controller; externalIPs and status.loadBalancer writes capture traffic for
 * addresses the tenant does not own (CVE-2020-8554); a hand-written Endpoints
 * or EndpointSlice sends a service's traffic to any pod or node IP.  All are
 * judged on CREATE and on UPDATE, so a later edit cannot open what the
 * creation could not.
 */
#include <string.h>
#include "internal.h"

/* The in-tree controllers that write Endpoints and EndpointSlices for every Service. */
static const char *const endpoint_writers[] = {
	"system:serviceaccount:kube-system:endpoint-controller",
	"system:serviceaccount:kube-system:endpointslice-controller",
	"system:serviceaccount:kube-system:endpointslicemirroring-controller",
	"system:kube-controller-manager",
};

static bool endpoint_writer(const struct kt_pctx *c)
{
	for (size_t i = 0; i < sizeof(endpoint_writers) / sizeof(endpoint_writers[0]); i++)
		if (c->d->user && !strcmp(c->d->user, endpoint_writers[i]))
			return true;
	return false;
}

static void judge_service(struct kt_pctx *c)
{
	struct kt_jv spec = kt_jv_get(c->obj, "spec"), ips;
	const char *type;
	char q[80];

	if (!kt_jv_absent(spec) && !kt_jv_is(spec, KT_J_OBJECT)) {
		kt_pctx_deny(c, "request.malformed", "spec", "service spec must be an object");
		return;
	}
	type = kt_gets(spec, "type");
	if (!kt_jv_absent(kt_jv_get(spec, "type")) && !type) {
		kt_pctx_deny(c, "request.malformed", "spec.type", "service type must be a string");
	} else if (type && !strcmp(type, "NodePort")) {
		/* cert-manager's default solver Service: it exposes the token only, for minutes */
		if (!kt_strv_has(&c->t->allow_service_types, "NodePort") && !kt_acme_solver(c))
			kt_pctx_deny(c, "services.node-port", "spec.type",
				     "service type NodePort opens a port on every node of the "
				     "cluster; tenant '%s' may not use it: use type ClusterIP and "
				     "an Ingress",
				     c->t->name);
	} else if (type && !strcmp(type, "LoadBalancer")) {
		if (!kt_strv_has(&c->t->allow_service_types, "LoadBalancer"))
			kt_pctx_deny(c, "services.load-balancer", "spec.type",
				     "service type LoadBalancer creates an external load balancer; "
				     "tenant '%s' may not use it: use type ClusterIP and an Ingress",
				     c->t->name);
	} else if (type && !strcmp(type, "ExternalName")) {
		kt_pctx_deny(c, "services.external-name", "spec.type",
			     "service type ExternalName can alias other tenants' services through "
			     "the shared ingress; use a ClusterIP service");
	} else if (type && *type && strcmp(type, "ClusterIP")) {
		kt_pctx_deny(c, "request.malformed", "spec.type", "unknown service type '%s'",
			     kt_pctx_q(q, sizeof(q), type));
	}
	ips = kt_jv_get(spec, "externalIPs");
	if (!kt_jv_absent(ips) && (!kt_jv_is(ips, KT_J_ARRAY) || kt_jv_size(ips)))
		kt_pctx_deny(c, "services.external-ips", "spec.externalIPs",
			     "externalIPs capture traffic for addresses the tenant does not own "
			     "(CVE-2020-8554); remove them");
}

/*
 * services/status: the load balancer's address is published by the cloud's
 * service controller (or a load-balancer controller): platform identities,
 * or the kube-controller-manager's own.  Anyone else may write the rest of
 * the status (conditions) but not status.loadBalancer: a forged address
 * captures traffic (CVE-2020-8554).  The writer is named: it may well be a
 * controller the tenants file forgot, not a tenant.
 */
static void judge_service_status(struct kt_pctx *c)
{
	struct kt_jv st = kt_jv_get(c->obj, "status"), ost = kt_jv_get(c->old, "status");
	const char *user = c->d->user && *c->d->user ? c->d->user : "(unknown)";
	char q[128];

	if (c->platform || kt_kube_controller(c, "service-controller") ||
	    (c->d->user && !strcmp(c->d->user, "system:cloud-controller-manager")))
		return;
	if (kt_jv_equal(kt_jv_get(st, "loadBalancer"), kt_jv_get(ost, "loadBalancer")))
		return;
	kt_pctx_deny(c, "services.status", "status.loadBalancer",
		     "'%s' is not a platform identity and may not change status.loadBalancer of "
		     "service '%s': a forged load-balancer address captures traffic "
		     "(CVE-2020-8554); if it is the cluster's load-balancer controller, list it "
		     "in global.platformIdentities",
		     kt_pctx_q(q, sizeof(q), user), c->name);
}

bool kt_services_dispatch(struct kt_pctx *c)
{
	if (!*c->group && !strcmp(c->kind, "Service")) {
		if (!strcmp(c->sub, "status"))
			judge_service_status(c);
		else if (!*c->sub)
			judge_service(c);
		return true;
	}
	if ((!*c->group && !strcmp(c->kind, "Endpoints")) ||
	    (!strcmp(c->group, "discovery.k8s.io") && !strcmp(c->kind, "EndpointSlice"))) {
		if (!endpoint_writer(c))
			kt_pctx_deny(c, "services.endpoints", NULL,
				     "hand-written %s can send a service's traffic to any address; "
				     "give the Service a selector and let Kubernetes manage them",
				     c->kind);
		return true;
	}
	return false;
}
