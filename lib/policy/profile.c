/*
 * profile.c: what an enforcement profile (render --enforcement) enforces
 * of the engine's verdict.
 *
 * The webhook profile runs this engine: everything it denies is enforced.
 * The gatekeeper profile renders the blog's objects instead, which enforce
 * a few rule families only (docs/enforcement.md has the table): Gatekeeper
 * assigns every Pod its pool's nodeSelector and toleration, refuses
 * hostnames outside the tenant's in the spec of the kinds whose row has
 * KT_GK_DOMAINS, NodePort/LoadBalancer Services, and on the rows with
 * KT_GK_KINDS the kind rules of K8sTenantKinds (ACME objects, routes
 * without hostnames, Flux cross-namespace references, RoleBindings).  The API server
 * enforces Pod Security on Pods (the namespace labels) and the shape of
 * requests in every profile.  A denial the profile does not enforce
 * becomes a warning that says so, so `check --enforcement gatekeeper`
 * shows what the cluster will really refuse and what passes unchecked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt/render.h"
#include "internal.h"

static bool prefixed(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* Why gatekeeper does not enforce finding f on group/kind, or NULL when it does. */
static const char *gatekeeper_gap(const char *group, const char *kind, const char *sub,
				  const struct kt_finding *f)
{
	const struct kt_kind *k = kt_policy_kind(group, kind, sub);
	unsigned gk = k && !*sub ? k->gatekeeper : 0;
	const char *r = f->rule;

	if (prefixed(r, "request."))
		return NULL; /* the API server refuses these itself */
	if (prefixed(r, "pod-security."))
		return !*group && (!strcmp(kind, "Pod"))
			       ? NULL
			       : "Pod Security admission only warns about pod templates; the pods "
				 "they create are refused";
	if (!strcmp(r, "hostnames.unauthorized") || !strcmp(r, "hostnames.ingress-catch-all"))
		return (gk & KT_GK_DOMAINS) && f->path && prefixed(f->path, "spec.")
			       ? NULL
			       : "its AuthorizedDomainPolicy reads only the hostnames in the spec of "
				 "Ingresses, Certificates and Gateway API objects";
	if (!strcmp(r, "services.node-port") || !strcmp(r, "services.load-balancer"))
		return (gk & KT_GK_SERVICE_TYPES) ? NULL : "it only checks Services";
	if (!strcmp(r, "hostnames.acme-object") ||
	    !strcmp(r, "hostnames.route-without-hostnames") ||
	    !strcmp(r, "flux.cross-namespace-ref") || prefixed(r, "rbac."))
		return (gk & KT_GK_KINDS)
			       ? NULL
			       : "its K8sTenantKinds reads only ACME objects, routes, Flux "
				 "objects and RoleBindings";
	if (prefixed(r, "placement."))
		return "it only assigns each Pod its pool's nodeSelector and toleration";
	if (prefixed(r, "images."))
		return "it has no image registry rule";
	if (prefixed(r, "hostnames."))
		return "it only checks that hostnames are the tenant's";
	if (prefixed(r, "services."))
		return "it only refuses NodePort and LoadBalancer Services";
	if (prefixed(r, "managed.") || prefixed(r, "namespace."))
		return "it does not protect platform objects or the tenant Namespace";
	if (prefixed(r, "network."))
		return "it does not judge Calico policies";
	if (prefixed(r, "flux."))
		return "it has no Flux rules";
	return "it has no such rule";
}

enum kt_rc kt_policy_enforcement(int enforcement, const char *group, const char *sub,
				 struct kt_decision *d)
{
	struct kt_finding *w;
	enum kt_rc rc = KT_OK;
	size_t i, kept = 0;

	if (enforcement != KT_ENF_GATEKEEPER || !d->kind || !d->n_denials)
		goto out;
	w = realloc(d->warnings, (d->n_warnings + d->n_denials) * sizeof(*w));
	if (!w)
		return KT_E_NOMEM;
	d->warnings = w;
	for (i = 0; i < d->n_denials; i++) {
		struct kt_finding f = d->denials[i];
		const char *why = gatekeeper_gap(group, d->kind, sub ? sub : "", &f);
		char *msg = NULL;

		/* out of memory: it stays a denial (fail closed) */
		if (why &&
		    asprintf(&msg, "not enforced by gatekeeper (%s): %s", why, f.message) < 0) {
			rc = KT_E_NOMEM;
			msg = NULL;
		}
		if (!msg) {
			d->denials[kept++] = f;
			continue;
		}
		free(f.message);
		f.message = msg;
		d->warnings[d->n_warnings++] = f;
	}
	d->n_denials = kept;
	d->allowed = kept == 0;
	d->code = d->allowed ? 200 : 403;
out:
	/* under Gatekeeper its Assign mutates, not this engine */
	if (enforcement == KT_ENF_GATEKEEPER)
		kt_buf_reset(&d->patch);
	return rc;
}
