/*
 * headers.c: what the proxy forwards, and what it refuses.
 *
 * The archived kube-oidc-proxy forwarded a client's Impersonate-Uid and
 * Impersonate-Extra-* headers next to its own; here no client header can
 * reach the API server with an identity meaning: Impersonate-* refuses the
 * whole request (403), and every other identity-carrying header is removed.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "kt/proxy.h"

/* Lowercase, '_' as '-': "IMPERSONATE_USER" and "impersonate-user" are one name to us. */
static void fold(const char *name, char *buf, size_t size)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < size; i++)
		buf[i] = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
	buf[i] = 0;
}

static bool starts(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strlen(s) >= n && !memcmp(s, prefix, n);
}

static bool is_token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return false;
	return true;
}

static bool value_ok(const char *v)
{
	for (; *v; v++)
		if (*v == '\r' || *v == '\n')
			return false;
	return true;
}

static const char *const dropped[] = {
	"authorization",  "proxy-authorization", "cookie",
	"forwarded",      "x-real-ip",           "connection",
	"keep-alive",     "proxy-connection",    "te",
	"trailer",        "transfer-encoding",   "upgrade",
	"host",           "content-length",      "expect",
	"http2-settings",
};

/* Is `name` (folded) listed in one of the Connection header values? */
static bool named_by_connection(const struct kt_hdr *in, size_t n, const char *name)
{
	char buf[256];
	size_t i, len = strlen(name);

	for (i = 0; i < n; i++) {
		const char *p;

		if (strcasecmp(in[i].name, "connection"))
			continue;
		fold(in[i].value, buf, sizeof(buf));
		for (p = buf; (p = strstr(p, name)); p += len) {
			bool left = p == buf || p[-1] == ',' || p[-1] == ' ' || p[-1] == '\t';
			char r = p[len];

			if (left && (!r || r == ',' || r == ' ' || r == '\t'))
				return true;
		}
	}
	return false;
}

static enum kt_rc add(struct kt_buf *out, size_t *count, const char *name, const char *value)
{
	/* no printf: this runs for every header of every request */
	if (kt_buf_adds(out, name) || kt_buf_adds(out, ": ") || kt_buf_adds(out, value) ||
	    kt_buf_addch(out, 0))
		return KT_E_NOMEM;
	(*count)++;
	return KT_OK;
}

static bool contains_ci(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle), i;

	for (i = 0; i + m <= n; i++)
		if (!strncasecmp(s + i, needle, m))
			return true;
	return false;
}

/*
 * The API server also takes a bearer token from a WebSocket subprotocol
 * ("base64url.bearer.authorization.k8s.io.<token>", for browsers).  Such an
 * entry would smuggle a second credential past the proxy, so every entry
 * that mentions it anywhere is removed; the header goes only if other
 * protocols remain.
 */
static enum kt_rc add_ws_protocols(struct kt_buf *out, size_t *count, const char *name,
				   const char *value)
{
	static const char bearer[] = "bearer.authorization.k8s.io";
	size_t start = out->len, kept = 0;
	const char *p = value, *e;

	if (kt_buf_addf(out, "%s: ", name))
		return KT_E_NOMEM;
	while (*p) {
		const char *b, *t;

		e = p + strcspn(p, ",");
		for (b = p; b < e && (*b == ' ' || *b == '\t'); b++)
			;
		for (t = e; t > b && (t[-1] == ' ' || t[-1] == '\t'); t--)
			;
		if (t > b && !contains_ci(b, (size_t)(t - b), bearer)) {
			if ((kept && kt_buf_adds(out, ", ")) || kt_buf_add(out, b, (size_t)(t - b)))
				return KT_E_NOMEM;
			kept++;
		}
		p = *e ? e + 1 : e;
	}
	if (!kept) { /* nothing left to offer */
		out->len = start;
		out->buf[start] = 0;
		return KT_OK;
	}
	if (kt_buf_addch(out, 0))
		return KT_E_NOMEM;
	(*count)++;
	return KT_OK;
}

