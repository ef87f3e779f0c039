/*
 * process.c: the main thread of `serve` and of `proxy` once they listen.
 *
 * Signals are blocked in every thread and taken here with sigtimedwait(),
 * so no handler runs in the middle of a worker's work.  Every interval
 * (and at once on SIGHUP, forced: the same bytes are read again) the
 * certificate and the server's own files are polled; SIGTERM or SIGINT
 * starts the drain, which a second one cuts short.
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include "core.h"
#include "log.h"

void kt_process_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void kt_process_run(const struct kt_process *p, const sigset_t *sigs)
{
	uint64_t every = (uint64_t)p->interval_s * 1000000u;
	uint64_t next_poll = kt_http_now_us() + every;

	for (;;) {
		struct timespec tick = { 0, 250 * 1000 * 1000 };
		int sig = sigtimedwait(sigs, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT) {
			kt_log(KT_LOG_INFO, "shutting down", "signal",
			       sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
			if (p->drain)
				p->drain(p->ctx, sigs);
			return;
		}
		if (sig == SIGHUP || kt_http_now_us() >= next_poll) {
			if (p->reload)
				p->reload(p->ctx, sig == SIGHUP);
			if (p->tls)
				kt_tls_poll(p->tls, sig == SIGHUP, p->tls_reloads,
					    p->tls_reload_failures);
			next_poll = kt_http_now_us() + every;
		}
	}
}
