/*
 * proxy_loop.c: the proxy's one event loop.
 *
 * A single thread runs the HTTPS listener (libmicrohttpd in external epoll
 * mode) and every upstream transfer (one libcurl multi handle, socket
 * API) from one epoll set, the way an nginx worker does.  A request that
 * waits for the API server, or a watch that waits for its next event, is a
 * suspended connection (proxy_fwd.c): it costs no thread and no context
 * switch, and under load one epoll_wait serves many connections.  Tunnels
 * (proxy_tun.c) connect and pump on threads of their own and resume their
 * connection when the API server has answered.
 *
 * The loop also owns the daemons: TLS reload (a new daemon takes the
 * listening socket, the old one drains its connections on the old
 * certificate), drain on SIGTERM and the final stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "kt/buf.h"
#include "proxy.h"

#define MAX_DAEMONS 9 /* the serving one and up to 8 draining after TLS reloads */
#define TLS_FILE_MAX (1u << 20)
#define RELOAD_TICKS 5 /* the TLS files are looked at every 5 seconds */

enum { TAG_WAKE = 1, TAG_DAEMON, TAG_CURL };
#define TAG(kind, v) (((uint64_t)(kind) << 32) | (uint32_t)(v))

struct tls_files {
	struct kt_buf cert, key;
	struct timespec cert_mtime, key_mtime;
};

/* A daemon, with the PEM it was started from (MHD keeps pointers into it). */
struct daemon {
	struct MHD_Daemon *d;
	struct tls_files tls;
};

struct proxy_loop {
	struct proxy *p;
	int listen_fd; /* borrowed; every daemon gets its own duplicate */
	int ep, wake;
	pthread_t th;
	struct daemon dm[MAX_DAEMONS];
	int cur;            /* the slot that accepts; -1 once quiesced */
	struct tls_files tls; /* what dm[cur] was started from (mtimes for the next check) */
	long long curl_due; /* CLOCK_MONOTONIC ms; -1 when curl wants no timer */
	long long mhd_due;  /* when the daemons' timeouts want them run */
	unsigned ticks;
	atomic_bool hup, drain, stop;
	bool drained;
};

static long long mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- TLS files ---- */

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
	if ((cur->cert_mtime.tv_sec || cur->cert_mtime.tv_nsec) &&
	    same_time(&sc.st_mtim, &cur->cert_mtime) &&
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

/* ---- daemons ---- */

/* Start a daemon from t in a free slot and watch it; the slot, or -1. */
static int daemon_add(struct proxy_loop *l, const struct tls_files *t)
{
	struct epoll_event ev = { .events = EPOLLIN };
	const union MHD_DaemonInfo *di;
	struct MHD_Daemon *d;
	int i, fd;

	for (i = 0; i < MAX_DAEMONS && l->dm[i].d; i++)
		;
	if (i == MAX_DAEMONS)
		return -1;
	fd = fcntl(l->listen_fd, F_DUPFD_CLOEXEC, 0);
	d = fd >= 0 ? proxy_daemon_start(l->p, fd, t->cert.buf, t->key.buf) : NULL;
	di = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	ev.data.u64 = TAG(TAG_DAEMON, i);
	if (!di || epoll_ctl(l->ep, EPOLL_CTL_ADD, di->epoll_fd, &ev)) {
		if (d)
			MHD_stop_daemon(d);
		return -1;
	}
	l->dm[i].d = d;
	return i;
}

static void daemon_stop(struct proxy_loop *l, int i)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->dm[i].d, MHD_DAEMON_INFO_EPOLL_FD);

	if (di)
		epoll_ctl(l->ep, EPOLL_CTL_DEL, di->epoll_fd, NULL);
	MHD_stop_daemon(l->dm[i].d);
	tls_release(&l->dm[i].tls);
	l->dm[i].d = NULL;
}

static void quiesce(struct proxy_loop *l)
{
	int qfd;

	if (l->cur < 0)
		return;
	qfd = MHD_quiesce_daemon(l->dm[l->cur].d);
	if (qfd >= 0)
		close(qfd); /* that daemon's duplicate of the listening socket */
	l->cur = -1;
}

/*
 * A pair the TLS library rejects leaves the old certificate serving (from
 * a fresh daemon: a quiesced one cannot accept again).
 */
