/*
 * audit.c: report what already runs in tenant namespaces that today's rules
 * would deny (Gatekeeper's audit, from a `kubectl get -o json` dump instead
 * of a live connection, so it needs no credentials and runs anywhere).
 *
 * Every object goes through kt_policy_audit(), which judges it as a CREATE
 * by a tenant user with the webhook's own rules.  Nodes in the dump tell on
 * which pool each pod really runs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt.h"
#include "kt/buf.h"
#include "kt/manifest.h"
#include "kt/policy.h"
#include "audit.h"
#include "kt/version.h"

static const char usage[] =
	"usage: kubetenant audit -f TENANTS [--network PROFILE] [--enforcement PROFILE]\n"
	"                        [--karpenter VERSION] [--group-prefix PREFIX]\n"
	"                        [--no-drift] [--format text|json] DUMP...\n"
	"\n"
	"Report every object in a tenant namespace that the tenancy rules of TENANTS\n"
	"would deny if it were created now, and every platform object that differs\n"
	"from what `kubetenant render` produces for TENANTS with the same profile:\n"
	"missing, changed (field by field) or unexpected (labelled managed-by\n"
	"kubetenant but not rendered).  DUMP is the output of\n"
	"  kubectl get <kinds> -A -o json\n"
	"(a List, or any YAML/JSON manifests), a directory of such files, or - for\n"
	"standard input; it must hold every kind render emits (see the man page\n"
	"for a command that fetches them all).  Include nodes to also check on\n"
	"which node pool each pod runs.\n"
	"\n"
	"  -f, --tenants FILE      the tenants file (--file is an alias)\n"
	"      --network PROFILE   kubernetes (default) | calico-crd | calico | admin\n"
	"      --enforcement PROF  webhook (default) | gatekeeper\n"
	"      --karpenter VERSION v1 (default) | v1alpha5\n"
	"      --group-prefix P    as for render (default: global.groupPrefix, else \"oidc:\")\n"
	"      --no-drift          do not compare with render (a dump of some kinds only)\n"
	"      --format FORMAT     text (default): one line per denial,\n"
	"                          \"file:line: namespace Kind/name: rule: path: message\",\n"
	"                          one per drift, \"...: drift.changed: path: rendered X,\n"
	"                          live Y\", then counts; json: one report object\n"
	"  -h, --help              show this help\n"
	"\n"
	"exit status: 0 nothing denied and no drift, 1 an object would be denied or\n"
	"             differs from render, 2 bad usage or an invalid tenants file,\n"
	"             3 a dump is unreadable or not valid YAML/JSON\n";

enum format { FMT_TEXT, FMT_JSON };
enum { OPT_NETWORK = 256, OPT_ENFORCEMENT, OPT_KARPENTER, OPT_GROUP_PREFIX, OPT_NO_DRIFT };

struct node_pool {
	const char *node, *pool; /* borrowed from the manifest set */
};

struct count {
	const char *key; /* borrowed: tenant or rule name */
	unsigned judged, denied;
};

struct audit {
	const struct kt_config *cfg;
	enum format format;
	bool drift;
	struct audit_drift d;
	struct node_pool *nodes;
	size_t n_nodes;
	struct count *tenants, *rules;
	size_t n_tenants, n_rules;
	unsigned n_objects, n_judged, n_denied, n_skipped, n_errors;
	json_t *objects, *errors;
};

static int cmp_node(const void *a, const void *b)
{
	return strcmp(((const struct node_pool *)a)->node, ((const struct node_pool *)b)->node);
}

/* Nodes of the dump: name -> value of the pool label ("" when unlabeled). */
static int collect_nodes(struct audit *a, const struct kt_manifest_set *set)
{
	char key[300];
	size_t i;

	snprintf(key, sizeof(key), "%s/node-pool", a->cfg->global.label_domain);
	for (i = 0; i < set->n; i++) {
		json_t *o = set->objs[i].obj, *meta = json_object_get(o, "metadata");
		const char *av = json_string_value(json_object_get(o, "apiVersion"));
		const char *name = json_string_value(json_object_get(meta, "name"));
		const char *pool =
			json_string_value(json_object_get(json_object_get(meta, "labels"), key));
		struct node_pool *nv;

		if (strcmp(kt_manifest_kind(o), "Node") || !av || strcmp(av, "v1") || !name)
			continue;
		nv = realloc(a->nodes, (a->n_nodes + 1) * sizeof(*nv));
		if (!nv)
			return -1;
		a->nodes = nv;
		a->nodes[a->n_nodes].node = name;
		a->nodes[a->n_nodes++].pool = pool ? pool : "";
	}
	if (a->n_nodes) /* qsort(NULL, 0) is undefined */
		qsort(a->nodes, a->n_nodes, sizeof(*a->nodes), cmp_node);
	return 0;
}

