/*
 * proxy.c: `kubetenant proxy`'s HTTPS server (libmicrohttpd).
 *
 * Every request is authenticated here before a byte goes upstream:
 *   1. any Impersonate-* header: 403 (the client must not choose who it is);
 *   2. no "Authorization: Bearer" (or Basic): 401 with WWW-Authenticate;
 *   3. the token is verified (cache, then kt_jwt_verify; an unknown kid
 *      refreshes the key set at most every 10 seconds) or 401;
 * and only then forwarded (fwd.c) or tunnelled (tun.c) with
 * the identity as impersonation headers.  Paths are never looked at for a
 * decision: the API server authorizes the impersonated user.
 *
 * The event loops and their daemons live in loop.c; signals and the
 * certificate's reload are server/process.c's.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "kt/buf.h"
#include "internal.h"
#include "scope.h"
#include "tls.h"
#include "proxy.h"

#define KID_REFRESH_INTERVAL 10 /* seconds between JWKS fetches caused by unknown kids */
#define JWKS_REFRESH_INTERVAL 300

struct server {
	struct proxy p;
	int listen_fd;
	struct proxy_loop *loop;
	struct MHD_Daemon *metrics;
	pthread_t refresher;
	atomic_bool stop;
};

/* ---- authentication ---- */

struct hdr_list {
	struct kt_hdr v[KT_PROXY_MAX_HEADERS + 1];
	size_t n;
	const char *authz;
	int n_authz;
};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct hdr_list *l = cls;

	(void)kind;
	if (!strcasecmp(k, "authorization")) {
		l->authz = v;
		l->n_authz++;
	}
	if (l->n <= KT_PROXY_MAX_HEADERS)
		l->v[l->n++] = (struct kt_hdr){ k, v ? v : "" };
	return MHD_YES;
}

static bool is_upgrade(struct MHD_Connection *c)
{
	const char *conn = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Connection");
	const char *up = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upgrade");

	return up && conn && strcasestr(conn, "upgrade");
}

static enum MHD_Result refuse(struct proxy *p, struct MHD_Connection *c, struct preq *r,
			      unsigned code, const char *reason)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	r->status = code;
	r->reason = reason;
	if (code == 401 || code == 403)
		kt_proxy_count_auth_fail(&p->m, reason);
	resp = code == 401
		       ? kt_proxy_status_response(401, "Unauthorized", "Unauthorized")
		       : kt_proxy_status_response(code, code == 403 ? "Forbidden" : "BadRequest",
						  code == 403 ? "impersonation headers are not "
								"accepted by this proxy"
							      : "malformed request headers");
	if (!resp)
		return MHD_NO;
	if (code == 401)
		MHD_add_response_header(resp, "WWW-Authenticate",
					"Bearer realm=\"kubernetes\", error=\"invalid_token\"");
	ret = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static long long wall_now(void)
{
	return (long long)time(NULL);
}

/* Verify a token: cache first, then the key set, refreshing it on an unknown kid. */
static enum kt_jwt_fail authenticate(struct proxy *p, const char *tok, size_t len,
				     struct kt_identity *id)
{
	long long now = wall_now();
	enum kt_jwt_fail why = KT_JWT_NO_KEYS;
	struct kt_jwks *keys;
	int attempt;

	if (kt_jwt_cache_get(p->cache, tok, len, now, id)) {
		atomic_fetch_add_explicit(&p->m.cache_hits, 1, memory_order_relaxed);
		return KT_JWT_OK;
	}
	atomic_fetch_add_explicit(&p->m.cache_misses, 1, memory_order_relaxed);
	for (attempt = 0; attempt < 2; attempt++) {
		keys = kt_oidc_keys(p->oidc);
		kt_jwt_verify(&p->policy, keys, tok, len, now, id, &why, NULL);
		kt_jwks_unref(keys);
		if (why != KT_JWT_UNKNOWN_KID && why != KT_JWT_NO_KEYS)
			break;
		if (attempt || !kt_oidc_refresh_limited(p->oidc, now, KID_REFRESH_INTERVAL, NULL))
			break;
		atomic_fetch_add(&p->m.jwks[0], 1);
	}
	if (why == KT_JWT_OK)
		kt_jwt_cache_put(p->cache, tok, len, id);
	return why;
}

