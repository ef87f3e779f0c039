/*
 * internal.h: what the files of the proxy's server adapter share.
 *
 * proxy.c   the entry point, daemons, authentication
 * fwd.c     ordinary requests: libcurl, streamed back as they arrive
 * tun.c     Upgrade requests (exec, attach, port-forward): OpenSSL tunnel
 * ops.c     metrics, health, credentials, logging
 * loop.c    the event loops: HTTPS daemons, libcurl sockets
 * ui.c      the dashboard's files under /ui/ (--ui)
 * scope.c   `-f`: tenant-scoped lists of namespaces, nodes, classes
 *
 * Threading: each event-loop thread (one per CPU unless --threads says)
 * runs its own libmicrohttpd daemon (external epoll mode) and every
 * upstream transfer of its connections; a request waiting for the API
 * server is a suspended connection, not a blocked thread.  Each tunnel gets
 * a thread for its set-up and its pump.  Shared state is the key set
 * (kt/oidc.h), the token cache and struct proxy's counters, all
 * thread-safe; struct proxy_worker is its loop's alone.
 */
#ifndef KT_SERVER_PROXY_H
#define KT_SERVER_PROXY_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>
#include <microhttpd.h>
#include <curl/curl.h>
#include <openssl/ssl.h>
#include "kt/jwt.h"
#include "kt/oidc.h"
#include "kt/proxy.h"
#include "core.h"
#include "log.h"

#define PROXY_LAT_BUCKETS 12
#define PROXY_MAX_REASONS 32
#define PROXY_MAX_LOOPS 256 /* event loops (--threads) */

/* Relaxed atomics, read at scrape time by the registry (server/prom.c). */
struct proxy_metrics {
	atomic_ulong by_status[600];
	atomic_ulong auth_fail[PROXY_MAX_REASONS];
	/* static strings, added under lock, read by scrapes without it */
	_Atomic(const char *) reason_names[PROXY_MAX_REASONS];
	pthread_mutex_t lock;
	struct kt_histogram latency; /* to the API server's response headers */
	atomic_ulong tunnels_open;
	atomic_ulong tunnels_total, cache_hits, cache_misses, jwks[2]; /* jwks: ok, error */
	atomic_uint loops;                        /* event loops running (loop.c) */
	atomic_ulong loop_conns[PROXY_MAX_LOOPS]; /* connections each loop was dealt */
	struct kt_prom reg;
};

struct proxy_creds {
	const char *token_file; /* borrowed from the options */
	pthread_mutex_t lock;
	char *token;
	struct timespec mtime;
	long long ino, size, checked;
};

struct proxy_upstream {
	char *base;     /* "https://host:port" with no trailing slash */
	char *host;     /* for SNI and the certificate check */
	char *hostport; /* Host header */
	char port[8];
	SSL_CTX *tls;  /* for tunnels */
	CURLSH *share; /* TLS sessions and DNS shared by every connection */
	pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
};

struct proxy {
	struct kt_proxy_opts *opts;
	struct kt_jwt_policy policy;
	struct kt_oidc *oidc;
	struct kt_jwt_cache *cache;
	struct proxy_metrics m;
	struct proxy_creds creds;
	struct proxy_upstream up;
	struct kt_tls *tls;             /* the serving certificate, hot-reloaded (server/tls.c) */
	struct proxy_scope_conf *scope; /* the tenants file (-f), NULL without (proxy_scope.c) */
	atomic_bool draining;           /* SIGTERM: end streams, accept nothing new */
	atomic_bool stop_tunnels;       /* grace period over */
	atomic_int inflight;            /* requests not yet completed, tunnels included */
	atomic_int tun_held; /* tunnels holding their connection suspended (set-up, pump) */
};

/*
 * One event loop's own state (loop.c): its daemon's connections and
 * transfers live here and are touched by its thread only; other threads
 * only write to wake_fd (kt_proxy_loop_wake).
 */
struct proxy_worker {
	struct proxy *p;
	int wake_fd;         /* the loop's eventfd */
	CURLM *multi;        /* every request this loop forwards */
	bool dirty;          /* a connection was resumed: run the daemon */
	struct fwd *fwds;    /* every forwarded request, for the sweeps */
	CURL *easy_pool[32]; /* finished handles, ready for reuse */
	size_t n_easy;
	struct preq *corked[64]; /* answers held for one TLS record (fwd.c) */
	size_t n_corked;
};

