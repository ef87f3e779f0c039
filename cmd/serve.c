/*
 * serve.c: `kubetenant serve`, the HTTPS admission webhook.
 *
 * The process: load and validate the tenants file and the certificate
 * (refuse to start on either), start the HTTPS listener and the plain
 * metrics listener, then sit in a signal loop that polls the files every
 * few seconds and on SIGHUP, and drains on SIGTERM/SIGINT.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "kt.h"
#include "http.h"
#include "webhook/webhook.h"
#include "kt/version.h"

static const char usage[] =
	"usage: kubetenant serve -f TENANTS --tls-cert FILE --tls-key FILE [options]\n"
	"\n"
	"Run the HTTPS admission webhook: POST /mutate and /validate take an\n"
	"admission.k8s.io/v1 AdmissionReview; GET /healthz and /readyz; GET /metrics\n"
	"on the metrics listener.  The tenants file, certificate and key are re-read\n"
	"when they change and on SIGHUP; SIGTERM drains and exits 0.\n"
	"\n"
	"options:\n"
	"  -f, --tenants FILE          tenants file (reloaded on change; --file is an alias)\n"
	"      --tls-cert FILE         PEM certificate chain (reloaded on change)\n"
	"      --tls-key FILE          PEM private key (reloaded on change)\n"
	"      --listen ADDR:PORT      HTTPS address (default :8443, every address)\n"
	"      --metrics-listen ADDR:PORT\n"
	"                              plain-HTTP /metrics, /healthz, /readyz\n"
	"                              (default 127.0.0.1:9090; \"off\" disables it)\n"
	"      --threads N             worker threads (default: one per CPU)\n"
	"      --max-connections N     concurrent connections; more wait (default 1024)\n"
	"      --timeout SECONDS       close idle or stalled connections, and bodies still\n"
	"                              arriving this long after their headers (default 10)\n"
	"      --memory-budget MIB     memory all requests may hold together: bodies in\n"
	"                              flight and reviews being decoded; past it, 503 with\n"
	"                              Retry-After (default 48, for a 128Mi limit)\n"
	"      --drain-timeout SECONDS longest wait for in-flight requests at shutdown\n"
	"                              (default 20)\n"
	"      --reload-interval SECONDS\n"
	"                              how often files are checked (default 2)\n"
	"      --log-level LEVEL       debug, info, warn or error (default info)\n"
	"      --check-config          load the tenants file, certificate and key,\n"
	"                              then exit 0 without listening\n"
	"  -h, --help                  show this help\n"
	"\n"
	"exit status: 0 after a clean shutdown, 2 usage or invalid tenants file,\n"
	"3 unreadable tenants file, certificate or key, or an address in use.\n";

struct opts {
	const char *tenants, *cert, *key, *listen, *metrics_listen;
	unsigned threads, max_conn, timeout, drain, interval, budget_mib;
	bool check_only;
};

static bool parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || v < min || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

/*
 * Each connection costs about 28 KiB (a 16 KiB buffer and the TLS session),
 * so 1024 bound the worst case near 30 MB; the API server keeps a few dozen.
 */
