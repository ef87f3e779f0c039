/*
 * schema.c: the JSON Schema (draft 2020-12) of the tenants file, for editors
 * and developer portals.  It states the shape and the per-value formats;
 * `kubetenant validate` checks more (references, reserved namespaces,
 * hostname ownership, LimitRange order), which a schema cannot express.
 *
 * The schema is built with jansson from small builders (one per repeated
 * shape: quantity maps, name lists, bounded strings) rather than written out
 * as JSON text, so that each pattern and shape is stated once.  jansson keeps
 * insertion order, so the output reads in the order of the tenants file.
 *
 * Every builder returns a new reference or NULL when out of memory, and
 * takes ownership of the json_t arguments it is given, also on failure
 * (json_pack "o" releases its arguments on error since jansson 2.11): the
 * builders nest without checks and one NULL anywhere makes the whole schema
 * NULL, never a schema with a hole.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <jansson.h>
#include "kt/config.h"

#define DNS_LABEL "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
#define DNS_SUBDOMAIN "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
#define HOST_LABELS "([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)+[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
#define HOSTNAME "^" HOST_LABELS
#define HOSTNAME_OR_WILDCARD "^(\\*\\.)?" HOST_LABELS
#define PSS_LEVEL "^(privileged|baseline|restricted)(:(latest|v1\\.(0|[1-9][0-9]{0,2})))?$"
#define QUANTITY "^[+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
#define MAX_LIST 1000

/* obj with the keys packed from fmt appended after its own. */
static json_t *with(json_t *obj, const char *fmt, ...)
{
	json_t *more;
	va_list ap;

	va_start(ap, fmt);
	more = json_vpack_ex(NULL, 0, fmt, ap);
	va_end(ap);
	if (obj && more && json_object_update(obj, more) == 0) {
		json_decref(more);
		return obj;
	}
	json_decref(obj);
	json_decref(more);
	return NULL;
}

static json_t *described(json_t *obj, const char *description)
{
	return with(obj, "{s:s}", "description", description);
}

static json_t *defaulted(json_t *obj, const char *value, const char *description)
{
	return with(obj, "{s:s, s:s}", "default", value, "description", description);
}

static json_t *not_matching(json_t *obj, const char *pattern)
{
	return with(obj, "{s:{s:s}}", "not", "pattern", pattern);
}

/* Groups under 'system:' are Kubernetes' own: no tenant may be bound to one. */
static json_t *no_system(json_t *obj)
{
	return not_matching(obj, "^system:");
}

static json_t *str(const char *pattern)
{
	return json_pack("{s:s, s:s}", "type", "string", "pattern", pattern);
}

static json_t *str_max(const char *pattern, int max_length)
{
	return with(str(pattern), "{s:i}", "maxLength", max_length);
}

static json_t *nonempty(int max_length)
{
	return json_pack("{s:s, s:i, s:i}", "type", "string", "minLength", 1, "maxLength",
			 max_length);
}

static json_t *hostname(int max_length, const char *description)
{
	return described(str_max(HOSTNAME, max_length), description);
}

static json_t *seconds(int minimum, int maximum, const char *description)
{
	return json_pack("{s:s, s:i, s:i, s:s}", "type", "integer", "minimum", minimum, "maximum",
			 maximum, "description", description);
}

/* A set of items, bounded like every list of the loader. */
static json_t *list(const char *description, json_t *items)
{
	return json_pack("{s:s, s:s, s:o, s:b, s:i}", "type", "array", "description", description,
			 "items", items, "uniqueItems", 1, "maxItems", MAX_LIST);
}

static json_t *opt_list(const char *description, json_t *items)
{
	return with(list(description, items), "{s:[]}", "default");
}

/* Resource name to Kubernetes quantity: quota and each LimitRange map. */
static json_t *quantity_map(const char *description)
{
	return json_pack("{s:s, s:s, s:i, s:{s:[s, s], s:s, s:s}}", "type", "object", "description",
			 description, "maxProperties", 64, "additionalProperties", "type", "string",
			 "number", "pattern", QUANTITY, "description",
			 "A non-negative Kubernetes quantity: '500m', '2Gi', '1e3', '4'.");
}

