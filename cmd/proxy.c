/*
 * proxy.c: `kubetenant proxy`, the OIDC-to-impersonation proxy for kubectl.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "kt.h"
#include "http.h"
#include "kt/proxy.h"
#include "proxy/proxy.h"

static const char usage[] =
	"usage: kubetenant proxy --issuer-url URL --audience ID --upstream https://API\n"
	"                        --tls-cert FILE --tls-key FILE\n"
	"                        (--token-file FILE | --client-cert FILE --client-key FILE)\n"
	"                        [options]\n"
	"\n"
	"Verify OIDC bearer tokens and forward kubectl's requests to the API server\n"
	"as the token's user (Impersonate-User/-Group), streaming watches and logs and\n"
	"tunnelling exec, attach and port-forward.\n"
	"\n"
	"  --issuer-url URL         OIDC issuer; its discovery document must name it exactly\n"
	"  --audience ID            client ID the tokens must be issued for (aud);\n"
	"                           repeatable: any one of them is accepted\n"
	"  --oidc-ca FILE           CA bundle for the issuer (default: system CAs)\n"
	"  --allowed-alg ALG        accepted signature algorithm, repeatable (default RS256;\n"
	"                           RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512)\n"
	"  --username-claim C       claim naming the user (default sub; email needs\n"
	"                           email_verified)\n"
	"  --username-prefix P      prefix of user names (default \"oidc:\")\n"
	"  --groups-claim C         claim listing groups (default groups)\n"
	"  --groups-prefix P        prefix of group names (default \"oidc:\")\n"
	"  --required-claim K=V     claim that must equal V, repeatable\n"
	"  --clock-skew SECONDS     tolerance for nbf and iat (default 30; exp has none)\n"
	"  --upstream URL           API server, https://HOST[:PORT]\n"
	"  --upstream-ca FILE       CA bundle of the API server (default: system CAs)\n"
	"  --token-file FILE        the proxy's own bearer token, re-read when it changes\n"
	"  --client-cert FILE       the proxy's client certificate (with --client-key)\n"
	"  --client-key FILE\n"
	"  --extra K=V              add Impersonate-Extra-K: V, repeatable\n"
	"  --extra-client-ip        add Impersonate-Extra-Remote-Client-Ip\n"
	"  --listen ADDR:PORT       HTTPS listener (default 0.0.0.0:8443)\n"
	"  --tls-cert FILE          serving certificate (PEM), reloaded when it changes\n"
	"  --tls-key FILE           its key (PEM)\n"
	"  --metrics-listen ADDR:PORT  /metrics, /healthz, /readyz over HTTP\n"
	"                           (default 0.0.0.0:9090; \"off\" disables)\n"
	"  --shutdown-grace SECONDS time open requests and tunnels get after SIGTERM\n"
	"                           (default 25)\n"
	"  --max-body BYTES         largest request body (default 3145728)\n"
	"  --threads N              event loops, at most 256 (default 0: one per CPU)\n"
	"  --ui                     serve the tenant dashboard under /ui/ (no privilege\n"
	"                           of its own: it calls the API with the user's token)\n"
	"  --ui-client-id ID        the dashboard's OIDC client ID, also an accepted\n"
	"                           audience (default kubetenant-dashboard)\n"
	"  -f, --tenants FILE       tenants file (reloaded on change): namespaces, nodes and\n"
	"                           classes are listed and watched with the proxy's own\n"
	"                           identity, filtered to the member's tenants\n"
	"  --config FILE            read options from a YAML file of the same names\n"
	"                           (flags given too override it; lists add up)\n"
	"  --check-config           check the options and load the files they name,\n"
	"                           then exit 0 without listening\n"
	"  -h, --help               show this help\n";

static const struct option longopts[] = {
	{ "issuer-url", required_argument, NULL, 0 },
	{ "audience", required_argument, NULL, 0 },
	{ "oidc-ca", required_argument, NULL, 0 },
	{ "allowed-alg", required_argument, NULL, 0 },
	{ "username-claim", required_argument, NULL, 0 },
	{ "username-prefix", required_argument, NULL, 0 },
	{ "groups-claim", required_argument, NULL, 0 },
	{ "groups-prefix", required_argument, NULL, 0 },
	{ "required-claim", required_argument, NULL, 0 },
	{ "clock-skew", required_argument, NULL, 0 },
	{ "upstream", required_argument, NULL, 0 },
	{ "upstream-ca", required_argument, NULL, 0 },
	{ "token-file", required_argument, NULL, 0 },
	{ "client-cert", required_argument, NULL, 0 },
	{ "client-key", required_argument, NULL, 0 },
	{ "extra", required_argument, NULL, 0 },
	{ "extra-client-ip", no_argument, NULL, 0 },
	{ "listen", required_argument, NULL, 0 },
	{ "tls-cert", required_argument, NULL, 0 },
	{ "tls-key", required_argument, NULL, 0 },
	{ "metrics-listen", required_argument, NULL, 0 },
	{ "shutdown-grace", required_argument, NULL, 0 },
	{ "max-body", required_argument, NULL, 0 },
	{ "threads", required_argument, NULL, 0 },
	{ "ui", no_argument, NULL, 0 },
	{ "ui-client-id", required_argument, NULL, 0 },
	{ "tenants", required_argument, NULL, 'f' },
	{ "config", required_argument, NULL, 'c' },
	{ "check-config", no_argument, NULL, 'C' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One pass over argv: the config file (first pass) or every other flag (second). */
