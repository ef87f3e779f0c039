/*
 * tun.c: Upgrade requests (kubectl exec, attach, port-forward, cp).
 *
 * kubectl asks for WebSocket (v5.channel.k8s.io) first and SPDY/3.1 after;
 * both start as an HTTP/1.1 request with `Connection: Upgrade`.  The request
 * goes to the API server over a TLS connection of our own (OpenSSL, the
 * same CA and client credentials as curl), with the filtered headers and
 * the impersonation headers, exactly like an ordinary request.  If the API
 * server answers 101, one pump thread relays that answer and then copies
 * bytes both ways; any other answer (403, 404, ...) is relayed as a normal
 * response.  The identity is fixed when the tunnel opens; the stream's
 * content is not inspected.
 *
 * Connecting to the API server may take seconds, so it runs on the
 * tunnel's own thread while the client's connection waits suspended; the
 * event loop only queues the answer once the thread resumes it.
 *
 * Why the pump speaks TLS to the client itself: libmicrohttpd 0.9.75's own
 * upgrade relay moves TLS streams through an 8-byte emergency buffer (its
 * response-header buffer keeps the whole connection pool), about 250 kB/s.
 * Instead the connection stays suspended for the tunnel's life, which
 * takes it out of the daemon's epoll set and timeouts, and the pump uses
 * the connection's GnuTLS session (MHD_CONNECTION_INFO_GNUTLS_SESSION) and
 * socket directly; when the tunnel ends it resumes the connection, and the
 * handler's MHD_NO has the daemon close it.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <gnutls/gnutls.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include "internal.h"

#define TUN_HEAD_MAX (64u << 10)
#define TUN_BODY_MAX (1u << 20)
#define TUN_BUF_MAX (256u << 10)
#define TUN_SETUP_MS 30000

struct tun {
	struct proxy *p;
	struct proxy_worker *w;   /* the loop of its connection */
	struct MHD_Connection *c; /* suspended while the set-up thread runs */
	struct kt_buf req, in;    /* our request; the API server's answer (head and plain body) */
	struct kt_buf body;       /* a plain answer's body, de-chunked */
	struct kt_http_head h;
	const char *fail; /* set-up failed: the message for the 502 */
	SSL *ssl;
	int ufd;
	gnutls_session_t tls; /* the client's session and socket: the pump's while it runs */
	int cfd;
	bool pumped; /* the pump has run: the connection is to be closed */
	struct kt_buf u2d,
		d2u; /* upstream-to-client (the 101 first) and client-to-upstream bytes */
	size_t u2d_off, d2u_off, retry_len;
	size_t head_left; /* bytes of our 101 still in u2d: not counted as stream bytes */
	bool tls_retry;   /* a gnutls_record_send() to finish (GNUTLS_E_AGAIN) */
	struct preq ar;   /* a copy for the audit line when the tunnel closes */
	atomic_int refs;  /* the request's, and the pump thread's while it runs */
	char method[16];
	const char *verb;
};

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The set-up's time limit, and the server's stop that cuts it short. */
struct dl {
	long long at;
	const atomic_bool *stop;
};

/* Wait in short slices, so a stopping server never waits for a slow API server. */
static bool wait_fd(int fd, short ev, const struct dl *dl)
{
	struct pollfd pfd = { .fd = fd, .events = ev };
	long long left;
	int n;

	while ((left = dl->at - now_ms()) > 0 && !atomic_load(dl->stop)) {
		n = poll(&pfd, 1, left > 200 ? 200 : (int)left);
		if (n)
			return n > 0;
	}
	return false;
}

static int tcp_connect(const struct proxy_upstream *u, const struct dl *dl)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	int fd = -1, e;
	socklen_t el = sizeof(e);

	if (getaddrinfo(u->host, u->port, &hints, &res))
		return -1;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen) ||
		    (errno == EINPROGRESS && wait_fd(fd, POLLOUT, dl) &&
		     !getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) && !e))
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	/* SPDY and WebSocket frames are small, and window updates wait on them: no Nagle */
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	return fd;
}

