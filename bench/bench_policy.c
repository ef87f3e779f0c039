/*
 * bench_policy.c: in-process decisions per second for a realistic 3.6 KB
 * Pod CREATE review, mutating and validating, split in its two parts:
 *  - decode only: jansson's json_loadb of the bytes, with the flags the
 *    engine uses (the baseline: what any webhook built on jansson pays
 *    before deciding anything);
 *  - decide only: kt_policy_review_json() on the review decoded once
 *    (bounds walk + rules + patch + response JSON);
 *  - end to end: kt_policy_review() on the bytes + response JSON, what
 *    /mutate and /validate do per request.
 * The last line is the decoding share of decode + decide, which noise
 * cannot push past 100% as it can the ratio of two separate figures.
 *
 * usage: bench_policy [SECONDS-PER-FIGURE]   (default 1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kt/policy.h"
#include "../test/unit/policy_fixture.h"

/* What the API server sends when the ReplicaSet controller creates a pod. */
static const char review[] =
	"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{"
	"\"uid\":\"705ab4f5-6393-11e8-b7cc-42010a800002\",\"kind\":{\"group\":\"\",\"version\":"
	"\"v1\",\"kind\":\"Pod\"},\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":"
	"\"pods\"},\"requestKind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
	"\"requestResource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"},\"name\":"
	"\"web-7d4b9c8f6-x2x9z\",\"namespace\":\"team-a\",\"operation\":\"CREATE\",\"userInfo\":{"
	"\"username\":\"system:serviceaccount:kube-system:replicaset-controller\",\"uid\":"
	"\"0d8a6c2e-1b7e-4f0e-9a3a-6b1f4d5c2e10\",\"groups\":[\"system:serviceaccounts\","
	"\"system:serviceaccounts:kube-system\",\"system:authenticated\"]},\"object\":{\"kind\":"
	"\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"generateName\":\"web-7d4b9c8f6-\","
	"\"namespace\":\"team-a\",\"creationTimestamp\":null,\"labels\":{\"app\":\"web\","
	"\"pod-template-hash\":\"7d4b9c8f6\",\"tier\":\"frontend\"},\"annotations\":{"
	"\"kubectl.kubernetes.io/restartedAt\":\"2024-05-01T10:00:00Z\"},\"ownerReferences\":[{"
	"\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web-7d4b9c8f6\",\"uid\":"
	"\"9e1f2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b\",\"controller\":true,\"blockOwnerDeletion\":true}]"
	"},\"spec\":{\"volumes\":[{\"name\":\"kube-api-access-7xk2p\",\"projected\":{\"sources\":[{"
	"\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}},{\"configMap\":{"
	"\"name\":\"kube-root-ca.crt\",\"items\":[{\"key\":\"ca.crt\",\"path\":\"ca.crt\"}]}},{"
	"\"downwardAPI\":{\"items\":[{\"path\":\"namespace\",\"fieldRef\":{\"apiVersion\":\"v1\","
	"\"fieldPath\":\"metadata.namespace\"}}]}}],\"defaultMode\":420}},{\"name\":\"cache\","
	"\"emptyDir\":{\"sizeLimit\":\"256Mi\"}}],\"containers\":[{\"name\":\"web\",\"image\":"
	"\"ghcr.io/acme/web:1.2.3\",\"ports\":[{\"name\":\"http\",\"containerPort\":8080,"
	"\"protocol\":\"TCP\"}],\"env\":[{\"name\":\"LOG_LEVEL\",\"value\":\"info\"},{\"name\":"
	"\"POD_NAME\",\"valueFrom\":{\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":"
	"\"metadata.name\"}}}],\"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":\"256Mi\"},"
	"\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"}},\"volumeMounts\":[{\"name\":"
	"\"cache\",\"mountPath\":\"/cache\"},{\"name\":\"kube-api-access-7xk2p\",\"readOnly\":true,"
	"\"mountPath\":\"/var/run/secrets/kubernetes.io/serviceaccount\"}],\"livenessProbe\":{"
	"\"httpGet\":{\"path\":\"/healthz\",\"port\":\"http\",\"scheme\":\"HTTP\"},"
	"\"initialDelaySeconds\":5,\"timeoutSeconds\":1,\"periodSeconds\":10,\"successThreshold\":1,"
	"\"failureThreshold\":3},\"readinessProbe\":{\"httpGet\":{\"path\":\"/readyz\",\"port\":"
	"\"http\",\"scheme\":\"HTTP\"},\"timeoutSeconds\":1,\"periodSeconds\":5,"
	"\"successThreshold\":1,\"failureThreshold\":3},\"terminationMessagePath\":"
	"\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":"
	"\"IfNotPresent\",\"securityContext\":{\"capabilities\":{\"drop\":[\"ALL\"]},"
	"\"runAsNonRoot\":true,\"readOnlyRootFilesystem\":true,\"allowPrivilegeEscalation\":false,"
	"\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}}],\"restartPolicy\":\"Always\","
	"\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\","
	"\"serviceAccountName\":\"default\",\"serviceAccount\":\"default\",\"securityContext\":{"
	"\"runAsNonRoot\":true,\"runAsUser\":10001,\"fsGroup\":10001,\"seccompProfile\":{\"type\":"
	"\"RuntimeDefault\"}},\"affinity\":{\"podAntiAffinity\":{"
	"\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":100,\"podAffinityTerm\":"
	"{\"labelSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"topologyKey\":"
	"\"kubernetes.io/hostname\"}}]}},\"schedulerName\":\"default-scheduler\",\"tolerations\":[{"
	"\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
	"\"tolerationSeconds\":300},{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":"
	"\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],\"priority\":0,"
	"\"enableServiceLinks\":true,\"preemptionPolicy\":\"PreemptLowerPriority\"},\"status\":{}},"
	"\"oldObject\":null,\"dryRun\":false,\"options\":{\"kind\":\"CreateOptions\",\"apiVersion\":"
	"\"meta.k8s.io/v1\",\"fieldManager\":\"kube-controller-manager\"}}}";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile size_t sink;