/* An object with only the listed keys; description and required1/2 may be NULL. */
static json_t *strict_object(const char *description, const char *required1, const char *required2,
			     json_t *properties)
{
	json_t *obj = json_pack("{s:s, s:b, s:s*}", "type", "object", "additionalProperties", 0,
				"description", description);

	if (required1)
		obj = with(obj, "{s:[s, s*]}", "required", required1, required2);
	return with(obj, "{s:o}", "properties", properties);
}

/* nodePools and tenants: name -> value, null when the key is left empty. */
static json_t *name_map(const char *description, int max, json_t *names, json_t *values)
{
	return json_pack("{s:[s, s], s:s, s:i, s:o, s:o}", "type", "object", "null", "description",
			 description, "maxProperties", max, "propertyNames", names,
			 "additionalProperties", values);
}

static json_t *default_service_accounts(json_t *obj)
{
	static const char *const dflt[] = KT_DEFAULT_PLATFORM_SERVICE_ACCOUNTS;
	json_t *v = json_array();

	for (size_t i = 0; v && i < sizeof(dflt) / sizeof(dflt[0]); i++)
		if (json_array_append_new(v, json_string(dflt[i]))) {
			json_decref(v);
			v = NULL;
		}
	return with(obj, "{s:o}", "default", v);
}

static json_t *platform_identities(void)
{
	json_t *group =
		with(nonempty(256), "{s:{s:[s, s, s]}}", "not", "enum", "system:authenticated",
		     "system:unauthenticated", "system:serviceaccounts");

	return strict_object(
		"Identities exempt from the rules that protect platform-managed objects (never "
		"from node placement or pod security).",
		NULL, NULL,
		json_pack("{s:o, s:o, s:o}", "users",
			  list("User names, as the API server sees them.", nonempty(256)), "groups",
			  list("Group names; 'system:authenticated', "
			       "'system:unauthenticated' and 'system:serviceaccounts' are "
			       "refused.",
			       group),
			  "serviceAccounts",
			  default_service_accounts(
				  list("Service accounts as 'namespace:name'. When not set: the "
				       "controllers of Flux, cert-manager and the cloud's service "
				       "and load-balancer controllers (docs/controllers.md); setting "
				       "the key replaces that list.",
				       str("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?:"
					   "[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")))));
}

static json_t *pem(const char *description)
{
	return json_pack("{s:s, s:s, s:i, s:s}", "type", "string", "pattern",
			 "-----BEGIN CERTIFICATE-----", "maxLength", 65536, "description",
			 description);
}

static json_t *oidc(void)
{
	json_t *props = json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "issuerURL",
		described(str("^https://"), "OIDC issuer URL (https only)."), "clientID",
		described(nonempty(256), "The token audience; required with issuerURL."),
		"usernameClaim", defaulted(nonempty(256), "sub", "Claim that names the user."),
		"groupsClaim",
		defaulted(nonempty(256), "groups", "Claim that lists the user's groups."),
		"proxyHostname",
		hostname(253, "Public hostname of the proxy; it belongs to the "
			      "platform and no tenant may claim it."),
		"dashboardClientID",
		defaulted(nonempty(256), "kubetenant-dashboard",
			  "The dashboard's OIDC client; the proxy accepts it "
			  "as a second audience."),
		"issuerCA",
		pem("PEM CA certificates the proxy trusts for the issuer (a private "
		    "issuer); default: the system's roots."),
		"proxyCA",
		pem("PEM CA certificates members trust for the proxy, published in "
		    "kube-public/kubetenant-info as ca.crt."),
		"exposure",
		json_pack("{s:[s, s, s], s:s, s:s}", "enum", "none", "ingress", "gateway",
			  "default", "none", "description",
			  "How the proxy is reached from outside the cluster; "
			  "`render --proxy-exposure` overrides it."),
		"ingressClassName",
		defaulted(str_max(DNS_SUBDOMAIN, 253), "nginx",
			  "IngressClass of the proxy's Ingress "
			  "(ingress-nginx)."),
		"gatewayClassName",
		described(str_max(DNS_SUBDOMAIN, 253),
			  "GatewayClass of the proxy's Gateway; required "
			  "with exposure: gateway."),
		"certIssuer",
		strict_object("cert-manager issuer of the public certificate at the Ingress; default "
			      "the Issuer kubetenant-ca.",
			      "kind", "name",
			      json_pack("{s:{s:[s, s], s:s}, s:o}", "kind", "enum", "Issuer",
					"ClusterIssuer", "description",
					"An Issuer in kubetenant-system, "
					"or a ClusterIssuer.",
					"name",
					described(str_max(DNS_SUBDOMAIN, 253),
						  "The issuer's name."))),
		"dashboard",
		json_pack("{s:s, s:b, s:s}", "type", "boolean", "default", 0, "description",
			  "Serve the tenant dashboard under /ui/ of "
			  "the proxy (--ui); its OIDC client is dashboardClientID."));

	return with(strict_object("The OIDC-to-impersonation proxy; rendered only when issuerURL "
				  "is set.",
				  NULL, NULL, props),
		    "{s:{s:[s]}}", "dependentRequired", "issuerURL", "clientID");
}

