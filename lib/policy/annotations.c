/*
 * annotations.c: ingress-nginx annotations of a tenant's Ingress.
 *
 * The controller runs in a platform namespace, reads every tenant's Secrets
 * and Services, and copies annotation values into one nginx configuration
 * shared by all tenants.  So every value under nginx.ingress.kubernetes.io/
 * is hostile twice over:
 *  - a character that ends or escapes an nginx token (newline, ';', braces,
 *    quotes, backslash, '#') lets it write its own directives, for every
 *    host (CVE-2021-25742 through snippets; CVE-2025-1097, -1098, -24514
 *    through auth-tls-match-cn, mirror-target and auth-url): denied in every
 *    value, and '$' (nginx variables) only where a documented value uses it;
 *  - a "namespace/name" naming another namespace's Secret, ConfigMap or
 *    Service, or a URL of another namespace's Service, has the controller
 *    read it with its own rights: denied.
 * Where a value has a simple shape (a URL, a number, a size, a boolean, a
 * token) it must have it; the rest get the character rule only.  Snippet
 * annotations are denied outright, also nginx.org ones (the other nginx
 * controller).  Only the default prefix is known here: a platform that sets
 * --annotations-prefix must keep it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define NGINX_PREFIX "nginx.ingress.kubernetes.io/"

enum shape {
	FREE,   /* the character rule only */
	URL,    /* http(s)://host[:port][/path][?query] */
	URLP,   /* a URL or an absolute path (or "$1..." where vars) */
	PATH,   /* an absolute path */
	NUMBER, /* decimal digits */
	SIZE,   /* digits and one of b k m g */
	BOOL,   /* what Go's strconv.ParseBool reads */
	ONOFF,  /* on or off */
	CHARS,  /* letters, digits and the characters of `extra` */
	REF,    /* [namespace/]name of an object in the Ingress's namespace */
	REGEX,  /* a regular expression without braces or quotes */
};

struct ann_rule {
	const char *name; /* after the prefix */
	enum shape shape;
	bool vars;         /* nginx variables ($host, $1) are part of the value */
	const char *extra; /* CHARS: the characters besides letters and digits; REF: the kind */
};

#define TOKEN "_.-"
#define HEADERS "_-, "
#define CIDRS ".:/, "

