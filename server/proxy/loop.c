/*
 * loop.c: the proxy's event loops, one per CPU by default.
 *
 * Each loop thread runs its own HTTPS daemon (libmicrohttpd in external
 * epoll mode) and every upstream transfer of its connections (its own
 * libcurl multi handle, socket API) from one epoll set, the way an nginx
 * worker does.  A request that waits for the API server, or a watch that
 * waits for its next event, is a suspended connection (fwd.c): it
 * costs no thread and no context switch, and under load one epoll_wait
 * serves many connections.  Tunnels (tun.c) connect and pump on
 * threads of their own and resume their connection when the API server
 * has answered.
 *
 * The first loop accepts every connection and deals them out in turn (a
 * loop hands its daemon a connection with MHD_add_connection, from its own
 * thread), so each loop gets its share even when a client opens all its
 * connections at once.  The first loop also stops accepting on SIGTERM.
 * The serving certificate is re-read by the main thread (server/process.c,
 * as in `serve`): new handshakes get the new pair, open connections keep
 * theirs.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "http.h"
#include "internal.h"

enum { TAG_WAKE = 1, TAG_DAEMON, TAG_CURL, TAG_LISTEN };
#define TAG(kind, v) (((uint64_t)(kind) << 32) | (uint32_t)(v))
#define INBOX_MAX 256   /* connections dealt to a loop that has not taken them yet */
#define ACCEPT_BURST 64 /* connections accepted per pass: the rest wait for the next */

struct handoff {
	int fd;
	socklen_t len;
	struct sockaddr_storage addr;
};

struct loop {
	struct proxy_worker w;
	struct proxy_loop *g;
	struct MHD_Daemon *d;
	int ep; /* the epoll set; w.wake_fd is in it */
	pthread_t th;
	bool running, drained;
	long long curl_due;   /* CLOCK_MONOTONIC ms; -1 when curl wants no timer */
	long long mhd_due;    /* when the daemon's timeouts want it run */
	pthread_mutex_t lock; /* the inbox */
	struct handoff inbox[INBOX_MAX];
	size_t n_inbox;
};

struct proxy_loop {
	struct proxy *p;
	int listen_fd; /* the first loop's (a duplicate); -1 once it drains */
	bool paused;   /* out of file descriptors: not accepting until the next tick */
	bool starved;  /* said so in the log; cleared by the next accept that works */
	unsigned n, turn;
	atomic_bool drain, stop;
	struct loop loops[];
};

static long long mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void run_daemon(struct loop *l)
{
	l->w.dirty = false;
	MHD_run(l->d);
	kt_proxy_fwd_uncork_all(&l->w);
}

/* ---- connections: accepted by the first loop, dealt out in turn ---- */

static void take(struct loop *l, struct handoff *h)
{
	/* the daemon owns the socket from here, and closes it if it cannot take it */
	if (MHD_add_connection(l->d, h->fd, (const struct sockaddr *)&h->addr, h->len) != MHD_YES)
		kt_log(KT_LOG_WARN, "connection refused: too many connections", NULL);
	else
		atomic_fetch_add(&l->w.p->m.loop_conns[l - l->g->loops], 1);
	l->w.dirty = true; /* the handshake starts in the daemon's next run */
}

static void take_inbox(struct loop *l)
{
	struct handoff h[16];
	size_t n, i;

	do {
		pthread_mutex_lock(&l->lock);
		n = l->n_inbox < 16 ? l->n_inbox : 16;
		l->n_inbox -= n;
		memcpy(h, l->inbox + l->n_inbox, n * sizeof(h[0]));
		pthread_mutex_unlock(&l->lock);
		for (i = 0; i < n; i++)
			take(l, &h[i]);
	} while (n);
}

static void deal(struct loop *self, struct handoff *h)
{
	struct proxy_loop *g = self->g;
	struct loop *to = &g->loops[g->turn++ % g->n];
	bool queued = false;

	if (to != self) {
		pthread_mutex_lock(&to->lock);
		if (to->n_inbox < INBOX_MAX) {
			to->inbox[to->n_inbox++] = *h;
			queued = true;
		}
		pthread_mutex_unlock(&to->lock);
		if (queued) {
			kt_proxy_loop_wake(&to->w);
			return;
		}
	}
	take(self, h); /* its turn, or that loop is far behind */
}

