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
 *  - K8sTenantKinds `<tenant>`: the kinds `admin` lets a tenant write that
 *    the webhook judges without a pod or a hostname (ACME, port routes,
 *    Flux references, RoleBindings), with the tenant's groups.
 * The kinds the constraints match come from the engine's table of judged
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

/*
 * K8sTenantKinds, one constraint per tenant (docs/tenant-kinds.md): what
 * the webhook judges of the kinds `admin` lets a tenant write, as far as
 * Rego over one object can say it.  ACME Orders and Challenges are
 * cert-manager's; TCPRoute and UDPRoute take a whole gateway port, and an
 * HTTP, GRPC or TLS route without hostnames every hostname; Flux objects
 * refer to the tenant's namespace only; a RoleBinding binds only the
 * namespace's service accounts and the tenant's groups, to a Role or to
 * admin, edit, view or platform-tenant.  The platform identities (users,
 * service accounts as users, groups) are exempt from all but the routes,
 * as in the webhook.
 */
static const char kinds_rego[] =
	"package k8stenantkinds\n"
	"\n"
	"import future.keywords.contains\n"
	"import future.keywords.if\n"
	"import future.keywords.in\n"
	"\n"
	"writes if {\n"
	"    input.review.operation in {\"CREATE\", \"UPDATE\"}\n"
	"}\n"
	"\n"
	"platform if {\n"
	"    input.review.userInfo.username in input.parameters.platformUsers\n"
	"}\n"
	"\n"
	"platform if {\n"
	"    some g in input.review.userInfo.groups\n"
	"    g in input.parameters.platformGroups\n"
	"}\n"
	"\n"
	"violation contains {\"msg\": msg} if {\n"
	"    writes\n"
	"    input.review.kind.group == \"acme.cert-manager.io\"\n"
	"    input.review.kind.kind in {\"Order\", \"Challenge\"}\n"
	"    not platform\n"
	"    msg := sprintf(\"ACME %vs are created by cert-manager from a CertificateRequest; "
	"tenants may not write them: request a Certificate instead\", [input.review.kind.kind])\n"
	"}\n"
	"\n"
	"violation contains {\"msg\": msg} if {\n"
	"    writes\n"
	"    input.review.kind.group == \"gateway.networking.k8s.io\"\n"
	"    input.review.kind.kind in {\"TCPRoute\", \"UDPRoute\"}\n"
	"    msg := sprintf(\"a %v has no hostnames: it takes a whole listener port of the gateway, "
	"for every tenant; ask the platform to expose the port\", [input.review.kind.kind])\n"
	"}\n"
	"\n"
	"violation contains {\"msg\": msg} if {\n"
	"    writes\n"
	"    input.review.kind.group == \"gateway.networking.k8s.io\"\n"
	"    input.review.kind.kind in {\"HTTPRoute\", \"GRPCRoute\", \"TLSRoute\"}\n"
	"    not has_hostnames\n"
	"    msg := sprintf(\"a %v without hostnames matches every hostname of the gateway, "
	"including other tenants'; list the tenant's hostnames\", [input.review.kind.kind])\n"
	"}\n"
	"\n"
	"has_hostnames if {\n"
	"    count(input.review.object.spec.hostnames) > 0\n"
	"}\n"
	"\n"
	"ref_lists := {\n"
	"    \"notification.toolkit.fluxcd.io/Alert\": [\"eventSources\"],\n"
	"    \"notification.toolkit.fluxcd.io/Receiver\": [\"resources\"],\n"
	"    \"source.extensions.fluxcd.io/ArtifactGenerator\": [\"sources\"],\n"
	"    \"kustomize.toolkit.fluxcd.io/Kustomization\": [\"dependsOn\"],\n"
	"    \"helm.toolkit.fluxcd.io/HelmRelease\": [\"dependsOn\"]\n"
	"}\n"
	"\n"
	"ref_fields := {\n"
	"    \"image.toolkit.fluxcd.io/ImageUpdateAutomation\": [\"sourceRef\"],\n"
	"    \"image.toolkit.fluxcd.io/ImagePolicy\": [\"imageRepositoryRef\"],\n"
	"    \"kustomize.toolkit.fluxcd.io/Kustomization\": [\"sourceRef\"],\n"
	"    \"helm.toolkit.fluxcd.io/HelmRelease\": [\"chartRef\"]\n"
	"}\n"
	"\n"
	"flux_kind := sprintf(\"%v/%v\", [input.review.kind.group, input.review.kind.kind])\n"
	"\n"
	"refs contains [path, ref] if {\n"
	"    some f in ref_lists[flux_kind]\n"
	"    some i\n"
	"    ref := input.review.object.spec[f][i]\n"
	"    path := sprintf(\"spec.%v[%v]\", [f, i])\n"
	"}\n"
	"\n"
	"refs contains [path, ref] if {\n"
	"    some f in ref_fields[flux_kind]\n"
	"    ref := input.review.object.spec[f]\n"
	"    path := sprintf(\"spec.%v\", [f])\n"
	"}\n"
	"\n"
	"refs contains [\"spec.chart.spec.sourceRef\", ref] if {\n"
	"    flux_kind == \"helm.toolkit.fluxcd.io/HelmRelease\"\n"
	"    ref := input.review.object.spec.chart.spec.sourceRef\n"
	"}\n"
	"\n"
	"violation contains {\"msg\": msg} if {\n"
	"    writes\n"
	"    not platform\n"
	"    some r in refs\n"
	"    ns := r[1].namespace\n"
	"    ns != \"\"\n"
	"    ns != input.review.namespace\n"
	"    msg := sprintf(\"%v: reference to namespace '%v'; the tenant may only refer to objects "
	"in namespace '%v'\", [r[0], ns, input.review.namespace])\n"
	"}\n"
	"\n"
	"rolebinding if {\n"
	"    writes\n"
	"    input.review.kind.group == \"rbac.authorization.k8s.io\"\n"
	"    input.review.kind.kind == \"RoleBinding\"\n"
	"    not platform\n"
	"}\n"
	"\n"
	"violation contains {\"msg\": msg} if {\n"
	"    rolebinding\n"
	"    some s in input.review.object.subjects\n"
	"    not own_subject(s)\n"
	"    msg := sprintf(\"subject %v is not of the tenant: a tenant's RoleBindings may bind only "
	"the service accounts of namespace '%v' and the tenant's groups\", [s, "
	"input.review.namespace])\n"
	"}\n"
	"\n"
	"violation contains {\"msg\": msg} if {\n"
	"    rolebinding\n"
	"    ref := input.review.object.roleRef\n"
	"    ref.kind != \"Role\"\n"
	"    not bindable(ref.name)\n"
	"    msg := sprintf(\"ClusterRole '%v' is not one a tenant may bind; bind admin, edit, view, "
	"platform-tenant or a Role of the namespace\", [ref.name])\n"
	"}\n"
	"\n"
	"bindable(name) if {\n"
	"    name in {\"admin\", \"edit\", \"view\", \"platform-tenant\"}\n"
	"}\n"
	"\n"
	"own_subject(s) if {\n"
	"    s.kind == \"ServiceAccount\"\n"
	"    s.name != \"\"\n"
	"    not s.namespace\n"
	"}\n"
	"\n"
	"own_subject(s) if {\n"
	"    s.kind == \"ServiceAccount\"\n"
	"    s.name != \"\"\n"
	"    s.namespace in {\"\", input.review.namespace}\n"
	"}\n"
	"\n"
	"own_subject(s) if {\n"
	"    s.kind == \"Group\"\n"
	"    s.name == concat(\"\", [\"system:serviceaccounts:\", input.review.namespace])\n"
	"}\n"
	"\n"
	"own_subject(s) if {\n"
	"    s.kind == \"Group\"\n"
	"    s.name in input.parameters.groups\n"
	"}\n"
	"\n"
	"own_subject(s) if {\n"
	"    s.kind == \"User\"\n"
	"    parts := split(s.name, \":\")\n"
	"    count(parts) == 4\n"
	"    parts[0] == \"system\"\n"
	"    parts[1] == \"serviceaccount\"\n"
	"    parts[2] == input.review.namespace\n"
	"    parts[3] != \"\"\n"
	"}\n";

