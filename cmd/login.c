/*
 * login.c: `kubetenant login`, kubectl's exec credential plugin.
 *
 * Prints a client.authentication.k8s.io ExecCredential carrying an ID token
 * from the issuer (lib/login does the work); everything for the member goes
 * to stderr, which kubectl shows.  Flags only here.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "kt.h"
#include "kt/buf.h"
#include "kt/login.h"

static const char usage[] =
	"usage: kubetenant login --issuer-url URL --client-id ID [options]\n"
	"       kubetenant login --issuer-url URL --client-id ID --logout\n"
	"\n"
	"kubectl's exec credential plugin: print an ExecCredential with an ID token\n"
	"from the cache, refreshed silently, or from a new login in the browser\n"
	"(authorization code with PKCE, redirect to 127.0.0.1) or, with --device or\n"
	"when no browser can run, with a code typed on another device.\n"
	"\n"
	"      --issuer-url URL   the OpenID Connect issuer (https://)\n"
	"      --client-id ID     the public client registered for kubectl\n"
	"      --oidc-ca FILE     CA certificates for the issuer (default: the system's)\n"
	"      --scope SCOPE      one more scope to ask for, repeatable (always: openid\n"
	"                         offline_access)\n"
	"      --device           log in with a code on another device (RFC 8628)\n"
	"      --no-browser       print the login URL instead of opening a browser\n"
	"      --no-login         only the cache and the refresh token; never ask the member\n"
	"      --user NAME        keep a separate session, for a second account\n"
	"      --cache-dir DIR    default $XDG_CACHE_HOME/kubetenant or ~/.cache/kubetenant\n"
	"      --timeout SECONDS  how long to wait for the member (default 300)\n"
	"      --logout           remove the cached session\n"
	"  -h, --help             show this help\n"
	"\n"
	"exit status: 0 token printed, 2 usage, 3 cache unusable, 4 issuer unreachable\n"
	"or answering nonsense, 5 login denied, 6 timed out or device code expired,\n"
	"7 ID token refused, 8 clock off, 9 no session (--no-login), 70 internal error\n";

enum {
	OPT_ISSUER = 256,
	OPT_CLIENT,
	OPT_CA,
	OPT_SCOPE,
	OPT_DEVICE,
	OPT_NO_BROWSER,
	OPT_NO_LOGIN,
	OPT_USER,
	OPT_CACHE,
	OPT_TIMEOUT,
	OPT_LOGOUT
};

static const struct option longopts[] = {
	{ "issuer-url", required_argument, NULL, OPT_ISSUER },
	{ "client-id", required_argument, NULL, OPT_CLIENT },
	{ "oidc-ca", required_argument, NULL, OPT_CA },
	{ "scope", required_argument, NULL, OPT_SCOPE },
	{ "device", no_argument, NULL, OPT_DEVICE },
	{ "no-browser", no_argument, NULL, OPT_NO_BROWSER },
	{ "no-login", no_argument, NULL, OPT_NO_LOGIN },
	{ "user", required_argument, NULL, OPT_USER },
	{ "cache-dir", required_argument, NULL, OPT_CACHE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "logout", no_argument, NULL, OPT_LOGOUT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One line per failure: what happened is in err, what to do is here. */
static int fail(enum kt_login_fail f, const struct kt_err *err, const char *issuer)
{
	static const struct {
		int status;
		const char *todo;
	} t[] = {
		[KT_LOGIN_UNREACHABLE] = { 4, "check the network and --issuer-url, then retry" },
		[KT_LOGIN_DENIED] = { 5, "the login was denied at the issuer; retry and accept" },
		[KT_LOGIN_EXPIRED] = { 6, "retry, and finish the login in time" },
		[KT_LOGIN_REFUSED] = { 7,
				       "the issuer's token is not for this client or issuer; "
				       "ask the platform team to check --issuer-url and --client-id" },
		[KT_LOGIN_SKEW] = { 8, "fix this machine's clock, then retry" },
		[KT_LOGIN_REVOKED] = { 9, "run 'kubetenant login' without --no-login" },
		[KT_LOGIN_CACHE] = { 3, "fix the cache directory or give --cache-dir" },
		[KT_LOGIN_INTERNAL] = { 70, "this is a bug; please report it" },
	};

	if ((unsigned)f >= sizeof(t) / sizeof(t[0]) || !t[f].todo)
		f = KT_LOGIN_INTERNAL;
	kt_error("login to '%s' failed: %s; %s", issuer, err->msg[0] ? err->msg : "unknown error",
		 t[f].todo);
	return t[f].status;
}