/* Steps 1-3 above; on success the forwarded headers are ready in r. */
static enum MHD_Result check(struct proxy *p, struct MHD_Connection *c, struct preq *r)
{
	static struct hdr_list zero;
	struct hdr_list *l = malloc(sizeof(*l));
	struct kt_proxy_ident ident = { 0 };
	const char *reason = NULL, *tok = NULL;
	enum MHD_Result ret = MHD_YES;
	enum kt_jwt_fail why;
	size_t len = 0;
	enum kt_rc rc;

	if (!l)
		return MHD_NO;
	*l = zero;
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect, l);
	r->upgrade = is_upgrade(c);
	/* refused before authentication: a valid token does not excuse the attempt */
	rc = kt_proxy_filter_headers(l->v, l->n, r->upgrade, NULL, NULL, NULL, &reason);
	if (rc == KT_E_AUTH) {
		ret = refuse(p, c, r, 403, reason);
		goto out;
	}
	if (rc == KT_E_PARSE) {
		ret = refuse(p, c, r, 400, reason);
		goto out;
	}
	if (l->n_authz > 1) {
		ret = refuse(p, c, r, 401, "bad_authorization");
		goto out;
	}
	if (kt_proxy_bearer(l->authz, &tok, &len, &reason)) {
		ret = refuse(p, c, r, 401, reason);
		goto out;
	}
	why = authenticate(p, tok, len, &r->id);
	if (why != KT_JWT_OK) {
		ret = refuse(p, c, r, 401, kt_jwt_fail_str(why));
		goto out;
	}
	ident.id = &r->id;
	ident.extra = p->opts->extra;
	ident.n_extra = p->opts->n_extra;
	ident.client_ip = r->client_ip;
	ident.extra_client_ip = p->opts->extra_client_ip;
	r->fwd_hdrs.max = 256u << 10;
	rc = kt_proxy_filter_headers(l->v, l->n, r->upgrade, &ident, &r->fwd_hdrs, &r->n_fwd_hdrs,
				     &reason);
	if (rc) {
		ret = refuse(p, c, r, rc == KT_E_AUTH ? 403 : 400, reason ? reason : "bad_header");
		goto out;
	}
	r->authed = true;
out:
	free(l);
	return ret;
}

/* ---- request dispatch ---- */

/* An answer of the core's handlers (server/health.c, server/prom.c), queued. */
static enum MHD_Result queue(struct MHD_Connection *c, struct preq *r, struct kt_http_resp *resp)
{
	struct MHD_Response *m = kt_http_response(resp);
	enum MHD_Result ret;

	if (!m)
		return MHD_NO;
	if (r)
		r->status = (unsigned)resp->status;
	ret = MHD_queue_response(c, (unsigned)resp->status, m);
	MHD_destroy_response(m);
	return ret;
}

static enum MHD_Result health(struct proxy *p, struct MHD_Connection *c, struct preq *r,
			      const char *method, const char *path)
{
	struct kt_jwks *k = kt_oidc_keys(p->oidc);
	struct kt_http_resp resp = { .body = KT_BUF_INIT };

	if (!kt_health_answer(method, path, atomic_load(&p->draining),
			      k ? NULL : "key set not loaded", NULL, &resp))
		kt_http_text(&resp, 404, "not found");
	kt_jwks_unref(k);
	return queue(c, r, &resp);
}

static bool is_health(const char *uri)
{
	return !strcmp(uri, "/healthz") || !strcmp(uri, "/readyz");
}

/*
 * The target goes upstream byte for byte (and into the tunnel's request
 * line), so only origin-form with visible ASCII passes: no absolute URLs,
 * no spaces or control bytes that could split a request line.
 */