/* Wait for what OpenSSL asked for; false on timeout or a real error. */
static bool ssl_wait(SSL *ssl, int fd, int ret, const struct dl *dl)
{
	int e = SSL_get_error(ssl, ret);

	if (e == SSL_ERROR_WANT_READ)
		return wait_fd(fd, POLLIN, dl);
	if (e == SSL_ERROR_WANT_WRITE)
		return wait_fd(fd, POLLOUT, dl);
	return false;
}

static SSL *tls_connect(struct proxy_upstream *u, int fd, const struct dl *dl)
{
	SSL *ssl = SSL_new(u->tls);
	int ret;

	if (!ssl)
		return NULL;
	SSL_set_fd(ssl, fd);
	if (strchr(u->host, ':') || strspn(u->host, "0123456789.") == strlen(u->host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), u->host) != 1)
			goto fail;
	} else if (!SSL_set_tlsext_host_name(ssl, u->host) || SSL_set1_host(ssl, u->host) != 1) {
		goto fail;
	}
	while ((ret = SSL_connect(ssl)) != 1)
		if (!ssl_wait(ssl, fd, ret, dl))
			goto fail;
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

static bool ssl_write_all(SSL *ssl, int fd, const char *p, size_t n, const struct dl *dl)
{
	int ret;

	while (n) {
		ret = SSL_write(ssl, p, (int)n);
		if (ret > 0) {
			p += ret;
			n -= (size_t)ret;
		} else if (!ssl_wait(ssl, fd, ret, dl)) {
			return false;
		}
	}
	return true;
}

/* Read more bytes into b; returns 0 at EOF, -1 on error or timeout. */
static int ssl_read_some(SSL *ssl, int fd, struct kt_buf *b, const struct dl *dl)
{
	char tmp[16384];
	int ret;

	for (;;) {
		ret = SSL_read(ssl, tmp, sizeof(tmp));
		if (ret > 0)
			return kt_buf_add(b, tmp, (size_t)ret) ? -1 : ret;
		if (SSL_get_error(ssl, ret) == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (!ssl_wait(ssl, fd, ret, dl))
			return SSL_get_error(ssl, ret) == SSL_ERROR_SYSCALL ? 0 : -1;
	}
}

static void add_header(const char *name, const char *line, size_t line_len, const char *value,
		       size_t value_len, void *resp)
{
	char v[8192];

	(void)line;
	(void)line_len;
	snprintf(v, sizeof(v), "%.*s", (int)value_len, value);
	if (!kt_proxy_drop_response_header(name, false))
		MHD_add_response_header(resp, name, v);
}

static void tun_free(struct tun *t)
{
	if (t->ssl) {
		SSL_shutdown(t->ssl);
		SSL_free(t->ssl);
	}
	if (t->ufd >= 0)
		close(t->ufd);
	kt_buf_release(&t->u2d);
	kt_buf_release(&t->d2u);
	kt_buf_release(&t->req);
	kt_buf_release(&t->in);
	kt_buf_release(&t->body);
	kt_identity_release(&t->ar.id);
	free(t->ar.uri);
	free(t);
}

static void tun_unref(struct tun *t)
{
	if (atomic_fetch_sub(&t->refs, 1) == 1)
		tun_free(t);
}

/* Client to buffer: false when the client is done (EOF, hang-up, fatal TLS error). */
static bool client_read(struct tun *t, char *tmp, size_t size, short *cev, bool *progress)
{
	ssize_t n = gnutls_record_recv(t->tls, tmp, size);

	if (n > 0) {
		if (kt_buf_add(&t->d2u, tmp, (size_t)n))
			return false;
		*progress = true;
	} else if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
		*cev |= gnutls_record_get_direction(t->tls) ? POLLOUT : POLLIN;
	} else if (n == 0 || gnutls_error_is_fatal((int)n)) {
		return false;
	}
	return true;
}

