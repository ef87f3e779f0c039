/*
 * check.c: judge manifests offline, as the webhook would, before they reach
 * a cluster (a tenant's CI, a pre-commit hook).
 *
 * Modes: --pod-security judges every Pod and workload pod template against a
 * Pod Security Standards level; --tenant judges every object with all the
 * tenancy rules of a tenants file, exactly as the webhook would (mutate,
 * apply the patch, validate), through the same policy engine.  Each mode is
 * one function below that loads the manifests with load_manifests() and
 * reports through struct report.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kt.h"
#include "kt/json.h"
#include "kt/manifest.h"
#include "kt/policy.h"
#include "kt/pss.h"
#include "kt/render.h"

static const char usage[] =
	"usage: kubetenant check -f TENANTS --tenant NAME [--enforcement PROFILE]\n"
	"                        [--show-mutations] [--format text|json] [-j N] PATH...\n"
	"       kubetenant check --pod-security LEVEL[:VERSION] [--format text|json]\n"
	"                        [-j N] PATH...\n"
	"\n"
	"Judge Kubernetes manifests offline.  PATH is a YAML or JSON file (any number\n"
	"of documents, List kinds expanded), a directory (every *.yaml, *.yml and\n"
	"*.json below it) or - for standard input.\n"
	"\n"
	"  -f, --tenants FILE  the tenants file (with --tenant; --file is an alias)\n"
	"  --tenant NAME       judge every object as created by tenant NAME in its\n"
	"                      namespace, with every rule of the admission webhook:\n"
	"                      node pool, Pod Security, services, hostnames, registries,\n"
	"                      platform objects; an object naming another namespace\n"
	"                      is a finding\n"
	"  --enforcement PROFILE\n"
	"                      what the cluster enforces, as `render --enforcement`:\n"
	"                      webhook (default) denies by every rule above;\n"
	"                      gatekeeper applies its pool Assign to Pods and reports\n"
	"                      rules it does not enforce as warnings \"not enforced\n"
	"                      by gatekeeper\" (docs/enforcement.md)\n"
	"  --show-mutations    also print what the webhook (or Gatekeeper's Assign)\n"
	"                      would change (JSON Patch)\n"
	"  --pod-security LEVEL[:VERSION]\n"
	"                      judge Pods and the pod templates of Deployments,\n"
	"                      ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs,\n"
	"                      ReplicationControllers and PodTemplates against the Pod\n"
	"                      Security Standards only: LEVEL is privileged, baseline or\n"
	"                      restricted; VERSION is v1.0 ... v1.37 or latest (default)\n"
	"  --format FORMAT     text (default): one line per finding,\n"
	"                      \"file:line: Kind/name: rule: path: message\" (--tenant)\n"
	"                      \"file:line: Kind/name: level:version: message\"\n"
	"                      (--pod-security); json: one report object on stdout\n"
	"  -j, --jobs N        judge files in N threads (1 to 256; default: one a\n"
	"                      CPU); the output is the same for any N\n"
	"  -h, --help          show this help\n"
	"\n"
	"A summary goes to standard error.\n"
	"\n"
	"exit status: 0 every object passes, 1 an object is denied or violates the\n"
	"             level, 2 bad usage or an invalid tenants file, 3 a file is\n"
	"             unreadable or not valid YAML/JSON\n";

enum format { FMT_TEXT, FMT_JSON };

#define MAX_JOBS 256

struct check_opts {
	const char *pod_security;
	const char *tenants, *tenant;
	int enforcement; /* enum kt_render_enforcement */
	bool show_mutations;
	enum format format;
	char **paths;
	int n_paths;
	int jobs; /* threads judging files */
};

/*
 * What a mode found.  Each file is judged as soon as it is read, and its
 * objects freed: the trees of every manifest at once cost more in page
 * faults than judging them.  The output keeps the order of reading all
 * files first: errors of reading go to standard error at once; the text
 * for standard output, and the errors of judging between its lines, wait
 * in out and late until the end (JSON: in objects and late_errors).
 */
struct late {
	size_t at; /* bytes of out written before it */
	char *msg;
};