static void reload_tls(struct proxy_loop *l)
{
	const struct kt_proxy_opts *o = l->p->opts;
	struct tls_files next = { 0 };
	struct kt_err err = { 0 };
	int rc, old = l->cur, nd;

	rc = tls_read(&l->tls, &next, o, &err);
	if (rc < 0)
		proxy_log("warn", "tls reload skipped", "error", err.msg, NULL);
	if (rc <= 0 || old < 0)
		return;
	if (!pair_ok(&next)) {
		proxy_log("error", "tls reload failed: the new certificate and key do not form a "
				   "valid pair; keeping the old one", "cert", o->tls_cert, NULL);
		l->tls.cert_mtime = next.cert_mtime; /* retried when the files change again */
		l->tls.key_mtime = next.key_mtime;
		tls_release(&next);
		return;
	}
	quiesce(l);
	nd = daemon_add(l, &next);
	if (nd >= 0) {
		l->dm[nd].tls = next;
		l->tls.cert_mtime = next.cert_mtime;
		l->tls.key_mtime = next.key_mtime;
		l->cur = nd;
		proxy_log("info", "tls certificate reloaded", "cert", o->tls_cert, NULL);
		return;
	}
	proxy_log("error", "tls reload failed: the new key pair was rejected or old connections "
			   "are still draining; keeping the old one", "cert", o->tls_cert, NULL);
	l->tls.cert_mtime = next.cert_mtime;
	l->tls.key_mtime = next.key_mtime;
	tls_release(&next);
	next = (struct tls_files){ 0 };
	/* a copy: the draining daemon keeps its own */
	if (kt_buf_add(&next.cert, l->dm[old].tls.cert.buf, l->dm[old].tls.cert.len) ||
	    kt_buf_add(&next.key, l->dm[old].tls.key.buf, l->dm[old].tls.key.len) ||
	    (l->cur = daemon_add(l, &next)) < 0) {
		tls_release(&next);
		proxy_log("error", "cannot restart the listener", NULL);
		return;
	}
	l->dm[l->cur].tls = next;
}

