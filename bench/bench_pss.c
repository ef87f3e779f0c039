/*
 * bench_pss.c: Pod Security evaluations per second.
 *
 *   evaluate         restricted:latest on the decoded restricted base.yaml
 *                    fixture (the webhook's hot path after decoding)
 *   decode+evaluate  json_loadb() of the same pod as JSON bytes, find its
 *                    spec, evaluate, free
 *   decode only      json_loadb() + free of the same bytes: the baseline,
 *                    measured in the same run so ratios survive a noisy box
 *
 * Each figure is the best of a few short timed runs (one core).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kt/manifest.h"
#include "kt/pss.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct ctx {
	struct kt_pss_policy pol;
	json_t *meta, *spec;
	char *json;
	size_t len;
	unsigned long sink;
};

static void op_evaluate(struct ctx *c)
{
	struct kt_pss_result res;

	kt_pss_evaluate(&c->pol, c->meta, c->spec, &res);
	c->sink += res.allowed;
	kt_pss_result_release(&res);
}

static void op_decode_evaluate(struct ctx *c)
{
	struct kt_pss_result res;
	json_t *pod = json_loadb(c->json, c->len, JSON_REJECT_DUPLICATES, NULL);

	kt_pss_evaluate(&c->pol, json_object_get(pod, "metadata"), json_object_get(pod, "spec"),
			&res);
	c->sink += res.allowed;
	kt_pss_result_release(&res);
	json_decref(pod);
}

static void op_decode(struct ctx *c)
{
	json_t *pod = json_loadb(c->json, c->len, JSON_REJECT_DUPLICATES, NULL);

	c->sink += pod != NULL;
	json_decref(pod);
}

/* Operations per second: best of 5 runs of ~0.2 s each. */
static double rate(void (*op)(struct ctx *), struct ctx *c)
{
	double best = 0;
	int run;

	for (run = 0; run < 5; run++) {
		unsigned long n = 0;
		double t0 = now(), t;
		int i;

		do {
			for (i = 0; i < 1024; i++)
				op(c);
			n += 1024;
			t = now() - t0;
		} while (t < 0.2);
		if (n / t > best)
			best = n / t;
	}
	return best;
}

int main(int argc, char **argv)
{
	struct kt_manifest_set set = KT_MANIFEST_SET_INIT;
	struct kt_manifest_pod pod;
	struct kt_err err = { 0 };
	struct ctx c = { .pol = { KT_PSS_RESTRICTED, KT_PSS_LATEST } };
	double eval, both, decode, viol;
	json_t *bad;

	if (argc != 2) {
		fprintf(stderr, "usage: %s RESTRICTED-BASE.yaml\n", argv[0]);
		return 2;
	}
	if (kt_manifest_load_file(&set, argv[1], &err) || set.n != 1 ||
	    kt_manifest_pod_spec(set.objs[0].obj, &pod, &err) || !pod.spec) {
		fprintf(stderr, "bench_pss: %s: %s\n", err.where, err.msg);
		return 1;
	}
	c.meta = pod.metadata;
	c.spec = pod.spec;
	c.json = json_dumps(set.objs[0].obj, JSON_COMPACT);
	c.len = strlen(c.json);
	op_evaluate(&c);
	if (c.sink != 1) {
		fprintf(stderr, "bench_pss: the fixture is not allowed at restricted:latest\n");
		return 1;
	}
	eval = rate(op_evaluate, &c);
	both = rate(op_decode_evaluate, &c);
	decode = rate(op_decode, &c);
	/* the slow path, for scale: a pod that violates and is worded */
	bad = json_deep_copy(c.spec);
	json_object_set_new(bad, "hostPID", json_true());
	c.spec = bad;
	viol = rate(op_evaluate, &c);
	json_decref(bad);

	printf("pod: %s (%zu bytes of JSON), policy restricted:latest\n", argv[1], c.len);
	printf("%-34s %12.0f /s  %8.0f ns\n", "evaluate (decoded, allowed)", eval, 1e9 / eval);
	printf("%-34s %12.0f /s  %8.0f ns\n", "evaluate (decoded, violating)", viol, 1e9 / viol);
	printf("%-34s %12.0f /s  %8.0f ns\n", "decode+evaluate (JSON bytes)", both, 1e9 / both);
	printf("%-34s %12.0f /s  %8.0f ns   <- baseline\n", "decode only (json_loadb)", decode,
	       1e9 / decode);
	printf("evaluation costs %.0f%% of a decode; decode+evaluate runs at %.2fx the decode-only rate\n",
	       100.0 * decode / eval, both / decode);
	printf("target >= 1000000 evaluations/s: %s\n", eval >= 1e6 ? "met" : "NOT met");
	free(c.json);
	kt_manifest_set_release(&set);
	return 0;
}