struct report {
	enum format format;
	json_t *objects, *errors, *late_errors; /* JSON mode only */
	FILE *out;                              /* text mode */
	char *out_buf;
	size_t out_len;
	struct late *late;
	size_t n_late, alloc_late;
	unsigned n_objects, n_pass, n_violate, n_skipped, n_errors;
};

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

/* msg goes out between the text written so far and what follows; false: out of memory. */
static bool late_add(struct report *r, char *msg)
{
	if (r->n_late == r->alloc_late) {
		size_t na = r->alloc_late ? r->alloc_late * 2 : 8;
		struct late *nl = realloc(r->late, na * sizeof(*nl));

		if (!nl)
			return false;
		r->late = nl;
		r->alloc_late = na;
	}
	if (fflush(r->out))
		return false;
	r->late[r->n_late++] = (struct late){ r->out_len, msg };
	return true;
}

/* An error met while judging: it goes out between the lines printed before and after it. */
static void report_late_error(struct report *r, const struct kt_err *err)
{
	char *msg = NULL;

	if (r->format == FMT_JSON) {
		r->n_errors++;
		json_array_append_new(r->late_errors, json_pack("{s:s, s:s}", "where", err->where,
								"message", err->msg));
		return;
	}
	if (asprintf(&msg, "%s%s%s", err->where, *err->where ? ": " : "", err->msg) < 0 ||
	    !late_add(r, msg)) {
		free(msg);
		report_error(r, err); /* out of memory: at once, then */
		return;
	}
	r->n_errors++;
}

static bool report_init(struct report *r, enum format format)
{
	*r = (struct report){ .format = format };
	if (format == FMT_JSON)
		return (r->objects = json_array()) && (r->errors = json_array()) &&
		       (r->late_errors = json_array());
	return (r->out = open_memstream(&r->out_buf, &r->out_len)) != NULL;
}

/* The text held back, to standard output, with the late errors where they fell. */
static void report_flush(struct report *r)
{
	size_t at = 0, i;

	if (!r->out)
		return;
	fclose(r->out);
	r->out = NULL;
	for (i = 0; i < r->n_late; i++) {
		fwrite(r->out_buf + at, 1, r->late[i].at - at, stdout);
		at = r->late[i].at;
		kt_error("%s", r->late[i].msg);
	}
	fwrite(r->out_buf + at, 1, r->out_len - at, stdout);
}

static void report_release(struct report *r)
{
	size_t i;

	report_flush(r);
	for (i = 0; i < r->n_late; i++)
		free(r->late[i].msg);
	free(r->late);
	free(r->out_buf);
	json_decref(r->objects);
	json_decref(r->errors);
	json_decref(r->late_errors);
}

/* What one file's report f holds, after what r holds; false: out of memory. */
static bool report_merge(struct report *r, struct report *f)
{
	size_t at = 0, i;

	r->n_objects += f->n_objects;
	r->n_pass += f->n_pass;
	r->n_violate += f->n_violate;
	r->n_skipped += f->n_skipped;
	r->n_errors += f->n_errors;
	if (!f->out && !f->objects)
		return true; /* never judged: out of memory before */
	if (r->format == FMT_JSON)
		return !json_array_extend(r->objects, f->objects) &&
		       !json_array_extend(r->late_errors, f->late_errors);
	if (fflush(f->out))
		return false;
	for (i = 0; i < f->n_late; i++) {
		fwrite(f->out_buf + at, 1, f->late[i].at - at, r->out);
		at = f->late[i].at;
		if (!late_add(r, f->late[i].msg)) {
			kt_error("%s", f->late[i].msg);
			continue;
		}
		f->late[i].msg = NULL; /* r's now */
	}
	fwrite(f->out_buf + at, 1, f->out_len - at, r->out);
	return !ferror(r->out);
}

/* Judges one object; anything but 0 is an exit status, and stops. */
typedef int judge_fn(void *ctx, struct report *r, const struct kt_manifest_obj *mo);

/*
 * One file, or a PATH that could not be listed (file NULL), in the order
 * of the command line.  Whichever worker takes it judges it into its own
 * report; they are merged in this order once every worker is done, so the
 * output is the same for any number of workers.
 */
