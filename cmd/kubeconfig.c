/*
 * kubeconfig.c: `kubetenant kubeconfig`, a kubeconfig a tenant can use as is.
 *
 * The cluster is the proxy (https://<global.oidc.proxyHostname>), with its
 * CA embedded when the platform uses a private one; each context is a
 * tenant's namespace, named "<tenant>@<cluster>"; the user logs in through
 * `kubetenant login` as kubectl's exec plugin (or kubelogin, `kubectl
 * oidc-login`, with --kubelogin).  No secret is in the file, so it can be
 * mailed or published on a wiki.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "kt.h"
#include "kt/buf.h"
#include "kt/login.h"

static const char usage[] =
	"usage: kubetenant kubeconfig -f FILE --tenant NAME [options]\n"
	"       kubetenant kubeconfig -f FILE --all --group GROUP... [options]\n"
	"       kubetenant kubeconfig --from-cluster URL [--tenant NAME] [options]\n"
	"\n"
	"Print a kubeconfig: the cluster is the kubetenant proxy at\n"
	"https://<global.oidc.proxyHostname>, each context a tenant's namespace named\n"
	"<tenant>@<cluster>, and the user logs in with `kubetenant login` against\n"
	"global.oidc.issuerURL with global.oidc.clientID.\n"
	"\n"
	"  -f, --tenants FILE    the tenants file ('-' reads stdin; --file is an alias)\n"
	"  -t, --tenant NAME     the tenant (its namespace)\n"
	"      --all             one context per tenant of the groups given with --group\n"
	"      --group GROUP     a group of the member, as the issuer names it (repeatable)\n"
	"      --server URL      the proxy's URL, instead of https://<proxyHostname>\n"
	"      --ca FILE         the proxy's CA (PEM), embedded as certificate-authority-data;\n"
	"                        with --from-cluster, the CA of the API server at URL\n"
	"      --oidc-ca FILE    the issuer's CA on the member's machine, passed to login\n"
	"      --from-cluster URL  no tenants file: read issuer, client, proxy and CA from\n"
	"                        the API server's public kube-public/kubetenant-info\n"
	"      --kubelogin       log in with kubelogin (kubectl oidc-login) instead\n"
	"  -h, --help            show this help\n"
	"\n"
	"exit status: 0 printed, 2 usage, invalid file, unknown tenant or no\n"
	"global.oidc, 3 unreadable file or cluster, 70 internal error\n";

enum { OPT_SERVER = 256, OPT_ALL, OPT_GROUP, OPT_CA, OPT_OIDC_CA, OPT_FROM, OPT_KUBELOGIN };

static const struct option longopts[] = {
	{ "tenants", required_argument, NULL, 'f' },
	{ "file", required_argument, NULL, 'f' }, /* alias */
	{ "tenant", required_argument, NULL, 't' },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "oidc-ca", required_argument, NULL, OPT_OIDC_CA },
	{ "from-cluster", required_argument, NULL, OPT_FROM },
	{ "kubelogin", no_argument, NULL, OPT_KUBELOGIN },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* What the kubeconfig says; every string borrowed. */
