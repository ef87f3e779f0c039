/*
 * render.c: `kubetenant render`, every Kubernetes object for every tenant.
 *
 * The whole output is rendered in memory before a single byte is written,
 * so a bad tenants file (or a failure half way) never leaves a partial
 * stream on stdout or a half-written directory behind.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "kt.h"
#include "kt/buf.h"
#include "kt/render.h"
#include "kt/version.h"

static const char usage[] =
	"usage: kubetenant render -f FILE [-o DIR] [--tenant NAME] [--network PROFILE]\n"
	"                         [--enforcement PROFILE] [--karpenter VERSION]\n"
	"                         [--group-prefix PREFIX] [--format yaml|json]\n"
	"                         [--proxy-exposure ingress|gateway|none]\n"
	"       kubetenant render -f FILE --dex\n"
	"\n"
	"Write every Kubernetes object that makes the cluster multi-tenant, from one\n"
	"tenants file, deterministically (same file, same bytes).\n"
	"\n"
	"  -f, --tenants FILE       the tenants file ('-' for stdin; --file is an alias)\n"
	"  -o, --output-dir DIR     one file per object, DIR/<namespace>/<kind>-<name>.yaml\n"
	"                           (cluster-scoped objects under DIR/_cluster/), plus\n"
	"                           DIR/kustomization.yaml listing them; default: stdout\n"
	"      --tenant NAME        only the objects of this tenant\n"
	"      --network PROFILE    kubernetes (default) | calico-crd | calico | admin\n"
	"      --enforcement PROF   webhook (default) | gatekeeper\n"
	"      --karpenter VERSION  v1 (default) | v1alpha5\n"
	"      --group-prefix P     prefix of IdP groups in RoleBindings (default:\n"
	"                           global.groupPrefix, else \"oidc:\")\n"
	"      --format FORMAT      yaml (default): multi-document YAML;\n"
	"                           json: one v1 List (not with -o)\n"
	"      --proxy-exposure E   how the OIDC proxy is reached from outside: ingress\n"
	"                           (ingress-nginx, re-encrypt) | gateway (Gateway API,\n"
	"                           TLS passthrough) | none; default: global.oidc.exposure\n"
	"      --dex                write only Dex's staticClients for kubectl and the\n"
	"                           dashboard, to merge into Dex's config.yaml\n"
	"  -h, --help               this help\n"
	"\n"
	"exit codes: 0 ok, 2 usage or invalid tenants file, 3 unreadable input or\n"
	"            unwritable output, 70 internal error\n";

enum {
	OPT_TENANT = 256,
	OPT_NETWORK,
	OPT_ENFORCEMENT,
	OPT_KARPENTER,
	OPT_GROUP_PREFIX,
	OPT_FORMAT,
	OPT_EXPOSURE,
	OPT_DEX
};

static const struct option longopts[] = {
	{ "tenants", required_argument, NULL, 'f' },
	{ "file", required_argument, NULL, 'f' }, /* alias */
	{ "output-dir", required_argument, NULL, 'o' },
	{ "tenant", required_argument, NULL, OPT_TENANT },
	{ "network", required_argument, NULL, OPT_NETWORK },
	{ "enforcement", required_argument, NULL, OPT_ENFORCEMENT },
	{ "karpenter", required_argument, NULL, OPT_KARPENTER },
	{ "group-prefix", required_argument, NULL, OPT_GROUP_PREFIX },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "proxy-exposure", required_argument, NULL, OPT_EXPOSURE },
	{ "dex", no_argument, NULL, OPT_DEX },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One object's bytes in the output buffer, and where -o puts them. */
struct part {
	char *path;
	size_t start, end;
};

struct sink {
	struct kt_buf out;
	int json;
	int want_paths;
	struct part *parts;
	size_t n, alloc;
	json_t *seen; /* paths already used: two objects must never share a file */
};

