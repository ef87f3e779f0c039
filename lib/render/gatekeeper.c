/*
 * gatekeeper.c: --enforcement gatekeeper, the blog's Gatekeeper objects.
 *
 * Per tenant (as the blog):
 *  - Assign `<tenant>-nodepool-selector`: spec.nodeSelector of every Pod in
 *    the namespace is set to the tenant's pool;
 *  - Assign `<tenant>-nodepool-toleration`: spec.tolerations is set to the
 *    pool's toleration.  The blog named this one after the pool, but two
 *    tenants sharing a pool would then write the same object; we name it
 *    after the tenant.
 *  - AuthorizedDomainPolicy `<tenant>`: the hostnames the tenant may use,
 *    `<tenant>.<tenantHostPrefix>`, `*.<tenant>.<tenantHostPrefix>` and its
 *    `domains`.
 * The kinds both constraints match come from the engine's table of judged
 * kinds (lib/policy/kinds.c, its Gatekeeper column), so the two profiles
 * name the same kinds; what this profile does not enforce is listed in
 * docs/enforcement.md and reported by `check --enforcement gatekeeper`.
 * Cluster-wide: the AuthorizedDomainPolicy ConstraintTemplate, and the
 * K8sDenyServiceType template with one constraint per denied type
 * (NodePort, LoadBalancer) over tenant namespaces, minus the tenants whose
 * allowServiceTypes grants that type.
 *
 * The Rego uses only constructs that parse both as Rego v0 (Gatekeeper's
 * `rego:` field) with the future.keywords imports and as Rego v1.
 */
#include <stdio.h>
#include <string.h>
#include "kt/policy.h"
#include "internal.h"

#define GK_NS "gatekeeper-system"
#define GK_TARGET "admission.k8s.gatekeeper.sh"

/*
 * Hostnames by kind: Ingress rules and TLS hosts, cert-manager Certificate
 * dnsNames and commonName, Gateway API route hostnames and listener
 * hostnames.  An Ingress rule without a host, or a default backend, would
 * catch every hostname of its ingress class, so both are violations too.
 * "*.d" authorizes exactly one more label, as in TLS certificates.
 */
static const char domain_rego[] =
	"package authorizeddomainpolicy\n"
	"\n"
	"import future.keywords.contains\n"
	"import future.keywords.if\n"
	"\n"
	"violation contains {\"msg\": msg} if {\n"
	"    requested[host]\n"
	"    not authorized(host)\n"
	"    msg := sprintf(\"hostname '%v' is not authorized for namespace '%v'; allowed: %v\", "
	"[host, input.review.namespace, input.parameters.domains])\n"
	"}\n"
	"\n"
	"violation contains {\"msg\": msg} if {\n"
	"    input.review.kind.kind == \"Ingress\"\n"
	"    rule := input.review.object.spec.rules[_]\n"
	"    not rule.host\n"
	"    msg := \"every ingress rule must name a host: a rule without one catches every "
	"hostname\"\n"
	"}\n"
	"\n"
	"violation contains {\"msg\": msg} if {\n"
	"    input.review.kind.kind == \"Ingress\"\n"
	"    input.review.object.spec.defaultBackend\n"
	"    msg := \"ingress defaultBackend is not allowed: it catches every hostname\"\n"
	"}\n"
	"\n"
	"requested contains host if {\n"
	"    input.review.kind.kind == \"Ingress\"\n"
	"    host := input.review.object.spec.rules[_].host\n"
	"}\n"
	"\n"
	"requested contains host if {\n"
	"    input.review.kind.kind == \"Ingress\"\n"
	"    host := input.review.object.spec.tls[_].hosts[_]\n"
	"}\n"
	"\n"
	"requested contains host if {\n"
	"    input.review.kind.kind == \"Certificate\"\n"
	"    host := input.review.object.spec.dnsNames[_]\n"
	"}\n"
	"\n"
	"requested contains host if {\n"
	"    input.review.kind.kind == \"Certificate\"\n"
	"    host := input.review.object.spec.commonName\n"
	"}\n"
	"\n"
	"requested contains host if {\n"
	"    input.review.kind.group == \"gateway.networking.k8s.io\"\n"
	"    host := input.review.object.spec.hostnames[_]\n"
	"}\n"
	"\n"
	"requested contains host if {\n"
	"    input.review.kind.group == \"gateway.networking.k8s.io\"\n"
	"    host := input.review.object.spec.listeners[_].hostname\n"
	"}\n"
	"\n"
	"authorized(host) if {\n"
	"    lower(host) == lower(input.parameters.domains[_])\n"
	"}\n"
	"\n"
	"authorized(host) if {\n"
	"    domain := input.parameters.domains[_]\n"
	"    startswith(domain, \"*.\")\n"
	"    suffix := lower(trim_prefix(domain, \"*\"))\n"
	"    h := lower(host)\n"
	"    endswith(h, suffix)\n"
	"    label := trim_suffix(h, suffix)\n"
	"    label != \"\"\n"
	"    indexof(label, \".\") == -1\n"
	"}\n";

