/*
 * who.c: writers that are not the tenant (the kube-controller-manager's
 * controllers, cert-manager's HTTP01 solver, the tenant's Flux), as several
 * rule files ask.  Out of engine.c so that no rule file calls the dispatcher.
 */
#include <string.h>
#include "internal.h"

const char *kt_policy_flux_service_account(const struct kt_tenant *t)
{
	(void)t; /* the same name in every tenant namespace, as lib/render/flux.c creates it */
	return KT_POLICY_FLUX_SERVICE_ACCOUNT;
}

bool kt_kube_controller(const struct kt_pctx *c, const char *name)
{
	static const char sa[] = "system:serviceaccount:kube-system:";
	const char *u = c->d->user;

	if (!u)
		return false;
	if (!strcmp(u, "system:kube-controller-manager"))
		return true;
	return !strncmp(u, sa, sizeof(sa) - 1) && !strcmp(u + sizeof(sa) - 1, name);
}

bool kt_controller_ref(struct kt_jv obj, const char *api_version, const char *kind)
{
	kt_each (ref, kt_jv_get(kt_jv_get(obj, "metadata"), "ownerReferences"))
		if (kt_jv_true(kt_jv_get(ref.v, "controller")) &&
		    kt_jv_streq(kt_jv_get(ref.v, "apiVersion"), api_version) &&
		    kt_jv_streq(kt_jv_get(ref.v, "kind"), kind))
			return true;
	return false;
}

/*
 * cert-manager makes a Pod, a Service and (ingress solver) an Ingress per
 * HTTP01 challenge, in the challenge's namespace: generateName
 * cm-acme-http-solver-, label acme.cert-manager.io/http01-solver=true,
 * owned by the Challenge.  Only a platform identity (cert-manager's, by
 * default) makes them: a tenant forging the shape gains nothing.
 */
bool kt_acme_solver(const struct kt_pctx *c)
{
	static const char prefix[] = "cm-acme-http-solver-";
	const char *gen, *name;

	if (!c->platform || c->op != KT_OP_CREATE ||
	    !kt_jv_streq(kt_jv_get(c->labels, "acme.cert-manager.io/http01-solver"), "true"))
		return false;
	gen = kt_jv_str(c->meta_gen);
	name = kt_jv_str(c->meta_name);
	return ((gen && !strcmp(gen, prefix)) ||
		(name && !strncmp(name, prefix, sizeof(prefix) - 1))) &&
	       kt_controller_ref(c->obj, "acme.cert-manager.io/v1", "Challenge");
}