/* Sorted by name (bsearch); from ingress-nginx's annotation reference. */
static const struct ann_rule rules[] = {
	{ "affinity", CHARS, false, TOKEN },
	{ "affinity-canary-behavior", CHARS, false, TOKEN },
	{ "affinity-mode", CHARS, false, TOKEN },
	{ "allowlist-source-range", CHARS, false, CIDRS },
	{ "app-root", URLP, true, NULL },
	{ "auth-always-set-cookie", BOOL, false, NULL },
	{ "auth-cache-duration", CHARS, false, "_ " },
	{ "auth-cache-key", CHARS, true, "_-$" },
	{ "auth-keepalive", NUMBER, false, NULL },
	{ "auth-keepalive-requests", NUMBER, false, NULL },
	{ "auth-keepalive-share-vars", BOOL, false, NULL },
	{ "auth-keepalive-timeout", NUMBER, false, NULL },
	{ "auth-method", CHARS, false, TOKEN },
	{ "auth-proxy-set-headers", REF, false, "ConfigMap" },
	{ "auth-realm", FREE, false, NULL },
	{ "auth-request-redirect", URLP, false, NULL },
	{ "auth-response-headers", CHARS, false, HEADERS },
	{ "auth-secret", REF, false, "Secret" },
	{ "auth-secret-type", CHARS, false, TOKEN },
	{ "auth-signin", URL, true, NULL },
	{ "auth-signin-redirect-param", CHARS, false, TOKEN },
	{ "auth-tls-error-page", URLP, false, NULL },
	{ "auth-tls-match-cn", REGEX, false, NULL },
	{ "auth-tls-pass-certificate-to-upstream", BOOL, false, NULL },
	{ "auth-tls-secret", REF, false, "Secret" },
	{ "auth-tls-verify-client", CHARS, false, TOKEN },
	{ "auth-tls-verify-depth", NUMBER, false, NULL },
	{ "auth-type", CHARS, false, TOKEN },
	{ "auth-url", URL, true, NULL },
	{ "backend-protocol", CHARS, false, TOKEN },
	{ "canary", BOOL, false, NULL },
	{ "canary-by-cookie", CHARS, false, TOKEN },
	{ "canary-by-header", CHARS, false, TOKEN },
	{ "canary-by-header-pattern", REGEX, false, NULL },
	{ "canary-by-header-value", CHARS, false, TOKEN },
	{ "canary-weight", NUMBER, false, NULL },
	{ "canary-weight-total", NUMBER, false, NULL },
	{ "client-body-buffer-size", SIZE, false, NULL },
	{ "connection-proxy-header", CHARS, false, TOKEN },
	{ "cors-allow-credentials", BOOL, false, NULL },
	{ "cors-allow-headers", CHARS, false, "_-, *" },
	{ "cors-allow-methods", CHARS, false, HEADERS },
	{ "cors-allow-origin", CHARS, false, "_.-:/*, " },
	{ "cors-expose-headers", CHARS, false, "_-, *" },
	{ "cors-max-age", NUMBER, false, NULL },
	{ "custom-headers", REF, false, "ConfigMap" },
	{ "custom-http-errors", CHARS, false, ", " },
	{ "default-backend", REF, false, "Service" },
	{ "denylist-source-range", CHARS, false, CIDRS },
	{ "disable-proxy-intercept-errors", BOOL, false, NULL },
	{ "enable-access-log", BOOL, false, NULL },
	{ "enable-cors", BOOL, false, NULL },
	{ "enable-global-auth", BOOL, false, NULL },
	{ "enable-modsecurity", BOOL, false, NULL },
	{ "enable-opentelemetry", BOOL, false, NULL },
	{ "enable-owasp-core-rules", BOOL, false, NULL },
	{ "enable-rewrite-log", BOOL, false, NULL },
	{ "fastcgi-index", CHARS, false, "_.-/" },
	{ "fastcgi-params-configmap", REF, false, "ConfigMap" },
	{ "force-ssl-redirect", BOOL, false, NULL },
	{ "from-to-www-redirect", BOOL, false, NULL },
	{ "http2-push-preload", BOOL, false, NULL },
	{ "limit-allowlist", CHARS, false, CIDRS },
	{ "limit-burst-multiplier", NUMBER, false, NULL },
	{ "limit-connections", NUMBER, false, NULL },
	{ "limit-rate", NUMBER, false, NULL },
	{ "limit-rate-after", NUMBER, false, NULL },
	{ "limit-rpm", NUMBER, false, NULL },
	{ "limit-rps", NUMBER, false, NULL },
	{ "limit-whitelist", CHARS, false, CIDRS },
	{ "load-balance", CHARS, false, TOKEN },
	{ "mirror-host", CHARS, true, "_.-:$" },
	{ "mirror-request-body", ONOFF, false, NULL },
	{ "mirror-target", URL, true, NULL },
	{ "modsecurity-transaction-id", CHARS, true, "_-$" },
	{ "opentelemetry-operation-name", CHARS, true, "_.-$ " },
	{ "opentelemetry-trust-incoming-span", BOOL, false, NULL },
	{ "permanent-redirect", URLP, true, NULL },
	{ "permanent-redirect-code", NUMBER, false, NULL },
	{ "preserve-trailing-slash", BOOL, false, NULL },
	{ "proxy-body-size", SIZE, false, NULL },
	{ "proxy-buffer-size", SIZE, false, NULL },
	{ "proxy-buffering", ONOFF, false, NULL },
	{ "proxy-buffers-number", NUMBER, false, NULL },
	{ "proxy-busy-buffers-size", SIZE, false, NULL },
	{ "proxy-connect-timeout", NUMBER, false, NULL },
	{ "proxy-cookie-domain", CHARS, false, "_.- " },
	{ "proxy-cookie-path", CHARS, false, "_.-/ " },
	{ "proxy-http-version", CHARS, false, "." },
	{ "proxy-max-temp-file-size", SIZE, false, NULL },
	{ "proxy-next-upstream", CHARS, false, "_ " },
	{ "proxy-next-upstream-timeout", NUMBER, false, NULL },
	{ "proxy-next-upstream-tries", NUMBER, false, NULL },
	{ "proxy-read-timeout", NUMBER, false, NULL },
	{ "proxy-redirect-from", FREE, false, NULL },
	{ "proxy-redirect-to", FREE, false, NULL },
	{ "proxy-request-buffering", ONOFF, false, NULL },
	{ "proxy-send-timeout", NUMBER, false, NULL },
	{ "proxy-ssl-ciphers", CHARS, false, "_.-:!+@ " },
	{ "proxy-ssl-name", CHARS, false, "_.-" },
	{ "proxy-ssl-protocols", CHARS, false, "_.- " },
	{ "proxy-ssl-secret", REF, false, "Secret" },
	{ "proxy-ssl-server-name", ONOFF, false, NULL },
	{ "proxy-ssl-verify", ONOFF, false, NULL },
	{ "proxy-ssl-verify-depth", NUMBER, false, NULL },
	{ "relative-redirects", BOOL, false, NULL },
	{ "rewrite-target", URLP, true, NULL },
	{ "satisfy", CHARS, false, TOKEN },
	{ "server-alias", CHARS, false, "_.-*, " },
	{ "service-upstream", BOOL, false, NULL },
	{ "session-cookie-change-on-failure", BOOL, false, NULL },
	{ "session-cookie-conditional-samesite-none", BOOL, false, NULL },
	{ "session-cookie-domain", CHARS, false, "_.-" },
	{ "session-cookie-expires", NUMBER, false, NULL },
	{ "session-cookie-max-age", NUMBER, false, NULL },
	{ "session-cookie-name", CHARS, false, TOKEN },
	{ "session-cookie-path", PATH, false, NULL },
	{ "session-cookie-samesite", CHARS, false, TOKEN },
	{ "session-cookie-secure", BOOL, false, NULL },
	{ "ssl-ciphers", CHARS, false, "_.-:!+@ " },
	{ "ssl-passthrough", BOOL, false, NULL },
	{ "ssl-prefer-server-ciphers", BOOL, false, NULL },
	{ "ssl-redirect", BOOL, false, NULL },
	{ "upstream-hash-by", CHARS, true, "_-$ " },
	{ "upstream-hash-by-subset", BOOL, false, NULL },
	{ "upstream-hash-by-subset-size", NUMBER, false, NULL },
	{ "upstream-vhost", CHARS, true, "_.-:$" },
	{ "use-port-in-redirects", BOOL, false, NULL },
	{ "use-regex", BOOL, false, NULL },
	{ "whitelist-source-range", CHARS, false, CIDRS },
	{ "x-forwarded-prefix", URLP, true, NULL },
};