/* What /validate receives: the same review after the mutation was applied. */
static char *mutated;
static size_t mutated_len;

static void make_mutated(const struct kt_config *cfg)
{
	json_t *r = json_loadb(review, sizeof(review) - 1, 0, NULL);
	json_t *req = json_object_get(r, "request"),
	       *obj = json_incref(json_object_get(req, "object"));
	struct kt_decision d;
	struct kt_err err;

	if (!obj || kt_policy_review(cfg, review, sizeof(review) - 1, KT_POLICY_MUTATE, &d, &err) ||
	    kt_policy_patch_apply(&obj, d.patch.buf, d.patch.len, &err)) {
		fprintf(stderr, "bench_policy: cannot build the mutated review\n");
		exit(1);
	}
	json_object_set_new(req, "object", obj);
	mutated = json_dumps(r, JSON_COMPACT);
	mutated_len = strlen(mutated);
	json_decref(r);
	kt_decision_release(&d);
}

/* What the webhook does with a decision: check it is the expected one, answer it. */
static void respond(enum kt_rc rc, struct kt_decision *d, const struct kt_err *err)
{
	struct kt_buf out = KT_BUF_INIT;

	if (rc || !d->allowed || kt_policy_response(d, &out)) {
		fprintf(stderr, "bench_policy: decision failed or denied: %s\n", err->msg);
		exit(1);
	}
	sink += out.len + d->patch.len;
	kt_buf_release(&out);
	kt_decision_release(d);
}

static void end_to_end(const struct kt_config *cfg, enum kt_policy_mode mode)
{
	struct kt_decision d;
	struct kt_err err;
	const char *body = mode == KT_POLICY_MUTATE ? review : mutated;
	size_t len = mode == KT_POLICY_MUTATE ? sizeof(review) - 1 : mutated_len;

	respond(kt_policy_review(cfg, body, len, mode, &d, &err), &d, &err);
}

/* The decoded reviews of decide_only() (mutate: the review, validate: the mutated one). */
static json_t *decoded[2];

static void decide_only(const struct kt_config *cfg, enum kt_policy_mode mode)
{
	struct kt_decision d;
	struct kt_err err;

	respond(kt_policy_review_json(cfg, decoded[mode == KT_POLICY_VALIDATE], mode, &d, &err), &d,
		&err);
}