struct job {
	const char *file;
	bool from_stdin; /* "-": judged before the workers start */
	struct kt_err err;
	bool bad; /* reading or listing failed: err says why */
	struct report r;
	int rc;
};

struct pool {
	const struct check_opts *o;
	judge_fn *judge;
	void *ctx;
	struct job *jobs;
	size_t n;
	atomic_size_t next;
	atomic_bool stop; /* a judge failed: take no more files */
};

static void run_job(struct pool *p, struct job *j)
{
	struct kt_manifest_set set = KT_MANIFEST_SET_INIT;
	size_t k;

	if (!report_init(&j->r, p->o->format)) {
		report_release(&j->r);
		j->r = (struct report){ 0 };
		kt_error("out of memory");
		j->rc = KT_EXIT_INTERNAL;
		return;
	}
	j->bad = kt_manifest_load_file(&set, j->file, &j->err) != KT_OK;
	for (k = 0; k < set.n && !j->rc; k++)
		j->rc = p->judge(p->ctx, &j->r, &set.objs[k]);
	kt_manifest_set_release(&set);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	size_t i;

	while (!atomic_load(&p->stop) && (i = atomic_fetch_add(&p->next, 1)) < p->n) {
		if (!p->jobs[i].file || p->jobs[i].from_stdin)
			continue;
		run_job(p, &p->jobs[i]);
		if (p->jobs[i].rc)
			atomic_store(&p->stop, true);
	}
	return NULL;
}

/*
 * Every object of every PATH, file by file, to judge, by o->jobs threads;
 * unreadable or unparsable files are reported and skipped.
 */
static int each_object(const struct check_opts *o, struct report *r, judge_fn *judge, void *ctx)
{
	struct pool p = { .o = o, .judge = judge, .ctx = ctx };
	char ***lists;
	size_t n, i, k, workers, alloc = 0;
	pthread_t *tid = NULL;
	int t, started = 0, rc = 0;

	/*
	 * Each file's trees are freed before the next is read: keep the heap
	 * they leave (bounded by one file's a thread) instead of giving it back
	 * to the kernel and faulting it in again, a fifth of the run otherwise.
	 * glibc applies both to the arenas of other threads too.
	 */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 4 << 20);
	lists = calloc((size_t)o->n_paths, sizeof(*lists));
	if (!lists)
		goto nomem;
	for (t = 0; t < o->n_paths; t++) {
		struct kt_err err = { 0 };
		bool bad = kt_manifest_find_files(o->paths[t], &lists[t], &n, &err) != KT_OK;

		if (p.n + n + 1 > alloc) {
			size_t na = (p.n + n + 1) * 2;
			struct job *nj = realloc(p.jobs, na * sizeof(*nj));

			if (!nj)
				goto nomem;
			p.jobs = nj;
			alloc = na;
		}
		if (bad)
			p.jobs[p.n++] = (struct job){ .err = err, .bad = true };
		for (k = 0; k < n; k++)
			p.jobs[p.n++] = (struct job){ .file = lists[t][k],
						      .from_stdin = !strcmp(lists[t][k], "-") };
	}

	/*
	 * Standard input is read whole by its first "-" (a second one finds it
	 * empty), never by two threads at once.
	 */
	for (i = 0; i < p.n; i++)
		if (p.jobs[i].from_stdin)
			run_job(&p, &p.jobs[i]);

	workers = (size_t)o->jobs < p.n ? (size_t)o->jobs : p.n;
	if (workers > 1 && (tid = calloc(workers - 1, sizeof(*tid))))
		while ((size_t)started < workers - 1 &&
		       !pthread_create(&tid[started], NULL, worker, &p))
			started++; /* fewer threads than asked: the others do more */
	worker(&p);
	for (t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	free(tid);

	for (i = 0; i < p.n && !rc; i++) {
		struct job *j = &p.jobs[i];

		if (j->bad)
			report_error(r, &j->err);
		if (j->file && !report_merge(r, &j->r))
			goto nomem;
		rc = j->rc;
	}
	goto out;
nomem:
	kt_error("out of memory");
	rc = KT_EXIT_INTERNAL;
out:
	for (i = 0; i < p.n; i++) {
		if (p.jobs[i].r.out) /* not merged: its text is not for standard output */
			fclose(p.jobs[i].r.out);
		p.jobs[i].r.out = NULL;
		report_release(&p.jobs[i].r);
	}
	free(p.jobs);
	for (t = 0; lists && t < o->n_paths; t++)
		kt_manifest_files_free(lists[t]);
	free(lists);
	return rc;
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
			fprintf(r->out, "%s:%d: ", mo->file, mo->line);
			kt_fput_safe(r->out, kind);
			putc('/', r->out);
			kt_fput_safe(r->out, name);
			fprintf(r->out, ": %s: ", policy);
			kt_fput_safe(r->out, res->v[i].reason);
			if (res->v[i].detail && *res->v[i].detail) {
				fputs(" (", r->out);
				kt_fput_safe(r->out, res->v[i].detail);
				putc(')', r->out);
			}
			putc('\n', r->out);
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
			json_array_append_new(vs,
					      json_pack("{s:s, s:s, s:s}", "check", res->v[i].check,
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
	report_flush(r);
	if (r->format == FMT_JSON) {
		if (json_array_extend(r->errors, r->late_errors)) {
			kt_error("out of memory");
			return KT_EXIT_INTERNAL;
		}
		json_t *doc = json_pack("{s:s, s:s, s:{s:i, s:i, s:i, s:i, s:i}, s:O, s:O}", "mode",
					mode, "policy", what, "summary", "objects", r->n_objects,
					"pass", r->n_pass, "violate", r->n_violate, "skipped",
					r->n_skipped, "errors", r->n_errors, "objects", r->objects,
					"errors", r->errors);

		if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2)) || putchar('\n') == EOF) {
			json_decref(doc);
			kt_error("cannot write the report");
			return KT_EXIT_INTERNAL;
		}
		json_decref(doc);
	}
	fflush(stdout);
	fprintf(stderr, "kubetenant: check %s: %u objects: %u pass, %u violate, %u skipped", what,
		r->n_objects, r->n_pass, r->n_violate, r->n_skipped);
	if (r->n_errors)
		fprintf(stderr, "; %u unreadable input%s", r->n_errors,
			r->n_errors == 1 ? "" : "s");
	fputc('\n', stderr);
	if (r->n_errors)
		return KT_EXIT_INPUT;
	return r->n_violate ? KT_EXIT_FINDINGS : KT_EXIT_OK;
}