static int rule_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ann_rule *)elem)->name);
}

static const struct ann_rule *find_rule(const char *name)
{
	return bsearch(name, rules, sizeof(rules) / sizeof(rules[0]), sizeof(rules[0]), rule_cmp);
}

bool kt_annotations_rules_sorted(void)
{
	for (size_t i = 1; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i - 1].name, rules[i].name) >= 0)
			return false;
	return true;
}

static bool is_alnum(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/*
 * The first character of v that breaks out of an nginx token or string, or
 * NULL.  '$' is refused unless vars, and then only before a variable name or
 * a capture number: "${" is a brace.  A regular expression keeps its '\'
 * and '$' for regex_ok(), which allows them only as escapes and the anchor.
 */
static const char *breakout(const char *v, bool vars, bool regex)
{
	for (const char *p = v; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (regex && (ch == '\\' || ch == '$'))
			continue;
		if (ch < 0x20 || ch == 0x7f || strchr(";{}\"'`\\#", ch))
			return p;
		if (ch == '$' && (!vars || !(is_alnum((unsigned char)p[1]) || p[1] == '_')))
			return p;
	}
	return NULL;
}

static const char *char_name(char *buf, size_t size, char ch)
{
	if (ch == '\n')
		return "a newline";
	if (ch == '\r')
		return "a carriage return";
	if ((unsigned char)ch < 0x20 || ch == 0x7f)
		snprintf(buf, size, "the control character 0x%02x", (unsigned char)ch);
	else
		snprintf(buf, size, "'%c'", ch);
	return buf;
}

static bool all_of(const char *v, const char *extra)
{
	for (; *v; v++)
		if (!is_alnum((unsigned char)*v) && !strchr(extra, *v))
			return false;
	return true;
}

static bool digits(const char *v, size_t max)
{
	size_t n = strspn(v, "0123456789");

	return n && n <= max && !v[n];
}

/* The characters of a URL path and query (RFC 3986 pchar and '/', '?'), '$' checked before. */
#define URL_CHARS "-._~%!*()+,=:@/?&$"

/* An absolute path or "$1"-style capture path; no spaces. */
static bool path_ok(const char *v)
{
	return *v && all_of(v, "-._~%!*()+,=:@/?&$");
}

/* A DNS-1123 subdomain (object names) of at most max characters. */
static bool dns_name(const char *s, size_t n, size_t max)
{
	if (!n || n > max || s[0] == '-' || s[0] == '.' || s[n - 1] == '-' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '.'))
			return false;
	return true;
}