/* Impersonate-Extra-<key>: Kubernetes percent-decodes the key, so encode what is not a token char. */
static enum kt_rc add_extra(struct kt_buf *out, size_t *count, const char *key, const char *value)
{
	static const char keep[] = "!#$&'*+-.^_`|~";
	const unsigned char *k;

	if (kt_buf_adds(out, "Impersonate-Extra-"))
		return KT_E_NOMEM;
	for (k = (const unsigned char *)key; *k; k++) {
		enum kt_rc rc = isalnum(*k) || strchr(keep, *k)
					? kt_buf_addch(out, (char)tolower(*k))
					: kt_buf_addf(out, "%%%02X", *k);
		if (rc)
			return rc;
	}
	if (kt_buf_addf(out, ": %s", value) || kt_buf_addch(out, 0))
		return KT_E_NOMEM;
	(*count)++;
	return KT_OK;
}

static enum kt_rc add_identity(const struct kt_proxy_ident *ident, struct kt_buf *out,
			       size_t *count)
{
	const struct kt_identity *id = ident->id;
	enum kt_rc rc = KT_OK;
	size_t i;

	if (!id || !id->user)
		return KT_E_INTERNAL;
	rc = add(out, count, "Impersonate-User", id->user);
	for (i = 0; !rc && i < id->n_groups; i++)
		rc = add(out, count, "Impersonate-Group", id->groups[i]);
	/* the API server adds it for real logins, not for impersonated ones */
	if (!rc)
		rc = add(out, count, "Impersonate-Group", "system:authenticated");
	for (i = 0; !rc && i < ident->n_extra; i++)
		rc = add_extra(out, count, ident->extra[i].name, ident->extra[i].value);
	if (!ident->client_ip || !*ident->client_ip)
		return rc;
	if (!rc && ident->extra_client_ip)
		rc = add_extra(out, count, "remote-client-ip", ident->client_ip);
	if (!rc)
		rc = add(out, count, "X-Forwarded-For", ident->client_ip);
	return rc;
}

enum kt_rc kt_proxy_filter_headers(const struct kt_hdr *in, size_t n, bool upgrade,
				   const struct kt_proxy_ident *ident, struct kt_buf *out,
				   size_t *count, const char **reason)
{
	char name[256];
	size_t i, j;
	enum kt_rc rc;

	if (count)
		*count = 0;
	*reason = NULL;
	/*
	 * Checks first, so nothing is emitted for a refused request; an
	 * impersonation attempt is reported as such (403) wherever it sits
	 * among malformed headers.
	 */
	for (i = 0; i < n; i++) {
		fold(in[i].name, name, sizeof(name));
		if (starts(name, "impersonate-")) {
			*reason = "impersonation_header";
			return KT_E_AUTH;
		}
	}
	for (i = 0; i < n; i++) {
		if (!is_token(in[i].name) || strlen(in[i].name) >= sizeof(name) ||
		    !value_ok(in[i].value)) {
			*reason = "bad_header";
			return KT_E_PARSE;
		}
	}
	if (n > KT_PROXY_MAX_HEADERS) {
		*reason = "bad_header";
		return KT_E_PARSE;
	}
	if (!ident)
		return KT_OK; /* only the checks were asked for */
	if (!out || !count)
		return KT_E_INVALID; /* an identity but nowhere to write: refuse, never crash */
	for (i = 0; i < n; i++) {
		bool drop = false;

		fold(in[i].name, name, sizeof(name));
		for (j = 0; j < sizeof(dropped) / sizeof(dropped[0]) && !drop; j++)
			drop = !strcmp(name, dropped[j]);
		drop = drop || starts(name, "x-remote-") || starts(name, "x-forwarded-") ||
		       starts(name, "proxy-");
		if (!drop && !upgrade)
			drop = named_by_connection(in, n, name);
		if (drop)
			continue;
		if (!strcmp(name, "sec-websocket-protocol"))
			rc = add_ws_protocols(out, count, in[i].name, in[i].value);
		else
			rc = add(out, count, in[i].name, in[i].value);
		if (rc)
			return rc;
	}
	if (upgrade) {
		for (i = 0; i < n; i++)
			if (!strcasecmp(in[i].name, "upgrade"))
				break;
		if (i == n) {
			*reason = "bad_header";
			return KT_E_PARSE;
		}
		if ((rc = add(out, count, "Upgrade", in[i].value)) ||
		    (rc = add(out, count, "Connection", "Upgrade")))
			return rc;
	}
	return add_identity(ident, out, count);
}

