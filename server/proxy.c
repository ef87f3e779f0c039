/*
 * proxy.c: `kubetenant proxy`'s HTTPS server (libmicrohttpd).
 *
 * Every request is authenticated here before a byte goes upstream:
 *   1. any Impersonate-* header: 403 (the client must not choose who it is);
 *   2. no "Authorization: Bearer" (or Basic): 401 with WWW-Authenticate;
 *   3. the token is verified (cache, then kt_jwt_verify; an unknown kid
 *      refreshes the key set at most every 10 seconds) or 401;
 * and only then forwarded (proxy_fwd.c) or tunnelled (proxy_tun.c) with
 * the identity as impersonation headers.  Paths are never looked at for a
 * decision: the API server authorizes the impersonated user.
 *
 * TLS reload: the certificate files are watched; on a change the running
 * daemon is quiesced (it keeps serving its open connections, tunnels and
 * watches included) and a new one takes over the listening socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "kt/buf.h"
#include "proxy.h"
#include "proxy_serve.h"

#define KID_REFRESH_INTERVAL 10 /* seconds between JWKS fetches caused by unknown kids */
#define JWKS_REFRESH_INTERVAL 300
#define MAX_OLD_DAEMONS 8
#define TLS_FILE_MAX (1u << 20)

struct tls_files {
	struct kt_buf cert, key;
	struct timespec cert_mtime, key_mtime;
};

/* A quiesced daemon, kept with the PEM it was started from until it drains. */
struct old_daemon {
	struct MHD_Daemon *d;
	struct tls_files tls;
};