/* kubectl says which ExecCredential version it reads; we answer in that one. */
static const char *exec_api_version(void)
{
	const char *info = getenv("KUBERNETES_EXEC_INFO");
	json_t *doc;
	const char *v, *out = NULL;

	if (!info || !*info)
		return "client.authentication.k8s.io/v1";
	doc = json_loads(info, JSON_REJECT_DUPLICATES, NULL);
	v = json_string_value(json_object_get(doc, "apiVersion"));
	if (v && !strcmp(v, "client.authentication.k8s.io/v1"))
		out = "client.authentication.k8s.io/v1";
	else if (v && !strcmp(v, "client.authentication.k8s.io/v1beta1"))
		out = "client.authentication.k8s.io/v1beta1";
	json_decref(doc);
	return out;
}

/* The browser: $BROWSER, else xdg-open in a graphical session, else none. */
static const char *find_browser(void)
{
	const char *b = getenv("BROWSER"), *path = getenv("PATH");
	char buf[4096];

	if (b && *b)
		return b;
	if (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY"))
		return NULL; /* an SSH session: the device grant */
	while (path && *path) {
		size_t n = strcspn(path, ":");

		if (n &&
		    snprintf(buf, sizeof(buf), "%.*s/xdg-open", (int)n, path) < (int)sizeof(buf) &&
		    !access(buf, X_OK))
			return "xdg-open";
		path += n + (path[n] == ':');
	}
	return NULL;
}

static int print_credential(const char *api, const struct kt_login_token *t)
{
	json_t *cred = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", api, "kind", "ExecCredential",
				 "status", "token", t->id_token);
	char stamp[32];
	time_t exp = (time_t)t->exp;
	struct tm tm;

	if (cred && t->exp > 0 && gmtime_r(&exp, &tm) &&
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm))
		json_object_set_new(json_object_get(cred, "status"), "expirationTimestamp",
				    json_string(stamp));
	if (!cred || json_dumpf(cred, stdout, JSON_COMPACT) || fputc('\n', stdout) == EOF ||
	    fflush(stdout)) {
		json_decref(cred);
		kt_error("cannot write the credential on stdout");
		return KT_EXIT_INTERNAL;
	}
	json_decref(cred);
	return KT_EXIT_OK;
}

int cmd_login(int argc, char **argv)
{
	struct kt_login_opts o = { .timeout = 300, .skew = 30 };
	struct kt_buf scopes = KT_BUF_INIT;
	struct kt_login_token tok = { 0 };
	struct kt_err err = { 0 };
	bool logout = false, no_browser = false;
	enum kt_login_fail f;
	const char *api;
	char *end;
	int c, ret = KT_EXIT_USAGE;

	if (kt_buf_adds(&scopes, "openid offline_access"))
		return KT_EXIT_INTERNAL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ISSUER:
			o.issuer = optarg;
			break;
		case OPT_CLIENT:
			o.client_id = optarg;
			break;
		case OPT_CA:
			o.ca_file = optarg;
			break;
		case OPT_SCOPE:
			if (!*optarg || strpbrk(optarg, " \"\\") ||
			    kt_buf_addf(&scopes, " %s", optarg)) {
				kt_error("'--scope %s' is not one scope", optarg);
				goto out;
			}
			break;
		case OPT_DEVICE:
			o.device = true;
			break;
		case OPT_NO_BROWSER:
			no_browser = true;
			break;
		case OPT_NO_LOGIN:
			o.no_login = true;
			break;
		case OPT_USER:
			o.user = optarg;
			break;
		case OPT_CACHE:
			o.cache_dir = optarg;
			break;
		case OPT_TIMEOUT:
			o.timeout = strtoll(optarg, &end, 10);
			if (*end || o.timeout < 1 || o.timeout > 3600) {
				kt_error("'--timeout' takes 1 to 3600 seconds");
				goto out;
			}
			break;
		case OPT_LOGOUT:
			logout = true;
			break;
		case 'h':
			ret = kt_usage(usage, 1);
			goto out;
		default:
			ret = kt_usage(usage, 0);
			goto out;
		}
	}
	if (optind < argc || !o.issuer || !o.client_id) {
		if (optind == argc)
			kt_error("give --issuer-url and --client-id");
		ret = kt_usage(usage, 0);
		goto out;
	}
	if (strncmp(o.issuer, "https://", 8)) {
		kt_error("'--issuer-url' must be an https:// URL");
		goto out;
	}
	o.scopes = scopes.buf;
	if (logout) {
		f = kt_login_logout(&o, &err);
		ret = f ? fail(f, &err, o.issuer) : KT_EXIT_OK;
		goto out;
	}
	api = exec_api_version();
	if (!api) {
		kt_error(
			"KUBERNETES_EXEC_INFO asks for an ExecCredential version this plugin does not "
			"speak; use client.authentication.k8s.io/v1 in the kubeconfig");
		goto out;
	}
	o.browser = no_browser ? NULL : find_browser();
	o.print_url = no_browser;
	f = kt_login_token(&o, &tok, &err);
	ret = f ? fail(f, &err, o.issuer) : print_credential(api, &tok);
	free(tok.id_token);
out:
	kt_buf_release(&scopes);
	return ret;
}