/* Per-request state, created by the URI log callback. */
struct preq {
	struct proxy *p;
	struct proxy_worker *w; /* the loop that serves its connection */
	char *uri;              /* raw request target, as received */
	const char *method;     /* borrowed from MHD */
	char client_ip[64];
	struct timespec start;
	struct kt_identity id;
	bool authed, upgrade, body_too_large, logged;
	bool probe; /* /healthz or /readyz: answered once the request is read */
	struct kt_buf body;
	struct kt_buf fwd_hdrs; /* "Name: value\0" ... */
	size_t n_fwd_hdrs;
	unsigned status;
	unsigned long long bytes;
	const char *reason; /* refusal reason for the audit line */
	struct fwd *fwd;    /* from forwarding to the end of the response */
	struct tun *tun;    /* the tunnel, from its set-up until the pump ends */
	void *cork;         /* the client's TLS session while its answer is corked */
	int cork_fd;        /* and its socket */
};

/*
 * proxy.c: a loop's HTTPS daemon, serving p->tls; its connections come from
 * loop.c.  The one pair of files that call each other: proxy.c starts the
 * loops, and each loop starts its daemon, whose callbacks (authentication,
 * dispatch) are proxy.c's.  Breaking it would take a function pointer that
 * says the same thing less plainly.
 */
struct MHD_Daemon *kt_proxy_daemon_start(struct proxy_worker *w);

/* loop.c */
struct proxy_loop;
/*
 * Start n loop threads (0: one per CPU); the first accepts on listen_fd
 * (borrowed) and deals the connections out in turn.
 */
struct proxy_loop *kt_proxy_loop_start(struct proxy *p, int listen_fd, unsigned n,
				       struct kt_err *err);
void kt_proxy_loop_drain(struct proxy_loop *l); /* stop accepting, end streams */
void kt_proxy_loop_stop(struct proxy_loop *l);  /* close everything, join, free */
/*
 * From another thread, after MHD_resume_connection(): in external epoll
 * mode libmicrohttpd wakes nobody, so without this a resumed connection
 * waits for the loop's next tick.
 */
static inline void kt_proxy_loop_wake(struct proxy_worker *w)
{
	uint64_t one = 1;

	if (write(w->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		kt_log(KT_LOG_WARN, "cannot wake the event loop", NULL);
}

/* fwd.c (loop thread only) */
/* Start forwarding r (the connection waits suspended); answer it when resumed. */
enum MHD_Result kt_proxy_forward(struct MHD_Connection *c, struct preq *r);
enum MHD_Result kt_proxy_forward_resume(struct MHD_Connection *c, struct preq *r);
void kt_proxy_fwd_release(struct preq *r);
void kt_proxy_fwd_collect(struct proxy_worker *w);      /* finished transfers */
void kt_proxy_fwd_sweep(struct proxy_worker *w);        /* each second: hang-ups, header timeouts */
void kt_proxy_fwd_wake_streams(struct proxy_worker *w); /* draining: streams end */
void kt_proxy_fwd_cancel_all(struct proxy_worker *w);   /* stopping: every transfer ends */
void kt_proxy_fwd_free_pool(struct proxy_worker *w);
/* Send what respond() corked: after each daemon run, and when a request ends first. */
void kt_proxy_fwd_uncork_all(struct proxy_worker *w);
void kt_proxy_fwd_uncork(struct preq *r);

/* tun.c: the set-up runs on a thread of its own; the answer is queued on resume */
enum MHD_Result kt_proxy_tunnel(struct MHD_Connection *c, struct preq *r);
enum MHD_Result kt_proxy_tunnel_answer(struct MHD_Connection *c, struct preq *r);
/* The request ends: free a tunnel whose 101 never reached the client. */
void kt_proxy_tunnel_abandon(struct preq *r);

/* ui.c: the dashboard's files, before any authentication (--ui) */
bool kt_proxy_ui_match(const char *uri);
enum MHD_Result kt_proxy_ui_serve(struct MHD_Connection *c, struct preq *r);

/* ops.c */
enum kt_rc kt_proxy_upstream_init(struct proxy_upstream *u, const struct kt_proxy_opts *o,
				  struct kt_err *err);
void kt_proxy_upstream_release(struct proxy_upstream *u);
/* "Authorization: Bearer <token>" into out (reset first), re-reading a rotated file; false if none. */
bool kt_proxy_creds_header(struct proxy_creds *c, struct kt_buf *out);
void kt_proxy_creds_release(struct proxy_creds *c);
void kt_proxy_metrics_init(struct proxy *p); /* the counters at 0, the families registered */
void kt_proxy_count_status(struct proxy_metrics *m, unsigned status);
void kt_proxy_count_auth_fail(struct proxy_metrics *m, const char *reason);
void kt_proxy_observe_latency(struct proxy_metrics *m, double seconds);
double kt_proxy_elapsed(const struct timespec *since);
void kt_proxy_audit(struct preq *r, const char *verb);
/* A Kubernetes Status object as the response body. */
struct MHD_Response *kt_proxy_status_response(unsigned code, const char *reason,
					      const char *message);
/* Queue that Status as the answer to r (r->status is set). */
enum MHD_Result kt_proxy_queue_status(struct MHD_Connection *c, struct preq *r, unsigned code,
				      const char *reason, const char *message);

#endif