static bool target_ok(const char *uri)
{
	const unsigned char *u = (const unsigned char *)uri;

	if (*u != '/')
		return false;
	for (; *u; u++)
		if (*u <= 0x20 || *u >= 0x7f || *u == '#')
			return false;
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct proxy *p = ((struct proxy_worker *)cls)->p;
	struct preq *r = *con_cls;

	(void)url;
	(void)version;
	if (!r)
		return MHD_NO;
	if (!r->method) { /* first call: headers only */
		r->method = method;
		if (!target_ok(r->uri) ||
		    strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(method))
			return refuse(p, c, r, 400, "bad_request_target");
		if (!strcmp(method, "GET") && is_health(r->uri)) {
			r->logged = true; /* probes are not audited */
			r->probe = true;
			return MHD_YES;
		}
		if (p->opts->ui && kt_proxy_ui_match(r->uri))
			return kt_proxy_ui_serve(c, r); /* any body is discarded below */
		if (check(p, c, r) != MHD_YES)
			return MHD_NO;
		if (!r->authed)
			return MHD_YES; /* a refusal is queued */
		if (r->upgrade) {
			const char *cl =
				MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
			const char *up = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upgrade");

			/* only what kubectl speaks: WebSocket and SPDY (no h2c, no others) */
			if (strcasecmp(up, "websocket") && strncasecmp(up, "SPDY/", 5))
				return refuse(p, c, r, 400, "bad_upgrade");

			/* the tunnel sends no body, so none may be announced (SPDY sends 0) */
			if ((cl && strcmp(cl, "0")) ||
			    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding"))
				return refuse(p, c, r, 400, "upgrade_with_body");
			return kt_proxy_tunnel(c, r);
		}
		r->body.max = (size_t)p->opts->max_body;
		return MHD_YES;
	}
	if (r->probe) { /* answered when the whole request is in: the connection stays open */
		if (*upload_size) {
			*upload_size = 0;
			return MHD_YES;
		}
		return r->status ? MHD_YES : health(p, c, r, r->method, r->uri);
	}
	if (r->tun)
		return kt_proxy_tunnel_answer(c, r);
	if (r->fwd)
		return kt_proxy_forward_resume(c, r);
	if (!r->authed || r->status)
		return MHD_YES; /* refused already: discard the body */
	if (*upload_size) {
		if (kt_buf_add(&r->body, upload, *upload_size))
			r->body_too_large = true;
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->body_too_large)
		return kt_proxy_queue_status(c, r, 413, "RequestEntityTooLarge",
					     "request body too large");
	return kt_proxy_forward(c, r);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct proxy_worker *w = cls;
	struct proxy *p = w->p;
	const union MHD_ConnectionInfo *ci;
	struct preq *r = calloc(1, sizeof(*r));
	const struct sockaddr *sa;

	if (!r)
		return NULL;
	r->p = p;
	r->w = w;
	r->uri = strdup(uri);
	if (!r->uri) {
		free(r);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci ? ci->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  r->client_ip, sizeof(r->client_ip));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  r->client_ip, sizeof(r->client_ip));
	atomic_fetch_add(&p->inflight, 1);
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct proxy *p = ((struct proxy_worker *)cls)->p;
	struct preq *r = *con_cls;

	(void)c;
	if (!r)
		return;
	*con_cls = NULL;
	if (!r->status)
		r->status = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? 200 : 499;
	if (!r->logged) {
		kt_proxy_count_status(&p->m, r->status);
		kt_proxy_audit(r, kt_proxy_verb(r->method, r->uri, strchr(r->uri, '?')));
	} else if (r->status == 101) {
		kt_proxy_count_status(&p->m, 101);
	}
	kt_proxy_fwd_uncork(r);
	kt_proxy_fwd_release(r);
	kt_proxy_tunnel_abandon(r);
	kt_identity_release(&r->id);
	kt_buf_release(&r->body);
	kt_buf_release(&r->fwd_hdrs);
	free(r->uri);
	free(r);
	atomic_fetch_sub(&p->inflight, 1);
}