struct server {
	struct proxy p;
	int listen_fd;
	struct MHD_Daemon *d, *metrics;
	struct old_daemon old[MAX_OLD_DAEMONS];
	struct tls_files tls;     /* what s->d was started from */
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
		proxy_count_auth_fail(&p->m, reason);
	resp = code == 401 ? proxy_status_response(401, "Unauthorized", "Unauthorized")
			   : proxy_status_response(code, code == 403 ? "Forbidden" : "BadRequest",
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
		atomic_fetch_add(&p->m.jwks_ok, 1);
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
	rc = kt_proxy_filter_headers(l->v, l->n, r->upgrade, &ident, &r->fwd_hdrs,
				     &r->n_fwd_hdrs, &reason);
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

static enum MHD_Result text(struct MHD_Connection *c, struct preq *r, unsigned code,
			    const char *body, const char *type)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	if (r)
		r->status = code;
	ret = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static bool ready(struct proxy *p)
{
	struct kt_jwks *k = kt_oidc_keys(p->oidc);
	bool ok = k != NULL;

	kt_jwks_unref(k);
	return ok && !atomic_load(&p->draining);
}

static enum MHD_Result health(struct proxy *p, struct MHD_Connection *c, struct preq *r,
			      const char *path)
{
	if (!strcmp(path, "/healthz") || !strcmp(path, "/livez"))
		return text(c, r, 200, "ok\n", "text/plain");
	if (ready(p))
		return text(c, r, 200, "ok\n", "text/plain");
	return text(c, r, 503, "key set not loaded\n", "text/plain");
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
	struct proxy *p = cls;
	struct preq *r = *con_cls;
	const union MHD_ConnectionInfo *ci;

	(void)url;
	(void)version;
	if (!r)
		return MHD_NO;
	if (!r->method) { /* first call: headers only */
		r->method = method;
		if (!target_ok(r->uri) || strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
						 strlen(method))
			return refuse(p, c, r, 400, "bad_request_target");
		if (!strcmp(method, "GET") && is_health(r->uri)) {
			r->logged = true; /* probes are not audited */
			return health(p, c, r, r->uri);
		}
		if (check(p, c, r) != MHD_YES)
			return MHD_NO;
		if (!r->authed)
			return MHD_YES; /* a refusal is queued */
		if (r->upgrade) {
			const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								     "Content-Length");
			const char *up = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upgrade");

			/* only what kubectl speaks: WebSocket and SPDY (no h2c, no others) */
			if (strcasecmp(up, "websocket") && strncasecmp(up, "SPDY/", 5))
				return refuse(p, c, r, 400, "bad_upgrade");

			/* the tunnel sends no body, so none may be announced (SPDY sends 0) */
			if ((cl && strcmp(cl, "0")) ||
			    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding"))
				return refuse(p, c, r, 400, "upgrade_with_body");
			return proxy_tunnel(p, c, r);
		}
		r->body.max = (size_t)p->opts->max_body;
		return MHD_YES;
	}
	if (!r->authed || r->status)
		return MHD_YES; /* refused already: discard the body */
	if (*upload_size) {
		if (kt_buf_add(&r->body, upload, *upload_size))
			r->body_too_large = true;
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->body_too_large)
		return proxy_queue_status(c, r, 413, "RequestEntityTooLarge",
					  "request body too large");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return proxy_forward(p, c, r, ci ? ci->socket_context : NULL);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct proxy *p = cls;
	const union MHD_ConnectionInfo *ci;
	struct preq *r = calloc(1, sizeof(*r));
	const struct sockaddr *sa;

	if (!r)
		return NULL;
	r->p = p;
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
	struct proxy *p = cls;
	struct preq *r = *con_cls;

	(void)c;
	if (!r)
		return;
	*con_cls = NULL;
	if (!r->status)
		r->status = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? 200 : 499;
	if (!r->logged) {
		proxy_count_status(&p->m, r->status);
		proxy_audit(r, kt_proxy_verb(r->method, r->uri, strchr(r->uri, '?')));
	} else if (r->status == 101) {
		proxy_count_status(&p->m, 101);
	}
	proxy_fwd_release(r);
	proxy_tunnel_abandon(r);
	kt_identity_release(&r->id);
	kt_buf_release(&r->body);
	kt_buf_release(&r->fwd_hdrs);
	free(r->uri);
	free(r);
	atomic_fetch_sub(&p->inflight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct pconn *pc = *socket_context;

	(void)cls;
	(void)c;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = calloc(1, sizeof(struct pconn));
	} else if (pc) {
		proxy_conn_release(pc);
		free(pc);
		*socket_context = NULL;
	}
}

/* ---- metrics listener ---- */

static enum MHD_Result on_metrics(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct proxy *p = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len;
	char *body;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	if (strcmp(method, "GET"))
		return text(c, NULL, 405, "method not allowed\n", "text/plain");
	if (is_health(url))
		return health(p, c, NULL, url);
	if (strcmp(url, "/metrics"))
		return text(c, NULL, 404, "not found\n", "text/plain");
	body = proxy_metrics_render(p, &len);
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4");
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- sockets, TLS files, daemons ---- */

static int listen_on(const char *addr, struct kt_err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res = NULL;
	const char *colon = strrchr(addr, ':');
	char host[256];
	int fd = -1, one = 1, e;

	if (!colon || !colon[1])
		return kt_err_set(err, KT_E_INVALID, "listen address '%s' is not ADDR:PORT", addr),
		       -1;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	e = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
	if (e)
		return kt_err_set(err, KT_E_INVALID, "listen address '%s': %s", addr,
				  gai_strerror(e)),
		       -1;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 512)) {
			kt_err_set(err, KT_E_IO, "cannot listen on '%s': %s", addr,
				   strerror(errno));
			close(fd);
			fd = -1;
		}
	} else {
		kt_err_set(err, KT_E_IO, "cannot listen on '%s': %s", addr, strerror(errno));
	}
	freeaddrinfo(res);
	return fd;
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static void tls_release(struct tls_files *t)
{
	kt_buf_release(&t->cert);
	kt_buf_release(&t->key);
}

/*
 * Read the pair into *next when it differs from *cur (by mtime): 1 when
 * read, 0 when unchanged, -1 (err set) when either file is unreadable.
 */
static int tls_read(const struct tls_files *cur, struct tls_files *next,
		    const struct kt_proxy_opts *o, struct kt_err *err)
{
	struct stat sc, sk;

	if (stat(o->tls_cert, &sc) || stat(o->tls_key, &sk)) {
		kt_err_set(err, KT_E_IO, "cannot read the TLS files '%s', '%s'", o->tls_cert,
			   o->tls_key);
		return -1;
	}
	if (cur->cert.len && same_time(&sc.st_mtim, &cur->cert_mtime) &&
	    same_time(&sk.st_mtim, &cur->key_mtime))
		return 0;
	next->cert_mtime = sc.st_mtim;
	next->key_mtime = sk.st_mtim;
	if (kt_buf_read_file(&next->cert, o->tls_cert, TLS_FILE_MAX, err) ||
	    kt_buf_read_file(&next->key, o->tls_key, TLS_FILE_MAX, err) ||
	    !strstr(next->cert.buf, "-----BEGIN") || !strstr(next->key.buf, "-----BEGIN")) {
		tls_release(next);
		if (err && !err->msg[0])
			kt_err_set(err, KT_E_INVALID, "'%s' or '%s' is not PEM", o->tls_cert,
				   o->tls_key);
		return -1;
	}
	return 1;
}

/*
 * Each daemon gets its own duplicate of the listening socket: libmicrohttpd
 * closes the socket it was given when it fails to start, and the original
 * must survive that to serve on with the old certificate.
 */
static struct MHD_Daemon *start_main(struct server *s, const struct tls_files *t)
{
	int fd = fcntl(s->listen_fd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		return NULL;
	return MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS |
			MHD_ALLOW_UPGRADE | MHD_USE_ITC | MHD_USE_AUTO,
		0, NULL, NULL, on_request, &s->p, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_HTTPS_MEM_CERT, t->cert.buf, MHD_OPTION_HTTPS_MEM_KEY, t->key.buf,
		MHD_OPTION_HTTPS_PRIORITIES,
		"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", MHD_OPTION_URI_LOG_CALLBACK, on_uri,
		&s->p, MHD_OPTION_NOTIFY_COMPLETED, on_completed, &s->p,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, &s->p,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64u << 10),
		MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_CONNECTION_LIMIT, 2000u,
		MHD_OPTION_END);
}

