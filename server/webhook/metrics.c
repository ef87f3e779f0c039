/*
 * metrics.c: Prometheus text exposition from atomic counters.
 *
 * Recording a request is three relaxed atomic increments into fixed arrays:
 * no lock, no allocation, no label string built.  Label values come from
 * fixed lists (kinds the webhook judges, then "other"), because the kind
 * and operation of a review are attacker-chosen strings and a label per
 * distinct value would let anyone grow the process without bound.
 */
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

void kt_metrics_init(struct kt_metrics *m)
{
	struct timespec ts;

	size_t e;

	memset(m, 0, sizeof(*m));
	for (e = 0; e < KT_EP_N; e++)
		kt_histogram_init(&m->latency[e], bucket_us, KT_METRICS_BUCKETS);
	clock_gettime(CLOCK_REALTIME, &ts);
	m->start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

static unsigned long get(atomic_ulong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void format_requests(struct kt_metrics *m, struct kt_buf *o)
{
	size_t e, k, op, v;
	unsigned long n;

	kt_prom_help(o, "kubetenant_webhook_requests_total", "counter",
		     "Admission reviews answered, by endpoint, kind, operation and verdict.");
	for (e = 0; e < KT_EP_N; e++)
		for (k = 0; k < N_KINDS + 2; k++)
			for (op = 0; op < KT_METRICS_OPS; op++)
				for (v = 0; v < KT_V_N; v++) {
					n = get(&m->requests[e][k][op][v]);
					if (!n)
						continue;
					kt_buf_addf(
						o,
						"kubetenant_webhook_requests_total{endpoint=\"%s\","
						"kind=\"%s\",operation=\"%s\",verdict=\"%s\"} %lu\n",
						endpoints[e], kt_metrics_kind_name(k), ops[op],
						verdicts[v], n);
				}
}

static void format_latency(struct kt_metrics *m, struct kt_buf *o)
{
	const char *name = "kubetenant_webhook_request_duration_seconds";
	char label[32];
	size_t e;

	kt_prom_help(o, name, "histogram",
		     "Time from complete request headers to a ready response.");
	for (e = 0; e < KT_EP_N; e++) {
		snprintf(label, sizeof(label), "endpoint=\"%s\"", endpoints[e]);
		kt_prom_histogram(o, name, label, &m->latency[e]);
	}
}

enum kt_rc kt_metrics_format(struct kt_metrics *m, const struct kt_metrics_gauges *g,
			     struct kt_buf *o)
{
	size_t i;

	format_requests(m, o);
	format_latency(m, o);
	kt_prom_help(o, "kubetenant_http_responses_total", "counter",
		     "HTTP responses of the webhook listener, by status code.");
	for (i = 0; i <= KT_METRICS_CODES; i++) {
		unsigned long n = get(&m->http[i]);

		if (!n)
			continue;
		if (i < KT_METRICS_CODES)
			kt_buf_addf(o, "kubetenant_http_responses_total{code=\"%d\"} %lu\n",
				    codes[i], n);
		else
			kt_buf_addf(o, "kubetenant_http_responses_total{code=\"other\"} %lu\n", n);
	}
	kt_prom_help(o, "kubetenant_webhook_in_flight_requests", "gauge",
		     "Requests being received or answered now.");
	kt_buf_addf(o, "kubetenant_webhook_in_flight_requests %ld\n", g->in_flight);
	if (g->budget && g->budget->max) {
		const char *name = "kubetenant_memory_budget_exceeded_total";

		kt_prom_scalar(o, "kubetenant_memory_budget_bytes", "gauge",
			       "Memory the webhook's requests may hold together (--memory-budget).",
			       (unsigned long)g->budget->max);
		kt_prom_scalar(o, "kubetenant_memory_budget_used_bytes", "gauge",
			       "Memory charged now: bodies in flight and reviews being decoded.",
			       (unsigned long)
				       atomic_load_explicit(&((struct kt_http_budget *)g->budget)
								     ->used,
							    memory_order_relaxed));
		kt_prom_help(o, name, "counter",
			     "Requests answered 503 because the memory budget had no room, by what "
			     "did not fit.");
		kt_buf_addf(o, "%s{stage=\"body\"} %lu\n%s{stage=\"decode\"} %lu\n", name,
			    get((atomic_ulong *)&g->budget->refused_body), name,
			    get((atomic_ulong *)&g->budget->refused_work));
	}
	kt_prom_scalar(
		o, "kubetenant_http_body_timeouts_total", "counter",
		"Connections closed because their request body was still arriving at the deadline.",
		g->body_timeouts);
	kt_prom_scalar(o, "kubetenant_config_generation", "gauge",
		       "Generation of the tenants file in use (1 at start, +1 per reload).",
		       get(&m->config_generation));
	kt_prom_scalar(o, "kubetenant_config_tenants", "gauge",
		       "Tenants in the tenants file in use.", get(&m->config_tenants));
	kt_prom_scalar(o, "kubetenant_config_reloads_total", "counter",
		       "Tenants files loaded after start.", get(&m->config_reloads));
	kt_prom_scalar(o, "kubetenant_config_reload_failures_total", "counter",
		       "Tenants files rejected (the previous one kept serving).",
		       get(&m->config_reload_failures));
	kt_prom_scalar(o, "kubetenant_tls_reloads_total", "counter",
		       "Certificate/key pairs loaded after start.", get(&m->tls_reloads));
	kt_prom_scalar(o, "kubetenant_tls_reload_failures_total", "counter",
		       "Certificate/key pairs rejected (the previous one kept serving).",
		       get(&m->tls_reload_failures));
	if (g->rss_bytes >= 0) {
		kt_prom_help(o, "process_resident_memory_bytes", "gauge",
			     "Resident memory size in bytes.");
		kt_buf_addf(o, "process_resident_memory_bytes %lld\n", g->rss_bytes);
	}
	kt_prom_help(o, "process_start_time_seconds", "gauge",
		     "Start time of the process since the Unix epoch in seconds.");
	kt_buf_addf(o, "process_start_time_seconds %.3f\n", m->start_time);
	if (g->version) {
		kt_prom_help(o, "kubetenant_build_info", "gauge",
			     "Version of kubetenant, always 1.");
		kt_buf_addf(o, "kubetenant_build_info{version=\"%s\"} 1\n", g->version);
	}
	return o->len && o->buf[o->len - 1] == '\n' ? KT_OK : KT_E_NOMEM;
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