static const char *pool_of_node(const struct audit *a, const char *node)
{
	struct node_pool key = { .node = node }, *hit;

	if (!node || !a->n_nodes)
		return NULL;
	hit = bsearch(&key, a->nodes, a->n_nodes, sizeof(*a->nodes), cmp_node);
	return hit ? hit->pool : NULL;
}

/* The counter for key, created on first use (with a copy of key when copy is set). */
static struct count *counter(struct count **v, size_t *n, const char *key, bool copy)
{
	struct count *nv;
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*v)[i].key, key))
			return &(*v)[i];
	nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return NULL;
	*v = nv;
	nv[*n] = (struct count){ .key = copy ? strdup(key) : key };
	return nv[*n].key ? &nv[(*n)++] : NULL;
}

static int cmp_count(const void *a, const void *b)
{
	const struct count *x = a, *y = b;

	if (x->denied != y->denied)
		return x->denied > y->denied ? -1 : 1;
	return strcmp(x->key, y->key);
}

static void report(struct audit *a, const struct kt_manifest_obj *mo, const struct kt_decision *d)
{
	const char *kind = kt_manifest_kind(mo->obj), *name = kt_manifest_name(mo->obj);
	size_t i;

	if (a->format == FMT_JSON) {
		json_array_append_new(a->objects,
				      json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:o, s:o}", "file",
						mo->file, "line", mo->line, "tenant",
						d->tenant->name, "namespace",
						d->namespace ? d->namespace : "", "kind", kind,
						"name", name, "denials",
						kt_findings_json(d->denials, d->n_denials),
						"warnings",
						kt_findings_json(d->warnings, d->n_warnings)));
		return;
	}
	for (i = 0; i < d->n_denials; i++) {
		const struct kt_finding *f = &d->denials[i];

		printf("%s:%d: ", mo->file, mo->line);
		kt_put_safe(d->namespace);
		putchar(' ');
		kt_put_safe(kind);
		putchar('/');
		kt_put_safe(*name ? name : "(unnamed)");
		printf(": %s: ", f->rule);
		if (f->path) {
			kt_put_safe(f->path);
			printf(": ");
		}
		kt_put_safe(f->message);
		putchar('\n');
	}
}

static int judge(struct audit *a, const struct kt_manifest_obj *mo)
{
	const char *node =
		json_string_value(json_object_get(json_object_get(mo->obj, "spec"), "nodeName"));
	struct kt_decision d;
	struct kt_err err = { 0 };
	struct count *t;
	bool judged;
	size_t i;

	if (strcmp(kt_manifest_kind(mo->obj), "Pod"))
		node = NULL;
	if (kt_policy_audit(a->cfg, mo->obj, pool_of_node(a, node), &d, &judged, &err)) {
		kt_decision_release(&d);
		if (err.rc == KT_E_NOMEM)
			return -1;
		/* an object the engine cannot read is judged denied: fail closed */
		a->n_errors++;
		kt_error("%s:%d: %s", mo->file, mo->line, err.msg);
		if (a->format == FMT_JSON)
			json_array_append_new(a->errors,
					      json_pack("{s:s, s:i, s:s}", "file", mo->file, "line",
							mo->line, "message", err.msg));
		return 0;
	}
	if (!judged) {
		a->n_skipped++;
		kt_decision_release(&d);
		return 0;
	}
	a->n_judged++;
	t = counter(&a->tenants, &a->n_tenants, d.tenant->name, false);
	if (!t) {
		kt_decision_release(&d);
		return -1;
	}
	t->judged++;
	if (!d.allowed) {
		a->n_denied++;
		t->denied++;
		for (i = 0; i < d.n_denials; i++) {
			struct count *r;
			size_t j;

			/* objects per rule: a rule denying twice in one object counts once */
			for (j = 0; j < i && strcmp(d.denials[j].rule, d.denials[i].rule); j++)
				;
			if (j < i)
				continue;
			/* rule names belong to d, which goes away: the counter keeps a copy */
			r = counter(&a->rules, &a->n_rules, d.denials[i].rule, true);
			if (!r) {
				kt_decision_release(&d);
				return -1;
			}
			r->denied++;
		}
		report(a, mo, &d);
	}
	kt_decision_release(&d);
	return 0;
}

