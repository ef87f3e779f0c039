/*
 * core.h: what the webhook (server/webhook/) and the proxy (server/proxy/)
 * share besides the HTTP adapter (http.h) and the log (log.h): the
 * process loop, the probes' answers and the Prometheus text format.
 */
#ifndef KT_SERVER_CORE_H
#define KT_SERVER_CORE_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "kt/buf.h"
#include "http.h"

/* ---- the process loop (process.c) ---- */

struct kt_process {
	unsigned interval_s; /* files are polled this often, and at once on SIGHUP */
	struct kt_tls *tls;  /* the serving certificate, polled with kt_tls_poll() */
	atomic_ulong *tls_reloads, *tls_reload_failures; /* counters; may be NULL */
	/* the server's own files (the tenants file); may be NULL */
	void (*reload)(void *ctx, bool force);
	/* SIGTERM or SIGINT: stop accepting, finish in-flight work; sigs ends it early */
	void (*drain)(void *ctx, const sigset_t *sigs);
	void *ctx;
};

/*
 * Block SIGTERM, SIGINT and SIGHUP in this thread (threads started later
 * inherit the mask, so only kt_process_run() sees them) and ignore SIGPIPE.
 * Call before the first thread starts.
 */
void kt_process_signals(sigset_t *sigs);

/* Poll and reload until SIGTERM or SIGINT, then drain and return. */
void kt_process_run(const struct kt_process *p, const sigset_t *sigs);

/* ---- /healthz, /livez, /readyz (health.c) ---- */

/*
 * The probes' status: 0 when path is no probe; 200 for /healthz and
 * /livez (the process answers: liveness never depends on a file, so a bad
 * one can never get a working server restarted); for /readyz, 503 while
 * draining (the Service stops sending new work while in-flight requests
 * finish) or while not_ready says why not, 200 otherwise.  *why is the
 * text for the body: "ok", "shutting down" or not_ready.
 */
int kt_health_probe(const char *path, bool draining, const char *not_ready, const char **why);

/*
 * The answer to a probe, the same on every listener of both servers:
 * 0 when path is no probe (resp untouched); otherwise resp is filled
 * (405 with Allow for a method other than GET or HEAD, else the status of
 * kt_health_probe() and a text/plain body) and its status returned.
 * ready (may be NULL, then "ok") is the body of a /readyz that passes.
 */
int kt_health_answer(const char *method, const char *path, bool draining, const char *not_ready,
		     const char *ready, struct kt_http_resp *resp);

/* ---- one Prometheus registry, text format 0.0.4 (prom.c) ---- */

#define KT_HISTOGRAM_MAX 16
#define KT_PROM_FAMILIES 40 /* metric families in one registry */
#define KT_PROM_LABELS 4    /* label names in one family */

/* A latency histogram: fixed upper bounds, relaxed atomic counts. */
struct kt_histogram {
	const unsigned long *bounds_us; /* ascending; n of them, then +Inf */
	size_t n;
	atomic_ulong bucket[KT_HISTOGRAM_MAX + 1];
	atomic_ulong sum_us;
};

void kt_histogram_init(struct kt_histogram *h, const unsigned long *bounds_us, size_t n);
void kt_histogram_observe(struct kt_histogram *h, uint64_t micros);

enum kt_prom_type { KT_PROM_COUNTER, KT_PROM_GAUGE, KT_PROM_HISTOGRAM };

/*
 * A family: one name, help and type, n series told apart by their labels.
 * The values are read at scrape time, lock-free, from one of: v (n relaxed
 * atomics: updating a metric is one atomic add, the registry is not on the
 * hot path), hist (n histograms) or read (computed; NAN leaves the series
 * out).  label fills the values of series i's labels (scratch is room for
 * a number) and returns false to leave it out; values are escaped here, so
 * a label may come from a hostile string.  Series whose value is 0 are
 * left out unless zeros is set (histograms are always listed).
 */
struct kt_prom_family {
	const char *name, *help;
	enum kt_prom_type type;
	const char *labels[KT_PROM_LABELS]; /* names; NULL-terminated when fewer */
	size_t n;
	atomic_ulong *v;
	struct kt_histogram *hist;
	double (*read)(void *ctx, size_t i);
	const char *const *names; /* one label, series i's value names[i]: no label function */
	bool (*label)(void *ctx, size_t i, const char **values, char *scratch, size_t len);
	void *ctx;
	bool zeros;
};

/* Families are registered before the first thread starts, then only read. */
struct kt_prom {
	struct kt_prom_family f[KT_PROM_FAMILIES];
	size_t n;
	bool full; /* a family did not fit */
};

/*
 * Register a family (its strings are borrowed: static ones) and return it
 * to be given its values: NULL (and nothing registered) when the registry
 * is full, which kt_prom_render() reports.
 */
struct kt_prom_family *kt_prom_add(struct kt_prom *r, enum kt_prom_type type, const char *name,
				   const char *help);
/* The common shapes: one series from an atomic or from a function. */
void kt_prom_value(struct kt_prom *r, enum kt_prom_type type, const char *name, const char *help,
		   atomic_ulong *v);
void kt_prom_func(struct kt_prom *r, enum kt_prom_type type, const char *name, const char *help,
		  double (*read)(void *ctx, size_t i), void *ctx);

/*
 * Every family: HELP, TYPE, then its series; histograms as _bucket
 * (cumulative, le in seconds, +Inf), _sum and _count.  KT_E_NOMEM when out
 * of memory or when a family did not fit in the registry.
 */
enum kt_rc kt_prom_render(const struct kt_prom *r, struct kt_buf *o);

/*
 * GET or HEAD /metrics on both servers: 200 with the registry's text,
 * 405 for another method.  -1 when the text could not be made.
 */
int kt_prom_answer(const struct kt_prom *r, const char *method, struct kt_http_resp *resp);

#endif
