/*
 * webhook.h: the admission webhook around the policy engine (server/webhook/).
 *
 * The webhook adds transport only: every decision is kt_policy_review()'s
 * and every response body kt_policy_response()'s.  This header holds what
 * the handlers share: the live tenants file (swapped atomically on reload),
 * and the metrics (atomic counters); the log is server/log.h.
 */
#ifndef KT_SERVE_H
#define KT_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "kt/buf.h"
#include "kt/config.h"
#include "core.h"
#include "http.h"
#include "log.h"
#include "kt/policy.h"

/* ---- the entry point (serve.c) ---- */

struct kt_webhook_opts {
	const char *tenants, *cert, *key;    /* files, re-read when they change */
	const char *listen, *metrics_listen; /* metrics_listen "off" or "none": no listener */
	unsigned threads, max_conn, timeout, drain, interval, budget_mib;
	bool check_only; /* load the certificate, check the addresses, return */
	const char *version;
};

/*
 * Serve cfg (taken, loaded from o->tenants by the caller) until SIGTERM or
 * SIGINT; KT_OK after a clean shutdown.  Otherwise err says why: KT_E_IO
 * for a certificate or key that cannot be used, KT_E_INVALID for a bad
 * address, another code when a listener cannot start.
 */
enum kt_rc kt_webhook_serve(const struct kt_webhook_opts *o, struct kt_config *cfg,
			    struct kt_err *err);

/* ---- the live tenants file ---- */

/* One loaded tenants file; requests hold a reference while they use it. */
struct kt_conf_ref {
	struct kt_config *cfg;    /* owned */
	unsigned long generation; /* 1 for the first file, +1 per reload */
	atomic_long refs;
};

struct kt_conf_slot {
	pthread_mutex_t lock;
	struct kt_conf_ref *cur; /* NULL until the first file loads */
	unsigned long generation;
};

void kt_conf_slot_init(struct kt_conf_slot *slot);
void kt_conf_slot_release(struct kt_conf_slot *slot);

/*
 * Make cfg (takes ownership) the one new requests get.  Requests running
 * on the previous one finish with it; it is freed by whoever lets go of it
 * last.  Returns the new generation, or 0 when out of memory (cfg freed).
 */
unsigned long kt_conf_slot_set(struct kt_conf_slot *slot, struct kt_config *cfg);

/* The current file, referenced (NULL when none): give back with kt_conf_release(). */
struct kt_conf_ref *kt_conf_acquire(struct kt_conf_slot *slot);
void kt_conf_release(struct kt_conf_ref *ref);

/* ---- metrics ---- */

enum kt_endpoint { KT_EP_MUTATE, KT_EP_VALIDATE, KT_EP_N };
enum kt_verdict { KT_V_ALLOWED, KT_V_MUTATED, KT_V_DENIED, KT_V_INVALID, KT_V_ERROR, KT_V_N };
#define KT_METRICS_KINDS 48   /* room for the known kinds plus "other" and "none" */
#define KT_METRICS_OPS 5      /* CREATE UPDATE DELETE CONNECT other */
#define KT_METRICS_BUCKETS 14 /* latency buckets, plus +Inf */
#define KT_METRICS_CODES 10   /* HTTP statuses counted, plus "other" */

/*
 * Counters only (relaxed atomics: a scrape may see one request counted in
 * one series and not yet in another, never a torn value).  Label values
 * come from fixed lists, so a hostile request cannot grow the series.
 */
struct kt_metrics {
	atomic_ulong requests[KT_EP_N][KT_METRICS_KINDS][KT_METRICS_OPS][KT_V_N];
	struct kt_histogram latency[KT_EP_N];
	atomic_ulong http[KT_METRICS_CODES + 1];
	atomic_ulong config_reloads, config_reload_failures;
	atomic_ulong tls_reloads, tls_reload_failures;
	atomic_ulong config_generation, config_tenants;
	double start_time; /* seconds since the epoch */
	atomic_ulong one;  /* kubetenant_build_info's value */
	struct kt_prom reg;
};

struct kt_serve;
/* The counters at 0, every family of /metrics registered (gauges read s). */
void kt_metrics_init(struct kt_serve *s);
void kt_metrics_request(struct kt_metrics *m, enum kt_endpoint ep, const char *kind,
			const char *operation, enum kt_verdict v, uint64_t micros);
void kt_metrics_http(struct kt_metrics *m, int status);
long long kt_metrics_rss(void);
/*
 * The fixed label values: a kind's index (the kinds sorted, then "other"
 * for one not listed, then KT_METRICS_KIND_NONE when the review did not
 * parse) and an operation's (CREATE UPDATE DELETE CONNECT, then "other").
 */
#define KT_METRICS_KIND_NONE 41
size_t kt_metrics_kind(const char *kind);
const char *kt_metrics_kind_name(size_t i);
size_t kt_metrics_op(const char *op);
const char *kt_metrics_op_name(size_t i);

/* ---- the webhook ---- */

struct kt_serve {
	struct kt_conf_slot conf;
	struct kt_metrics metrics;
	atomic_bool draining;         /* SIGTERM: /readyz answers 503 */
	struct kt_http_server *https; /* for the in-flight gauge; may be NULL */
	struct kt_http_budget budget; /* memory of the webhook's requests (max 0: none) */
	const char *version;
	/* tenants file watch */
	const char *tenants_path;
	struct kt_file_sig tenants_sig;
	uint64_t tenants_hash;
};

void kt_serve_init(struct kt_serve *s, const char *tenants_path, const char *version);
void kt_serve_release(struct kt_serve *s);

/*
 * Load the tenants file when it changed (or always, with force): a valid
 * file becomes current (logged, counted); an invalid one is logged with
 * every diagnostic and counted, and the previous file keeps serving.
 * Returns KT_OK when the file in use is valid and current.
 */
enum kt_rc kt_serve_reload(struct kt_serve *s, bool force);

/* Install a config already loaded (takes ownership): the first one at startup. */
void kt_serve_set_config(struct kt_serve *s, struct kt_config *cfg);

/* Handlers (free with on_dispose): POST /mutate or /validate; GET /healthz, /readyz, /metrics. */
struct kt_handler *kt_webhook_handler_new(struct kt_serve *s, const char *path,
					  enum kt_policy_mode mode);
struct kt_handler *kt_health_handler_new(struct kt_serve *s, const char *path, bool ready);
struct kt_handler *kt_metrics_handler_new(struct kt_serve *s);

/* Adapter hooks: count every answered request; route the adapter's own errors to the log. */
void kt_serve_on_response(void *ctx, const struct kt_http_req *req, int status);
void kt_serve_on_log(void *ctx, const char *msg);

#endif
