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
 * The loop also owns the daemon's life: the serving certificate is
 * re-read each second when its files change (server/tls.c, shared with
 * `serve`: new handshakes get the new pair, open connections keep theirs),
 * drain on SIGTERM and the final stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "kt/http.h"
#include "proxy.h"

enum { TAG_WAKE = 1, TAG_DAEMON, TAG_CURL };
#define TAG(kind, v) (((uint64_t)(kind) << 32) | (uint32_t)(v))

struct proxy_loop {
	struct proxy *p;
	struct MHD_Daemon *d;
	int ep, wake; /* the epoll set; the eventfd that wakes it (also p->wake_fd) */
	pthread_t th;
	long long curl_due; /* CLOCK_MONOTONIC ms; -1 when curl wants no timer */
	long long mhd_due;  /* when the daemon's timeouts want it run */
	atomic_bool hup, drain, stop;
	bool drained;
};

static long long mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A certificate and key that do not match (a renewal caught half-written) keep the old pair. */
static void reload_tls(struct proxy_loop *l, bool force)
{
	struct kt_err err = { 0 };
	char serial[64];
	bool changed;

	if (kt_tls_reload(l->p->tls, force, &changed, &err)) {
		kt_log(KT_LOG_ERROR, "tls reload failed: the old certificate keeps serving", "error",
		       err.msg, NULL);
	} else if (changed) {
		kt_tls_serial(l->p->tls, serial, sizeof(serial));
		kt_log(KT_LOG_INFO, "tls certificate reloaded", "cert", l->p->opts->tls_cert, "serial",
		       serial, NULL);
	}
}

static void run_daemon(struct proxy_loop *l)
{
	l->p->loop_dirty = false;
	MHD_run(l->d);
	proxy_fwd_uncork_all(l->p);
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

/* How long epoll may wait; sets l->mhd_due, when the daemon wants to run anyway. */
static int wait_ms(struct proxy_loop *l, long long next_tick)
{
	long long now = mono_ms(), due = next_tick;
	MHD_UNSIGNED_LONG_LONG t;

	l->mhd_due = next_tick;
	if (MHD_get_timeout(l->d, &t) == MHD_YES && now + (long long)t < l->mhd_due)
		l->mhd_due = now + (long long)t;
	if (l->p->loop_dirty)
		return 0;
	if (l->mhd_due < due)
		due = l->mhd_due;
	if (l->curl_due >= 0 && l->curl_due < due)
		due = l->curl_due;
	return due > now ? (int)(due - now) : 0;
}

static void quiesce(struct proxy_loop *l)
{
	int qfd = MHD_quiesce_daemon(l->d);

	if (qfd >= 0)
		close(qfd);
}

static void *loop_main(void *cls)
{
	struct proxy_loop *l = cls;
	long long next_tick = mono_ms() + 1000;
	struct epoll_event ev[64];
	uint64_t junk;
	int n, i, running, mask;

	kt_log_hold(true); /* audit lines: one write per pass */
	while (!atomic_load(&l->stop)) {
		kt_log_flush();
		n = epoll_wait(l->ep, ev, 64, wait_ms(l, next_tick));
		for (i = 0; i < n; i++) {
			uint32_t kind = (uint32_t)(ev[i].data.u64 >> 32);
			int v = (int)(uint32_t)ev[i].data.u64;

			if (kind == TAG_WAKE) {
				if (read(l->wake, &junk, sizeof(junk)) < 0) {
					/* nothing to drain: the flags say what to do */
				}
				l->p->loop_dirty = true; /* maybe a resumed connection */
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
			run_daemon(l);
			curl_timeouts(l); /* requests that just started */
		}
		if (atomic_exchange(&l->hup, false))
			reload_tls(l, true);
		if (atomic_load(&l->drain) && !l->drained) {
			quiesce(l);
			proxy_fwd_wake_streams(l->p);
			l->drained = true;
		}
		if (mono_ms() >= next_tick) {
			if (!l->drained)
				reload_tls(l, false);
			proxy_fwd_sweep(l->p);
			next_tick = mono_ms() + 1000;
		}
	}
	/* every suspended connection must be resumed before the daemon stops */
	for (i = 0; i < 100; i++) {
		proxy_fwd_cancel_all(l->p);
		run_daemon(l);
		if (!atomic_load(&l->p->tun_held))
			break;
		usleep(20 * 1000);
	}
	MHD_stop_daemon(l->d);
	kt_log_hold(false);
	return NULL;
}

struct proxy_loop *proxy_loop_start(struct proxy *p, int listen_fd, struct kt_err *err)
{
	struct proxy_loop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG(TAG_WAKE, 0) };
	const union MHD_DaemonInfo *di;
	int fd;

	if (!l) {
		kt_err_set(err, KT_E_NOMEM, "out of memory");
		return NULL;
	}
	l->p = p;
	l->curl_due = -1;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->wake = p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
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
	/* the daemon closes its socket on quiesce: the caller's stays open */
	fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 0);
	l->d = fd >= 0 ? proxy_daemon_start(p, fd) : NULL;
	di = l->d ? MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	ev.data.u64 = TAG(TAG_DAEMON, 0);
	if (!di || epoll_ctl(l->ep, EPOLL_CTL_ADD, di->epoll_fd, &ev)) {
		kt_err_set(err, KT_E_IO, "cannot start the HTTPS server on '%s'", p->opts->listen);
		goto fail;
	}
	if (pthread_create(&l->th, NULL, loop_main, l)) {
		kt_err_set(err, KT_E_NOMEM, "cannot start a thread");
		goto fail;
	}
	return l;
fail:
	if (l->d)
		MHD_stop_daemon(l->d);
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

void proxy_loop_wake(struct proxy *p)
{
	uint64_t one = 1;

	if (write(p->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		kt_log(KT_LOG_WARN, "cannot wake the event loop", NULL);
}

void proxy_loop_reload(struct proxy_loop *l)
{
	atomic_store(&l->hup, true);
	proxy_loop_wake(l->p);
}

void proxy_loop_drain(struct proxy_loop *l)
{
	atomic_store(&l->drain, true);
	proxy_loop_wake(l->p);
}

void proxy_loop_stop(struct proxy_loop *l)
{
	if (!l)
		return;
	atomic_store(&l->stop, true);
	proxy_loop_wake(l->p);
	pthread_join(l->th, NULL);
	proxy_fwd_free_pool(l->p);
	curl_multi_cleanup(l->p->multi);
	l->p->multi = NULL;
	close(l->ep);
	close(l->wake);
	free(l);
}
