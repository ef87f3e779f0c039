/*
 * t_pss_conformance.c: every official Pod Security Admission fixture, through
 * the same path `check` uses (manifest loader, pod locator, evaluator).
 *
 * $KT_SHARED/conformance/pod-security/testdata/<level>/<version>/<pass|fail>/
 * One TAP line per level/version/verdict group; a failing fixture is named
 * with the verdict we gave and why.  The group list is read from disk, and
 * the total is checked against the 4,537 fixtures the folder ships, so a
 * missing folder cannot pass silently.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kt/manifest.h"
#include "kt/pss.h"

#define FIXTURES_EXPECTED 4537

struct group {
	char name[1024]; /* "restricted/v1.37/pass" */
	char dir[4096];
	struct kt_pss_policy pol;
	bool pass;
};

static size_t fixtures_seen;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in a directory (hidden ones skipped); NULL-terminated. */
/* realloc for the test's own lists: out of memory ends the run, nothing leaks */
static void *grow(void *p, size_t n, size_t size)
{
	void *q = realloc(p, n * size);

	if (!q) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return q;
}

static char **list_dir(const char *dir, size_t *n)
{
	char **v = NULL;
	struct dirent *de;
	DIR *d = opendir(dir);

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		v = grow(v, *n + 2, sizeof(*v));
		v[(*n)++] = strdup(de->d_name);
		v[*n] = NULL;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void run_group(void **state)
{
	struct group *g = *state;
	size_t n, i, wrong = 0;
	char **files = list_dir(g->dir, &n);

	assert_non_null(files);
	for (i = 0; i < n; i++) {
		struct kt_manifest_set set = KT_MANIFEST_SET_INIT;
		struct kt_manifest_pod pod;
		struct kt_pss_result res;
		struct kt_err err = { 0 };
		char path[8192];
		char *msg;

		snprintf(path, sizeof(path), "%s/%s", g->dir, files[i]);
		if (kt_manifest_load_file(&set, path, &err) || set.n != 1 ||
		    kt_manifest_pod_spec(set.objs[0].obj, &pod, &err) || !pod.spec) {
			print_error("%s: cannot load: %s %s\n", path, err.where, err.msg);
			wrong++;
			kt_manifest_set_release(&set);
			continue;
		}
		assert_int_equal(kt_pss_evaluate(&g->pol, pod.metadata, pod.spec, &res), KT_OK);
		fixtures_seen++;
		if (res.allowed != g->pass) {
			msg = kt_pss_result_message(&res);
			print_error("%s: %s (%s)\n", path, res.allowed ? "allowed" : "denied",
				    msg ? msg : "");
			free(msg);
			wrong++;
		}
		kt_pss_result_release(&res);
		kt_manifest_set_release(&set);
	}
	free_list(files, n);
	assert_int_equal(wrong, 0);
}

static void all_fixtures_were_judged(void **state)
{
	(void)state;
	assert_int_equal(fixtures_seen, FIXTURES_EXPECTED);
}

int main(void)
{
	const char *shared = getenv("KT_SHARED");
	char root[1024], dir[2048];
	struct CMUnitTest *tests = NULL;
	struct group *groups = NULL;
	size_t n_tests = 0, n_groups = 0, nl, nv, l, v;
	char **levels, **versions;
	int rc, verdict;

	snprintf(root, sizeof(root), "%s/conformance/pod-security/testdata",
		 shared && *shared ? shared : "../shared");
	levels = list_dir(root, &nl);
	for (l = 0; l < nl; l++) {
		snprintf(dir, sizeof(dir), "%s/%s", root, levels[l]);
		versions = list_dir(dir, &nv);
		for (v = 0; v < nv; v++) {
			for (verdict = 0; verdict < 2; verdict++) {
				struct group *g;

				groups = grow(groups, n_groups + 1, sizeof(*groups));
				g = &groups[n_groups++];
				memset(g, 0, sizeof(*g));
				snprintf(g->name, sizeof(g->name), "%s/%s/%s", levels[l],
					 versions[v], verdict ? "pass" : "fail");
				snprintf(g->dir, sizeof(g->dir), "%s/%s/%s", dir, versions[v],
					 verdict ? "pass" : "fail");
				g->pass = verdict;
				g->pol.level = strcmp(levels[l], "restricted") ? KT_PSS_BASELINE
									       : KT_PSS_RESTRICTED;
				g->pol.minor = (int)strtol(versions[v] + 3, NULL, 10); /* "v1.NN" */
			}
		}
		free_list(versions, nv);
	}
	free_list(levels, nl);
	tests = calloc(n_groups + 1, sizeof(*tests));
	if (!tests)
		return 1;
	for (n_tests = 0; n_tests < n_groups; n_tests++) {
		tests[n_tests].name = groups[n_tests].name;
		tests[n_tests].test_func = run_group;
		tests[n_tests].initial_state = &groups[n_tests];
	}
	tests[n_tests].name = "all 4537 fixtures were judged";
	tests[n_tests].test_func = all_fixtures_were_judged;
	n_tests++;
	rc = _cmocka_run_group_tests("pss_conformance", tests, n_tests, NULL, NULL);
	free(tests);
	free(groups);
	return rc;
}