/*
 * Cluster DNS names of Services: <svc>.<ns>.svc[.<cluster domain>].  The
 * namespace of such a host into ns (lowercased), or "" when the host is not
 * one.  The short form <svc>.<ns> cannot be told from a public name; the
 * network policies are the line for it.
 */
static void service_ns(const char *host, size_t n, char *ns, size_t size)
{
	char h[256];
	const char *dot1, *dot2;
	size_t i;

	ns[0] = '\0';
	if (n >= sizeof(h))
		return;
	for (i = 0; i < n; i++)
		h[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] + 32 : host[i]);
	h[n] = '\0';
	if (n && h[n - 1] == '.')
		h[--n] = '\0';
	dot1 = strchr(h, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot2 || strncmp(dot2, ".svc", 4) || (dot2[4] && dot2[4] != '.'))
		return;
	if ((size_t)(dot2 - dot1 - 1) < size)
		snprintf(ns, size, "%.*s", (int)(dot2 - dot1 - 1), dot1 + 1);
}

/*
 * http(s)://host[:port][/path-and-query] where host is a name, an IPv6
 * literal or an nginx variable.  NULL when valid, else why not; the host
 * into host/hostlen.
 */
static const char *url_check(const char *v, bool vars, const char **host, size_t *hostlen)
{
	const char *p;

	if (!strncmp(v, "https://", 8))
		p = v + 8;
	else if (!strncmp(v, "http://", 7))
		p = v + 7;
	else
		return "is not an http:// or https:// URL";
	*host = p;
	if (*p == '[') {
		p += strspn(p + 1, "0123456789abcdefABCDEF:.") + 1;
		if (*p++ != ']')
			return "has an invalid IPv6 address";
	} else if (*p == '$' && vars) {
		p += 1 + strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_0123456789");
	} else {
		p += strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.");
	}
	*hostlen = (size_t)(p - *host);
	if (!*hostlen)
		return "has no host";
	if (*p == ':') {
		size_t n = strspn(p + 1, "0123456789");

		if (!n || n > 5)
			return "has an invalid port";
		p += 1 + n;
	}
	if (*p && *p != '/' && *p != '?' && !(*p == '$' && vars))
		return "has a character that is not allowed in a host";
	if (!all_of(p, URL_CHARS))
		return "has a character that is not allowed in a URL (spaces, '<', '>', '|', '^')";
	return NULL;
}