static json_t *global(void)
{
	json_t *props =
		json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			  "clusterHostname",
			  hostname(253, "Public hostname of the cluster; it belongs to the "
					"platform and no tenant may claim it."),
			  "tenantHostPrefix",
			  hostname(187, "DNS zone of tenant hosts: every tenant may use "
					"'<tenant>.<prefix>' and '*.<tenant>.<prefix>'. No "
					"tenant may list a domain at, under or above it "
					"(except its own subtree)."),
			  "clusterName",
			  described(str("^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$"),
				    "EKS cluster name: Karpenter discovery tags and EC2 tags."),
			  "clusterDNS",
			  json_pack("{s:s, s:s, s:[{s:s}, {s:s}]}", "type", "string", "description",
				    "IPv4 or IPv6 address of the cluster DNS "
				    "service, for the kubelet of Karpenter nodes.",
				    "anyOf", "format", "ipv4", "format", "ipv6"),
			  "labelDomain",
			  defaulted(str_max(DNS_SUBDOMAIN, 253), "kubetenant.io",
				    "Prefix of every platform label and taint key: "
				    "'<labelDomain>/node-pool', '<labelDomain>/purpose'."),
			  "groupPrefix",
			  defaulted(no_system(json_pack("{s:s, s:i}", "type", "string", "maxLength",
							64)),
				    "oidc:",
				    "Prefix the API server adds to IdP groups "
				    "(--oidc-groups-prefix); prepended to every group in "
				    "RoleBindings. May be empty."),
			  "platformNamespaces",
			  opt_list("Namespaces of platform services (ingress "
				   "controller, monitoring) that may reach every "
				   "tenant. No tenant may have one of these names.",
				   str(DNS_LABEL)),
			  "podSecurity",
			  defaulted(str(PSS_LEVEL), "restricted:latest",
				    "Default Pod Security Standards level for tenants: "
				    "'privileged', 'baseline' or 'restricted', optionally "
				    "pinned to a version with ':v1.<minor>' or ':latest'."),
			  "platformIdentities", platform_identities(), "image",
			  json_pack("{s:s, s:i, s:s, s:s}", "type", "string", "maxLength", 255,
				    "pattern", "^[A-Za-z0-9._/:@-]+$", "description",
				    "Image of kubetenant itself, for the webhook and proxy "
				    "Deployments. Default 'kubetenant/kubetenant:<version>'."),
			  "oidc", oidc(), "defaultPriorityClasses",
			  opt_list("The cluster's globalDefault PriorityClass "
				   "(or classes, while changing it): the API "
				   "server sets it on every pod that names none, "
				   "so every tenant may use it. Names starting "
				   "with 'system-' are refused.",
				   not_matching(str(DNS_SUBDOMAIN), "^system-")));

	return strict_object("Settings for the whole cluster.", "tenantHostPrefix", "clusterName",
			     props);
}

