/*
 * kubeconfig.c: `kubetenant kubeconfig`, a kubeconfig a tenant can use as is.
 *
 * The cluster is the proxy (https://<global.oidc.proxyHostname>), the
 * context's namespace is the tenant's, and the user logs in through the
 * kubelogin exec plugin (`kubectl oidc-login`, github.com/int128/kubelogin),
 * which opens the browser for the university's IdP and hands kubectl the ID
 * token the proxy verifies.  No secret is in the file, so it can be mailed
 * or published on a wiki.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "kt.h"

static const char usage[] =
	"usage: kubetenant kubeconfig -f FILE --tenant NAME [--server URL]\n"
	"\n"
	"Print a kubeconfig for one tenant: the cluster is the kubetenant proxy at\n"
	"https://<global.oidc.proxyHostname>, the context's namespace is the tenant,\n"
	"and the user logs in with the kubelogin plugin (kubectl oidc-login) against\n"
	"global.oidc.issuerURL with global.oidc.clientID.\n"
	"\n"
	"  -f, --tenants FILE   the tenants file ('-' reads stdin; --file is an alias)\n"
	"  -t, --tenant NAME    the tenant (its namespace)\n"
	"      --server URL     the proxy's URL, instead of https://<proxyHostname>\n"
	"  -h, --help           show this help\n"
	"\n"
	"exit status: 0 printed, 2 usage, invalid file, unknown tenant or no\n"
	"global.oidc, 3 unreadable file, 70 internal error\n";

enum { OPT_SERVER = 256 };

static const struct option longopts[] = {
	{ "tenants", required_argument, NULL, 'f' },
	{ "file", required_argument, NULL, 'f' }, /* alias */
	{ "tenant", required_argument, NULL, 't' },
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* A YAML double-quoted scalar: JSON string syntax is valid YAML. */
static void q(FILE *out, const char *s)
{
	json_t *j = json_string(s);
	char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	fputs(t ? t : "\"\"", out);
	free(t);
	json_decref(j);
}

/* "--name=value" as one quoted scalar */
static void flag(FILE *out, const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 1;
	char *arg = malloc(n);

	if (!arg)
		return;
	snprintf(arg, n, "%s%s", name, value);
	q(out, arg);
	free(arg);
}

static void emit(FILE *out, const struct kt_config *cfg, const struct kt_tenant *t,
		 const char *server)
{
	const struct kt_oidc *o = &cfg->global.oidc;
	char ctx[512];

	snprintf(ctx, sizeof(ctx), "%s@%s", t->name, cfg->global.cluster_name);
	fputs("# kubeconfig for tenant ", out);
	fputs(t->name, out);
	fputs(", written by kubetenant kubeconfig.\n"
	      "# Needs the kubelogin plugin: kubectl krew install oidc-login\n"
	      "# (or the kubectl-oidc_login binary on PATH).\n"
	      "apiVersion: v1\nkind: Config\nclusters:\n- name: ", out);
	q(out, cfg->global.cluster_name);
	fputs("\n  cluster:\n    server: ", out);
	q(out, server);
	fputs("\ncontexts:\n- name: ", out);
	q(out, ctx);
	fputs("\n  context:\n    cluster: ", out);
	q(out, cfg->global.cluster_name);
	fputs("\n    namespace: ", out);
	q(out, t->name);
	fputs("\n    user: oidc\ncurrent-context: ", out);
	q(out, ctx);
	fputs("\nusers:\n- name: oidc\n  user:\n    exec:\n"
	      "      apiVersion: client.authentication.k8s.io/v1beta1\n"
	      "      command: kubectl\n"
	      "      args:\n      - oidc-login\n      - get-token\n      - ", out);
	flag(out, "--oidc-issuer-url=", o->issuer_url);
	fputs("\n      - ", out);
	flag(out, "--oidc-client-id=", o->client_id);
	/* the proxy reads these claims; Dex and Keycloak only add them for these scopes */
	if (o->username_claim && !strcmp(o->username_claim, "email"))
		fputs("\n      - --oidc-extra-scope=email", out);
	if (!o->groups_claim || !strcmp(o->groups_claim, "groups"))
		fputs("\n      - --oidc-extra-scope=groups", out);
	fputs("\n      interactiveMode: IfAvailable\n      provideClusterInfo: false\n", out);
}

int cmd_kubeconfig(int argc, char **argv)
{
	const char *file = NULL, *tenant = NULL, *server = NULL;
	const struct kt_tenant *t;
	struct kt_config *cfg = NULL;
	char url[300];
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': file = optarg; break;
		case 't': tenant = optarg; break;
		case OPT_SERVER: server = optarg; break;
		case 'h': return kt_usage(usage, 1);
		default: return kt_usage(usage, 0);
		}
	}
	if (optind < argc || !tenant) {
		if (!tenant)
			kt_error("which tenant? (use --tenant NAME)");
		return kt_usage(usage, 0);
	}
	if (server && strncmp(server, "https://", 8)) {
		kt_error("'--server' must be an https:// URL");
		return KT_EXIT_USAGE;
	}
	ret = kt_cmd_load_config(file, &cfg);
	if (ret)
		return ret;
	ret = KT_EXIT_USAGE;
	t = kt_config_tenant_by_ns(cfg, tenant);
	if (!t) {
		kt_error("tenant '%s' is not defined in '%s'", tenant, file);
	} else if (!cfg->global.oidc.issuer_url || !cfg->global.oidc.client_id) {
		kt_error("'%s' has no global.oidc.issuerURL and clientID: tenants do not log in "
			 "through the proxy", file);
	} else if (!server && !cfg->global.oidc.hostname) {
		kt_error("'%s' has no global.oidc.proxyHostname; give '--server URL'", file);
	} else {
		if (!server) {
			snprintf(url, sizeof(url), "https://%s", cfg->global.oidc.hostname);
			server = url;
		}
		emit(stdout, cfg, t, server);
		ret = fflush(stdout) ? KT_EXIT_INTERNAL : KT_EXIT_OK;
	}
	kt_config_free(cfg);
	return ret;
}