static void accept_some(struct loop *l)
{
	struct handoff h;
	int i;

	for (i = 0; i < ACCEPT_BURST && l->g->listen_fd >= 0; i++) {
		h.len = sizeof(h.addr);
		h.fd = accept4(l->g->listen_fd, (struct sockaddr *)&h.addr, &h.len,
			       SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (h.fd < 0) {
			/* the socket stays readable: stop watching it for a second, not spin */
			if ((errno == EMFILE || errno == ENFILE) && !l->g->paused) {
				if (!l->g->starved)
					kt_log(KT_LOG_WARN,
					       "cannot accept: out of file descriptors", NULL);
				epoll_ctl(l->ep, EPOLL_CTL_DEL, l->g->listen_fd, NULL);
				l->g->paused = l->g->starved = true;
			}
			return; /* EAGAIN: all taken */
		}
		l->g->starved = false;
		deal(l, &h);
	}
}

static void resume_accepting(struct loop *l)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG(TAG_LISTEN, 0) };

	if (l->g->paused && l->g->listen_fd >= 0 &&
	    !epoll_ctl(l->ep, EPOLL_CTL_ADD, l->g->listen_fd, &ev))
		l->g->paused = false;
}

static void stop_accepting(struct loop *l)
{
	if (l->g->listen_fd < 0)
		return;
	if (!l->g->paused)
		epoll_ctl(l->ep, EPOLL_CTL_DEL, l->g->listen_fd, NULL);
	close(l->g->listen_fd);
	l->g->listen_fd = -1;
}

/* ---- libcurl's sockets and timer ---- */