struct pss_check {
	struct kt_pss_policy pol;
	char policy[64];
};

static int judge_pod_security(void *ctx, struct report *r, const struct kt_manifest_obj *mo)
{
	struct pss_check *c = ctx;
	struct kt_manifest_pod pod;
	struct kt_pss_violation bad;
	struct kt_pss_result res = { .allowed = true };
	struct kt_err err = { 0 };
	bool owned = false;

	r->n_objects++;
	if (kt_manifest_pod_spec(mo->obj, &pod, &err)) {
		invalid_workload(&res, &bad, &err);
	} else if (!pod.spec) {
		r->n_skipped++;
		report_object(r, mo, c->policy, "skipped", NULL, NULL);
		return 0;
	} else if (kt_pss_evaluate(&c->pol, pod.metadata, pod.spec, &res)) {
		kt_error("out of memory");
		return KT_EXIT_INTERNAL;
	} else {
		owned = true;
	}
	if (res.allowed)
		r->n_pass++;
	else
		r->n_violate++;
	report_object(r, mo, c->policy, res.allowed ? "pass" : "violate", pod.path, &res);
	if (owned)
		kt_pss_result_release(&res);
	return 0;
}

static int check_pod_security(const struct check_opts *o)
{
	struct pss_check c;
	struct report r;
	struct kt_err err = { 0 };
	int rc;

	if (kt_pss_policy_parse(o->pod_security, &c.pol, &err)) {
		kt_error("--pod-security: %s", err.msg);
		return KT_EXIT_USAGE;
	}
	if (c.pol.minor == KT_PSS_LATEST)
		snprintf(c.policy, sizeof(c.policy), "%s:latest", kt_pss_level_name(c.pol.level));
	else
		snprintf(c.policy, sizeof(c.policy), "%s:v1.%d", kt_pss_level_name(c.pol.level),
			 c.pol.minor);
	if (!report_init(&r, o->format)) {
		report_release(&r);
		kt_error("out of memory");
		return KT_EXIT_INTERNAL;
	}
	rc = each_object(o, &r, judge_pod_security, &c);
	if (!rc)
		rc = finish(&r, "pod-security", c.policy);
	report_release(&r);
	return rc;
}