/* Buffer to client; false when the client is gone. */
static bool client_write(struct tun *t, short *cev, bool *progress)
{
	size_t len = t->u2d.len - t->u2d_off, skip;
	ssize_t n;

	/* a send cut short by GNUTLS_E_AGAIN is finished with (NULL, 0) */
	n = t->tls_retry ? gnutls_record_send(t->tls, NULL, 0)
			 : gnutls_record_send(t->tls, t->u2d.buf + t->u2d_off, len);
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
		t->tls_retry = true;
		*cev |= POLLOUT;
		return true;
	}
	if (n <= 0)
		return false;
	t->tls_retry = false;
	t->u2d_off += (size_t)n;
	skip = (size_t)n < t->head_left ? (size_t)n : t->head_left;
	t->head_left -= skip;
	t->ar.bytes += (unsigned long long)n - skip;
	if (t->u2d_off == t->u2d.len) {
		kt_buf_reset(&t->u2d);
		t->u2d_off = 0;
	}
	*progress = true;
	return true;
}

/* Move bytes both ways until either side closes or the grace period ends. */
static void pump(struct tun *t)
{
	char tmp[16384];
	bool up_eof = false, cl_eof = false;
	int ret, e, one = 1, zero = 0;

	/* libmicrohttpd corks its TLS sockets between responses */
	setsockopt(t->cfd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
	setsockopt(t->cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (!atomic_load(&t->p->stop_tunnels)) {
		bool progress = false;
		short uev = 0, cev = 0;

		if (!up_eof && t->u2d.len - t->u2d_off < TUN_BUF_MAX) {
			ret = SSL_read(t->ssl, tmp, sizeof(tmp));
			if (ret > 0) {
				if (kt_buf_add(&t->u2d, tmp, (size_t)ret))
					break;
				progress = true;
			} else if ((e = SSL_get_error(t->ssl, ret)) == SSL_ERROR_WANT_READ) {
				uev |= POLLIN;
			} else if (e == SSL_ERROR_WANT_WRITE) {
				uev |= POLLOUT;
			} else {
				up_eof = true;
			}
		}
		if (t->u2d.len > t->u2d_off && !client_write(t, &cev, &progress))
			break; /* the client is gone */
		if (!cl_eof && t->d2u.len - t->d2u_off < TUN_BUF_MAX &&
		    !client_read(t, tmp, sizeof(tmp), &cev, &progress))
			cl_eof = true;
		if (t->d2u.len > t->d2u_off) {
			/* a retried SSL_write must repeat the same length */
			size_t len = t->retry_len ? t->retry_len : t->d2u.len - t->d2u_off;

			ret = SSL_write(t->ssl, t->d2u.buf + t->d2u_off, (int)len);
			if (ret > 0) {
				t->retry_len = 0;
				t->d2u_off += (size_t)ret;
				if (t->d2u_off == t->d2u.len) {
					kt_buf_reset(&t->d2u);
					t->d2u_off = 0;
				}
				progress = true;
			} else if ((e = SSL_get_error(t->ssl, ret)) == SSL_ERROR_WANT_READ ||
				   e == SSL_ERROR_WANT_WRITE) {
				t->retry_len = len;
				uev |= e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
			} else {
				break;
			}
		}
		if ((up_eof && t->u2d.len == t->u2d_off) || (cl_eof && t->d2u.len == t->d2u_off))
			break;
		if (!progress && !SSL_pending(t->ssl) && !gnutls_record_check_pending(t->tls)) {
			struct pollfd pfd[2] = { { .fd = t->ufd, .events = uev },
						 { .fd = t->cfd, .events = cev } };

			/* a hang-up with nothing to read or write is still an end */
			if (poll(pfd, 2, 1000) > 0 && (pfd[1].revents & (POLLHUP | POLLERR)) &&
			    !(pfd[1].revents & POLLIN))
				break;
		}
	}
}

static void *pump_main(void *cls)
{
	struct tun *t = cls;

	pump(t);
	gnutls_bye(t->tls, GNUTLS_SHUT_WR); /* one try: the socket is non-blocking */
	/* the session and the socket are the daemon's again from here on */
	MHD_resume_connection(t->c);
	kt_proxy_loop_wake(t->w);
	atomic_fetch_sub(&t->p->tun_held, 1);
	t->ar.status = 101;
	kt_proxy_audit(&t->ar, t->verb);
	atomic_fetch_sub(&t->p->m.tunnels_open, 1);
	atomic_fetch_sub(&t->p->inflight, 1);
	tun_unref(t);
	return NULL;
}

/* The 101 as the API server sent it, less hop-by-hop headers; then the stream's first bytes. */
static enum kt_rc head_101(struct tun *t)
{
	enum kt_rc rc = kt_proxy_head_101(t->in.buf, &t->h, &t->u2d);

	t->head_left = t->u2d.len;
	return rc ? rc : kt_buf_add(&t->u2d, t->in.buf + t->h.head_len, t->in.len - t->h.head_len);
}

/*
 * The request and the pump each hold the tunnel; the request completes
 * after the pump resumed the connection, or earlier when the set-up never
 * reached it.  Whoever lets go last frees the tunnel.
 */
void kt_proxy_tunnel_abandon(struct preq *r)
{
	struct tun *t = r->tun;

	r->tun = NULL;
	if (t)
		tun_unref(t);
}

/*
 * A non-101 answer to an upgrade request: read its (bounded) body into
 * t->in and leave it, de-chunked and cut at Content-Length, in t->body.
 * A chunked body is complete when the de-chunker reads its last chunk.
 */
static void read_plain(struct tun *t, const struct dl *dl)
{
	const struct kt_http_head *h = &t->h;
	int got = 1;

	t->in.max = h->head_len + TUN_BODY_MAX;
	for (;;) {
		size_t have = t->in.len - h->head_len;
		bool done;

		kt_buf_reset(&t->body);
		if (h->chunked) {
			done = kt_proxy_dechunk(t->in.buf + h->head_len, have, &t->body);
		} else {
			done = h->clen >= 0 ? have >= (size_t)h->clen : !got;
			kt_buf_add(&t->body, t->in.buf + h->head_len,
				   h->clen >= 0 && (size_t)h->clen < have ? (size_t)h->clen : have);
		}
		if (done)
			break;
		if (h->status == 204 || h->status == 304 ||
		    (got = ssl_read_some(t->ssl, t->ufd, &t->in, dl)) < 0)
			break;
		if (!got && (h->chunked || h->clen >= 0))
			break;
	}
}

/* ...and relay it as an ordinary response. */
static enum MHD_Result relay_plain(struct MHD_Connection *c, struct preq *r, struct tun *t)
{
	const struct kt_http_head *h = &t->h;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(t->body.len, t->body.buf, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	kt_proxy_head_fields(t->in.buf, h, add_header, resp);
	r->status = h->status;
	r->bytes = t->in.len - h->head_len;
	ret = MHD_queue_response(c, h->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum kt_rc build_request(struct proxy *p, struct preq *r, struct kt_buf *req)
{
	struct kt_buf auth = KT_BUF_INIT;
	const char *s = r->fwd_hdrs.buf;
	size_t i;

	kt_buf_addf(req, "%s %s HTTP/1.1\r\nHost: %s\r\n", r->method, r->uri, p->up.hostport);
	for (i = 0; i < r->n_fwd_hdrs; i++, s += strlen(s) + 1)
		kt_buf_addf(req, "%s\r\n", s);
	if (kt_proxy_creds_header(&p->creds, &auth))
		kt_buf_addf(req, "%s\r\n", auth.buf);
	kt_buf_release(&auth);
	return kt_buf_adds(req, "\r\n");
}

/* The set-up thread: connect, send the request, read the answer's head (and a plain body). */
static void *setup_main(void *cls)
{
	struct tun *t = cls;
	struct dl dl = { now_ms() + TUN_SETUP_MS, &t->p->stop_tunnels };
	struct timespec t0;
	int got, ok;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	t->ufd = tcp_connect(&t->p->up, &dl);
	t->ssl = t->ufd >= 0 ? tls_connect(&t->p->up, t->ufd, &dl) : NULL;
	if (!t->ssl || !ssl_write_all(t->ssl, t->ufd, t->req.buf, t->req.len, &dl)) {
		t->fail = "the API server did not answer";
		goto out;
	}
	t->in.max = TUN_HEAD_MAX;
	while ((ok = kt_proxy_parse_head(t->in.buf, t->in.len, &t->h)) <= 0) {
		if (ok < 0 || (got = ssl_read_some(t->ssl, t->ufd, &t->in, &dl)) <= 0) {
			t->fail = "the API server sent no valid response";
			goto out;
		}
	}
	kt_proxy_observe_latency(&t->p->m, kt_proxy_elapsed(&t0));
	if (t->h.status != 101)
		read_plain(t, &dl);
out:
	kt_buf_release(&t->req);
	MHD_resume_connection(t->c);
	kt_proxy_loop_wake(t->w);
	atomic_fetch_sub(&t->p->tun_held, 1);
	tun_unref(t);
	return NULL;
}

/* A detached thread; non-zero when none could be started. */
static int spawn(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t th;
	int e;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	e = pthread_create(&th, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return e;
}

enum MHD_Result kt_proxy_tunnel(struct MHD_Connection *c, struct preq *r)
{
	struct proxy *p = r->p;
	struct tun *t = calloc(1, sizeof(*t));

	if (!t)
		return kt_proxy_queue_status(c, r, 500, "InternalError", "out of memory");
	t->p = p;
	t->w = r->w;
	t->c = c;
	t->ufd = -1;
	t->req = t->in = t->body = (struct kt_buf)KT_BUF_INIT;
	atomic_init(&t->refs, 2); /* the request's and the set-up thread's */
	if (build_request(p, r, &t->req)) {
		tun_free(t);
		return kt_proxy_queue_status(c, r, 500, "InternalError", "out of memory");
	}
	atomic_fetch_add(&p->tun_held, 1);
	MHD_suspend_connection(c); /* before the thread can resume it */
	if (spawn(setup_main, t)) {
		t->fail = "cannot start a thread";
		MHD_resume_connection(c);
		atomic_fetch_sub(&p->tun_held, 1);
		atomic_store(&t->refs, 1);
		t->w->dirty = true;
	}
	r->tun = t; /* the request's reference, dropped by kt_proxy_tunnel_abandon */
	return MHD_YES;
}

/* On resume: the set-up is over; relay its outcome. */
enum MHD_Result kt_proxy_tunnel_answer(struct MHD_Connection *c, struct preq *r)
{
	struct tun *t = r->tun;
	const union MHD_ConnectionInfo *ci, *fd;

	if (t->pumped)
		return MHD_NO; /* the tunnel is over: the daemon closes the connection */
	if (t->fail) {
		kt_log(KT_LOG_WARN, "upstream error", "error", t->fail, "path", r->uri, NULL);
		return kt_proxy_queue_status(c, r, 502, "BadGateway", t->fail);
	}
	if (t->h.status != 101)
		return relay_plain(c, r, t);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci || !fd || head_101(t))
		return kt_proxy_queue_status(c, r, 500, "InternalError", "out of memory");
	t->tls = (gnutls_session_t)ci->tls_session;
	t->cfd = fd->connect_fd;
	t->ar = (struct preq){ .p = t->p, .w = t->w, .start = r->start, .uri = strdup(r->uri) };
	snprintf(t->ar.client_ip, sizeof(t->ar.client_ip), "%s", r->client_ip);
	snprintf(t->method, sizeof(t->method), "%s", r->method);
	t->ar.method = t->method;
	t->verb = kt_proxy_verb(r->method, r->uri, strchr(r->uri, '?'));
	kt_identity_copy(&t->ar.id, &r->id);
	r->status = 101;
	r->logged = true; /* the tunnel writes its own line when it closes */
	t->pumped = true;
	/* suspended for the tunnel's life: the daemon leaves socket and session alone */
	atomic_fetch_add(&t->refs, 1); /* the pump's */
	atomic_fetch_add(&t->p->tun_held, 1);
	atomic_fetch_add(&t->p->m.tunnels_open, 1);
	atomic_fetch_add(&t->p->m.tunnels_total, 1);
	atomic_fetch_add(&t->p->inflight, 1);
	MHD_suspend_connection(c);
	if (spawn(pump_main, t)) {
		kt_log(KT_LOG_ERROR, "cannot start a tunnel thread", "path", r->uri, NULL);
		MHD_resume_connection(c); /* and closed at once: see above */
		atomic_fetch_sub(&t->p->tun_held, 1);
		atomic_fetch_sub(&t->p->m.tunnels_open, 1);
		atomic_fetch_sub(&t->p->inflight, 1);
		atomic_fetch_sub(&t->refs, 1);
		r->logged = false;
		r->status = 500;
		t->w->dirty = true;
	}
	return MHD_YES;
}