static int on_socket(CURL *e, curl_socket_t s, int what, void *cls, void *sockp)
{
	struct loop *l = cls;
	struct epoll_event ev = { .data.u64 = TAG(TAG_CURL, s) };

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(l->ep, EPOLL_CTL_DEL, s, NULL);
		curl_multi_assign(l->w.multi, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
	if (epoll_ctl(l->ep, sockp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) &&
	    epoll_ctl(l->ep, sockp ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s, &ev))
		return -1;
	if (!sockp)
		curl_multi_assign(l->w.multi, s, l);
	return 0;
}

static int on_timer(CURLM *m, long ms, void *cls)
{
	struct loop *l = cls;

	(void)m;
	l->curl_due = ms < 0 ? -1 : mono_ms() + ms;
	return 0;
}

static void curl_timeouts(struct loop *l)
{
	int running;

	if (l->curl_due >= 0 && mono_ms() >= l->curl_due) {
		l->curl_due = -1;
		curl_multi_socket_action(l->w.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	kt_proxy_fwd_collect(&l->w);
}

/* ---- the loop ---- */

/* How long epoll may wait; sets l->mhd_due, when the daemon wants to run anyway. */
static int wait_ms(struct loop *l, long long next_tick)
{
	long long now = mono_ms(), due = next_tick;
	MHD_UNSIGNED_LONG_LONG t;

	l->mhd_due = next_tick;
	if (MHD_get_timeout(l->d, &t) == MHD_YES && now + (long long)t < l->mhd_due)
		l->mhd_due = now + (long long)t;
	if (l->w.dirty)
		return 0;
	if (l->mhd_due < due)
		due = l->mhd_due;
	if (l->curl_due >= 0 && l->curl_due < due)
		due = l->curl_due;
	return due > now ? (int)(due - now) : 0;
}

static void *loop_main(void *cls)
{
	struct loop *l = cls;
	struct proxy_loop *g = l->g;
	bool first = l == &g->loops[0];
	long long next_tick = mono_ms() + 1000;
	struct epoll_event ev[64];
	uint64_t junk;
	int n, i, running, mask;

	char name[16];

	snprintf(name, sizeof(name), "kt-loop-%u", (unsigned)(l - g->loops));
	pthread_setname_np(pthread_self(), name); /* top -H, /proc/PID/task/N/comm */
	kt_log_hold(true);                        /* audit lines: one write per pass */
	while (!atomic_load(&g->stop)) {
		kt_log_flush();
		n = epoll_wait(l->ep, ev, 64, wait_ms(l, next_tick));
		for (i = 0; i < n; i++) {
			uint32_t kind = (uint32_t)(ev[i].data.u64 >> 32);
			int v = (int)(uint32_t)ev[i].data.u64;

			if (kind == TAG_WAKE) {
				if (read(l->w.wake_fd, &junk, sizeof(junk)) < 0) {
					/* nothing to drain: the flags say what to do */
				}
				take_inbox(l);
				l->w.dirty = true; /* maybe a resumed connection */
			} else if (kind == TAG_DAEMON) {
				l->w.dirty = true;
			} else if (kind == TAG_LISTEN) {
				accept_some(l);
			} else {
				mask = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
				       (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
				       (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR
									     : 0);
				curl_multi_socket_action(l->w.multi, v, mask, &running);
			}
		}
		curl_timeouts(l);
		if (l->w.dirty || mono_ms() >= l->mhd_due) {
			run_daemon(l);
			curl_timeouts(l); /* requests that just started */
		}
		if (atomic_load(&g->drain) && !l->drained) {
			if (first)
				stop_accepting(l);
			kt_proxy_fwd_wake_streams(&l->w);
			l->drained = true;
		}
		if (mono_ms() >= next_tick) {
			if (first && !l->drained)
				resume_accepting(l);
			kt_proxy_fwd_sweep(&l->w);
			next_tick = mono_ms() + 1000;
		}
	}
	/* every suspended connection must be resumed before the daemon stops */
	for (i = 0; i < 100; i++) {
		kt_proxy_fwd_cancel_all(&l->w);
		run_daemon(l);
		if (!atomic_load(&g->p->tun_held))
			break;
		usleep(20 * 1000);
	}
	MHD_stop_daemon(l->d);
	l->d = NULL;
	kt_log_hold(false);
	return NULL;
}

static bool loop_init(struct loop *l)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG(TAG_WAKE, 0) };
	const union MHD_DaemonInfo *di;

	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->w.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->ep < 0 || l->w.wake_fd < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, l->w.wake_fd, &ev) ||
	    !(l->w.multi = curl_multi_init()))
		return false;
	curl_multi_setopt(l->w.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(l->w.multi, CURLMOPT_SOCKETDATA, l);
	curl_multi_setopt(l->w.multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(l->w.multi, CURLMOPT_TIMERDATA, l);
	curl_multi_setopt(l->w.multi, CURLMOPT_MAXCONNECTS, 256L);
	l->d = kt_proxy_daemon_start(&l->w);
	di = l->d ? MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	ev.data.u64 = TAG(TAG_DAEMON, 0);
	return di && !epoll_ctl(l->ep, EPOLL_CTL_ADD, di->epoll_fd, &ev);
}

static void loop_release(struct loop *l)
{
	if (l->d)
		MHD_stop_daemon(l->d);
	while (l->n_inbox)
		close(l->inbox[--l->n_inbox].fd);
	kt_proxy_fwd_free_pool(&l->w);
	if (l->w.multi)
		curl_multi_cleanup(l->w.multi);
	if (l->ep >= 0)
		close(l->ep);
	if (l->w.wake_fd >= 0)
		close(l->w.wake_fd);
	pthread_mutex_destroy(&l->lock);
}

struct proxy_loop *kt_proxy_loop_start(struct proxy *p, int listen_fd, unsigned n,
				       struct kt_err *err)
{
	struct proxy_loop *g;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG(TAG_LISTEN, 0) };
	unsigned i;

	if (!n)
		n = kt_http_cpus(PROXY_MAX_LOOPS);
	if (n > PROXY_MAX_LOOPS)
		n = PROXY_MAX_LOOPS;
	g = calloc(1, sizeof(*g) + n * sizeof(g->loops[0]));
	if (!g) {
		kt_err_set(err, KT_E_NOMEM, "out of memory");
		return NULL;
	}
	g->p = p;
	g->n = n;
	g->listen_fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 0); /* the caller's stays open */
	for (i = 0; i < n; i++) {
		g->loops[i].g = g;
		g->loops[i].w.p = p;
		g->loops[i].curl_due = -1;
		g->loops[i].ep = g->loops[i].w.wake_fd = -1;
		pthread_mutex_init(&g->loops[i].lock, NULL);
	}
	for (i = 0; i < n; i++) {
		if (!loop_init(&g->loops[i])) {
			kt_err_set(err, KT_E_IO, "cannot start the HTTPS server on '%s'",
				   p->opts->listen);
			goto fail;
		}
	}
	if (g->listen_fd < 0 || fcntl(g->listen_fd, F_SETFL, O_NONBLOCK) ||
	    epoll_ctl(g->loops[0].ep, EPOLL_CTL_ADD, g->listen_fd, &ev)) {
		kt_err_set(err, KT_E_IO, "cannot listen on '%s'", p->opts->listen);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if (pthread_create(&g->loops[i].th, NULL, loop_main, &g->loops[i])) {
			kt_err_set(err, KT_E_NOMEM, "cannot start a thread");
			kt_proxy_loop_stop(g);
			return NULL;
		}
		g->loops[i].running = true;
	}
	atomic_store(&p->m.loops, n);
	return g;
fail:
	kt_proxy_loop_stop(g);
	return NULL;
}

void kt_proxy_loop_drain(struct proxy_loop *g)
{
	unsigned i;

	atomic_store(&g->drain, true);
	for (i = 0; i < g->n; i++)
		kt_proxy_loop_wake(&g->loops[i].w);
}

/* Every loop stops at once: each resumes its own suspended connections, tunnels included. */
void kt_proxy_loop_stop(struct proxy_loop *g)
{
	unsigned i;

	if (!g)
		return;
	atomic_store(&g->stop, true);
	for (i = 0; i < g->n; i++)
		if (g->loops[i].running)
			kt_proxy_loop_wake(&g->loops[i].w);
	for (i = 0; i < g->n; i++)
		if (g->loops[i].running)
			pthread_join(g->loops[i].th, NULL);
	for (i = 0; i < g->n; i++)
		loop_release(&g->loops[i]);
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	free(g);
}