static int parse(int argc, char **argv, struct kt_proxy_opts *o, bool config_pass)
{
	struct kt_err err = { 0 };
	int c, idx;

	optind = 1;
	opterr = !config_pass;
	while ((c = getopt_long(argc, argv, "hf:", longopts, &idx)) != -1) {
		if (c == 'h')
			return config_pass ? KT_EXIT_OK : -1;
		if (c == '?')
			return config_pass ? KT_EXIT_OK : KT_EXIT_USAGE;
		if (c == 'c' && config_pass) {
			if (kt_proxy_opts_load(o, optarg, &err)) {
				kt_error("%s%s%s", err.where, err.where[0] ? ": " : "", err.msg);
				return err.rc == KT_E_IO || err.rc == KT_E_PARSE ? KT_EXIT_INPUT
										 : KT_EXIT_USAGE;
			}
			continue;
		}
		if (c == 'C' && !config_pass)
			o->check_only = true;
		if (c == 'c' || c == 'C' || config_pass)
			continue;
		if (kt_proxy_opts_set(o, c == 'f' ? "tenants" : longopts[idx].name, optarg, &err)) {
			kt_error("%s", err.msg);
			return KT_EXIT_USAGE;
		}
	}
	if (!config_pass && optind < argc) {
		kt_error("unexpected argument '%s'", argv[optind]);
		return KT_EXIT_USAGE;
	}
	return KT_EXIT_OK;
}

/* A malformed address is a usage error (2), not a start failure (3), as in serve. */
static enum kt_rc listen_check(const struct kt_proxy_opts *o, struct kt_err *err)
{
	struct sockaddr_storage ss;
	unsigned len;
	const char *m = o->metrics_listen;

	if (kt_http_parse_listen(o->listen, &ss, &len, err))
		return KT_E_INVALID;
	if (m && *m && strcmp(m, "off") && strcmp(m, "none") &&
	    kt_http_parse_listen(m, &ss, &len, err))
		return KT_E_INVALID;
	return KT_OK;
}

int cmd_proxy(int argc, char **argv)
{
	struct kt_proxy_opts o;
	struct kt_err err = { 0 };
	int ret;

	if (kt_proxy_opts_init(&o)) {
		kt_error("out of memory");
		return KT_EXIT_INTERNAL;
	}
	ret = parse(argc, argv, &o, true);
	if (ret == KT_EXIT_OK)
		ret = parse(argc, argv, &o, false);
	if (ret) {
		kt_proxy_opts_release(&o);
		return ret < 0                ? kt_usage(usage, 1)
		       : ret == KT_EXIT_USAGE ? kt_usage(usage, 0)
					      : ret;
	}
	/* the dashboard's tokens are issued for its own client ID */
	if (kt_proxy_opts_check(&o, &err) || listen_check(&o, &err) ||
	    (o.ui && kt_proxy_opts_set(&o, "audience", o.ui_client_id, &err))) {
		kt_error("%s", err.msg);
		kt_proxy_opts_release(&o);
		return KT_EXIT_USAGE;
	}
	if (kt_proxy_serve(&o, &err)) {
		kt_error("%s", err.msg);
		ret = err.rc == KT_E_NOMEM ? KT_EXIT_INTERNAL : KT_EXIT_INPUT;
	}
	kt_proxy_opts_release(&o);
	return ret;
}