/* A renewal caught half-written must not replace a working pair. */
static bool pair_ok(const struct tls_files *t)
{
	BIO *cb = BIO_new_mem_buf(t->cert.buf, (int)t->cert.len);
	BIO *kb = BIO_new_mem_buf(t->key.buf, (int)t->key.len);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	bool ok = x && k && X509_check_private_key(x, k) == 1;

	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(cb);
	BIO_free(kb);
	ERR_clear_error();
	return ok;
}

/*
 * Quiesce the running daemon (it finishes its connections on the old
 * certificate) and start a new one on the same socket.  A pair the TLS
 * library rejects (a half-written renewal) leaves the old one serving.
 */
static void reload_tls(struct server *s)
{
	struct tls_files next = { 0 };
	struct kt_err err = { 0 };
	struct MHD_Daemon *nd;
	size_t i;
	int rc, qfd;

	rc = tls_read(&s->tls, &next, s->p.opts, &err);
	if (rc < 0)
		proxy_log("warn", "tls reload skipped", "error", err.msg, NULL);
	if (rc <= 0)
		return;
	for (i = 0; i < MAX_OLD_DAEMONS && s->old[i].d; i++)
		;
	if (!pair_ok(&next)) {
		proxy_log("error", "tls reload failed: the new certificate and key do not form a "
				   "valid pair; keeping the old one", "cert", s->p.opts->tls_cert, NULL);
		s->tls.cert_mtime = next.cert_mtime; /* retried when the files change again */
		s->tls.key_mtime = next.key_mtime;
		tls_release(&next);
		return;
	}
	if (i == MAX_OLD_DAEMONS || (qfd = MHD_quiesce_daemon(s->d)) < 0) {
		proxy_log("warn", "tls reload postponed: old connections still draining", NULL);
		tls_release(&next);
		return;
	}
	close(qfd); /* that daemon's duplicate of the listening socket */
	nd = start_main(s, &next);
	if (!nd) {
		proxy_log("error", "tls reload failed: the new key pair was rejected; keeping the "
				   "old one", "cert", s->p.opts->tls_cert, NULL);
		/* the quiesced daemon cannot accept again: a fresh one takes the old pair */
		nd = start_main(s, &s->tls);
		s->tls.cert_mtime = next.cert_mtime; /* retried when the files change again */
		s->tls.key_mtime = next.key_mtime;
		tls_release(&next);
		if (!nd) {
			proxy_log("error", "cannot restart the listener", NULL);
			return; /* s->d keeps serving its open connections; readiness stays */
		}
		s->old[i] = (struct old_daemon){ .d = s->d };
		s->d = nd;
		return;
	}
	s->old[i] = (struct old_daemon){ .d = s->d, .tls = s->tls };
	s->d = nd;
	s->tls = next;
	proxy_log("info", "tls certificate reloaded", "cert", s->p.opts->tls_cert, NULL);
}

static void reap_old(struct server *s)
{
	const union MHD_DaemonInfo *di;
	size_t i;

	for (i = 0; i < MAX_OLD_DAEMONS; i++) {
		if (!s->old[i].d)
			continue;
		di = MHD_get_daemon_info(s->old[i].d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (di && di->num_connections == 0) {
			MHD_stop_daemon(s->old[i].d);
			tls_release(&s->old[i].tls);
			s->old[i].d = NULL;
		}
	}
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
				atomic_fetch_add(&s->p.m.jwks_fail, 1);
				proxy_log("warn", "cannot load the issuer's keys", "error", err.msg,
					  NULL);
				next = now + 5;
			} else {
				atomic_fetch_add(&s->p.m.jwks_ok, 1);
				next = now + JWKS_REFRESH_INTERVAL;
			}
		}
		usleep(200 * 1000);
	}
	return NULL;
}

