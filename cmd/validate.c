/*
 * validate.c: `kubetenant validate`, every problem of a tenants file at once.
 *
 * The same loader every subcommand uses, so a file validate accepts is a
 * file render, check and serve accept.  Text for people (problems on
 * stderr in the compilers' FILE:LINE:COL form that editors jump to, a
 * summary on stdout), JSON for CI bots and portals.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "kt.h"

static const char usage[] =
	"usage: kubetenant validate -f FILE [--format text|json] [--strict]\n"
	"\n"
	"Check a tenants file and report every problem, not just the first, as\n"
	"FILE:LINE:COL: message on stderr.  On success print a one-line summary.\n"
	"\n"
	"  -f, --tenants FILE     the tenants file ('-' reads stdin; --file is an alias)\n"
	"      --format FORMAT    'text' (default) or 'json': one JSON object on stdout,\n"
	"                         {\"valid\":..., \"problems\":[{\"file\",\"line\",\"column\",\n"
	"                         \"message\",\"severity\"}]}\n"
	"      --strict           fail on warnings too: a node pool no tenant uses, a\n"
	"                         tenant nobody can read, a privileged tenant, a\n"
	"                         manifestRepo Flux's controllers may not sync\n"
	"  -h, --help             show this help\n"
	"\n"
	"exit status: 0 valid, 1 warnings with --strict, 2 invalid file or usage,\n"
	"3 unreadable file, 70 internal error\n";

enum { OPT_FORMAT = 256, OPT_STRICT };

struct report {
	const char *name;
	bool json, strict;
	json_t *problems; /* json mode */
};

static int add_problem(struct report *r, int line, int col, const char *msg, bool warning)
{
	json_t *p;

	if (!r->json) {
		fprintf(stderr, "%s:%d:%d: %s%s\n", r->name, line, col, warning ? "warning: " : "",
			msg);
		return 0;
	}
	p = json_pack("{s:s, s:i, s:i, s:s, s:s}", "file", r->name, "line", line, "column", col,
		      "message", msg, "severity", warning ? "warning" : "error");
	return p ? json_array_append_new(r->problems, p) : -1;
}

static int emit_json(struct report *r, bool valid, const struct kt_config *cfg)
{
	json_t *o = json_pack("{s:b, s:s, s:O}", "valid", valid, "file", r->name, "problems",
			      r->problems);
	int rc;

	if (o && cfg) {
		json_object_set_new(o, "nodePools", json_integer((json_int_t)cfg->n_pools));
		json_object_set_new(o, "tenants", json_integer((json_int_t)cfg->n_tenants));
	}
	rc = o ? json_dumpf(o, stdout, JSON_COMPACT) : -1;
	json_decref(o);
	if (rc || fputc('\n', stdout) == EOF || fflush(stdout))
		return -1;
	return 0;
}

static int finish(struct report *r, int code, bool valid, const struct kt_config *cfg)
{
	if (r->json && emit_json(r, valid, cfg)) {
		kt_error("cannot write the report");
		code = KT_EXIT_INTERNAL;
	}
	json_decref(r->problems);
	return code;
}

/* The file is valid: its warnings, then the summary or the JSON report. */
static int report_valid(struct report *r, struct kt_config *cfg)
{
	struct kt_diags warnings = { 0 };
	size_t i;
	int code;

	if (kt_config_lint(cfg, &warnings)) {
		kt_config_free(cfg);
		kt_error("out of memory");
		return finish(r, KT_EXIT_INTERNAL, false, NULL);
	}
	for (i = 0; i < warnings.n; i++)
		add_problem(r, warnings.v[i].line, warnings.v[i].col, warnings.v[i].msg, true);
	code = r->strict && warnings.n ? KT_EXIT_FINDINGS : KT_EXIT_OK;
	if (!r->json && code == KT_EXIT_OK) {
		printf("%s: %zu node pool%s, %zu tenant%s", r->name, cfg->n_pools,
		       cfg->n_pools == 1 ? "" : "s", cfg->n_tenants,
		       cfg->n_tenants == 1 ? "" : "s");
		if (warnings.n)
			printf(", %zu warning%s", warnings.n, warnings.n == 1 ? "" : "s");
		putchar('\n');
	}
	kt_diags_release(&warnings);
	code = finish(r, code, true, cfg);
	kt_config_free(cfg);
	return code;
}

int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tenants", required_argument, NULL, 'f' },
		{ "file", required_argument, NULL, 'f' }, /* alias */
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report r = { 0 };
	struct kt_diags diags = { 0 };
	struct kt_config *cfg = NULL;
	struct kt_err err = { 0 };
	const char *path = NULL;
	enum kt_rc rc;
	size_t i;
	int c, code;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			path = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "json")) {
				r.json = true;
			} else if (strcmp(optarg, "text")) {
				kt_error("unknown format '%s' (expected 'text' or 'json')", optarg);
				return kt_usage(usage, 0);
			}
			break;
		case OPT_STRICT:
			r.strict = true;
			break;
		case 'h':
			return kt_usage(usage, 1);
		case ':':
			kt_error("option '%s' needs a value", argv[optind - 1]);
			return kt_usage(usage, 0);
		default:
			kt_error("unknown option '%s'", argv[optind - 1]);
			return kt_usage(usage, 0);
		}
	}
	if (optind < argc) {
		kt_error("unexpected argument '%s'", argv[optind]);
		return kt_usage(usage, 0);
	}
	if (!path) {
		kt_error("no tenants file given (use -f FILE)");
		return kt_usage(usage, 0);
	}
	r.name = strcmp(path, "-") ? path : "<stdin>";
	r.problems = json_array();
	if (!r.problems)
		return KT_EXIT_INTERNAL;

	/* text: exactly what every other subcommand prints for a bad file */
	if (!r.json) {
		code = kt_cmd_load_config(path, &cfg);
		return code ? finish(&r, code, false, NULL) : report_valid(&r, cfg);
	}
	rc = kt_config_load(path, &cfg, &diags, &err);
	for (i = 0; i < diags.n; i++)
		if (add_problem(&r, diags.v[i].line, diags.v[i].col, diags.v[i].msg, false))
			rc = KT_E_NOMEM;
	kt_diags_release(&diags);
	if (rc != KT_OK) {
		/* no position to show: the file itself is the problem */
		if (rc == KT_E_IO || !i)
			add_problem(&r, 0, 0, err.msg[0] ? err.msg : kt_rc_str(rc), false);
		return finish(&r, kt_exit_for(rc == KT_E_PARSE ? KT_E_INVALID : rc), false, NULL);
	}
	return report_valid(&r, cfg);
}
