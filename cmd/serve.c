/*
 * serve.c: `kubetenant serve`, the HTTPS admission webhook: the flags and
 * the tenants file; the server is server/webhook/ (kt_webhook_serve()).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
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

static int parse_opts(int argc, char **argv, struct kt_webhook_opts *o)
{
	enum {
		O_CERT = 256,
		O_KEY,
		O_LISTEN,
		O_METRICS,
		O_THREADS,
		O_MAXCONN,
		O_TIMEOUT,
		O_DRAIN,
		O_INTERVAL,
		O_LOG,
		O_BUDGET,
		O_CHECK
	};
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

	*o = (struct kt_webhook_opts){ .listen = ":8443",
				       .metrics_listen = "127.0.0.1:9090",
				       .threads = kt_http_cpus(64),
				       .max_conn = default_conn_limit(),
				       .timeout = 10,
				       .drain = 20,
				       .interval = 2,
				       .budget_mib = 48,
				       .version = KT_VERSION };
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		bool ok = true;

		switch (c) {
		case 'f':
			o->tenants = optarg;
			break;
		case O_CERT:
			o->cert = optarg;
			break;
		case O_KEY:
			o->key = optarg;
			break;
		case O_LISTEN:
			o->listen = optarg;
			break;
		case O_METRICS:
			o->metrics_listen = optarg;
			break;
		case O_THREADS:
			ok = parse_uint(optarg, 1, 256, &o->threads);
			break;
		case O_MAXCONN:
			ok = parse_uint(optarg, 1, 1000000, &o->max_conn);
			break;
		case O_TIMEOUT:
			ok = parse_uint(optarg, 1, 3600, &o->timeout);
			break;
		case O_DRAIN:
			ok = parse_uint(optarg, 0, 3600, &o->drain);
			break;
		case O_INTERVAL:
			ok = parse_uint(optarg, 1, 3600, &o->interval);
			break;
		case O_LOG:
			ok = !kt_log_parse_level(optarg, &kt_log_min);
			break;
		/* at least two largest bodies, so that one always fits */
		case O_BUDGET:
			ok = parse_uint(optarg, 8, 1u << 20, &o->budget_mib);
			break;
		case O_CHECK:
			o->check_only = true;
			break;
		case 'h':
			kt_usage(usage, 1);
			return -1; /* help shown: exit 0 */
		default:
			return kt_usage(usage, 0);
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

int cmd_serve(int argc, char **argv)
{
	struct kt_webhook_opts o;
	struct kt_config *cfg = NULL;
	struct kt_err err = { 0 };
	enum kt_rc krc;
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? KT_EXIT_OK : rc;
	rc = kt_cmd_load_config(o.tenants, &cfg);
	if (rc)
		return rc;
	krc = kt_webhook_serve(&o, cfg, &err);
	if (krc) {
		kt_error("%s", err.msg);
		return kt_exit_for(krc);
	}
	return KT_EXIT_OK;
}