/* ---- metrics listener ---- */

static enum MHD_Result on_metrics(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct proxy *p = cls;
	struct kt_http_resp resp = { .body = KT_BUF_INIT };

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	if (is_health(url))
		return health(p, c, NULL, method, url);
	if (strcmp(url, "/metrics"))
		kt_http_text(&resp, 404, "not found");
	else if (kt_prom_answer(&p->m.reg, method, &resp))
		kt_http_text(&resp, 500, "cannot render the metrics");
	return queue(c, NULL, &resp);
}

/* ---- sockets, TLS files, daemons ---- */

/* Each connection pins the certificate it was accepted with (server/tls.c). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct proxy *p = ((struct proxy_worker *)cls)->p;

	(void)c;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		*socket_ctx = kt_tls_conn_open(p->tls);
	else if (*socket_ctx)
		kt_tls_conn_close(p->tls, *socket_ctx);
}

/*
 * External epoll mode: its event loop (loop.c) runs the daemon, so a
 * request waiting for the API server is a suspended connection, not a
 * blocked thread.  The loop hands it its connections (MHD_add_connection),
 * so every loop gets its share.  The certificate comes from a callback per
 * handshake, so a renewal needs no new daemon.
 */
struct MHD_Daemon *kt_proxy_daemon_start(struct proxy_worker *w)
{
	kt_tls_activate(w->p->tls);
	return MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_TLS | MHD_ALLOW_SUSPEND_RESUME |
					MHD_USE_NO_LISTEN_SOCKET,
				0, NULL, NULL, on_request, w, MHD_OPTION_HTTPS_CERT_CALLBACK,
				kt_tls_retrieve, MHD_OPTION_HTTPS_PRIORITIES, KT_TLS_PRIORITIES,
				MHD_OPTION_URI_LOG_CALLBACK, on_uri, w, MHD_OPTION_NOTIFY_COMPLETED,
				on_completed, w, MHD_OPTION_NOTIFY_CONNECTION, on_connection, w,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64u << 10),
				MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_CONNECTION_LIMIT,
				2000u, MHD_OPTION_END);
}

static void *refresher(void *cls)
{
	struct server *s = cls;
	long long next = 0, now;

	while (!atomic_load(&s->stop)) {
		now = wall_now();
		if (now >= next) {
			struct kt_err err = { 0 };

			if (kt_oidc_refresh(s->p.oidc, now, &err)) {
				atomic_fetch_add(&s->p.m.jwks[1], 1);
				kt_log(KT_LOG_WARN, "cannot load the issuer's keys", "error",
				       err.msg, NULL);
				next = now + 5;
			} else {
				atomic_fetch_add(&s->p.m.jwks[0], 1);
				next = now + JWKS_REFRESH_INTERVAL;
			}
		}
		kt_proxy_scope_poll(&s->p, now);
		usleep(200 * 1000);
	}
	return NULL;
}

static void shutdown_all(struct server *s)
{
	long long deadline = wall_now() + s->p.opts->shutdown_grace;
	size_t i;

	atomic_store(&s->p.draining, true);
	kt_proxy_loop_drain(s->loop);
	/* streams end at once (draining); tunnels and short requests get the grace period */
	while (atomic_load(&s->p.inflight) > 0 && wall_now() < deadline)
		usleep(50 * 1000);
	atomic_store(&s->p.stop_tunnels, true);
	for (i = 0; i < 60 && atomic_load(&s->p.m.tunnels_open) > 0; i++)
		usleep(50 * 1000);
	kt_proxy_loop_stop(s->loop);
	s->loop = NULL;
	if (s->metrics)
		MHD_stop_daemon(s->metrics);
	atomic_store(&s->stop, true);
}

static enum kt_rc setup(struct server *s, struct kt_proxy_opts *o, struct kt_err *err)
{
	unsigned port;
	enum kt_rc rc;
	int mfd;