static void decode_only(const struct kt_config *cfg, enum kt_policy_mode mode)
{
	const char *body = mode == KT_POLICY_MUTATE ? review : mutated;
	size_t len = mode == KT_POLICY_MUTATE ? sizeof(review) - 1 : mutated_len;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);

	(void)cfg;
	if (!j)
		exit(1);
	sink += json_object_size(j);
	json_decref(j);
}

/* Calls per second of fn over one round of the given length. */
static double round_rate(void (*fn)(const struct kt_config *, enum kt_policy_mode),
			 const struct kt_config *cfg, enum kt_policy_mode mode, double seconds)
{
	double t0 = now(), t;
	long n = 0;

	do {
		for (int i = 0; i < 64; i++)
			fn(cfg, mode);
		n += 64;
		t = now() - t0;
	} while (t < seconds);
	return (double)n / t;
}

#define ROUNDS 7

static void line(const char *what, double r)
{
	printf("%-56s %10.0f /s  %7.2f us\n", what, r, 1e6 / r);
}

int main(int argc, char **argv)
{
	const struct kt_config *cfg = kt_policy_fixture();
	double secs = argc > 1 ? atof(argv[1]) : 1.0, dec[2] = { 0 }, only[2] = { 0 },
	       full[2] = { 0 };
	struct kt_decision d;
	struct kt_err err;

	if (secs <= 0)
		secs = 1.0;
	/* the review must be the realistic case: allowed, with a patch */
	if (kt_policy_review(cfg, review, sizeof(review) - 1, KT_POLICY_MUTATE, &d, &err) ||
	    !d.allowed || !d.patch.len) {
		fprintf(stderr, "bench_policy: the benchmark review is not allowed with a patch\n");
		return 1;
	}
	kt_decision_release(&d);
	make_mutated(cfg);
	decoded[0] = json_loadb(review, sizeof(review) - 1, 0, NULL);
	decoded[1] = json_loadb(mutated, mutated_len, 0, NULL);
	/*
	 * The machine is shared and noise only ever slows a round down: the
	 * figures are measured in turn, round after round, and each keeps its
	 * best round, so all of them had the same chances.
	 */
	for (int r = 0; r < ROUNDS; r++) {
		for (int m = 0; m < 2; m++) {
			enum kt_policy_mode mode = m ? KT_POLICY_VALIDATE : KT_POLICY_MUTATE;
			double x;

			if ((x = round_rate(decode_only, cfg, mode, secs / ROUNDS)) > dec[m])
				dec[m] = x;
			if ((x = round_rate(decide_only, cfg, mode, secs / ROUNDS)) > only[m])
				only[m] = x;
			if ((x = round_rate(end_to_end, cfg, mode, secs / ROUNDS)) > full[m])
				full[m] = x;
		}
	}
	printf("review: %zu-byte Pod CREATE in tenant 'team-a' (podSecurity %s); /validate gets "
	       "the mutated pod (%zu bytes)\n",
	       sizeof(review) - 1,
	       kt_config_tenant_by_ns(cfg, "team-a")->pod_security.level == KT_PSS_RESTRICTED
		       ? "restricted"
		       : "baseline",
	       mutated_len);
	for (int m = 0; m < 2; m++) {
		const char *name = m ? "/validate" : "/mutate";
		char what[96];

		snprintf(what, sizeof(what), "%s: decode only (jansson json_loadb)%s", name,
			 m ? "" : ", baseline");
		line(what, dec[m]);
		snprintf(what, sizeof(what), "%s: decide only (on the decoded review)", name);
		line(what, only[m]);
		snprintf(what, sizeof(what), "%s: end to end (bytes in, response out)", name);
		line(what, full[m]);
		printf("%-56s %9.1f%%\n", "  decoding share of decode + decide",
		       100.0 * only[m] / (only[m] + dec[m]));
	}
	printf("target: >= 200000 decisions/s end to end on one core: %s\n",
	       full[0] >= 200000 ? "met" : "NOT met");
	json_decref(decoded[0]);
	json_decref(decoded[1]);
	free(mutated);
	kt_config_free((struct kt_config *)cfg);
	return 0;
}