static json_t *template(const char *name, const char *kind, json_t *params, const char *rego)
{
	return json_pack("{s:s, s:s, s:o, s:{s:{s:{s:{s:s}, s:{s:{s:s, s:o}}}}, s:[{s:s, s:s}]}}",
			 "apiVersion", "templates.gatekeeper.sh/v1", "kind", "ConstraintTemplate",
			 "metadata", kt_meta(name, NULL, NULL), "spec", "crd", "spec", "names",
			 "kind", kind, "validation", "openAPIV3Schema", "type", "object",
			 "properties", params, "targets", "target", GK_TARGET, "rego", rego);
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
	match = json_pack("{s:o, s:o}", "kinds", gk_kinds(KT_GK_SERVICE_TYPES), "namespaceSelector",
			  kt_tenant_ns_selector(r));
	if (match && excluded && json_array_size(excluded) &&
	    json_object_set(match, "excludedNamespaces", excluded)) {
		json_decref(match);
		match = NULL;
	}
	json_decref(excluded);
	return json_pack("{s:s, s:s, s:o, s:{s:s, s:o, s:{s:[s]}}}", "apiVersion",
			 "constraints.gatekeeper.sh/v1beta1", "kind", "K8sDenyServiceType",
			 "metadata", kt_meta(name, NULL, NULL), "spec", "enforcementAction", "deny",
			 "match", match, "parameters", "types", svc_type);
}

enum kt_rc kt_render_gatekeeper_cluster(struct rctx *r)
{
	enum kt_rc rc;