	s->p.opts = o;
	s->listen_fd = -1;
	kt_proxy_opts_policy(o, &s->p.policy);
	kt_proxy_metrics_init(&s->p);
	s->p.creds.token_file = o->token_file;
	pthread_mutex_init(&s->p.creds.lock, NULL);
	if ((rc = kt_proxy_upstream_init(&s->p.up, o, err)))
		return rc;
	if ((rc = kt_oidc_new(o->issuer_url, o->oidc_ca, &s->p.oidc, err)))
		return rc;
	if (!(s->p.cache = kt_jwt_cache_new(4096)))
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	if (o->token_file) {
		struct kt_buf probe = KT_BUF_INIT;
		bool ok = kt_proxy_creds_header(&s->p.creds, &probe);

		kt_buf_release(&probe);
		if (!ok)
			return kt_err_set(err, KT_E_IO, "cannot read a token from '%s'",
					  o->token_file);
	}
	if ((rc = kt_tls_new(o->tls_cert, o->tls_key, &s->p.tls, err)))
		return rc;
	if ((rc = kt_proxy_scope_init(&s->p, err)))
		return rc;
	if (o->check_only)
		return KT_OK;
	s->listen_fd = kt_http_listen(o->listen, &port, err);
	if (s->listen_fd < 0)
		return err ? err->rc : KT_E_IO;
	s->loop = kt_proxy_loop_start(&s->p, s->listen_fd, (unsigned)o->threads, err);
	if (!s->loop)
		return err && err->rc ? err->rc : KT_E_IO;
	if (o->metrics_listen && *o->metrics_listen && strcmp(o->metrics_listen, "off") &&
	    strcmp(o->metrics_listen, "none")) {
		mfd = kt_http_listen(o->metrics_listen, &port, err);
		if (mfd < 0)
			return err ? err->rc : KT_E_IO;
		s->metrics = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL,
					      on_metrics, &s->p, MHD_OPTION_LISTEN_SOCKET, mfd,
					      MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
		if (!s->metrics)
			return kt_err_set(err, KT_E_IO, "cannot start the metrics server");
	}
	if (pthread_create(&s->refresher, NULL, refresher, s))
		return kt_err_set(err, KT_E_NOMEM, "cannot start a thread");
	return KT_OK;
}

static void teardown(struct server *s)
{
	kt_oidc_free(s->p.oidc);
	kt_jwt_cache_free(s->p.cache);
	kt_proxy_upstream_release(&s->p.up);
	kt_proxy_creds_release(&s->p.creds);
	kt_tls_free(s->p.tls);
	kt_proxy_scope_release(&s->p);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	pthread_mutex_destroy(&s->p.m.lock);
}

static void drain(void *ctx, const sigset_t *sigs)
{
	(void)sigs; /* the grace period is --shutdown-grace, whatever comes next */
	shutdown_all(ctx);
}

enum kt_rc kt_proxy_serve(struct kt_proxy_opts *o, struct kt_err *err)
{
	struct server *s = calloc(1, sizeof(*s));
	struct kt_process proc = { .interval_s = 1, .drain = drain };
	sigset_t set;
	enum kt_rc rc;

	if (!s)
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	kt_process_signals(&set);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = setup(s, o, err);
	if (rc || o->check_only) {
		atomic_store(&s->stop, true);
		if (s->refresher)
			pthread_join(s->refresher, NULL);
		kt_proxy_loop_stop(s->loop);
		if (s->metrics)
			MHD_stop_daemon(s->metrics);
		teardown(s);
		free(s);
		return rc;
	}
	kt_log(KT_LOG_INFO, "listening", "listen", o->listen, "upstream", o->upstream, "issuer",
	       o->issuer_url, NULL);
	proc.tls = s->p.tls;
	proc.ctx = s;
	kt_process_run(&proc, &set);
	pthread_join(s->refresher, NULL);
	teardown(s);
	free(s);
	curl_global_cleanup();
	return KT_OK;
}