/* ---- --tenant: every rule of the webhook ---- */

static void print_finding(FILE *out, const struct kt_manifest_obj *mo, const char *what,
			  const struct kt_finding *f)
{
	fprintf(out, "%s:%d: ", mo->file, mo->line);
	kt_fput_safe(out, kt_manifest_kind(mo->obj));
	putc('/', out);
	kt_fput_safe(out, display_name(mo->obj));
	fprintf(out, ": %s%s: ", what, f->rule);
	if (f->path) {
		kt_fput_safe(out, f->path);
		fputs(": ", out);
	}
	kt_fput_safe(out, f->message);
	putc('\n', out);
}

/* "add /spec/nodeSelector {...}", one line per operation of the patch */
static void print_mutations(FILE *out, const struct kt_manifest_obj *mo, json_t *ops)
{
	json_t *op;
	size_t i;

	json_array_foreach (ops, i, op) {
		char *v = json_dumps(json_object_get(op, "value"), JSON_COMPACT | JSON_ENCODE_ANY);

		fprintf(out, "%s:%d: ", mo->file, mo->line);
		kt_fput_safe(out, kt_manifest_kind(mo->obj));
		putc('/', out);
		kt_fput_safe(out, display_name(mo->obj));
		fprintf(out, ": mutation: %s ", json_string_value(json_object_get(op, "op")));
		kt_fput_safe(out, json_string_value(json_object_get(op, "path")));
		if (v) {
			putc(' ', out);
			kt_fput_safe(out, v);
		}
		putc('\n', out);
		free(v);
	}
}

static void report_decision(struct report *r, const struct check_opts *o,
			    const struct kt_manifest_obj *mo, const struct kt_decision *d,
			    json_t *ops)
{
	size_t i;

	if (r->format == FMT_JSON) {
		json_t *j =
			json_pack("{s:s, s:i, s:s, s:s, s:s, s:o, s:o}", "file", mo->file, "line",
				  mo->line, "kind", kt_manifest_kind(mo->obj), "name",
				  kt_manifest_name(mo->obj), "status", d->allowed ? "pass" : "deny",
				  "denials", kt_findings_json(d->denials, d->n_denials), "warnings",
				  kt_findings_json(d->warnings, d->n_warnings));

		if (j && o->show_mutations)
			json_object_set_new(j, "patch", ops ? json_incref(ops) : json_array());
		json_array_append_new(r->objects, j);
		return;
	}
	for (i = 0; i < d->n_denials; i++)
		print_finding(r->out, mo, "", &d->denials[i]);
	for (i = 0; i < d->n_warnings; i++)
		print_finding(r->out, mo, "warning: ", &d->warnings[i]);
	if (o->show_mutations && ops)
		print_mutations(r->out, mo, ops);
}

static bool str_is(const json_t *v, const char *s)
{
	return json_is_string(v) && !strcmp(json_string_value(v), s);
}

/*
 * What Gatekeeper's rendered Assign mutations (lib/render/gatekeeper.c) do
 * to a Pod of the tenant: spec.nodeSelector and spec.tolerations replaced
 * by the pool's.  NULL when the object is not a Pod with a spec.
 */
static json_t *gatekeeper_assign(const struct kt_config *cfg, const struct kt_tenant *t,
				 json_t *obj)
{
	char key[320];

	if (strcmp(kt_manifest_kind(obj), "Pod") || !json_is_object(json_object_get(obj, "spec")) ||
	    !str_is(json_object_get(obj, "apiVersion"), "v1"))
		return NULL;
	snprintf(key, sizeof(key), "%s/node-pool", cfg->global.label_domain);
	return json_pack("[{s:s, s:s, s:{s:s}}, {s:s, s:s, s:[{s:s, s:s, s:s}]}]", "op", "add",
			 "path", "/spec/nodeSelector", "value", key, t->node_pool, "op", "add",
			 "path", "/spec/tolerations", "value", "key", key, "operator", "Equal",
			 "value", t->node_pool);
}