static enum kt_rc on_object(void *ctx, json_t *obj, struct kt_err *err)
{
	struct sink *s = ctx;
	size_t start = s->out.len;
	struct kt_buf path = KT_BUF_INIT;
	enum kt_rc rc;

	if (s->json) {
		char *text = json_dumps(obj, JSON_COMPACT);

		if (!text)
			return kt_err_set(err, KT_E_NOMEM, "out of memory writing JSON");
		rc = kt_buf_addf(&s->out, "%s\n  %s", s->n ? "," : "", text);
		free(text);
		s->n++;
		return rc ? kt_err_set(err, rc, "out of memory writing JSON") : KT_OK;
	}
	rc = kt_render_yaml(obj, &s->out, err);
	if (rc || !s->want_paths)
		return rc;
	if ((rc = kt_render_path(obj, &path, err)))
		return rc;
	if (json_object_get(s->seen, path.buf)) {
		rc = kt_err_set(err, KT_E_INTERNAL, "two objects would be written to '%s'",
				path.buf);
		kt_buf_release(&path);
		return rc;
	}
	if (json_object_set_new(s->seen, path.buf, json_true()))
		goto nomem;
	if (s->n == s->alloc) {
		size_t alloc = s->alloc ? 2 * s->alloc : 256;
		struct part *p = realloc(s->parts, alloc * sizeof(*p));

		if (!p)
			goto nomem;
		s->parts = p;
		s->alloc = alloc;
	}
	s->parts[s->n++] = (struct part){ kt_buf_detach(&path, NULL), start, s->out.len };
	return KT_OK;
nomem:
	kt_buf_release(&path);
	return kt_err_set(err, KT_E_NOMEM, "out of memory naming files");
}

static void sink_release(struct sink *s)
{
	size_t i;

	for (i = 0; s->parts && i < s->n; i++)
		free(s->parts[i].path);
	free(s->parts);
	json_decref(s->seen);
	kt_buf_release(&s->out);
}