static unsigned default_conn_limit(void)
{
	struct rlimit rl;

	/* leave room for the files we read and the metrics listener */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < 1024 + 128)
		return rl.rlim_cur > 256 ? (unsigned)rl.rlim_cur - 128 : 64;
	return 1024;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_CERT = 256, O_KEY, O_LISTEN, O_METRICS, O_THREADS, O_MAXCONN, O_TIMEOUT,
	       O_DRAIN, O_INTERVAL, O_LOG, O_BUDGET, O_CHECK };
	static const struct option longopts[] = {
		{ "tenants", required_argument, NULL, 'f' },
		{ "tls-cert", required_argument, NULL, O_CERT },
		{ "tls-key", required_argument, NULL, O_KEY },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "metrics-listen", required_argument, NULL, O_METRICS },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "max-connections", required_argument, NULL, O_MAXCONN },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "drain-timeout", required_argument, NULL, O_DRAIN },
		{ "reload-interval", required_argument, NULL, O_INTERVAL },
		{ "log-level", required_argument, NULL, O_LOG },
		{ "memory-budget", required_argument, NULL, O_BUDGET },
		{ "check-config", no_argument, NULL, O_CHECK },
		{ "file", required_argument, NULL, 'f' }, /* alias of --tenants */
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .listen = ":8443", .metrics_listen = "127.0.0.1:9090",
			    .threads = kt_http_cpus(64), .max_conn = default_conn_limit(), .timeout = 10,
			    .drain = 20, .interval = 2, .budget_mib = 48 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		bool ok = true;

		switch (c) {
		case 'f': o->tenants = optarg; break;
		case O_CERT: o->cert = optarg; break;
		case O_KEY: o->key = optarg; break;
		case O_LISTEN: o->listen = optarg; break;
		case O_METRICS: o->metrics_listen = optarg; break;
		case O_THREADS: ok = parse_uint(optarg, 1, 256, &o->threads); break;
		case O_MAXCONN: ok = parse_uint(optarg, 1, 1000000, &o->max_conn); break;
		case O_TIMEOUT: ok = parse_uint(optarg, 1, 3600, &o->timeout); break;
		case O_DRAIN: ok = parse_uint(optarg, 0, 3600, &o->drain); break;
		case O_INTERVAL: ok = parse_uint(optarg, 1, 3600, &o->interval); break;
		case O_LOG: ok = !kt_log_parse_level(optarg, &kt_log_min); break;
		/* at least two largest bodies, so that one always fits */
		case O_BUDGET: ok = parse_uint(optarg, 8, 1u << 20, &o->budget_mib); break;
		case O_CHECK: o->check_only = true; break;
		case 'h': kt_usage(usage, 1); return -1; /* help shown: exit 0 */
		default: return kt_usage(usage, 0);
		}
		if (!ok) {
			kt_error("invalid value '%s' for '--%s'%s", optarg,
				 longopts[c == 'f' ? 0 : c - O_CERT + 1].name,
				 c == O_BUDGET ? " (MiB, at least 8)" : "");
			return KT_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		kt_error("unexpected argument '%s'", argv[optind]);
		return kt_usage(usage, 0);
	}
	if (!o->tenants || !o->cert || !o->key) {
		kt_error("'-f', '--tls-cert' and '--tls-key' are required");
		return kt_usage(usage, 0);
	}
	if (!strcmp(o->tenants, "-")) {
		/* the file is re-read on change: standard input cannot be */
		kt_error("'-f -' is not supported by serve: give a file it can re-read");
		return KT_EXIT_USAGE;
	}
	return KT_EXIT_OK;
}

struct server {
	struct kt_serve state;
	struct kt_tls *tls;
	struct kt_handler *handlers[6]; /* mutate, validate, healthz, readyz, metrics */
	struct kt_http_server *https, *metrics;
};

static void reload_tls(struct server *sv, bool force)
{
	struct kt_err err = { 0 };
	bool changed;
	char serial[64];

	if (kt_tls_reload(sv->tls, force, &changed, &err)) {
		atomic_fetch_add(&sv->state.metrics.tls_reload_failures, 1);
		kt_log(KT_LOG_ERROR, "certificate rejected; the previous one keeps serving",
		       "error", err.msg, NULL);
	} else if (changed) {
		atomic_fetch_add(&sv->state.metrics.tls_reloads, 1);
		kt_tls_serial(sv->tls, serial, sizeof(serial));
		kt_log(KT_LOG_INFO, "certificate reloaded", "serial", serial, NULL);
	}
}

