/*
 * http.h: the HTTP(S) server adapter (server/http.c over libmicrohttpd,
 * server/tls.c over GnuTLS, server/filewatch.c for hot reload).
 *
 * Handlers see neither sockets nor the library: a request is method, path,
 * headers and a complete body; a response is a status, a content type and a
 * body.  That keeps every handler testable without a socket (t_server.c) and
 * lets the adapter own the hard parts: TLS, keep-alive, timeouts, limits,
 * body caps and graceful shutdown.
 */
#ifndef KT_HTTP_H
#define KT_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include "kt/buf.h"
#include "kt/err.h"
#include "kt/hash.h"

/* The webhook and proxy both take at most this much request body. */
#define KT_HTTP_MAX_BODY (3u << 20)

/*
 * A memory budget shared by every request of a server, so that no mix of
 * requests, however hostile, takes the process past its memory limit.
 * Bodies are charged before they are read: the announced Content-Length
 * from the headers, or a chunked body's buffer as it grows.  A handler
 * charges what it is about to allocate (the webhook: a review's decode) and
 * gives it back when done.  A charge larger than KT_HTTP_BUDGET_LARGE may
 * fill only 3/4 of the budget, so large bodies, slow ones included, always
 * leave room for the small reviews the API server sends by the thousand.
 * What was refused is counted (relaxed atomics, read by /metrics).
 */
struct kt_http_budget {
	size_t max; /* bytes; 0: no budget */
	atomic_size_t used;
	atomic_ulong refused_body; /* bodies answered 503 */
	atomic_ulong refused_work; /* handler charges refused (decodes) */
};
#define KT_HTTP_BUDGET_LARGE (64u << 10)

/* Charge n bytes; false (nothing charged) when they do not fit.  NULL b: always fits. */
bool kt_http_budget_take(struct kt_http_budget *b, size_t n);
void kt_http_budget_give(struct kt_http_budget *b, size_t n);

struct kt_http_req {
	const char *method; /* "POST"; borrowed: valid for this request */
	const char *path;   /* without the query string */
	const char *body;   /* NUL-terminated; "" when there is none */
	size_t body_len;
	uint64_t start_us; /* monotonic clock when the headers were complete */
	char id[17];       /* request id (hex), for logs */
	/* header lookup (case-insensitive); NULL when absent; set by the adapter */
	const char *(*header)(const struct kt_http_req *req, const char *name);
	void *conn; /* adapter-private */
};

struct kt_http_resp {
	int status;               /* 0 until a handler sets it */
	const char *content_type; /* static string */
	const char *allow;        /* "Allow" header for 405; static; NULL for none */
	unsigned retry_after;     /* seconds, "Retry-After" header (503); 0 for none */
	struct kt_buf body;       /* freed by the adapter */
};

/*
 * A handler serves one exact path (the query string never matters).  It
 * fills resp and returns 0; a non-zero return makes the adapter answer 500.
 * on_dispose (may be NULL) frees the handler when the server is freed.
 */
struct kt_handler {
	const char *path;
	int (*on_request)(struct kt_handler *self, const struct kt_http_req *req,
			  struct kt_http_resp *resp);
	void (*on_dispose)(struct kt_handler *self);
};