static const char service_rego[] =
	"package k8sdenyservicetype\n"
	"\n"
	"import future.keywords.contains\n"
	"import future.keywords.if\n"
	"\n"
	"violation contains {\"msg\": msg} if {\n"
	"    input.review.kind.kind == \"Service\"\n"
	"    svc_type := input.review.object.spec.type\n"
	"    svc_type == input.parameters.types[_]\n"
	"    msg := sprintf(\"services of type %v are not allowed in namespace '%v': tenants are "
	"reached through the ingress controller\", [svc_type, input.review.namespace])\n"
	"}\n";

static json_t *template(const char *name, const char *kind, json_t *params, const char *rego)
{
	return json_pack("{s:s, s:s, s:o, s:{s:{s:{s:{s:s}, s:{s:{s:s, s:o}}}}, s:[{s:s, s:s}]}}",
			 "apiVersion", "templates.gatekeeper.sh/v1", "kind", "ConstraintTemplate",
			 "metadata", meta(name, NULL, NULL), "spec", "crd", "spec", "names", "kind",
			 kind, "validation", "openAPIV3Schema", "type", "object", "properties",
			 params, "targets", "target", GK_TARGET, "rego", rego);
}

/*
 * The match kinds of a constraint: the judged kinds (lib/policy/kinds.c)
 * whose Gatekeeper column has the bit, one entry per API group.
 */
