/*
 * check.c: judge manifests offline, as the webhook would, before they reach
 * a cluster (a tenant's CI, a pre-commit hook).
 *
 * Modes: --pod-security judges every Pod and workload pod template against a
 * Pod Security Standards level.  Each mode is one function below that loads
 * the manifests with load_manifests() and reports through struct report, so
 * another mode (the tenancy rules of a tenants file) slots in beside it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt.h"
#include "kt/manifest.h"
#include "kt/pss.h"

static const char usage[] =
	"usage: kubetenant check --pod-security LEVEL[:VERSION] [--format text|json] PATH...\n"
	"\n"
	"Judge Kubernetes manifests offline.  PATH is a YAML or JSON file (any number\n"
	"of documents, List kinds expanded), a directory (every *.yaml, *.yml and\n"
	"*.json below it) or - for standard input.\n"
	"\n"
	"  --pod-security LEVEL[:VERSION]\n"
	"                    judge Pods and the pod templates of Deployments,\n"
	"                    ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs,\n"
	"                    ReplicationControllers and PodTemplates against the Pod\n"
	"                    Security Standards: LEVEL is privileged, baseline or\n"
	"                    restricted; VERSION is v1.0 ... v1.37 or latest (default)\n"
	"  --format FORMAT   text (default): one line per violation,\n"
	"                    \"file:line: Kind/name: level:version: message\";\n"
	"                    json: one report object on standard output\n"
	"  -h, --help        show this help\n"
	"\n"
	"Other kinds are skipped.  A summary goes to standard error.\n"
	"\n"
	"exit status: 0 every object passes, 1 an object violates the level,\n"
	"             2 bad usage, 3 a file is unreadable or not valid YAML/JSON\n";

enum format { FMT_TEXT, FMT_JSON };

struct check_opts {
	const char *pod_security;
	enum format format;
	char **paths;
	int n_paths;
};

/* What a mode found; printed as text lines as it goes, or as JSON at the end. */
struct report {
	enum format format;
	json_t *objects, *errors; /* JSON mode only */
	unsigned n_objects, n_pass, n_violate, n_skipped, n_errors;
};

/* Text output must not let a hostile name rewrite the terminal or fake a line. */
static void put_safe(const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f)
			printf("\\x%02x", ch);
		else
			putchar(ch);
	}
}

static void report_error(struct report *r, const struct kt_err *err)
{
	r->n_errors++;
	if (r->format == FMT_JSON) {
		json_array_append_new(r->errors, json_pack("{s:s, s:s}", "where", err->where,
							   "message", err->msg));
		return;
	}
	if (*err->where)
		kt_error("%s: %s", err->where, err->msg);
	else
		kt_error("%s", err->msg);
}

/* Load every PATH; unreadable or unparsable files are reported and skipped. */
static void load_manifests(const struct check_opts *o, struct kt_manifest_set *set, struct report *r)
{
	struct kt_err err;
	char **files;
	size_t n, i;
	int p;

	for (p = 0; p < o->n_paths; p++) {
		memset(&err, 0, sizeof(err));
		if (kt_manifest_find_files(o->paths[p], &files, &n, &err)) {
			report_error(r, &err);
			continue;
		}
		for (i = 0; i < n; i++) {
			memset(&err, 0, sizeof(err));
			if (kt_manifest_load_file(set, files[i], &err))
				report_error(r, &err);
		}
		kt_manifest_files_free(files);
	}
}

static const char *display_name(json_t *obj)
{
	const char *name = kt_manifest_name(obj);

	return *name ? name : "(unnamed)";
}

/* One line per violation, or one JSON object per manifest object. */
static void report_object(struct report *r, const struct kt_manifest_obj *mo, const char *policy,
			  const char *status, const char *pod_path, const struct kt_pss_result *res)
{
	const char *kind = kt_manifest_kind(mo->obj), *name = display_name(mo->obj);
	json_t *o, *vs;
	size_t i;

	if (r->format == FMT_TEXT) {
		for (i = 0; res && i < res->n; i++) {
			printf("%s:%d: ", mo->file, mo->line);
			put_safe(kind);
			putchar('/');
			put_safe(name);
			printf(": %s: ", policy);
			put_safe(res->v[i].reason);
			if (res->v[i].detail && *res->v[i].detail) {
				printf(" (");
				put_safe(res->v[i].detail);
				putchar(')');
			}
			putchar('\n');
		}
		return;
	}
	o = json_pack("{s:s, s:i, s:s, s:s, s:s}", "file", mo->file, "line", mo->line, "kind", kind,
		      "name", kt_manifest_name(mo->obj), "status", status);
	if (!o)
		return;
	if (pod_path)
		json_object_set_new(o, "podSpecPath", json_string(pod_path));
	if (res) {
		vs = json_array();
		for (i = 0; i < res->n; i++)
			json_array_append_new(vs, json_pack("{s:s, s:s, s:s}", "check", res->v[i].check,
							    "reason", res->v[i].reason, "detail",
							    res->v[i].detail ? res->v[i].detail : ""));
		json_object_set_new(o, "violations", vs);
	}
	json_array_append_new(r->objects, o);
}