/* "apps" of "apps/v1", "" of "v1" */
static void group_of(json_t *obj, char *buf, size_t size)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *slash = av ? strchr(av, '/') : NULL;

	snprintf(buf, size, "%.*s", slash ? (int)(slash - av) : 0, av ? av : "");
}

/*
 * What the API server does with the object: the mutating webhook (or
 * Gatekeeper's Assign), its patch applied, then the validating webhook on
 * the result, and what the profile enforces of it.  *ops is the patch
 * (new reference, NULL when none); *d is the deciding pass.
 */
static enum kt_rc judge_object(const struct kt_config *cfg, const struct kt_tenant *t,
			       int enforcement, json_t *obj, struct kt_decision *d, json_t **ops,
			       struct kt_err *err)
{
	struct kt_policy_request req = { .operation = "CREATE", .ns = t->name, .object = obj };
	struct kt_buf patch = KT_BUF_INIT;
	json_t *patched = NULL;
	char group[256];
	enum kt_rc rc;

	*ops = NULL;
	if (enforcement == KT_ENF_GATEKEEPER) {
		*d = (struct kt_decision){ .patch = KT_BUF_INIT };
		*ops = gatekeeper_assign(cfg, t, obj);
		rc = *ops && kt_json_dump(*ops, &patch) ? KT_E_NOMEM : KT_OK;
	} else {
		rc = kt_policy_decide(cfg, &req, KT_POLICY_MUTATE, d, err);
		if (rc || !d->allowed)
			return rc;
		if (d->patch.len) {
			*ops = json_loadb(d->patch.buf, d->patch.len, 0, NULL);
			rc = *ops ? kt_buf_add(&patch, d->patch.buf, d->patch.len) : KT_E_NOMEM;
		}
	}
	if (rc)
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	if (patch.len) {
		patched = json_deep_copy(obj);
		if (!patched)
			rc = kt_err_set(err, KT_E_NOMEM, "out of memory");
		else
			rc = kt_policy_patch_apply(&patched, patch.buf, patch.len, err);
		kt_buf_release(&patch);
		if (rc) {
			json_decref(patched);
			return rc == KT_E_NOMEM ? rc
						: kt_err_set(err, KT_E_INTERNAL, "%s", err->msg);
		}
		req.object = patched;
	}
	kt_decision_release(d);
	rc = kt_policy_decide(cfg, &req, KT_POLICY_VALIDATE, d, err);
	json_decref(patched);
	group_of(obj, group, sizeof(group));
	if (rc == KT_OK && kt_policy_enforcement(enforcement, group, NULL, d))
		rc = kt_err_set(err, KT_E_NOMEM, "out of memory");
	return rc;
}

struct tenant_check {
	const struct check_opts *o;
	const struct kt_config *cfg;
	const struct kt_tenant *t;
};

static int judge_tenant(void *ctx, struct report *r, const struct kt_manifest_obj *mo)
{
	struct tenant_check *c = ctx;
	struct kt_decision d;
	struct kt_err err = { 0 };
	json_t *ops = NULL;

	r->n_objects++;
	if (judge_object(c->cfg, c->t, c->o->enforcement, mo->obj, &d, &ops, &err)) {
		kt_decision_release(&d);
		if (err.rc == KT_E_NOMEM || err.rc == KT_E_INTERNAL) {
			kt_error("%s:%d: %s", mo->file, mo->line, err.msg);
			return KT_EXIT_INTERNAL;
		}
		snprintf(err.where, sizeof(err.where), "%s:%d", mo->file, mo->line);
		report_late_error(r, &err);
		return 0;
	}
	if (d.allowed)
		r->n_pass++;
	else
		r->n_violate++;
	report_decision(r, c->o, mo, &d, ops);
	json_decref(ops);
	kt_decision_release(&d);
	return 0;
}