/* Fill resp with a status and a text/plain body "fmt...\n". */
int kt_http_text(struct kt_http_resp *resp, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * resp as a libmicrohttpd response (its body moves there; a resp with no
 * status becomes a 500), for a server that answers on its own connections
 * (the proxy).  NULL when out of memory.
 */
struct MHD_Response;
struct MHD_Response *kt_http_response(struct kt_http_resp *resp);

/* The handler for path (query string and fragment ignored), or NULL: borrowed. */
struct kt_handler *kt_http_route(struct kt_handler *const *handlers, size_t n, const char *path);

/*
 * Parse "ADDR:PORT", ":PORT" (every address), "[V6]:PORT" or "PORT" into a
 * socket address.  Returns KT_E_INVALID with a message on anything else.
 */
struct sockaddr_storage;
enum kt_rc kt_http_parse_listen(const char *spec, struct sockaddr_storage *ss, unsigned *len,
				struct kt_err *err);
/*
 * A listening TCP socket (non-blocking, close-on-exec) on spec; *port is the
 * port it got (spec may ask for 0).  -1 with err set ("cannot listen on ...")
 * on failure.
 */
int kt_http_listen(const char *spec, unsigned *port, struct kt_err *err);

/* Monotonic microseconds. */
uint64_t kt_http_now_us(void);

/*
 * How many threads a server should run: the CPUs this process may use (its
 * affinity mask), lowered to the cgroup v2 CPU quota (cpu.max) of its
 * cgroup or any parent, so a container limited to one CPU on a 64-core node
 * runs one thread, not 64.  At least 1, at most max.
 */
unsigned kt_http_cpus(unsigned max);
/* CPUs in cpu.max text ("150000 100000" -> 2, rounded up); 0 for "max" or anything else. */
unsigned kt_http_cpu_quota(const char *text);

/*
 * TLS identity loaded from a certificate chain and a private key in PEM
 * files, re-read on change.  New handshakes use the newest pair; existing
 * connections keep theirs, and a retired pair is freed only once no
 * connection that may use it is left.
 */
struct kt_tls;

/* Returns a new object; free with kt_tls_free().  KT_E_IO/KT_E_PARSE/KT_E_INVALID on failure. */
enum kt_rc kt_tls_new(const char *cert_path, const char *key_path, struct kt_tls **out,
		      struct kt_err *err);

/*
 * Re-read the pair when either file changed (or always, with force).
 * *changed says whether a new pair is now in use.  On failure the previous
 * pair keeps serving and err says why; a failure for the same files is
 * reported once, not at every poll.
 */
enum kt_rc kt_tls_reload(struct kt_tls *tls, bool force, bool *changed, struct kt_err *err);

/*
 * The reload both servers run from their process loop: kt_tls_reload(),
 * then a log line, "certificate reloaded" with the new serial or
 * "certificate rejected; the previous one keeps serving" with the reason
 * (a renewal caught half-written), each counted in ok or failed (either
 * may be NULL).
 */
void kt_tls_poll(struct kt_tls *tls, bool force, atomic_ulong *ok, atomic_ulong *failed);

/* The serial number of the pair in use, hex ("" when unknown): copies into out. */
void kt_tls_serial(struct kt_tls *tls, char *out, size_t n);
void kt_tls_free(struct kt_tls *tls);

/* Change detection for a file replaced in place or by a symlink swap. */
struct kt_file_sig {
	bool valid; /* stat() succeeded */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	char *target; /* realpath(), owned */
	int err;      /* errno of the last failed stat, 0 when none */
};

enum kt_file_change { KT_FILE_SAME, KT_FILE_CHANGED, KT_FILE_GONE };

/*
 * Compare path with *sig and update *sig.  KT_FILE_GONE when the file
 * cannot be stat()ed now (sig->err says why; the previous identity stays).
 */
enum kt_file_change kt_file_sig_update(const char *path, struct kt_file_sig *sig);
void kt_file_sig_release(struct kt_file_sig *sig);

struct kt_http_opts {
	const char *listen;            /* see kt_http_parse_listen */
	struct kt_tls *tls;            /* NULL: plain HTTP; borrowed, must outlive the server */
	unsigned threads;              /* worker threads (each runs its own epoll) */
	unsigned conn_limit;           /* concurrent connections */
	unsigned timeout_s;            /* idle or stalled connection is closed after this, and
				      * a body still arriving this long after its headers */
	size_t conn_memory;            /* per-connection buffer (headers, I/O) */
	size_t max_body;               /* larger bodies get 413 */
	struct kt_http_budget *budget; /* NULL: none; borrowed, must outlive the server */
	struct kt_handler *const *handlers; /* borrowed; must outlive the server */
	size_t n_handlers;
	/* called once per answered request, from a worker thread (may be NULL) */
	void (*on_response)(void *ctx, const struct kt_http_req *req, int status);
	void *ctx;
	/* log hook for the adapter's own errors (may be NULL) */
	void (*on_log)(void *ctx, const char *msg);
};

struct kt_http_server;

/* Bind, listen and start the workers.  Returns a new server; free with kt_http_free(). */
enum kt_rc kt_http_start(const struct kt_http_opts *o, struct kt_http_server **out,
			 struct kt_err *err);

/* The bound port (useful with port 0). */
unsigned kt_http_port(const struct kt_http_server *s);

/* Requests whose headers arrived and whose response is not finished yet. */
long kt_http_in_flight(const struct kt_http_server *s);

/* Connections closed because their body was still arriving at the deadline. */
unsigned long kt_http_body_timeouts(const struct kt_http_server *s);

/*
 * Graceful shutdown, step 1: stop accepting (new connections are refused),
 * and answer every later request with "Connection: close".
 */
void kt_http_quiesce(struct kt_http_server *s);

/* Step 2: close every connection (idle keep-alive ones included) and stop; NULL-safe. */
void kt_http_free(struct kt_http_server *s);

#endif