static int start(struct server *sv, const struct opts *o)
{
	struct kt_http_opts ho = { 0 };
	struct kt_err err = { 0 };
	json_t *line;
	enum kt_rc rc;

	sv->handlers[0] = kt_webhook_handler_new(&sv->state, "/mutate", KT_POLICY_MUTATE);
	sv->handlers[1] = kt_webhook_handler_new(&sv->state, "/validate", KT_POLICY_VALIDATE);
	sv->handlers[2] = kt_health_handler_new(&sv->state, "/healthz", false);
	sv->handlers[3] = kt_health_handler_new(&sv->state, "/readyz", true);
	sv->handlers[4] = kt_metrics_handler_new(&sv->state);
	if (!sv->handlers[0] || !sv->handlers[1] || !sv->handlers[2] || !sv->handlers[3] ||
	    !sv->handlers[4]) {
		kt_error("out of memory");
		return KT_EXIT_INTERNAL;
	}
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
	rc = kt_http_start(&ho, &sv->https, &err);
	if (rc) {
		kt_error("%s", err.msg);
		return rc == KT_E_INVALID ? KT_EXIT_USAGE : kt_exit_for(rc);
	}
	sv->state.https = sv->https;
	if (strcmp(o->metrics_listen, "off") && strcmp(o->metrics_listen, "none")) {
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
		rc = kt_http_start(&ho, &sv->metrics, &err);
		if (rc) {
			kt_error("%s", err.msg);
			return rc == KT_E_INVALID ? KT_EXIT_USAGE : kt_exit_for(rc);
		}
	}
	line = kt_log_begin(KT_LOG_INFO, "listening");
	kt_log_str(line, "version", KT_VERSION);
	kt_log_str(line, "listen", o->listen);
	kt_log_num(line, "port", kt_http_port(sv->https));
	if (sv->metrics)
		kt_log_num(line, "metrics_port", kt_http_port(sv->metrics));
	kt_log_num(line, "threads", o->threads);
	kt_log_num(line, "memory_budget", (long long)sv->state.budget.max);
	kt_log_end(line);
	return KT_EXIT_OK;
}

/*
 * Stop accepting, let in-flight requests finish (up to the drain timeout,
 * or until a second signal), then close everything, idle keep-alive
 * connections included, so clients move to another replica at once.
 */
static void drain(struct server *sv, const struct opts *o, const sigset_t *sigs)
{
	uint64_t deadline = kt_http_now_us() + (uint64_t)o->drain * 1000000u;
	struct timespec tick = { 0, 5 * 1000 * 1000 };
	json_t *line;
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

int cmd_serve(int argc, char **argv)
{
	struct opts o;
	struct server sv;
	struct kt_config *cfg = NULL;
	struct kt_err err = { 0 };
	sigset_t sigs;
	uint64_t next_poll;
	size_t i;
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? KT_EXIT_OK : rc;
	memset(&sv, 0, sizeof(sv));
	rc = kt_cmd_load_config(o.tenants, &cfg);
	if (rc)
		return rc;
	if (kt_tls_new(o.cert, o.key, &sv.tls, &err)) {
		kt_error("%s", err.msg);
		kt_config_free(cfg);
		return KT_EXIT_INPUT;
	}
	if (o.check_only) {
		/* the Deployment's argv can be tried without the cluster (t1100, make image) */
		struct sockaddr_storage ss;
		unsigned len;

		rc = KT_EXIT_OK;
		if (kt_http_parse_listen(o.listen, &ss, &len, &err) ||
		    (strcmp(o.metrics_listen, "off") && strcmp(o.metrics_listen, "none") &&
		     kt_http_parse_listen(o.metrics_listen, &ss, &len, &err))) {
			kt_error("%s", err.msg);
			rc = KT_EXIT_USAGE;
		}
		kt_tls_free(sv.tls);
		kt_config_free(cfg);
		return rc;
	}
	/* signals go to the loop below, never to a worker thread: block them first */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
#ifdef __GLIBC__
	/*
	 * Request bodies of 128 KiB and more get their own mapping, given back
	 * whole when freed.  glibc would otherwise raise this threshold to the
	 * largest block freed so far, and keep every later body in the heap.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	kt_serve_init(&sv.state, o.tenants, KT_VERSION);
	kt_serve_set_config(&sv.state, cfg);
	rc = start(&sv, &o);
	next_poll = kt_http_now_us() + (uint64_t)o.interval * 1000000u;
	while (!rc) {
		struct timespec tick = { 0, 250 * 1000 * 1000 };
		int sig = sigtimedwait(&sigs, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT) {
			kt_log(KT_LOG_INFO, "shutting down", "signal",
			       sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
			drain(&sv, &o, &sigs);
			break;
		}
		if (sig == SIGHUP || kt_http_now_us() >= next_poll) {
			kt_serve_reload(&sv.state, sig == SIGHUP);
			reload_tls(&sv, sig == SIGHUP);
			next_poll = kt_http_now_us() + (uint64_t)o.interval * 1000000u;
		}
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