static int finish(struct audit *a)
{
	size_t i;

	if (a->n_tenants)
		qsort(a->tenants, a->n_tenants, sizeof(*a->tenants), cmp_count);
	if (a->n_rules)
		qsort(a->rules, a->n_rules, sizeof(*a->rules), cmp_count);
	if (a->format == FMT_JSON) {
		json_t *tenants = json_object(), *rules = json_object(), *doc;

		for (i = 0; i < a->n_tenants; i++)
			json_object_set_new(tenants, a->tenants[i].key,
					    json_pack("{s:i, s:i}", "judged", a->tenants[i].judged,
						      "denied", a->tenants[i].denied));
		for (i = 0; i < a->n_rules; i++)
			json_object_set_new(rules, a->rules[i].key,
					    json_integer(a->rules[i].denied));
		doc = json_pack("{s:{s:i, s:i, s:i, s:i, s:i}, s:o, s:o, s:O, s:O}", "summary",
				"objects", a->n_objects, "judged", a->n_judged, "denied",
				a->n_denied, "skipped", a->n_skipped, "errors", a->n_errors,
				"tenants", tenants, "rules", rules, "objects", a->objects, "errors",
				a->errors);
		/* without --no-drift only: a machine can tell "not compared" from "no drift" */
		if (doc && a->drift &&
		    (json_object_set_new(json_object_get(doc, "summary"), "drift",
					 json_pack("{s:i, s:i, s:i, s:i, s:i}", "rendered",
						   a->d.rendered, "missing", a->d.missing,
						   "changed", a->d.changed, "fields", a->d.fields,
						   "unexpected", a->d.unexpected)) ||
		     json_object_set(doc, "drift", a->d.findings))) {
			json_decref(doc);
			doc = NULL;
		}
		if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) ||
		    putchar('\n') == EOF) {
			json_decref(doc);
			kt_error("cannot write the report");
			return KT_EXIT_INTERNAL;
		}
		json_decref(doc);
	} else {
		if (a->n_denied || a->d.missing || a->d.changed || a->d.unexpected)
			printf("\n");
		printf("%u objects, %u in tenant namespaces judged, %u would be denied\n",
		       a->n_objects, a->n_judged, a->n_denied);
		if (a->drift)
			printf("%u platform objects rendered: %u missing, %u changed (%u fields), "
			       "%u unexpected\n",
			       a->d.rendered, a->d.missing, a->d.changed, a->d.fields,
			       a->d.unexpected);
		if (a->n_tenants)
			printf("per tenant (denied/judged):\n");
		for (i = 0; i < a->n_tenants; i++)
			printf("  %-32s %6u/%u\n", a->tenants[i].key, a->tenants[i].denied,
			       a->tenants[i].judged);
		if (a->n_rules)
			printf("per rule (objects denied):\n");
		for (i = 0; i < a->n_rules; i++)
			printf("  %-40s %6u\n", a->rules[i].key, a->rules[i].denied);
	}
	fflush(stdout);
	if (a->n_errors)
		return KT_EXIT_INPUT;
	return a->n_denied || a->d.missing || a->d.changed || a->d.unexpected ? KT_EXIT_FINDINGS
									      : KT_EXIT_OK;
}

static int profile(const char *flag, const char *value, int parsed, int *out)
{
	if (parsed < 0) {
		kt_error("unknown %s '%s'; see 'kubetenant audit --help'", flag, value);
		return -1;
	}
	*out = parsed;
	return 0;
}

