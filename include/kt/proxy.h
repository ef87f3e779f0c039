/*
 * proxy.h: the pure parts of `kubetenant proxy`: its options, what happens
 * to each incoming header, and how a request is named in the audit log.
 *
 * The server adapter (server/proxy*.c) does the I/O; every decision that a
 * hostile client can influence is made here, without sockets, so it is unit
 * tested and fuzzed (test/fuzz/fuzz_headers.c).
 */
#ifndef KT_PROXY_H
#define KT_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include "kt/buf.h"
#include "kt/err.h"
#include "kt/jwt.h"

#define KT_PROXY_MAX_HEADERS 128 /* incoming headers per request */
#define KT_PROXY_MAX_EXTRAS 32   /* --extra and --required-claim entries */
#define KT_PROXY_MAX_AUDIENCES 8 /* --audience entries after the first */

/* Every option of `kubetenant proxy`; strings are owned (kt_proxy_opts_release). */
struct kt_proxy_opts {
	char *issuer_url, *audience, *oidc_ca;   /* audience: the first --audience */
	char *audiences[KT_PROXY_MAX_AUDIENCES]; /* every later one (owned) */
	size_t n_audiences;
	char *upstream, *upstream_ca, *token_file, *client_cert, *client_key;
	char *listen, *tls_cert, *tls_key, *metrics_listen;
	char *tenants; /* -f: scoped lists of namespaces, nodes, classes */
	char *username_claim, *username_prefix, *groups_claim, *groups_prefix;
	struct kt_jwt_claim required[KT_PROXY_MAX_EXTRAS]; /* owned strings */
	size_t n_required;
	struct kt_jwt_claim extra[KT_PROXY_MAX_EXTRAS]; /* Impersonate-Extra-<name> */
	size_t n_extra;
	unsigned algs;            /* kt_jwt_alg bits; 0 = RS256 */
	long long skew;           /* --clock-skew seconds */
	bool extra_client_ip;     /* Impersonate-Extra-Remote-Client-Ip */
	long long shutdown_grace; /* seconds tunnels may run after SIGTERM */
	long long max_body;       /* bytes of a request body */
	long long threads;        /* event loops; 0 = one per CPU */
	bool check_only;          /* --check-config: load the files, do not listen */
	bool ui;                  /* --ui: serve the dashboard under /ui/ */
	char *ui_client_id;       /* its OIDC client ID, also an accepted audience */
};

/* Defaults: listen 0.0.0.0:8443, metrics 0.0.0.0:9090, claims sub/groups, prefixes "oidc:". */
enum kt_rc kt_proxy_opts_init(struct kt_proxy_opts *o);
void kt_proxy_opts_release(struct kt_proxy_opts *o);

/*
 * Set one option by its long flag name ("issuer-url", "required-claim",
 * ...); lists ("audience", "required-claim", "extra", "allowed-alg") append,
 * everything else replaces; an empty audience forgets every one.  KT_E_INVALID names the option in err.
 */
enum kt_rc kt_proxy_opts_set(struct kt_proxy_opts *o, const char *name, const char *value,
			     struct kt_err *err);

/*
 * Apply a config file: a YAML mapping of the same long names to scalars, or
 * to sequences of scalars for the lists ("simple key: value" lines are YAML).
 */
enum kt_rc kt_proxy_opts_load(struct kt_proxy_opts *o, const char *path, struct kt_err *err);

/* Check that what must be given was given and that the choices fit together. */
enum kt_rc kt_proxy_opts_check(const struct kt_proxy_opts *o, struct kt_err *err);

/* Fill a token policy that borrows from o. */
void kt_proxy_opts_policy(const struct kt_proxy_opts *o, struct kt_jwt_policy *p);

/* One incoming header, borrowed from the server. */
struct kt_hdr {
	const char *name, *value;
};