/* "namespace/name" or "name" of an object the controller reads. */
static void judge_ref(struct kt_pctx *c, const char *path, const char *key, const char *v,
		      const char *kind)
{
	const char *slash = strchr(v, '/');
	const char *name = slash ? slash + 1 : v;
	char q[96];

	if (slash && slash != v &&
	    !((size_t)(slash - v) == strlen(c->ns) && !strncmp(v, c->ns, strlen(c->ns)))) {
		kt_pctx_deny(c, "ingress.annotation-cross-namespace", path,
			     "%s names %s '%s' of another namespace; the ingress controller would "
			     "read it with its own rights: name a %s of namespace '%s' (just its name)",
			     key, kind, kt_pctx_q(q, sizeof(q), v), kind, c->ns);
		return;
	}
	if (!dns_name(name, strlen(name), 253) || (slash && !dns_name(v, (size_t)(slash - v), 63)))
		kt_pctx_deny(c, "ingress.annotation-value", path,
			     "%s '%s' is not the name of a %s ([namespace/]name, lowercase letters, "
			     "digits, '-' and '.')",
			     key, kt_pctx_q(q, sizeof(q), v), kind);
}

/*
 * A regular expression placed in an nginx "if": no braces (so no {n}
 * counts), quotes or spaces; a backslash only escapes punctuation or a class
 * letter; '$' only as the end anchor.
 */
static bool regex_ok(const char *v)
{
	for (const char *p = v; *p; p++) {
		if (*p == '\\') {
			if (!p[1] || !strchr(".*+?()[]|^$/-=:,@dDwWsS", p[1]))
				return false;
			p++;
			continue;
		}
		if (*p == '$' && p[1] && p[1] != ')' && p[1] != '|')
			return false;
		if (!is_alnum((unsigned char)*p) && !strchr(".-_*^$|()[]?+:=,/@", *p))
			return false;
	}
	return *v != '\0';
}