static json_t *node_pools(void)
{
	json_t *instances =
		strict_object("What Karpenter may launch for this pool.", "instanceTypes", NULL,
			      json_pack("{s:o, s:o, s:o, s:o}", "capacityTypes",
					with(list("Capacity types: 'on-demand', 'spot', 'reserved'.",
						  json_pack("{s:[s, s, s]}", "enum", "on-demand",
							    "spot", "reserved")),
					     "{s:i, s:[s]}", "minItems", 1, "default", "on-demand"),
					"instanceTypes",
					with(list("EC2 instance types, like 't3a.large'.",
						  str_max("^[a-z][a-z0-9-]*\\.[a-z0-9-]+$", 64)),
					     "{s:i}", "minItems", 1),
					"emptyTtl",
					seconds(0, 2592000,
						"Seconds a node may stay empty before "
						"Karpenter consolidates it (0 to 30 days). Unset: "
						"Karpenter's default."),
					"ttl",
					seconds(60, 31536000,
						"Seconds after which a node expires and is "
						"replaced (1 minute to 365 days). Unset: never.")));
	json_t *prices = json_pack(
		"{s:s, s:s, s:i, s:{s:s, s:i}, s:{s:s, s:s}}", "type", "object", "description",
		"Monthly price of one node of each instance type, in the platform's currency: "
		"the dashboard estimates a tenant's share with it. Only the pool's instanceTypes.",
		"maxProperties", 64, "propertyNames", "pattern", "^[a-z][a-z0-9-]*\\.[a-z0-9-]+$",
		"maxLength", 64, "additionalProperties", "type", "string", "pattern",
		"^[0-9]{1,9}(\\.[0-9]{1,4})?$");
	json_t *cost_code = described(str("^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"),
				      "Cost allocation code: the '<labelDomain>/cost-code' label "
				      "and the CostCode EC2 tag.");

	return name_map("Karpenter node pools by name (DNS-1123 labels). Each becomes a NodePool "
			"and an EC2NodeClass, tainted so that only its tenants' pods land there.",
			10000, json_pack("{s:s}", "pattern", DNS_LABEL),
			strict_object(NULL, "instances", "costCode",
				      json_pack("{s:o, s:o, s:o}", "instances", instances,
						"costCode", cost_code, "prices", prices)));
}

static json_t *manifest_repo(void)
{
	json_t *path = with(nonempty(1024), "{s:s}", "pattern", "^[^/]");

	return strict_object(
		"Flux sync of the tenant's own Git repository, applied with a service account "
		"that is admin of the tenant's namespace only.",
		"url", NULL,
		json_pack("{s:o, s:o, s:o, s:o, s:o}", "url",
			  described(str("^(https://|ssh://|git@)"),
				    "https:// or ssh:// "
				    "URL, or git@host:path (rewritten to ssh://)."),
			  "branch", defaulted(nonempty(255), "main", "Branch to follow."), "path",
			  defaulted(not_matching(path, "(^|/)\\.\\.(/|$)"), "./",
				    "Directory inside the repository (relative, no '..')."),
			  "interval",
			  defaulted(str("^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"), "1m",
				    "How often Flux checks the repository (Go "
				    "duration)."),
			  "secretRef",
			  described(str_max(DNS_SUBDOMAIN, 253),
				    "Secret in the "
				    "tenant namespace with the Git credentials.")));
}