	rc = kt_emit(r, template("authorizeddomainpolicy", "AuthorizedDomainPolicy",
				 json_pack("{s:{s:s, s:{s:s}}}", "domains", "type", "array",
					   "items", "type", "string"),
				 domain_rego));
	if (rc == KT_OK)
		rc = kt_emit(r, template("k8sdenyservicetype", "K8sDenyServiceType",
					 json_pack("{s:{s:s, s:{s:s, s:[ss]}}}", "types", "type",
						   "array", "items", "type", "string", "enum",
						   "NodePort", "LoadBalancer"),
					 service_rego));
	if (rc == KT_OK)
		rc = kt_emit(r, template("k8stenantkinds", "K8sTenantKinds",
					 json_pack("{s:{s:s, s:{s:s}}, s:{s:s, s:{s:s}}, "
						   "s:{s:s, s:{s:s}}}",
						   "groups", "type", "array", "items", "type",
						   "string", "platformUsers", "type", "array",
						   "items", "type", "string", "platformGroups",
						   "type", "array", "items", "type", "string"),
					 kinds_rego));
	if (rc == KT_OK)
		rc = kt_emit(r, service_constraint(r, "tenant-deny-nodeport", "NodePort"));
	if (rc == KT_OK)
		rc = kt_emit(r, service_constraint(r, "tenant-deny-loadbalancer", "LoadBalancer"));
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
			 "metadata", kt_tenant_meta(r, name, NULL, t), "spec", "applyTo", "groups",
			 "", "kinds", "Pod", "versions", "v1", "match", "scope", "Namespaced",
			 "kinds", "apiGroups", "*", "kinds", "Pod", "namespaces", t->name,
			 "location", location, "parameters", "assign", "value", value);
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

/* The tenant's groups as the proxy sends them, and the platform identities. */
static json_t *kinds_parameters(const struct rctx *r, const struct kt_tenant *t)
{
	const struct kt_identities *id = &r->cfg->global.platform;
	json_t *groups = json_array(), *users = json_array(), *pgroups = json_array();
	char sa[600];
	size_t i;
	int bad = !groups || !users || !pgroups;

	if (!bad && t->operator_group)
		bad = json_array_append_new(groups, kt_group_name(r, t->operator_group));
	for (i = 0; !bad && i < t->read_groups.n; i++)
		bad = json_array_append_new(groups, kt_group_name(r, t->read_groups.v[i]));
	for (i = 0; !bad && i < id->users.n; i++)
		bad = json_array_append_new(users, json_string(id->users.v[i]));
	for (i = 0; !bad && i < id->service_accounts.n; i++) {
		snprintf(sa, sizeof(sa), "system:serviceaccount:%s", id->service_accounts.v[i]);
		bad = json_array_append_new(users, json_string(sa));
	}
	for (i = 0; !bad && i < id->groups.n; i++)
		bad = json_array_append_new(pgroups, json_string(id->groups.v[i]));
	if (bad) {
		json_decref(groups);
		json_decref(users);
		json_decref(pgroups);
		return NULL;
	}
	return json_pack("{s:o, s:o, s:o}", "groups", groups, "platformUsers", users,
			 "platformGroups", pgroups);
}

static json_t *kinds_constraint(const struct rctx *r, const struct kt_tenant *t)
{
	return json_pack("{s:s, s:s, s:o, s:{s:{s:[s], s:o}, s:o}}", "apiVersion",
			 "constraints.gatekeeper.sh/v1beta1", "kind", "K8sTenantKinds", "metadata",
			 kt_tenant_meta(r, t->name, NULL, t), "spec", "match", "namespaces",
			 t->name, "kinds", gk_kinds(KT_GK_KINDS), "parameters",
			 kinds_parameters(r, t));
}

enum kt_rc kt_render_gatekeeper_tenant(struct rctx *r, const struct kt_tenant *t)
{
	enum kt_rc rc;

	rc = kt_emit(r, assign(r, t, "nodepool-selector", "spec.nodeSelector",
			       json_pack("{s:s}", r->key_pool, t->node_pool)));
	if (rc == KT_OK)
		rc = kt_emit(r, assign(r, t, "nodepool-toleration", "spec.tolerations",
				       json_pack("[{s:s, s:s, s:s}]", "key", r->key_pool,
						 "operator", "Equal", "value", t->node_pool)));
	if (rc == KT_OK)
		rc = kt_emit(r, kinds_constraint(r, t));
	if (rc)
		return rc;
	return kt_emit(r, json_pack("{s:s, s:s, s:o, s:{s:{s:[s], s:o}, s:{s:o}}}", "apiVersion",
				    "constraints.gatekeeper.sh/v1beta1", "kind",
				    "AuthorizedDomainPolicy", "metadata",
				    kt_tenant_meta(r, t->name, NULL, t), "spec", "match",
				    "namespaces", t->name, "kinds", gk_kinds(KT_GK_DOMAINS),
				    "parameters", "domains", tenant_domains(r, t)));
}
