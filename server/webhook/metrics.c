/*
 * metrics.c: the webhook's counters and the families of its /metrics,
 * registered in the one Prometheus registry (server/prom.c).
 *
 * Recording a request is three relaxed atomic increments into fixed arrays:
 * no lock, no allocation, no label string built.  Label values come from
 * fixed lists (kinds the webhook judges, then "other"), because the kind
 * and operation of a review are attacker-chosen strings and a label per
 * distinct value would let anyone grow the process without bound.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "webhook.h"

/* Sorted (strcmp), for bsearch; every kind the webhook is registered for. */
static const char *const kinds[] = {
	"Binding",
	"Certificate",
	"CertificateRequest",
	"ClusterRole",
	"ClusterRoleBinding",
	"ConfigMap",
	"CronJob",
	"DaemonSet",
	"Deployment",
	"EndpointSlice",
	"Endpoints",
	"GRPCRoute",
	"Gateway",
	"GitRepository",
	"HTTPRoute",
	"HelmRelease",
	"HorizontalPodAutoscaler",
	"Ingress",
	"Issuer",
	"Job",
	"Kustomization",
	"LimitRange",
	"ListenerSet",
	"Namespace",
	"NetworkPolicy",
	"PersistentVolume",
	"PersistentVolumeClaim",
	"Pod",
	"PodDisruptionBudget",
	"ReplicaSet",
	"ReplicationController",
	"ResourceQuota",
	"Role",
	"RoleBinding",
	"Secret",
	"Service",
	"ServiceAccount",
	"StatefulSet",
	"TCPRoute",
	"TLSRoute",
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))
#define KIND_OTHER N_KINDS      /* a kind not in the list */
#define KIND_NONE (N_KINDS + 1) /* not known: the review did not parse */
_Static_assert(KIND_NONE == KT_METRICS_KIND_NONE, "KT_METRICS_KIND_NONE out of date");

static const char *const ops[KT_METRICS_OPS] = { "CREATE", "UPDATE", "DELETE", "CONNECT", "other" };
static const char *const endpoints[KT_EP_N] = { "mutate", "validate" };
static const char *const stages[] = { "body", "decode" };
static const char *const verdicts[KT_V_N] = { "allowed", "mutated", "denied", "invalid", "error" };
static const unsigned long bucket_us[KT_METRICS_BUCKETS] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
};
static const int codes[KT_METRICS_CODES] = { 200, 400, 403, 404, 405, 413, 415, 429, 500, 503 };

_Static_assert(N_KINDS + 2 <= KT_METRICS_KINDS, "KT_METRICS_KINDS too small");