static int check_tenant(const struct check_opts *o)
{
	struct tenant_check c = { .o = o };
	struct report r;
	struct kt_config *cfg = NULL;
	char what[128];
	int rc;

	rc = kt_cmd_load_config(o->tenants, &cfg);
	if (rc)
		return rc;
	c.cfg = cfg;
	c.t = kt_config_tenant_by_ns(cfg, o->tenant);
	if (!c.t) {
		kt_error("tenant '%s' is not in '%s'", o->tenant, o->tenants);
		kt_config_free(cfg);
		return KT_EXIT_USAGE;
	}
	snprintf(what, sizeof(what), "tenant '%s'%s", c.t->name,
		 o->enforcement == KT_ENF_GATEKEEPER ? " under gatekeeper" : "");
	if (!report_init(&r, o->format)) {
		kt_error("out of memory");
		rc = KT_EXIT_INTERNAL;
		goto out;
	}
	rc = each_object(o, &r, judge_tenant, &c);
	if (!rc)
		rc = finish(&r, "tenant", what);
out:
	report_release(&r);
	kt_config_free(cfg);
	return rc;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pod-security", required_argument, NULL, 'p' },
		{ "tenants", required_argument, NULL, 'f' },
		{ "file", required_argument, NULL, 'f' }, /* alias */
		{ "tenant", required_argument, NULL, 't' },
		{ "show-mutations", no_argument, NULL, 'm' },
		{ "enforcement", required_argument, NULL, 'e' },
		{ "format", required_argument, NULL, 'F' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_opts o = { .format = FMT_TEXT, .enforcement = -1 };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	bool json;
	char *end;
	long n;
	int c;

	o.jobs = cpus < 1 ? 1 : cpus > MAX_JOBS ? MAX_JOBS : (int)cpus;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:j:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.pod_security = optarg;
			break;
		case 'f':
			o.tenants = optarg;
			break;
		case 't':
			o.tenant = optarg;
			break;
		case 'm':
			o.show_mutations = true;
			break;
		case 'e':
			o.enforcement = kt_render_enforcement_parse(optarg);
			if (o.enforcement < 0) {
				kt_error("unknown enforcement '%s' (expected 'webhook' or "
					 "'gatekeeper')",
					 optarg);
				return kt_usage(usage, 0);
			}
			break;
		case 'F':
			if (kt_opt_format(optarg, &json))
				return KT_EXIT_USAGE;
			o.format = json ? FMT_JSON : FMT_TEXT;
			break;
		case 'j':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || n < 1 || n > MAX_JOBS) {
				kt_error("-j: '%s' is not a number of threads from 1 to %d", optarg,
					 MAX_JOBS);
				return kt_usage(usage, 0);
			}
			o.jobs = (int)n;
			break;
		case 'h':
			return kt_usage(usage, 1);
		default:
			return kt_usage(usage, 0);
		}
	}
	o.paths = argv + optind;
	o.n_paths = argc - optind;
	if (o.pod_security && (o.tenant || o.tenants)) {
		kt_error("--pod-security and --tenant are separate modes: give one");
		return kt_usage(usage, 0);
	}
	if (!o.pod_security && !o.tenant) {
		kt_error(
			"nothing to check: give -f TENANTS --tenant NAME, or --pod-security LEVEL");
		return kt_usage(usage, 0);
	}
	if (o.tenant && !o.tenants) {
		kt_error("--tenant needs the tenants file: give -f TENANTS");
		return kt_usage(usage, 0);
	}
	if (o.tenants && !o.tenant) {
		kt_error("-f needs --tenant NAME: whose manifests are these?");
		return kt_usage(usage, 0);
	}
	if (o.show_mutations && !o.tenant) {
		kt_error("--show-mutations needs --tenant");
		return kt_usage(usage, 0);
	}
	if (o.enforcement >= 0 && !o.tenant) {
		kt_error("--enforcement needs --tenant");
		return kt_usage(usage, 0);
	}
	if (o.enforcement < 0)
		o.enforcement = KT_ENF_WEBHOOK;
	if (!o.n_paths) {
		kt_error("no manifests given (use - for standard input)");
		return kt_usage(usage, 0);
	}
	return o.tenant ? check_tenant(&o) : check_pod_security(&o);
}