/* What the proxy adds for the verified user; all borrowed. */
struct kt_proxy_ident {
	const struct kt_identity *id;
	const struct kt_jwt_claim *extra; /* static Impersonate-Extra-* */
	size_t n_extra;
	const char *client_ip; /* for X-Forwarded-For; may be NULL */
	bool extra_client_ip;  /* also as Impersonate-Extra-Remote-Client-Ip */
};

/*
 * Build the headers to send upstream.  Each goes to *out as "Name: value"
 * followed by a NUL byte (so the server can hand them to curl one by one or
 * join them with CRLF); *count says how many.
 *
 *  - any header whose name starts with "Impersonate-" (any case, '_' taken
 *    as '-') refuses the request: KT_E_AUTH, *reason "impersonation_header";
 *  - a name that is not an HTTP token, or a value with CR, LF or NUL,
 *    refuses it too (KT_E_PARSE, "bad_header");
 *  - Authorization, Proxy-Authorization, Cookie, X-Remote-*, X-Forwarded-*,
 *    Forwarded, X-Real-Ip, hop-by-hop headers, Host, Content-Length,
 *    Expect and every header named in Connection are dropped; for an
 *    upgrade request Upgrade is kept and Connection becomes "Upgrade";
 *  - bearer tokens inside Sec-WebSocket-Protocol
 *    ("base64url.bearer.authorization.k8s.io.*") are removed;
 *  - Impersonate-User, one Impersonate-Group per group then
 *    system:authenticated, the Impersonate-Extra-* entries (keys
 *    percent-encoded as Kubernetes expects) and X-Forwarded-For follow.
 * The caller adds its own Authorization and Host.  With ident == NULL only
 * the refusal checks run (out and count may then be NULL too), so a server
 * can refuse an impersonation attempt before it authenticates anyone.  With
 * an identity, a NULL out or count is refused (KT_E_INVALID).
 */
enum kt_rc kt_proxy_filter_headers(const struct kt_hdr *in, size_t n, bool upgrade,
				   const struct kt_proxy_ident *ident, struct kt_buf *out,
				   size_t *count, const char **reason);

/* True when an upstream response header must not be relayed (hop-by-hop, length, date). */
bool kt_proxy_drop_response_header(const char *name, bool upgrade);

/*
 * Find the bearer token in an Authorization value.  KT_OK sets *tok (borrowed
 * from value) and *len; otherwise KT_E_AUTH with *reason "no_token",
 * "basic_auth" or "bad_authorization".
 */
enum kt_rc kt_proxy_bearer(const char *value, const char **tok, size_t *len, const char **reason);

/*
 * The API server's answer to an upgrade request, read off a TLS connection
 * of the proxy's own (lib/proxy/upstream.c).  kt_proxy_parse_head: 1 with
 * *h filled, 0 when buf holds no whole head yet, -1 when it is not an
 * HTTP/1.x response head (a NUL, a bad status line or Content-Length).
 */
struct kt_http_head {
	unsigned status;
	size_t head_len; /* bytes up to and including the blank line */
	long long clen;  /* Content-Length, -1 when absent */
	bool chunked;
};
int kt_proxy_parse_head(const char *buf, size_t len, struct kt_http_head *h);
/* Append a chunked body's data to out; false when incomplete or malformed. */
bool kt_proxy_dechunk(const char *in, size_t len, struct kt_buf *out);
/*
 * Call fn for each header line of a parsed head that has a name (under 128
 * bytes) and no stray CR or LF; value is the line's value, leading blanks
 * skipped.  Others are left out.
 */
void kt_proxy_head_fields(const char *buf, const struct kt_http_head *h,
			  void (*fn)(const char *name, const char *line, size_t line_len,
				     const char *value, size_t value_len, void *arg),
			  void *arg);
/* The 101 to relay to the client: status line, headers less hop-by-hop ones, blank line. */
enum kt_rc kt_proxy_head_101(const char *buf, const struct kt_http_head *h, struct kt_buf *out);

/* Kubernetes verb of a request, for the audit log only: "get", "list", "watch", ... */
const char *kt_proxy_verb(const char *method, const char *path, const char *query);

#endif