static int cmp_kind(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

size_t kt_metrics_kind(const char *kind)
{
	const char *const *k;

	if (!kind || !*kind)
		return KIND_NONE;
	k = bsearch(kind, kinds, N_KINDS, sizeof(kinds[0]), cmp_kind);
	return k ? (size_t)(k - kinds) : KIND_OTHER;
}

const char *kt_metrics_kind_name(size_t i)
{
	return i < N_KINDS ? kinds[i] : i == KIND_OTHER ? "other" : "none";
}

size_t kt_metrics_op(const char *op)
{
	size_t i;

	for (i = 0; op && i < KT_METRICS_OPS - 1; i++)
		if (!strcmp(op, ops[i]))
			return i;
	return KT_METRICS_OPS - 1;
}

const char *kt_metrics_op_name(size_t i)
{
	return ops[i < KT_METRICS_OPS ? i : KT_METRICS_OPS - 1];
}

/* ---- what the registry reads at scrape time ---- */

#define LABELS(f, ...) \
	memcpy((f)->labels, (const char *[KT_PROM_LABELS]){ __VA_ARGS__ }, sizeof((f)->labels))

/* requests[e][k][op][v], flattened: zero series are left out by the registry */
static bool request_labels(void *ctx, size_t i, const char **l, char *scratch, size_t len)
{
	size_t v = i % KT_V_N, op = i / KT_V_N % KT_METRICS_OPS,
	       k = i / KT_V_N / KT_METRICS_OPS % KT_METRICS_KINDS,
	       e = i / KT_V_N / KT_METRICS_OPS / KT_METRICS_KINDS;

	(void)ctx;
	(void)scratch;
	(void)len;
	if (k >= N_KINDS + 2)
		return false;
	l[0] = endpoints[e];
	l[1] = kt_metrics_kind_name(k);
	l[2] = ops[op];
	l[3] = verdicts[v];
	return true;
}

static bool code_label(void *ctx, size_t i, const char **l, char *scratch, size_t len)
{
	(void)ctx;
	if (i < KT_METRICS_CODES)
		snprintf(scratch, len, "%d", codes[i]);
	l[0] = i < KT_METRICS_CODES ? scratch : "other";
	return true;
}

static bool version_label(void *ctx, size_t i, const char **l, char *scratch, size_t len)
{
	const struct kt_serve *s = ctx;

	(void)i;
	(void)scratch;
	(void)len;
	l[0] = s->version;
	return s->version != NULL;
}

static double in_flight(void *ctx, size_t i)
{
	const struct kt_serve *s = ctx;

	(void)i;
	return s->https ? (double)kt_http_in_flight(s->https) : 0;
}

static double body_timeouts(void *ctx, size_t i)
{
	const struct kt_serve *s = ctx;

	(void)i;
	return s->https ? (double)kt_http_body_timeouts(s->https) : 0;
}

/* the budget's series exist only with --memory-budget */
static double budget_max(void *ctx, size_t i)
{
	const struct kt_serve *s = ctx;

	(void)i;
	return s->budget.max ? (double)s->budget.max : NAN;
}

static double budget_used(void *ctx, size_t i)
{
	struct kt_serve *s = ctx;

	(void)i;
	return s->budget.max ? (double)atomic_load_explicit(&s->budget.used, memory_order_relaxed)
			     : NAN;
}

static double budget_refused(void *ctx, size_t i)
{
	struct kt_serve *s = ctx;

	if (!s->budget.max)
		return NAN;
	return (double)atomic_load_explicit(i ? &s->budget.refused_work : &s->budget.refused_body,
					    memory_order_relaxed);
}

static double rss(void *ctx, size_t i)
{
	long long n = kt_metrics_rss();

	(void)ctx;
	(void)i;
	return n >= 0 ? (double)n : NAN;
}

static double start_time(void *ctx, size_t i)
{
	const struct kt_metrics *m = ctx;

	(void)i;
	return m->start_time;
}

void kt_metrics_init(struct kt_serve *s)
{
	struct kt_metrics *m = &s->metrics;
	struct kt_prom *r = &m->reg;
	struct kt_prom_family *f;
	struct timespec ts;
	size_t e;

	memset(m, 0, sizeof(*m));
	for (e = 0; e < KT_EP_N; e++)
		kt_histogram_init(&m->latency[e], bucket_us, KT_METRICS_BUCKETS);
	clock_gettime(CLOCK_REALTIME, &ts);
	m->start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	atomic_init(&m->one, 1);

	f = kt_prom_add(r, KT_PROM_COUNTER, "kubetenant_webhook_requests_total",
			"Admission reviews answered, by endpoint, kind, operation and verdict.");
	if (f) {
		LABELS(f, "endpoint", "kind", "operation", "verdict");
		f->n = sizeof(m->requests) / sizeof(atomic_ulong);
		f->v = &m->requests[0][0][0][0];
		f->label = request_labels;
	}
	f = kt_prom_add(r, KT_PROM_HISTOGRAM, "kubetenant_webhook_request_duration_seconds",
			"Time from complete request headers to a ready response.");
	if (f) {
		LABELS(f, "endpoint");
		f->n = KT_EP_N;
		f->hist = m->latency;
		f->names = endpoints;
	}
	f = kt_prom_add(r, KT_PROM_COUNTER, "kubetenant_http_responses_total",
			"HTTP responses of the webhook listener, by status code.");
	if (f) {
		LABELS(f, "code");
		f->n = KT_METRICS_CODES + 1;
		f->v = m->http;
		f->label = code_label;
	}
	kt_prom_func(r, KT_PROM_GAUGE, "kubetenant_webhook_in_flight_requests",
		     "Requests being received or answered now.", in_flight, s);
	kt_prom_func(r, KT_PROM_GAUGE, "kubetenant_memory_budget_bytes",
		     "Memory the webhook's requests may hold together (--memory-budget).",
		     budget_max, s);
	kt_prom_func(r, KT_PROM_GAUGE, "kubetenant_memory_budget_used_bytes",
		     "Memory charged now: bodies in flight and reviews being decoded.", budget_used,
		     s);
	f = kt_prom_add(r, KT_PROM_COUNTER, "kubetenant_memory_budget_exceeded_total",
			"Requests answered 503 because the memory budget had no room, by what did "
			"not fit.");
	if (f) {
		LABELS(f, "stage");
		f->n = 2;
		f->read = budget_refused;
		f->names = stages;
		f->ctx = s;
		f->zeros = true;
	}
	kt_prom_func(r, KT_PROM_COUNTER, "kubetenant_http_body_timeouts_total",
		     "Connections closed because their request body was still arriving at the "
		     "deadline.",
		     body_timeouts, s);
	kt_prom_value(r, KT_PROM_GAUGE, "kubetenant_config_generation",
		      "Generation of the tenants file in use (1 at start, +1 per reload).",
		      &m->config_generation);
	kt_prom_value(r, KT_PROM_GAUGE, "kubetenant_config_tenants",
		      "Tenants in the tenants file in use.", &m->config_tenants);
	kt_prom_value(r, KT_PROM_COUNTER, "kubetenant_config_reloads_total",
		      "Tenants files loaded after start.", &m->config_reloads);
	kt_prom_value(r, KT_PROM_COUNTER, "kubetenant_config_reload_failures_total",
		      "Tenants files rejected (the previous one kept serving).",
		      &m->config_reload_failures);
	kt_prom_value(r, KT_PROM_COUNTER, "kubetenant_tls_reloads_total",
		      "Certificate/key pairs loaded after start.", &m->tls_reloads);
	kt_prom_value(r, KT_PROM_COUNTER, "kubetenant_tls_reload_failures_total",
		      "Certificate/key pairs rejected (the previous one kept serving).",
		      &m->tls_reload_failures);
	kt_prom_func(r, KT_PROM_GAUGE, "process_resident_memory_bytes",
		     "Resident memory size in bytes.", rss, NULL);
	kt_prom_func(r, KT_PROM_GAUGE, "process_start_time_seconds",
		     "Start time of the process since the Unix epoch in seconds.", start_time, m);
	f = kt_prom_add(r, KT_PROM_GAUGE, "kubetenant_build_info",
			"Version of kubetenant, always 1.");
	if (f) {
		LABELS(f, "version");
		f->v = &m->one;
		f->label = version_label;
		f->ctx = s;
	}
}

void kt_metrics_request(struct kt_metrics *m, enum kt_endpoint ep, const char *kind,
			const char *operation, enum kt_verdict v, uint64_t micros)
{
	atomic_fetch_add_explicit(&m->requests[ep][kt_metrics_kind(kind)][kt_metrics_op(operation)]
					      [v],
				  1, memory_order_relaxed);
	kt_histogram_observe(&m->latency[ep], micros);
}

void kt_metrics_http(struct kt_metrics *m, int status)
{
	size_t i;

	for (i = 0; i < KT_METRICS_CODES && codes[i] != status; i++)
		;
	atomic_fetch_add_explicit(&m->http[i], 1, memory_order_relaxed);
}

long long kt_metrics_rss(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long long size, rss;
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%lld %lld", &size, &rss);
	fclose(f);
	return n == 2 ? rss * sysconf(_SC_PAGESIZE) : -1;
}