static json_t *gk_kinds(unsigned bit)
{
	json_t *out = json_array(), *e = NULL;
	const char *group = NULL;
	size_t i;

	for (i = 0; out && i < kt_policy_n_kinds; i++) {
		const struct kt_kind *k = &kt_policy_kinds[i];

		if (!(k->gatekeeper & bit))
			continue;
		if (!group || strcmp(group, k->group)) {
			e = json_pack("{s:[s], s:[]}", "apiGroups", k->group, "kinds");
			group = k->group;
			if (json_array_append_new(out, e))
				goto fail;
		}
		if (json_array_append_new(json_object_get(e, "kinds"), json_string(k->kind)))
			goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* Tenants that do not get svc_type in allowServiceTypes stay covered; the rest are excluded. */
static json_t *service_constraint(const struct rctx *r, const char *name, const char *svc_type)
{
	json_t *excluded = json_array(), *match;
	size_t i, j;

	for (i = 0; excluded && i < r->cfg->n_tenants; i++) {
		const struct kt_tenant *t = &r->cfg->tenants[i];

		for (j = 0; j < t->allow_service_types.n; j++)
			if (!strcmp(t->allow_service_types.v[j], svc_type) &&
			    json_array_append_new(excluded, json_string(t->name))) {
				json_decref(excluded);
				excluded = NULL;
				break;
			}
	}
	match = json_pack("{s:o, s:o}", "kinds", gk_kinds(KT_GK_SERVICE_TYPES),
			  "namespaceSelector", tenant_ns_selector(r));
	if (match && excluded && json_array_size(excluded) &&
	    json_object_set(match, "excludedNamespaces", excluded)) {
		json_decref(match);
		match = NULL;
	}
	json_decref(excluded);
	return json_pack("{s:s, s:s, s:o, s:{s:s, s:o, s:{s:[s]}}}", "apiVersion",
			 "constraints.gatekeeper.sh/v1beta1", "kind", "K8sDenyServiceType",
			 "metadata", meta(name, NULL, NULL), "spec", "enforcementAction", "deny",
			 "match", match, "parameters", "types", svc_type);
}

enum kt_rc render_gatekeeper_cluster(struct rctx *r)
{
	enum kt_rc rc;

	rc = emit(r, template("authorizeddomainpolicy", "AuthorizedDomainPolicy",
			      json_pack("{s:{s:s, s:{s:s}}}", "domains", "type", "array", "items",
					"type", "string"),
			      domain_rego));
	if (rc == KT_OK)
		rc = emit(r, template("k8sdenyservicetype", "K8sDenyServiceType",
				      json_pack("{s:{s:s, s:{s:s, s:[ss]}}}", "types", "type",
						"array", "items", "type", "string", "enum",
						"NodePort", "LoadBalancer"),
				      service_rego));
	if (rc == KT_OK)
		rc = emit(r, service_constraint(r, "tenant-deny-nodeport", "NodePort"));
	if (rc == KT_OK)
		rc = emit(r, service_constraint(r, "tenant-deny-loadbalancer", "LoadBalancer"));
	return rc;
}

/* The blog's Assign: every Pod of the tenant's namespace, value at location. */
static json_t *assign(const struct rctx *r, const struct kt_tenant *t, const char *suffix,
		      const char *location, json_t *value)
{
	char name[128];

	snprintf(name, sizeof(name), "%s-%s", t->name, suffix);
	return json_pack("{s:s, s:s, s:o, s:{s:[{s:[s], s:[s], s:[s]}], s:{s:s, s:[{s:[s], "
			 "s:[s]}], s:[s]}, s:s, s:{s:{s:o}}}}",
			 "apiVersion", "mutations.gatekeeper.sh/v1beta1", "kind", "Assign",
			 "metadata", tenant_meta(r, name, GK_NS, t), "spec", "applyTo", "groups", "",
			 "kinds", "Pod", "versions", "v1", "match", "scope", "Namespaced", "kinds",
			 "apiGroups", "*", "kinds", "Pod", "namespaces", t->name, "location",
			 location, "parameters", "assign", "value", value);
}

static json_t *tenant_domains(const struct rctx *r, const struct kt_tenant *t)
{
	const char *prefix = r->cfg->global.tenant_host_prefix;
	json_t *d = json_array();
	char host[600];
	size_t i;

	if (d && prefix) {
		snprintf(host, sizeof(host), "%s.%s", t->name, prefix);
		if (json_array_append_new(d, json_string(host)))
			goto fail;
		snprintf(host, sizeof(host), "*.%s.%s", t->name, prefix);
		if (json_array_append_new(d, json_string(host)))
			goto fail;
	}
	for (i = 0; d && i < t->domains.n; i++)
		if (json_array_append_new(d, json_string(t->domains.v[i])))
			goto fail;
	return d;
fail:
	json_decref(d);
	return NULL;
}

enum kt_rc render_gatekeeper_tenant(struct rctx *r, const struct kt_tenant *t)
{
	enum kt_rc rc;

	rc = emit(r, assign(r, t, "nodepool-selector", "spec.nodeSelector",
			    json_pack("{s:s}", r->key_pool, t->node_pool)));
	if (rc == KT_OK)
		rc = emit(r, assign(r, t, "nodepool-toleration", "spec.tolerations",
				    json_pack("[{s:s, s:s, s:s}]", "key", r->key_pool, "operator",
					      "Equal", "value", t->node_pool)));
	if (rc)
		return rc;
	return emit(r, json_pack("{s:s, s:s, s:o, s:{s:{s:[s], s:o}, s:{s:o}}}",
				 "apiVersion", "constraints.gatekeeper.sh/v1beta1", "kind",
				 "AuthorizedDomainPolicy", "metadata", tenant_meta(r, t->name, NULL, t),
				 "spec", "match", "namespaces", t->name, "kinds",
				 gk_kinds(KT_GK_DOMAINS), "parameters", "domains",
				 tenant_domains(r, t)));
}