static void reap_old(struct proxy_loop *l)
{
	const union MHD_DaemonInfo *di;
	int i;

	for (i = 0; i < MAX_DAEMONS; i++) {
		if (!l->dm[i].d || i == l->cur)
			continue;
		di = MHD_get_daemon_info(l->dm[i].d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (di && di->num_connections == 0) /* suspended ones count too */
			daemon_stop(l, i);
	}
}

static void run_daemons(struct proxy_loop *l)
{
	int i;

	l->p->loop_dirty = false;
	for (i = 0; i < MAX_DAEMONS; i++)
		if (l->dm[i].d)
			MHD_run(l->dm[i].d);
}

/* ---- libcurl's sockets and timer ---- */

static int on_socket(CURL *e, curl_socket_t s, int what, void *cls, void *sockp)
{
	struct proxy_loop *l = cls;
	struct epoll_event ev = { .data.u64 = TAG(TAG_CURL, s) };

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(l->ep, EPOLL_CTL_DEL, s, NULL);
		curl_multi_assign(l->p->multi, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
	if (epoll_ctl(l->ep, sockp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) &&
	    epoll_ctl(l->ep, sockp ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s, &ev))
		return -1;
	if (!sockp)
		curl_multi_assign(l->p->multi, s, l);
	return 0;
}

static int on_timer(CURLM *m, long ms, void *cls)
{
	struct proxy_loop *l = cls;

	(void)m;
	l->curl_due = ms < 0 ? -1 : mono_ms() + ms;
	return 0;
}

static void curl_timeouts(struct proxy_loop *l)
{
	int running;

	if (l->curl_due >= 0 && mono_ms() >= l->curl_due) {
		l->curl_due = -1;
		curl_multi_socket_action(l->p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	proxy_fwd_collect(l->p);
}

/* ---- the loop ---- */

/* How long epoll may wait; sets l->mhd_due, when the daemons want to run anyway. */
static int wait_ms(struct proxy_loop *l, long long next_tick)
{
	long long now = mono_ms(), due = next_tick;
	MHD_UNSIGNED_LONG_LONG t;
	int i;

	l->mhd_due = next_tick;
	for (i = 0; i < MAX_DAEMONS; i++)
		if (l->dm[i].d && MHD_get_timeout(l->dm[i].d, &t) == MHD_YES &&
		    now + (long long)t < l->mhd_due)
			l->mhd_due = now + (long long)t;
	if (l->p->loop_dirty)
		return 0;
	if (l->mhd_due < due)
		due = l->mhd_due;
	if (l->curl_due >= 0 && l->curl_due < due)
		due = l->curl_due;
	return due > now ? (int)(due - now) : 0;
}

static void tick(struct proxy_loop *l)
{
	if (++l->ticks % RELOAD_TICKS == 0)
		reload_tls(l);
	proxy_fwd_sweep(l->p);
	reap_old(l);
}

static void *loop_main(void *cls)
{
	struct proxy_loop *l = cls;
	long long next_tick = mono_ms() + 1000;
	struct epoll_event ev[64];
	uint64_t junk;
	int n, i, running, mask;

	while (!atomic_load(&l->stop)) {
		n = epoll_wait(l->ep, ev, 64, wait_ms(l, next_tick));
		for (i = 0; i < n; i++) {
			uint32_t kind = (uint32_t)(ev[i].data.u64 >> 32);
			int v = (int)(uint32_t)ev[i].data.u64;

			if (kind == TAG_WAKE) {
				if (read(l->wake, &junk, sizeof(junk)) < 0 && errno != EAGAIN)
					break;
			} else if (kind == TAG_DAEMON) {
				l->p->loop_dirty = true;
			} else {
				mask = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
				       (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
				       (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
				curl_multi_socket_action(l->p->multi, v, mask, &running);
			}
		}
		curl_timeouts(l);
		if (l->p->loop_dirty || mono_ms() >= l->mhd_due) {
			run_daemons(l);
			curl_timeouts(l); /* requests that just started */
		}
		if (atomic_exchange(&l->hup, false))
			reload_tls(l);
		if (atomic_load(&l->drain) && !l->drained) {
			quiesce(l);
			proxy_fwd_wake_streams(l->p);
			l->drained = true;
		}
		if (mono_ms() >= next_tick) {
			tick(l);
			next_tick = mono_ms() + 1000;
		}
	}
	/* every suspended connection must be resumed before its daemon stops */
	for (i = 0; i < 100; i++) {
		proxy_fwd_cancel_all(l->p);
		run_daemons(l);
		if (!atomic_load(&l->p->tun_setups))
			break;
		usleep(20 * 1000);
	}
	quiesce(l);
	for (i = 0; i < MAX_DAEMONS; i++)
		if (l->dm[i].d)
			daemon_stop(l, i);
	return NULL;
}

struct proxy_loop *proxy_loop_start(struct proxy *p, int listen_fd, struct kt_err *err)
{
	struct proxy_loop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG(TAG_WAKE, 0) };

	if (!l) {
		kt_err_set(err, KT_E_NOMEM, "out of memory");
		return NULL;
	}
	l->p = p;
	l->listen_fd = listen_fd;
	l->curl_due = -1;
	l->cur = -1;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->ep < 0 || l->wake < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake, &ev) ||
	    !(p->multi = curl_multi_init())) {
		kt_err_set(err, KT_E_IO, "cannot set up the event loop");
		goto fail;
	}
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, l);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, l);
	curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, 256L);
	if (tls_read(&l->tls, &l->tls, p->opts, err) < 0)
		goto fail;
	l->cur = daemon_add(l, &l->tls);
	if (l->cur < 0) {
		kt_err_set(err, KT_E_INVALID,
			   "cannot start the HTTPS server (is '%s' a valid key pair?)",
			   p->opts->tls_cert);
		goto fail;
	}
	/* the daemon keeps pointers into the PEM: the slot owns it, l->tls keeps the mtimes */
	l->dm[l->cur].tls = l->tls;
	l->tls.cert = (struct kt_buf)KT_BUF_INIT;
	l->tls.key = (struct kt_buf)KT_BUF_INIT;
	if (pthread_create(&l->th, NULL, loop_main, l)) {
		kt_err_set(err, KT_E_NOMEM, "cannot start a thread");
		daemon_stop(l, l->cur);
		goto fail;
	}
	return l;
fail:
	tls_release(&l->tls);
	if (p->multi)
		curl_multi_cleanup(p->multi);
	p->multi = NULL;
	if (l->ep >= 0)
		close(l->ep);
	if (l->wake >= 0)
		close(l->wake);
	free(l);
	return NULL;
}

static void poke(struct proxy_loop *l)
{
	uint64_t one = 1;

	if (write(l->wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
		proxy_log("warn", "cannot wake the event loop", NULL);
}

void proxy_loop_reload(struct proxy_loop *l)
{
	atomic_store(&l->hup, true);
	poke(l);
}

void proxy_loop_drain(struct proxy_loop *l)
{
	atomic_store(&l->drain, true);
	poke(l);
}

void proxy_loop_stop(struct proxy_loop *l)
{
	if (!l)
		return;
	atomic_store(&l->stop, true);
	poke(l);
	pthread_join(l->th, NULL);
	proxy_fwd_free_pool(l->p);
	curl_multi_cleanup(l->p->multi);
	l->p->multi = NULL;
	tls_release(&l->tls);
	close(l->ep);
	close(l->wake);
	free(l);
}