bool kt_proxy_drop_response_header(const char *name, bool upgrade)
{
	static const char *const hop[] = {
		"keep-alive",        "proxy-connection", "te",   "trailer",
		"transfer-encoding", "content-length",   "date", "http2-settings",
	};
	char f[64];
	size_t i;

	if (strlen(name) >= sizeof(f))
		return false;
	fold(name, f, sizeof(f));
	if (!strcmp(f, "connection") || !strcmp(f, "upgrade"))
		return !upgrade; /* a 101 must carry them; MHD sets Connection itself otherwise */
	for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (!strcmp(f, hop[i]))
			return true;
	return starts(f, "proxy-");
}

enum kt_rc kt_proxy_bearer(const char *value, const char **tok, size_t *len, const char **reason)
{
	const char *p, *e;

	if (!value || !*value) {
		*reason = "no_token";
		return KT_E_AUTH;
	}
	if (!strncasecmp(value, "basic ", 6) || !strcasecmp(value, "basic")) {
		*reason = "basic_auth";
		return KT_E_AUTH;
	}
	if (strncasecmp(value, "bearer ", 7)) {
		*reason = "bad_authorization";
		return KT_E_AUTH;
	}
	for (p = value + 7; *p == ' '; p++)
		;
	for (e = p; *e && *e != ' ' && *e != '\t'; e++)
		;
	if (e == p || *e) {
		*reason = e == p ? "no_token" : "bad_authorization";
		return KT_E_AUTH;
	}
	*tok = p;
	*len = (size_t)(e - p);
	return KT_OK;
}

/* Count the path segments after the API prefix; sets *watch for /watch/ paths. */
static int resource_depth(const char *path, bool *watch)
{
	char buf[512];
	char *seg[16], *s, *save = NULL;
	int n = 0, first;

	snprintf(buf, sizeof(buf), "%s", path);
	for (s = strtok_r(buf, "/", &save); s && n < 16; s = strtok_r(NULL, "/", &save))
		seg[n++] = s;
	if (n >= 2 && !strcmp(seg[0], "api"))
		first = 2;
	else if (n >= 3 && !strcmp(seg[0], "apis"))
		first = 3;
	else
		return -1; /* not a resource path */
	if (first < n && !strcmp(seg[first], "watch")) {
		*watch = true;
		first++;
	}
	if (n - first >= 3 && !strcmp(seg[first], "namespaces"))
		first += 2;
	return n - first;
}

const char *kt_proxy_verb(const char *method, const char *path, const char *query)
{
	bool watch = false;
	int depth;

	if (!method || !path)
		return "unknown";
	depth = resource_depth(path, &watch);
	if (query && (strstr(query, "watch=true") || strstr(query, "watch=1")))
		watch = depth >= 0;
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
		if (watch)
			return "watch";
		return depth == 1 ? "list" : "get";
	}
	if (!strcmp(method, "POST"))
		return "create";
	if (!strcmp(method, "PUT"))
		return "update";
	if (!strcmp(method, "PATCH"))
		return "patch";
	if (!strcmp(method, "DELETE"))
		return depth == 1 ? "deletecollection" : "delete";
	return "unknown";
}