/* A workload whose pod template is missing is judged as a violation: fail closed. */
static void invalid_workload(struct kt_pss_result *res, struct kt_pss_violation *v,
			     const struct kt_err *err)
{
	v->check = "podTemplate";
	v->reason = (char *)"invalid workload";
	v->detail = (char *)err->msg;
	res->allowed = false;
	res->v = v;
	res->n = 1;
}

/* Print the JSON report (if any) and the summary; choose the exit status. */
static int finish(struct report *r, const char *mode, const char *what)
{
	if (r->format == FMT_JSON) {
		json_t *doc = json_pack("{s:s, s:s, s:{s:i, s:i, s:i, s:i, s:i}, s:O, s:O}", "mode", mode,
					"policy", what, "summary", "objects", r->n_objects, "pass", r->n_pass, "violate",
					r->n_violate, "skipped", r->n_skipped, "errors", r->n_errors,
					"objects", r->objects, "errors", r->errors);

		if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2)) || putchar('\n') == EOF) {
			json_decref(doc);
			kt_error("cannot write the report");
			return KT_EXIT_INTERNAL;
		}
		json_decref(doc);
	}
	fflush(stdout);
	fprintf(stderr, "kubetenant: check %s: %u objects: %u pass, %u violate, %u skipped",
		what, r->n_objects, r->n_pass, r->n_violate, r->n_skipped);
	if (r->n_errors)
		fprintf(stderr, "; %u unreadable input%s", r->n_errors, r->n_errors == 1 ? "" : "s");
	fputc('\n', stderr);
	if (r->n_errors)
		return KT_EXIT_INPUT;
	return r->n_violate ? KT_EXIT_FINDINGS : KT_EXIT_OK;
}

static int check_pod_security(const struct check_opts *o)
{
	struct kt_manifest_set set = KT_MANIFEST_SET_INIT;
	struct report r = { .format = o->format };
	struct kt_pss_policy pol;
	struct kt_err err = { 0 };
	char policy[64];
	size_t i;
	int rc;

	if (kt_pss_policy_parse(o->pod_security, &pol, &err)) {
		kt_error("--pod-security: %s", err.msg);
		return KT_EXIT_USAGE;
	}
	if (pol.minor == KT_PSS_LATEST)
		snprintf(policy, sizeof(policy), "%s:latest", kt_pss_level_name(pol.level));
	else
		snprintf(policy, sizeof(policy), "%s:v1.%d", kt_pss_level_name(pol.level), pol.minor);
	if (o->format == FMT_JSON && (!(r.objects = json_array()) || !(r.errors = json_array()))) {
		json_decref(r.objects);
		kt_error("out of memory");
		return KT_EXIT_INTERNAL;
	}
	load_manifests(o, &set, &r);
	for (i = 0; i < set.n; i++) {
		const struct kt_manifest_obj *mo = &set.objs[i];
		struct kt_manifest_pod pod;
		struct kt_pss_violation bad;
		struct kt_pss_result res = { .allowed = true };
		bool owned = false;

		r.n_objects++;
		memset(&err, 0, sizeof(err));
		if (kt_manifest_pod_spec(mo->obj, &pod, &err)) {
			invalid_workload(&res, &bad, &err);
		} else if (!pod.spec) {
			r.n_skipped++;
			report_object(&r, mo, policy, "skipped", NULL, NULL);
			continue;
		} else if (kt_pss_evaluate(&pol, pod.metadata, pod.spec, &res)) {
			kt_error("out of memory");
			rc = KT_EXIT_INTERNAL;
			goto out;
		} else {
			owned = true;
		}
		if (res.allowed)
			r.n_pass++;
		else
			r.n_violate++;
		report_object(&r, mo, policy, res.allowed ? "pass" : "violate", pod.path, &res);
		if (owned)
			kt_pss_result_release(&res);
	}
	rc = finish(&r, "pod-security", policy);
out:
	json_decref(r.objects);
	json_decref(r.errors);
	kt_manifest_set_release(&set);
	return rc;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pod-security", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_opts o = { .format = FMT_TEXT };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.pod_security = optarg;
			break;
		case 'F':
			if (!strcmp(optarg, "text")) {
				o.format = FMT_TEXT;
			} else if (!strcmp(optarg, "json")) {
				o.format = FMT_JSON;
			} else {
				kt_error("unknown format '%s' (want text or json)", optarg);
				return KT_EXIT_USAGE;
			}
			break;
		case 'h':
			return kt_usage(usage, 1);
		default:
			return kt_usage(usage, 0);
		}
	}
	o.paths = argv + optind;
	o.n_paths = argc - optind;
	if (!o.pod_security) {
		kt_error("nothing to check: give --pod-security LEVEL");
		return kt_usage(usage, 0);
	}
	if (!o.n_paths) {
		kt_error("no manifests given (use - for standard input)");
		return kt_usage(usage, 0);
	}
	return check_pod_security(&o);
}