static int run(struct audit *a, char **paths, int n_paths)
{
	struct kt_manifest_set set = KT_MANIFEST_SET_INIT;
	struct kt_err err;
	int rc = KT_EXIT_OK, p;
	size_t i;

	for (p = 0; p < n_paths; p++) {
		memset(&err, 0, sizeof(err));
		if (kt_manifest_load(&set, paths[p], &err)) {
			kt_error("%s%s%s", err.where, *err.where ? ": " : "", err.msg);
			rc = err.rc == KT_E_NOMEM ? KT_EXIT_INTERNAL : KT_EXIT_INPUT;
			goto out;
		}
	}
	if (collect_nodes(a, &set))
		goto nomem;
	for (i = 0; i < set.n; i++) {
		if (!strcmp(kt_manifest_kind(set.objs[i].obj), "Node"))
			continue;
		a->n_objects++;
		if (judge(a, &set.objs[i]))
			goto nomem;
	}
	if (a->drift && (rc = audit_drift(&a->d, a->cfg, &set)))
		goto out;
	rc = finish(a);
	goto out;
nomem:
	kt_error("out of memory");
	rc = KT_EXIT_INTERNAL;
out:
	kt_manifest_set_release(&set);
	return rc;
}

int cmd_audit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tenants", required_argument, NULL, 'f' },
		{ "file", required_argument, NULL, 'f' }, /* alias of --tenants */
		{ "format", required_argument, NULL, 'F' },
		{ "network", required_argument, NULL, OPT_NETWORK },
		{ "enforcement", required_argument, NULL, OPT_ENFORCEMENT },
		{ "karpenter", required_argument, NULL, OPT_KARPENTER },
		{ "group-prefix", required_argument, NULL, OPT_GROUP_PREFIX },
		{ "no-drift", no_argument, NULL, OPT_NO_DRIFT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct audit a = { .format = FMT_TEXT, .drift = true };
	struct kt_buf text = KT_BUF_INIT;
	struct kt_config *cfg = NULL;
	const char *tenants = NULL;
	bool json;
	int c, rc, v;
	size_t i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			tenants = optarg;
			break;
		case OPT_NETWORK:
			if (profile("network profile", optarg, kt_render_network_parse(optarg), &v))
				return KT_EXIT_USAGE;
			a.d.opts.network = v;
			break;
		case OPT_ENFORCEMENT:
			if (profile("enforcement profile", optarg,
				    kt_render_enforcement_parse(optarg), &v))
				return KT_EXIT_USAGE;
			a.d.opts.enforcement = v;
			break;
		case OPT_KARPENTER:
			if (profile("karpenter version", optarg, kt_render_karpenter_parse(optarg),
				    &v))
				return KT_EXIT_USAGE;
			a.d.opts.karpenter = v;
			break;
		case OPT_GROUP_PREFIX:
			a.d.opts.group_prefix = optarg;
			break;
		case OPT_NO_DRIFT:
			a.drift = false;
			break;
		case 'F':
			if (kt_opt_format(optarg, &json))
				return KT_EXIT_USAGE;
			a.format = json ? FMT_JSON : FMT_TEXT;
			break;
		case 'h':
			return kt_usage(usage, 1);
		default:
			return kt_usage(usage, 0);
		}
	}
	if (!tenants) {
		kt_error("no tenants file: give -f TENANTS");
		return kt_usage(usage, 0);
	}
	if (optind >= argc) {
		kt_error("no dump given (use - for standard input)");
		return kt_usage(usage, 0);
	}
	rc = kt_cmd_load_config_text(tenants, &cfg, &text);
	if (rc) {
		kt_buf_release(&text);
		return rc;
	}
	a.cfg = cfg;
	/* what render would put in the webhook's ConfigMap: these very bytes */
	a.d.opts.tenants_yaml = text.buf;
	a.d.opts.tenants_yaml_len = text.len;
	a.d.opts.default_image = "kubetenant/kubetenant:" KT_VERSION;
	a.d.tenants = strcmp(tenants, "-") ? tenants : "<stdin>";
	a.d.json = a.format == FMT_JSON;
	if (a.format == FMT_JSON && (!(a.objects = json_array()) || !(a.errors = json_array()) ||
				     !(a.d.findings = json_array()))) {
		kt_error("out of memory");
		rc = KT_EXIT_INTERNAL;
	} else {
		rc = run(&a, argv + optind, argc - optind);
	}
	for (i = 0; i < a.n_rules; i++)
		free((char *)a.rules[i].key);
	free(a.rules);
	free(a.tenants);
	free(a.nodes);
	json_decref(a.objects);
	json_decref(a.errors);
	json_decref(a.d.findings);
	kt_config_free(cfg);
	kt_buf_release(&text);
	return rc;
}