static json_t *tenant(void)
{
	json_t *limits = strict_object(
		"LimitRange for containers; min <= defaultRequest <= default <= max per resource.",
		NULL, NULL,
		json_pack("{s:o, s:o, s:o, s:o}", "default", quantity_map("Default limits."),
			  "defaultRequest", quantity_map("Default requests."), "max",
			  quantity_map("Largest limits allowed."), "min",
			  quantity_map("Smallest requests allowed.")));
	json_t *props = json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
		"s:o}",
		"nodePool",
		described(str(DNS_LABEL), "Node pool (a key of nodePools) where every "
					  "pod of the tenant runs."),
		"operatorEdGroup",
		described(no_system(nonempty(256)), "IdP group with read access "
						    "to the namespace (bound with groupPrefix)."),
		"readOnlyGroups",
		opt_list("More IdP groups with read access.", no_system(nonempty(256))), "domains",
		opt_list("Hostnames the tenant may use in Ingresses and Certificates, "
			 "besides '<tenant>.<tenantHostPrefix>' and its wildcard. '*' "
			 "only as the whole leftmost label. No two tenants may hold "
			 "names where one equals or lies under the other.",
			 not_matching(str_max(HOSTNAME_OR_WILDCARD, 253), "\\.[0-9]+$")),
		"podSecurity",
		described(str(PSS_LEVEL), "Pod Security Standards level of this "
					  "tenant; default global.podSecurity."),
		"allowServiceTypes",
		opt_list("Service types the tenant may create besides "
			 "ClusterIP.",
			 json_pack("{s:[s, s]}", "enum", "NodePort", "LoadBalancer")),
		"allowFrom",
		opt_list("Other tenants whose pods may reach this tenant's pods.", str(DNS_LABEL)),
		"quota",
		quantity_map("ResourceQuota spec.hard: resource name to quantity "
			     "('requests.cpu', 'limits.memory', 'pods', "
			     "'count/deployments.apps', 'requests.nvidia.com/gpu'...)."),
		"limits", limits, "manifestRepo", manifest_repo(), "priorityClasses",
		opt_list("PriorityClass names the tenant's pods may use; none "
			 "when empty. Names starting with 'system-' are refused.",
			 not_matching(str(DNS_SUBDOMAIN), "^system-")),
		"runtimeClasses",
		opt_list("RuntimeClass names the tenant's pods may use; none "
			 "when empty.",
			 str(DNS_SUBDOMAIN)),
		"schedulerNames",
		opt_list("Schedulers the tenant's pods may name besides "
			 "default-scheduler.",
			 str(DNS_SUBDOMAIN)),
		"imageRegistries",
		opt_list("Registries (host[:port][/path]) images must come "
			 "from; any when empty.",
			 json_pack("{s:s, s:i, s:s}", "type", "string", "maxLength", 255, "pattern",
				   "^[a-z0-9.-]+(:[0-9]{1,5})?(/[a-z0-9._-]+)*$")),
		"ingressClasses",
		opt_list("IngressClass names the tenant may use; any when empty.",
			 str(DNS_SUBDOMAIN)),
		"certIssuers",
		opt_list("cert-manager issuers as 'Issuer/<name>' or "
			 "'ClusterIssuer/<name>'; any when empty.",
			 str("^(Cluster)?Issuer/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")),
		"allowDaemonSets",
		json_pack("{s:s, s:b, s:s}", "type", "boolean", "default", 0, "description",
			  "Whether the tenant may create DaemonSets."));

	return strict_object(NULL, "nodePool", NULL, props);
}

static json_t *tenants(void)
{
	json_t *names =
		json_pack("{s:s, s:{s:[{s:s}, {s:[s, s]}]}}", "pattern", DNS_LABEL, "not", "anyOf",
			  "pattern", "^kube-", "enum", "default", "kubetenant-system");

	return name_map("Tenants by name (DNS-1123 labels, also their namespaces). Names starting "
			"with 'kube-', 'default', 'kubetenant-system' and platform namespaces are "
			"refused.",
			100000, names, tenant());
}

static char *schema_text;

/* Runs once: the schema never changes, so it is built and serialized once. */
static void build_schema(void)
{
	const size_t flags = JSON_INDENT(2);
	json_t *root;
	size_t len;
	char *text;

	root = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:[s], s:{s:o, s:o, s:o}}", "$schema",
			 "https://json-schema.org/draft/2020-12/schema", "$id",
			 "https://kubetenant.io/schemas/tenants.json", "title",
			 "kubetenant tenants file", "description",
			 "One file describes a multi-tenant Kubernetes cluster: "
			 "global settings, Karpenter node pools and tenants (one namespace each). "
			 "'kubetenant validate' checks more than this schema can say: references "
			 "between tenants and node pools, reserved namespaces, hostname ownership "
			 "across tenants and LimitRange ordering.",
			 "type", "object", "additionalProperties", 0, "required", "global",
			 "properties", "global", global(), "nodePools", node_pools(), "tenants",
			 tenants());
	if (!root)
		return;
	len = json_dumpb(root, NULL, 0, flags);
	text = len ? malloc(len + 2) : NULL;
	if (text && json_dumpb(root, text, len, flags) == len) {
		text[len] = '\n';
		text[len + 1] = '\0';
		schema_text = text;
	} else {
		free(text);
	}
	json_decref(root);
}

const char *kt_config_schema(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, build_schema);
	return schema_text;
}