static void shutdown_all(struct server *s)
{
	long long deadline = wall_now() + s->p.opts->shutdown_grace;
	size_t i;
	int qfd;

	atomic_store(&s->p.draining, true);
	if (s->d && (qfd = MHD_quiesce_daemon(s->d)) >= 0)
		close(qfd);
	/* streams end at once (draining); tunnels and short requests get the grace period */
	while (atomic_load(&s->p.inflight) > 0 && wall_now() < deadline)
		usleep(50 * 1000);
	atomic_store(&s->p.stop_tunnels, true);
	for (i = 0; i < 60 && atomic_load(&s->p.m.tunnels_open) > 0; i++)
		usleep(50 * 1000);
	if (s->d)
		MHD_stop_daemon(s->d);
	for (i = 0; i < MAX_OLD_DAEMONS; i++)
		if (s->old[i].d) {
			MHD_stop_daemon(s->old[i].d);
			tls_release(&s->old[i].tls);
			s->old[i].d = NULL;
		}
	if (s->metrics)
		MHD_stop_daemon(s->metrics);
	atomic_store(&s->stop, true);
}

static enum kt_rc setup(struct server *s, struct kt_proxy_opts *o, struct kt_err *err)
{
	enum kt_rc rc;
	int mfd;

	s->p.opts = o;
	s->listen_fd = -1;
	kt_proxy_opts_policy(o, &s->p.policy);
	proxy_metrics_init(&s->p.m);
	s->p.creds.token_file = o->token_file;
	pthread_mutex_init(&s->p.creds.lock, NULL);
	if ((rc = proxy_upstream_init(&s->p.up, o, err)))
		return rc;
	if ((rc = kt_oidc_new(o->issuer_url, o->oidc_ca, &s->p.oidc, err)))
		return rc;
	if (!(s->p.cache = kt_jwt_cache_new(4096)))
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	if (o->token_file) {
		struct kt_buf probe = KT_BUF_INIT;
		bool ok = proxy_creds_header(&s->p.creds, &probe);

		kt_buf_release(&probe);
		if (!ok)
			return kt_err_set(err, KT_E_IO, "cannot read a token from '%s'",
					  o->token_file);
	}
	if (tls_read(&s->tls, &s->tls, o, err) < 0)
		return err && err->rc ? err->rc : KT_E_IO;
	s->listen_fd = listen_on(o->listen, err);
	if (s->listen_fd < 0)
		return err ? err->rc : KT_E_IO;
	s->d = start_main(s, &s->tls);
	if (!s->d)
		return kt_err_set(err, KT_E_INVALID,
				  "cannot start the HTTPS server (is '%s' a valid key pair?)",
				  o->tls_cert);
	if (o->metrics_listen && *o->metrics_listen && strcmp(o->metrics_listen, "none")) {
		mfd = listen_on(o->metrics_listen, err);
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
	proxy_upstream_release(&s->p.up);
	proxy_creds_release(&s->p.creds);
	tls_release(&s->tls);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	pthread_mutex_destroy(&s->p.m.lock);
}

enum kt_rc kt_proxy_serve(struct kt_proxy_opts *o, struct kt_err *err)
{
	struct server *s = calloc(1, sizeof(*s));
	struct timespec tick = { .tv_sec = 1 };
	sigset_t set;
	enum kt_rc rc;
	int sig, n = 0;

	if (!s)
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* every thread created from here on inherits the mask; only sigtimedwait sees them */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = setup(s, o, err);
	if (rc) {
		atomic_store(&s->stop, true);
		if (s->refresher)
			pthread_join(s->refresher, NULL);
		if (s->d)
			MHD_stop_daemon(s->d);
		if (s->metrics)
			MHD_stop_daemon(s->metrics);
		teardown(s);
		free(s);
		return rc;
	}
	proxy_log("info", "listening", "listen", o->listen, "upstream", o->upstream, "issuer",
		  o->issuer_url, NULL);
	for (;;) {
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP || ++n % 5 == 0)
			reload_tls(s);
		reap_old(s);
	}
	proxy_log("info", "shutting down", NULL);
	shutdown_all(s);
	pthread_join(s->refresher, NULL);
	teardown(s);
	free(s);
	curl_global_cleanup();
	return KT_OK;
}
