/*
 * login.h: `kubetenant login`, an OIDC client for kubectl's exec plugin.
 *
 * kt_login_token() returns an ID token for (issuer, client): from the cache
 * when the cached one still verifies, else through the refresh token, else
 * through a new login (authorization code + PKCE on a loopback redirect, or
 * the device authorization grant of RFC 8628).  Every ID token is verified
 * with kt_jwt_verify() against the issuer's keys (kt/oidc.h), the code the
 * proxy runs, before it is cached or handed out; the cache is one file per
 * issuer, client and --user, mode 0600, replaced atomically, and locked so
 * that two kubectl processes starting at once log in once.
 *
 * Tokens never reach stderr or a log: messages name what failed, not what
 * was sent.
 */
#ifndef KT_LOGIN_H
#define KT_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include "kt/err.h"

#define KT_LOGIN_MAX_ANSWER (64u << 10) /* a token or device endpoint answer */
#define KT_LOGIN_MAX_CACHE (64u << 10)
#define KT_LOGIN_MAX_REQUEST 8192 /* the browser's request on the loopback */

/* What went wrong, each with its own exit status in cmd/login.c. */
enum kt_login_fail {
	KT_LOGIN_OK = 0,
	KT_LOGIN_UNREACHABLE, /* issuer down, TLS failure, malformed answer */
	KT_LOGIN_DENIED,      /* consent or device request denied */
	KT_LOGIN_EXPIRED,     /* device code expired, or no answer before --timeout */
	KT_LOGIN_REFUSED,     /* the ID token failed verification (issuer, audience, signature) */
	KT_LOGIN_SKEW,        /* a fresh token is expired or not yet valid: the clock is off */
	KT_LOGIN_REVOKED,     /* the refresh token was refused (only seen with no_login) */
	KT_LOGIN_CACHE,       /* the cache directory cannot be used */
	KT_LOGIN_INTERNAL,
};

struct kt_login_opts {
	const char *issuer, *client_id;
	const char *ca_file;   /* CA bundle for the issuer; NULL: system CAs */
	const char *scopes;    /* space separated, "openid" included */
	const char *cache_dir; /* NULL: $XDG_CACHE_HOME/kubetenant or ~/.cache/kubetenant */
	const char *user;      /* separates sessions of several accounts; may be NULL */
	const char *browser;   /* command that opens a URL; NULL: none can run */
	bool device;           /* the device grant even when a browser can run */
	bool print_url;        /* no browser, but the loopback flow: the member opens the URL */
	bool no_login;         /* cache and refresh only */
	long long timeout;     /* seconds to wait for the member */
	long long skew;        /* seconds allowed for iat and nbf */
};

/* A verified ID token: token (heap, caller frees) and its exp. */
struct kt_login_token {
	char *id_token;
	long long exp;
};

enum kt_login_fail kt_login_token(const struct kt_login_opts *o, struct kt_login_token *out,
				  struct kt_err *err);

/* Remove the cached session (refresh token included). */
enum kt_login_fail kt_login_logout(const struct kt_login_opts *o, struct kt_err *err);

/* The cache file of a session, into buf; false when it does not fit or no home. */
bool kt_login_cache_path(const struct kt_login_opts *o, char *buf, size_t size);

/*
 * The token endpoint's answer (RFC 6749 5.1 and 5.2).  On success, copies of
 * id_token and refresh_token (NULL when absent); an OAuth error becomes its
 * kt_login_fail (invalid_grant: REVOKED, access_denied: DENIED, ...), with
 * *pending set for authorization_pending and slow_down (*slow_down for the
 * latter) so the device grant's poll can go on.
 */
struct kt_login_answer {
	char *id_token, *refresh_token;
	bool pending, slow_down;
};
void kt_login_answer_release(struct kt_login_answer *a);
enum kt_login_fail kt_login_parse_token(const char *json, size_t len, struct kt_login_answer *a,
					struct kt_err *err);

/* The device authorization endpoint's answer (RFC 8628 3.2). */
struct kt_login_device {
	char *device_code, *user_code, *verification_uri, *verification_uri_complete;
	long long expires_in, interval;
};
void kt_login_device_release(struct kt_login_device *d);
enum kt_login_fail kt_login_parse_device(const char *json, size_t len, struct kt_login_device *d,
					 struct kt_err *err);

/*
 * The public ConfigMap kube-public/kubetenant-info that render emits (like
 * kubeadm's cluster-info), read anonymously for `kubeconfig --from-cluster`:
 * data.issuerURL, clientID, proxyURL (https://), ca.crt (PEM, optional) and
 * cluster.
 */
struct kt_cluster_info {
	char *issuer, *client_id, *proxy_url, *ca_pem, *cluster;
};
void kt_cluster_info_release(struct kt_cluster_info *ci);
enum kt_rc kt_cluster_info_parse(const char *json, size_t len, struct kt_cluster_info *ci,
				 struct kt_err *err);
/* GET <api>/api/v1/namespaces/kube-public/configmaps/kubetenant-info, verified with ca_file */
enum kt_rc kt_cluster_info_fetch(const char *api, const char *ca_file, struct kt_cluster_info *ci,
				 struct kt_err *err);

#endif
