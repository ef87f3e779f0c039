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

/* ---- the Prometheus text format, 0.0.4 (prom.c) ---- */

#define KT_HISTOGRAM_MAX 16

/* A latency histogram: fixed upper bounds, relaxed atomic counts. */
struct kt_histogram {
	const unsigned long *bounds_us; /* ascending; n of them, then +Inf */
	size_t n;
	atomic_ulong bucket[KT_HISTOGRAM_MAX + 1];
	atomic_ulong sum_us;
};

void kt_histogram_init(struct kt_histogram *h, const unsigned long *bounds_us, size_t n);
void kt_histogram_observe(struct kt_histogram *h, uint64_t micros);

/* "# HELP name text" and "# TYPE name type". */
void kt_prom_help(struct kt_buf *o, const char *name, const char *type, const char *text);
/* A metric without labels: its HELP, TYPE and value. */
void kt_prom_scalar(struct kt_buf *o, const char *name, const char *type, const char *text,
		    unsigned long v);
/*
 * The series of a histogram: _bucket (cumulative, le in seconds), _sum and
 * _count; label ("endpoint=\"mutate\"", or NULL) goes in front of le.
 * HELP and TYPE are the caller's, once for all the labels.
 */
void kt_prom_histogram(struct kt_buf *o, const char *name, const char *label,
		       const struct kt_histogram *h);

#endif