struct kc {
	const char *cluster, *server, *issuer, *client_id, *oidc_ca;
	char *ca_b64; /* certificate-authority-data, NULL: system CAs */
	bool kubelogin, email, groups;
	const char **ns; /* contexts */
	size_t n;
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

/* "\n      - \"--name=value\"" */
static void arg(FILE *out, const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 1;
	char *a = malloc(n);

	if (!a)
		return;
	snprintf(a, n, "%s%s", name, value);
	fputs("\n      - ", out);
	q(out, a);
	free(a);
}

static void context_name(char *buf, size_t size, const struct kc *k, const char *ns)
{
	if (ns)
		snprintf(buf, size, "%s@%s", ns, k->cluster);
	else
		snprintf(buf, size, "%s", k->cluster);
}

static void emit(FILE *out, const struct kc *k)
{
	char ctx[512];
	size_t i;

	fputs("# kubeconfig written by kubetenant kubeconfig.\n", out);
	if (k->kubelogin)
		fputs("# Needs the kubelogin plugin: kubectl krew install oidc-login\n", out);
	else
		fputs("# Needs kubetenant on PATH: it logs you in (kubetenant login).\n", out);
	fputs("apiVersion: v1\nkind: Config\nclusters:\n- name: ", out);
	q(out, k->cluster);
	fputs("\n  cluster:\n    server: ", out);
	q(out, k->server);
	if (k->ca_b64) {
		fputs("\n    certificate-authority-data: ", out);
		q(out, k->ca_b64);
	}
	fputs("\ncontexts:", out);
	for (i = 0; i < (k->n ? k->n : 1); i++) {
		context_name(ctx, sizeof(ctx), k, k->n ? k->ns[i] : NULL);
		fputs("\n- name: ", out);
		q(out, ctx);
		fputs("\n  context:\n    cluster: ", out);
		q(out, k->cluster);
		if (k->n) {
			fputs("\n    namespace: ", out);
			q(out, k->ns[i]);
		}
		fputs("\n    user: oidc", out);
	}
	context_name(ctx, sizeof(ctx), k, k->n ? k->ns[0] : NULL);
	fputs("\ncurrent-context: ", out);
	q(out, ctx);
	fputs("\nusers:\n- name: oidc\n  user:\n    exec:\n", out);
	if (k->kubelogin) {
		fputs("      apiVersion: client.authentication.k8s.io/v1beta1\n"
		      "      command: kubectl\n"
		      "      args:\n      - oidc-login\n      - get-token",
		      out);
		arg(out, "--oidc-issuer-url=", k->issuer);
		arg(out, "--oidc-client-id=", k->client_id);
		/* the proxy reads these claims; Dex and Keycloak only add them for these scopes */
		if (k->email)
			fputs("\n      - --oidc-extra-scope=email", out);
		if (k->groups)
			fputs("\n      - --oidc-extra-scope=groups", out);
		fputs("\n      interactiveMode: IfAvailable\n      provideClusterInfo: false\n",
		      out);
		return;
	}
	fputs("      apiVersion: client.authentication.k8s.io/v1\n"
	      "      command: kubetenant\n"
	      "      args:\n      - login",
	      out);
	arg(out, "--issuer-url=", k->issuer);
	arg(out, "--client-id=", k->client_id);
	if (k->email)
		fputs("\n      - --scope=email", out);
	if (k->groups)
		fputs("\n      - --scope=groups", out);
	if (k->oidc_ca)
		arg(out, "--oidc-ca=", k->oidc_ca);
	/* login never reads stdin: it talks to the member on stderr only */
	fputs("\n      interactiveMode: Never\n      provideClusterInfo: false\n", out);
}

static char *b64(const char *s, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

/* The proxy's CA file, checked to be PEM certificates, as base64 for the kubeconfig. */
static int load_ca(const char *path, char **out)
{
	struct kt_buf b = KT_BUF_INIT;
	struct kt_err err = { 0 };
	enum kt_rc rc = kt_buf_read_file(&b, path, 64 << 10, &err);

	if (rc) {
		kt_error("%s", err.msg);
		return kt_exit_for(rc);
	}
	if (!strstr(b.buf, "-----BEGIN CERTIFICATE-----") || strstr(b.buf, "PRIVATE KEY")) {
		kt_error("'%s' is not a PEM certificate (and must hold no key)", path);
		kt_buf_release(&b);
		return KT_EXIT_USAGE;
	}
	*out = b64(b.buf, b.len);
	kt_buf_release(&b);
	return *out ? KT_EXIT_OK : KT_EXIT_INTERNAL;
}

static bool has(const char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static bool member_of(const struct kt_tenant *t, const char *const *groups, size_t n)
{
	size_t i;

	if (has(groups, n, t->operator_group))
		return true;
	for (i = 0; i < t->read_groups.n; i++)
		if (has(groups, n, t->read_groups.v[i]))
			return true;
	return false;
}

static int from_tenants(const char *file, const char *tenant, bool all, const char **groups,
			size_t n_groups, struct kc *k)
{
	struct kt_config *cfg = NULL;
	const struct kt_oidc *o;
	char url[300];
	size_t i;
	int ret = kt_cmd_load_config(file, &cfg);

	if (ret)
		return ret;
	o = &cfg->global.oidc;
	ret = KT_EXIT_USAGE;
	k->ns = calloc(cfg->n_tenants + 1, sizeof(*k->ns));
	if (!k->ns) {
		ret = KT_EXIT_INTERNAL;
		goto out;
	}
	if (all) {
		for (i = 0; i < cfg->n_tenants; i++)
			if (member_of(&cfg->tenants[i], groups, n_groups))
				k->ns[k->n++] = cfg->tenants[i].name;
		if (!k->n) {
			kt_error("no tenant in '%s' has one of the groups given with --group",
				 file);
			goto out;
		}
	} else if (!kt_config_tenant_by_ns(cfg, tenant)) {
		kt_error("tenant '%s' is not defined in '%s'", tenant, file);
		goto out;
	} else {
		k->ns[k->n++] = kt_config_tenant_by_ns(cfg, tenant)->name;
	}
	if (!o->issuer_url || !o->client_id) {
		kt_error("'%s' has no global.oidc.issuerURL and clientID: tenants do not log in "
			 "through the proxy",
			 file);
		goto out;
	}
	if (!k->server && !o->hostname) {
		kt_error("'%s' has no global.oidc.proxyHostname; give '--server URL'", file);
		goto out;
	}
	if (!k->server) {
		snprintf(url, sizeof(url), "https://%s", o->hostname);
		k->server = url;
	}
	k->cluster = cfg->global.cluster_name;
	k->issuer = o->issuer_url;
	k->client_id = o->client_id;
	k->email = o->username_claim && !strcmp(o->username_claim, "email");
	k->groups = !o->groups_claim || !strcmp(o->groups_claim, "groups");
	emit(stdout, k);
	ret = fflush(stdout) ? KT_EXIT_INTERNAL : KT_EXIT_OK;
out:
	free(k->ns);
	kt_config_free(cfg);
	return ret;
}

static int from_cluster(const char *api, const char *ca_file, const char *tenant, struct kc *k)
{
	struct kt_cluster_info ci;
	struct kt_err err = { 0 };
	int ret;

	if (kt_cluster_info_fetch(api, ca_file, &ci, &err)) {
		kt_error("%s", err.msg);
		return err.rc == KT_E_IO || err.rc == KT_E_LIMIT ? KT_EXIT_INPUT : KT_EXIT_USAGE;
	}
	k->cluster = ci.cluster;
	k->server = k->server ? k->server : ci.proxy_url;
	k->issuer = ci.issuer;
	k->client_id = ci.client_id;
	k->email = k->groups = true; /* what render's Dex clients carry */
	if (ci.ca_pem && !(k->ca_b64 = b64(ci.ca_pem, strlen(ci.ca_pem)))) {
		kt_cluster_info_release(&ci);
		return KT_EXIT_INTERNAL;
	}
	k->ns = &tenant;
	k->n = tenant ? 1 : 0;
	emit(stdout, k);
	ret = fflush(stdout) ? KT_EXIT_INTERNAL : KT_EXIT_OK;
	kt_cluster_info_release(&ci);
	return ret;
}

int cmd_kubeconfig(int argc, char **argv)
{
	const char *file = NULL, *tenant = NULL, *ca = NULL, *from = NULL;
	const char **groups = NULL, **g;
	struct kc k = { 0 };
	size_t n_groups = 0;
	bool all = false;
	int c, ret = KT_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 't':
			tenant = optarg;
			break;
		case OPT_ALL:
			all = true;
			break;
		case OPT_GROUP:
			g = realloc(groups, (n_groups + 1) * sizeof(*groups));
			if (!g) {
				ret = KT_EXIT_INTERNAL;
				goto out;
			}
			groups = g;
			groups[n_groups++] = optarg;
			break;
		case OPT_SERVER:
			k.server = optarg;
			break;
		case OPT_CA:
			ca = optarg;
			break;
		case OPT_OIDC_CA:
			k.oidc_ca = optarg;
			break;
		case OPT_FROM:
			from = optarg;
			break;
		case OPT_KUBELOGIN:
			k.kubelogin = true;
			break;
		case 'h':
			ret = kt_usage(usage, 1);
			goto out;
		default:
			ret = kt_usage(usage, 0);
			goto out;
		}
	}
	if (optind < argc || (!tenant && !all && !from)) {
		if (optind == argc)
			kt_error("which tenant? (use --tenant NAME, or --all with --group)");
		ret = kt_usage(usage, 0);
		goto out;
	}
	if ((all && (tenant || !n_groups || from)) || (n_groups && !all) || (from && file)) {
		kt_error("--all goes with --group and a tenants file, not with --tenant; "
			 "--from-cluster with no tenants file");
		goto out;
	}
	if (k.server && strncmp(k.server, "https://", 8)) {
		kt_error("'--server' must be an https:// URL");
		goto out;
	}
	/* with --from-cluster, --ca verifies the API server; the proxy's CA is the ConfigMap's */
	if (ca && !from && (ret = load_ca(ca, &k.ca_b64)))
		goto out;
	ret = from ? from_cluster(from, ca, tenant, &k)
		   : from_tenants(file, tenant, all, groups, n_groups, &k);
out:
	free(k.ca_b64);
	free(groups);
	return ret;
}