/* mkdir -p for DIR itself and one level below it. */
static int make_dir(const char *path)
{
	char *p = strdup(path), *q;
	int rc = 0;

	if (!p)
		return -1;
	for (q = p + 1; *q && rc == 0; q++)
		if (*q == '/') {
			*q = '\0';
			if (mkdir(p, 0755) && errno != EEXIST)
				rc = -1;
			*q = '/';
		}
	if (rc == 0 && mkdir(p, 0755) && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

static int write_part(const char *dir, const char *rel, const char *data, size_t len)
{
	struct kt_buf path = KT_BUF_INIT, body = KT_BUF_INIT;
	struct kt_err err = { 0 };
	char *slash;
	int rc = KT_EXIT_OK;

	if (kt_buf_addf(&path, "%s/%s", dir, rel) || kt_buf_add(&body, data, len)) {
		kt_error("out of memory");
		rc = KT_EXIT_INTERNAL;
		goto out;
	}
	slash = strrchr(path.buf, '/');
	*slash = '\0';
	if (make_dir(path.buf)) {
		kt_error("cannot create directory '%s': %s", path.buf, strerror(errno));
		rc = KT_EXIT_INPUT;
		goto out;
	}
	*slash = '/';
	if (kt_buf_write_file(&body, path.buf, &err)) {
		kt_error("%s", err.msg);
		rc = KT_EXIT_INPUT;
	}
out:
	kt_buf_release(&path);
	kt_buf_release(&body);
	return rc;
}

/* The files, then kustomization.yaml listing them in output order. */
static int write_dir(const char *dir, struct sink *s)
{
	json_t *resources = json_array(), *k;
	struct kt_buf kust = KT_BUF_INIT;
	size_t i;
	int rc = KT_EXIT_OK;

	for (i = 0; resources && i < s->n; i++)
		if (json_array_append_new(resources, json_string(s->parts[i].path))) {
			json_decref(resources);
			resources = NULL;
		}
	k = json_pack("{s:s, s:s, s:o}", "apiVersion", "kustomize.config.k8s.io/v1beta1", "kind",
		      "Kustomization", "resources", resources);
	if (!k || kt_render_yaml(k, &kust, NULL)) {
		kt_error("out of memory");
		rc = KT_EXIT_INTERNAL;
	}
	json_decref(k);
	for (i = 0; rc == KT_EXIT_OK && i < s->n; i++)
		rc = write_part(dir, s->parts[i].path, s->out.buf + s->parts[i].start,
				s->parts[i].end - s->parts[i].start);
	if (rc == KT_EXIT_OK)
		rc = write_part(dir, "kustomization.yaml", kust.buf, kust.len);
	kt_buf_release(&kust);
	return rc;
}

static void print_diags(const char *name, const struct kt_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		fprintf(stderr, "%s:%d:%d: %s\n", name, d->v[i].line, d->v[i].col, d->v[i].msg);
}

static int pick(const char *flag, const char *value, int parsed, int *out)
{
	if (parsed < 0) {
		kt_error("unknown %s '%s'; see 'kubetenant render --help'", flag, value);
		return -1;
	}
	*out = parsed;
	return 0;
}

/* --dex: Dex's clients alone, as YAML or JSON. */
static int write_dex(const struct kt_config *cfg, int json)
{
	struct kt_buf out = KT_BUF_INIT;
	struct kt_err err = { 0 };
	json_t *dex = NULL;
	char *text = NULL;
	int status = KT_EXIT_OK;
	enum kt_rc rc;

	rc = kt_render_dex(cfg, &dex, &err);
	if (rc == KT_OK && json) {
		text = json_dumps(dex, JSON_INDENT(2));
		rc = !text || kt_buf_addf(&out, "%s\n", text)
			     ? kt_err_set(&err, KT_E_NOMEM, "out of memory writing JSON")
			     : KT_OK;
	} else if (rc == KT_OK) {
		rc = kt_render_yaml(dex, &out, &err);
	}
	if (rc) {
		kt_error("%s", err.msg);
		status = rc == KT_E_INVALID ? KT_EXIT_USAGE : KT_EXIT_INTERNAL;
	} else if (fwrite(out.buf, 1, out.len, stdout) != out.len || fflush(stdout)) {
		kt_error("cannot write the output: %s", strerror(errno));
		status = KT_EXIT_INPUT;
	}
	free(text);
	json_decref(dex);
	kt_buf_release(&out);
	return status;
}

int cmd_render(int argc, char **argv)
{
	const char *file = NULL, *dir = NULL, *format = "yaml", *name;
	struct kt_render_opts opts = { .default_image = "kubetenant/kubetenant:" KT_VERSION };
	struct kt_buf text = KT_BUF_INIT;
	struct kt_diags diags = { 0 };
	struct kt_config *cfg = NULL;
	struct sink s = { .out = KT_BUF_INIT };
	struct kt_err err = { 0 };
	enum kt_rc rc;
	int c, v, dex = 0, status = KT_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 'o':
			dir = optarg;
			break;
		case OPT_TENANT:
			opts.tenant = optarg;
			break;
		case OPT_GROUP_PREFIX:
			opts.group_prefix = optarg;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_NETWORK:
			if (pick("network profile", optarg, kt_render_network_parse(optarg), &v))
				return KT_EXIT_USAGE;
			opts.network = v;
			break;
		case OPT_ENFORCEMENT:
			if (pick("enforcement profile", optarg, kt_render_enforcement_parse(optarg),
				 &v))
				return KT_EXIT_USAGE;
			opts.enforcement = v;
			break;
		case OPT_KARPENTER:
			if (pick("karpenter version", optarg, kt_render_karpenter_parse(optarg),
				 &v))
				return KT_EXIT_USAGE;
			opts.karpenter = v;
			break;
		case OPT_EXPOSURE:
			if (pick("proxy exposure", optarg, kt_render_exposure_parse(optarg), &v))
				return KT_EXIT_USAGE;
			opts.set_exposure = true;
			opts.exposure = v;
			break;
		case OPT_DEX:
			dex = 1;
			break;
		case 'h':
			return kt_usage(usage, 1);
		default:
			return kt_usage(usage, 0);
		}
	}
	if (optind < argc) {
		kt_error("unexpected argument '%s'", argv[optind]);
		return kt_usage(usage, 0);
	}
	if (!file) {
		kt_error("no tenants file given (use -f FILE)");
		return kt_usage(usage, 0);
	}
	if (strcmp(format, "yaml") && strcmp(format, "json")) {
		kt_error("unknown format '%s': use yaml or json", format);
		return KT_EXIT_USAGE;
	}
	s.json = !strcmp(format, "json");
	if (dex && (dir || opts.tenant)) {
		kt_error(
			"--dex writes Dex's clients to stdout; it cannot be used with -o or --tenant");
		return KT_EXIT_USAGE;
	}
	if (s.json && dir) {
		kt_error("--format json writes one List to stdout; it cannot be used with -o");
		return KT_EXIT_USAGE;
	}

	/* read once: the ConfigMap must carry exactly the bytes that were validated */
	name = strcmp(file, "-") ? file : "<stdin>";
	rc = kt_buf_read_file(&text, file, KT_CONFIG_MAX_BYTES, &err);
	if (rc) {
		kt_error("%s", err.msg[0] ? err.msg : kt_rc_str(rc));
		status = KT_EXIT_INPUT;
		goto out;
	}
	rc = kt_config_parse(text.buf, text.len, name, &cfg, &diags, &err);
	if (rc) {
		/* as every subcommand reports a bad file (cmd/load_config.c) */
		print_diags(name, &diags);
		if (diags.n == 0)
			kt_error("%s: %s", name, err.msg[0] ? err.msg : kt_rc_str(rc));
		status = rc == KT_E_INVALID || rc == KT_E_PARSE ? KT_EXIT_USAGE : kt_exit_for(rc);
		goto out;
	}
	if (dex) {
		status = write_dex(cfg, s.json);
		goto out;
	}
	opts.tenants_yaml = text.buf;
	opts.tenants_yaml_len = text.len;
	/* etcd refuses objects over 1 MiB: say so now rather than at apply time */
	if (opts.enforcement == KT_ENF_WEBHOOK && !opts.tenant && text.len > 1000000)
		kt_warning("the tenants file is %zu bytes; ConfigMap 'kubetenant-tenants' carries it "
			   "and the API server rejects objects over 1 MiB",
			   text.len);
	s.want_paths = dir != NULL;
	s.seen = json_object();
	if (!s.seen || (s.json && kt_buf_adds(&s.out, "{\"apiVersion\":\"v1\",\"kind\":\"List\","
						      "\"items\":["))) {
		kt_error("out of memory");
		status = KT_EXIT_INTERNAL;
		goto out;
	}
	rc = kt_render(cfg, &opts, on_object, &s, &err);
	if (rc == KT_OK && s.json && kt_buf_adds(&s.out, "\n]}\n"))
		rc = kt_err_set(&err, KT_E_NOMEM, "out of memory writing JSON");
	if (rc) {
		kt_error("%s", err.msg);
		status = rc == KT_E_INVALID ? KT_EXIT_USAGE : KT_EXIT_INTERNAL;
		goto out;
	}
	if (dir) {
		status = write_dir(dir, &s);
	} else if (fwrite(s.out.buf, 1, s.out.len, stdout) != s.out.len || fflush(stdout)) {
		kt_error("cannot write the output: %s", strerror(errno));
		status = KT_EXIT_INPUT;
	}
out:
	sink_release(&s);
	kt_config_free(cfg);
	kt_diags_release(&diags);
	kt_buf_release(&text);
	return status;
}
