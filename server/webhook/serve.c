/*
 * serve.c: the admission webhook's process, the entry point cmd/serve.c
 * calls once its flags are parsed.
 *
 * The tenants file was loaded and validated by the caller; here the
 * certificate is (refuse to start on either), then the HTTPS listener and
 * the plain metrics listener start, and the process loop (server/process.c)
 * polls the files every few seconds and on SIGHUP, and drains on SIGTERM.
 */
#include <malloc.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "webhook.h"

struct server {
	struct kt_serve state;
	const struct kt_webhook_opts *o;
	struct kt_tls *tls;
	struct kt_handler *handlers[6]; /* mutate, validate, healthz, readyz, metrics */
	struct kt_http_server *https, *metrics;
};

static bool metrics_on(const struct kt_webhook_opts *o)
{
	return strcmp(o->metrics_listen, "off") && strcmp(o->metrics_listen, "none");
}

static enum kt_rc start(struct server *sv, const struct kt_webhook_opts *o, struct kt_err *err)
{
	struct kt_http_opts ho = { 0 };
	struct kt_log_line *line;
	enum kt_rc rc;

	sv->handlers[0] = kt_webhook_handler_new(&sv->state, "/mutate", KT_POLICY_MUTATE);
	sv->handlers[1] = kt_webhook_handler_new(&sv->state, "/validate", KT_POLICY_VALIDATE);
	sv->handlers[2] = kt_health_handler_new(&sv->state, "/healthz", false);
	sv->handlers[3] = kt_health_handler_new(&sv->state, "/readyz", true);
	sv->handlers[4] = kt_metrics_handler_new(&sv->state);
	if (!sv->handlers[0] || !sv->handlers[1] || !sv->handlers[2] || !sv->handlers[3] ||
	    !sv->handlers[4])
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	ho.listen = o->listen;
	ho.tls = sv->tls;
	ho.threads = o->threads;
	ho.conn_limit = o->max_conn;
	ho.timeout_s = o->timeout;
	ho.conn_memory = 16 * 1024; /* headers and I/O buffers; the body is ours */
	ho.max_body = KT_HTTP_MAX_BODY;
	sv->state.budget.max = (size_t)o->budget_mib << 20;
	ho.budget = &sv->state.budget;
	ho.handlers = sv->handlers;
	ho.n_handlers = 4;
	ho.on_response = kt_serve_on_response;
	ho.on_log = kt_serve_on_log;
	ho.ctx = &sv->state;
	rc = kt_http_start(&ho, &sv->https, err);
	if (rc)
		return rc;
	sv->state.https = sv->https;
	if (metrics_on(o)) {
		/* /metrics, /healthz, /readyz over plain HTTP: one thread is plenty */
		ho.listen = o->metrics_listen;
		ho.tls = NULL;
		ho.threads = 1;
		ho.conn_limit = 64;
		ho.max_body = 4096;
		ho.budget = NULL; /* 64 connections of 4 KiB at most */
		ho.handlers = sv->handlers + 2;
		ho.n_handlers = 3;
		ho.on_response = NULL;
		rc = kt_http_start(&ho, &sv->metrics, err);
		if (rc)
			return rc;
	}
	line = kt_log_begin(KT_LOG_INFO, "listening");
	kt_log_str(line, "version", sv->state.version);
	kt_log_str(line, "listen", o->listen);
	kt_log_num(line, "port", kt_http_port(sv->https));
	if (sv->metrics)
		kt_log_num(line, "metrics_port", kt_http_port(sv->metrics));
	kt_log_num(line, "threads", o->threads);
	kt_log_num(line, "memory_budget", (long long)sv->state.budget.max);
	kt_log_end(line);
	return KT_OK;
}

static void reload(void *ctx, bool force)
{
	struct server *sv = ctx;

	kt_serve_reload(&sv->state, force);
}

/*
 * Stop accepting, let in-flight requests finish (up to the drain timeout,
 * or until a second signal), then close everything, idle keep-alive
 * connections included, so clients move to another replica at once.
 */
static void drain(void *ctx, const sigset_t *sigs)
{
	struct server *sv = ctx;
	uint64_t deadline = kt_http_now_us() + (uint64_t)sv->o->drain * 1000000u;
	struct timespec tick = { 0, 5 * 1000 * 1000 };
	struct kt_log_line *line;
	long left;

	atomic_store(&sv->state.draining, true);
	kt_http_quiesce(sv->https);
	while ((left = kt_http_in_flight(sv->https)) > 0 && kt_http_now_us() < deadline) {
		int sig = sigtimedwait(sigs, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	line = kt_log_begin(KT_LOG_INFO, "stopped");
	kt_log_num(line, "unfinished_requests", left);
	kt_log_end(line);
}

/* The Deployment's argv can be tried without the cluster (t1100, make image). */
static enum kt_rc check_only(const struct kt_webhook_opts *o, struct kt_err *err)
{
	struct sockaddr_storage ss;
	unsigned len;

	if (kt_http_parse_listen(o->listen, &ss, &len, err) ||
	    (metrics_on(o) && kt_http_parse_listen(o->metrics_listen, &ss, &len, err)))
		return KT_E_INVALID;
	return KT_OK;
}

enum kt_rc kt_webhook_serve(const struct kt_webhook_opts *o, struct kt_config *cfg,
			    struct kt_err *err)
{
	struct kt_process proc = { .interval_s = o->interval, .reload = reload, .drain = drain };
	struct server sv;
	sigset_t sigs;
	enum kt_rc rc;
	size_t i;

	memset(&sv, 0, sizeof(sv));
	sv.o = o;
	if (kt_tls_new(o->cert, o->key, &sv.tls, err)) {
		kt_config_free(cfg);
		return KT_E_IO; /* unusable: exit 3, whatever the reason */
	}
	if (o->check_only) {
		rc = check_only(o, err);
		kt_tls_free(sv.tls);
		kt_config_free(cfg);
		return rc;
	}
	/* signals go to the process loop, never to a worker thread: block them first */
	kt_process_signals(&sigs);
#ifdef __GLIBC__
	/*
	 * Request bodies of 128 KiB and more get their own mapping, given back
	 * whole when freed.  glibc would otherwise raise this threshold to the
	 * largest block freed so far, and keep every later body in the heap.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	kt_serve_init(&sv.state, o->tenants, o->version);
	kt_serve_set_config(&sv.state, cfg);
	rc = start(&sv, o, err);
	if (!rc) {
		proc.tls = sv.tls;
		proc.tls_reloads = &sv.state.metrics.tls_reloads;
		proc.tls_reload_failures = &sv.state.metrics.tls_reload_failures;
		proc.ctx = &sv;
		kt_process_run(&proc, &sigs);
	}
	kt_http_free(sv.https);
	kt_http_free(sv.metrics);
	for (i = 0; i < sizeof(sv.handlers) / sizeof(sv.handlers[0]); i++)
		if (sv.handlers[i])
			sv.handlers[i]->on_dispose(sv.handlers[i]);
	kt_tls_free(sv.tls);
	kt_serve_release(&sv.state);
	return rc;
}