static bool go_bool(const char *v)
{
	static const char *const ok[] = { "1", "t", "T", "TRUE",  "true",  "True",
					  "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(v, ok[i]))
			return true;
	return false;
}

static const char *shape_name(const struct ann_rule *r)
{
	static _Thread_local char buf[96]; /* serve's pool and check -j judge at once */

	switch (r->shape) {
	case URL:
		return "an http:// or https:// URL";
	case URLP:
		return "an http:// or https:// URL or an absolute path";
	case PATH:
		return "a path (letters, digits, '/', '-', '.', '_', '~', '%')";
	case NUMBER:
		return "a number";
	case SIZE:
		return "a size (digits and one of b, k, m, g)";
	case BOOL:
		return "\"true\" or \"false\"";
	case ONOFF:
		return "\"on\" or \"off\"";
	case REGEX:
		return "a regular expression without braces, quotes or spaces";
	case CHARS:
		snprintf(buf, sizeof(buf), "letters, digits and only \"%s\"", r->extra);
		return buf;
	default:
		return "a plain value";
	}
}

/* Escape characters are refused already; what is left is the value's shape. */
static void judge_shape(struct kt_pctx *c, const char *path, const char *key, const char *v,
			const struct ann_rule *r)
{
	const char *why = NULL, *host = NULL;
	size_t hostlen = 0;
	char q[96], ns[64];
	bool ok = true;

	switch (r->shape) {
	case FREE:
		return;
	case REF:
		judge_ref(c, path, key, v, r->extra);
		return;
	case URL:
		why = url_check(v, r->vars, &host, &hostlen);
		break;
	case URLP:
		if ((*v == '/' && v[1] != '/') || (*v == '$' && r->vars))
			ok = path_ok(v);
		else
			why = url_check(v, r->vars, &host, &hostlen);
		break;
	case PATH:
		ok = path_ok(v) && *v == '/';
		break;
	case NUMBER:
		ok = digits(v, 10);
		break;
	case SIZE: {
		size_t n = strspn(v, "0123456789");

		ok = n && n <= 12 && (!v[n] || (strchr("bkmgBKMG", v[n]) && !v[n + 1]));
		break;
	}
	case BOOL:
		ok = go_bool(v);
		break;
	case ONOFF:
		ok = !strcmp(v, "on") || !strcmp(v, "off");
		break;
	case CHARS:
		ok = all_of(v, r->extra);
		break;
	case REGEX:
		if (strcmp(r->name, "auth-tls-match-cn"))
			ok = regex_ok(v);
		else if (strncmp(v, "CN=", 3) || !regex_ok(v + 3))
			why = "is not CN= followed by a regular expression without braces, quotes or "
			      "spaces";
		break;
	}
	if (why || !ok) {
		kt_pctx_deny(c, "ingress.annotation-value", path, "%s '%s' %s%s", key,
			     kt_pctx_q(q, sizeof(q), v), why ? why : "must be ",
			     why ? "" : shape_name(r));
		return;
	}
	if (host && hostlen) {
		service_ns(host, hostlen, ns, sizeof(ns));
		if (*ns && strcmp(ns, c->ns))
			kt_pctx_deny(c, "ingress.annotation-cross-namespace", path,
				     "%s '%s' sends requests to a Service of namespace '%s' through the "
				     "shared ingress controller; use a Service of namespace '%s' or a "
				     "public URL",
				     key, kt_pctx_q(q, sizeof(q), v), ns, c->ns);
	}
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

void kt_annotations_ingress(struct kt_pctx *c)
{
	struct kt_jv ann = c->ann, a;
	char path[KT_PCTX_PATH_MAX], q[96], cn[40];
	const char *key;

	/* annotation values are strings: judge() checked */
	for (a = kt_jv_first(ann); kt_jv_ok(a) && (key = kt_jv_key(a, NULL)); a = kt_jv_next(a)) {
		const char *v = kt_jv_str(a), *name = key + sizeof(NGINX_PREFIX) - 1, *bad;
		const struct ann_rule *r;

		kt_pctx_path(path, sizeof(path), "metadata.annotations[%s]",
			     kt_pctx_q(q, sizeof(q), key));
		if (!strncmp(key, "nginx.org/", 10) && strstr(key, "snippets")) {
			kt_pctx_deny(c, "ingress.annotation-snippet", path,
				     "configuration snippets inject raw nginx configuration into the "
				     "shared ingress controller (other tenants' hosts, secrets); "
				     "remove the annotation");
			continue;
		}
		if (strncmp(key, NGINX_PREFIX, sizeof(NGINX_PREFIX) - 1))
			continue;
		if (ends_with(name, "-snippet")) {
			kt_pctx_deny(c, "ingress.annotation-snippet", path,
				     "configuration snippets inject raw nginx configuration into the "
				     "shared ingress controller (other tenants' hosts, secrets); "
				     "remove the annotation");
			continue;
		}
		r = find_rule(name);
		if ((bad = breakout(v, r && r->vars, r && r->shape == REGEX))) {
			kt_pctx_deny(
				c, "ingress.annotation-injection", path,
				"%s has %s at offset %zu, which would end or escape its directive "
				"in the shared ingress controller's nginx configuration; remove it",
				key, char_name(cn, sizeof(cn), *bad), (size_t)(bad - v));
			continue;
		}
		if (r)
			judge_shape(c, path, key, v, r);
	}
}
