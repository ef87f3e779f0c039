/*
 * http.c: the HTTP(S) server adapter over libmicrohttpd.
 *
 * Why libmicrohttpd: it is in Debian, it parses HTTP/1.1 for us (we never
 * hand-write a parser for hostile input), it speaks TLS through GnuTLS with
 * a certificate callback (hot rotation without a restart), and its thread
 * pool with one epoll loop per thread gives a few microseconds of overhead
 * per keep-alive request at a few megabytes of memory.
 *
 * Each worker thread runs whole requests: the body is collected up to
 * max_body (413 past it, answered before the rest is read when a
 * Content-Length announces it), then the handler runs and the response is
 * queued.  Handlers are pure functions of the request, so nothing blocks.
 *
 * What a request may hold is bounded three ways: the body by max_body, the
 * memory of every request together by the budget (503 before the body is
 * read when it does not fit), and the time a body may take by timeout_s
 * after its headers (libmicrohttpd's own timeout only notices a connection
 * that sends nothing; one that trickles a byte a second would hold its
 * buffer for ever).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include "http.h"
#include "tls.h"

struct kt_http_server {
	struct kt_http_opts o;
	struct MHD_Daemon *d;
	int listen_fd;
	bool quiesced;
	unsigned port;
	atomic_long in_flight;
	atomic_ulong body_timeouts;
	atomic_bool closing;
	atomic_uint_fast64_t next_id;
	uint64_t id_salt;
};

/* One request, from complete headers to the completion notice. */
struct req_state {
	struct kt_http_req req;
	struct kt_handler *h;
	struct kt_buf body;
	bool answered;
	int refuse;       /* 413 or 503: the body went past max_body or the budget */
	size_t discarded; /* bytes dropped since */
	size_t charged;   /* bytes of the budget this request holds */
};

/* How much of a refused chunked body is read (and dropped) to answer 413 or 503. */
#define OVERFLOW_DISCARD (1u << 20)

uint64_t kt_http_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int kt_http_text(struct kt_http_resp *resp, int status, const char *fmt, ...)
{
	va_list ap;
	char line[1024];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	kt_buf_reset(&resp->body);
	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	if (kt_buf_adds(&resp->body, line) || kt_buf_addch(&resp->body, '\n'))
		return -1;
	return 0;
}

bool kt_http_budget_take(struct kt_http_budget *b, size_t n)
{
	size_t used, limit;

	if (!b || !b->max)
		return true;
	limit = n > KT_HTTP_BUDGET_LARGE ? b->max / 4 * 3 : b->max;
	used = atomic_load_explicit(&b->used, memory_order_relaxed);
	do {
		if (n > limit || used > limit - n)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&b->used, &used, used + n,
							memory_order_relaxed,
							memory_order_relaxed));
	return true;
}

void kt_http_budget_give(struct kt_http_budget *b, size_t n)
{
	if (b && b->max && n)
		atomic_fetch_sub_explicit(&b->used, n, memory_order_relaxed);
}

struct kt_handler *kt_http_route(struct kt_handler *const *handlers, size_t n, const char *path)
{
	size_t len = strcspn(path, "?#"), i;

	for (i = 0; i < n; i++)
		if (strlen(handlers[i]->path) == len && !memcmp(handlers[i]->path, path, len))
			return handlers[i];
	return NULL;
}

enum kt_rc kt_http_parse_listen(const char *spec, struct sockaddr_storage *ss, unsigned *len,
				struct kt_err *err)
{
	char host[64];
	const char *colon, *port_s;
	char *end;
	unsigned long port;
	size_t hlen;
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (spec[0] == '[') {
		colon = strstr(spec, "]:");
		if (!colon)
			goto bad;
		hlen = (size_t)(colon - spec - 1);
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, spec + 1, hlen);
		port_s = colon + 2;
	} else {
		colon = strrchr(spec, ':');
		hlen = colon ? (size_t)(colon - spec) : 0;
		if (hlen >= sizeof(host) || (colon && memchr(spec, ':', hlen)))
			goto bad;
		memcpy(host, spec, hlen);
		port_s = colon ? colon + 1 : spec;
	}
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (!*port_s || *end || errno || port > 65535 || *port_s == '-' || *port_s == '+')
		goto bad;
	if (!hlen || !strcmp(host, "*")) {
		/* every address: dual-stack; kt_http_start falls back to IPv4 */
		v6->sin6_family = AF_INET6;
		v6->sin6_addr = in6addr_any;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
	} else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
	} else if (!strcmp(host, "localhost")) {
		v4->sin_family = AF_INET;
		v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
	} else {
		goto bad;
	}
	return KT_OK;
bad:
	return kt_err_set(err, KT_E_INVALID,
			  "listen address '%s' is not ADDR:PORT, [IPV6]:PORT or :PORT", spec);
}

int kt_http_listen(const char *spec, unsigned *port, struct kt_err *err)
{
	struct sockaddr_storage ss;
	unsigned len;
	int fd, one = 1, zero = 0;

	if (kt_http_parse_listen(spec, &ss, &len, err))
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 && ss.ss_family == AF_INET6 && errno == EAFNOSUPPORT &&
	    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr)) {
		/* no IPv6 in this container: every IPv4 address instead */
		struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
		uint16_t p = ((struct sockaddr_in6 *)&ss)->sin6_port;

		memset(&ss, 0, sizeof(ss));
		v4->sin_family = AF_INET;
		v4->sin_port = p;
		len = sizeof(*v4);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	}
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 1024))
		goto fail;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, (socklen_t *)&len))
		goto fail;
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					       : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
fail:
	kt_err_set(err, KT_E_IO, "cannot listen on '%s': %s", spec, strerror(errno));
	if (err)
		err->sys_errno = errno;
	if (fd >= 0)
		close(fd);
	return -1;
}

static const char *req_header(const struct kt_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

struct MHD_Response *kt_http_response(struct kt_http_resp *resp)
{
	struct MHD_Response *m;
	size_t len = resp->body.len;
	char *body;

	if (!resp->status)
		kt_http_text(resp, 500, "internal error: no response");
	body = len ? kt_buf_detach(&resp->body, &len) : NULL;
	m = body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
		 : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!m) {
		free(body);
		return NULL;
	}
	if (resp->content_type)
		MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	if (resp->allow)
		MHD_add_response_header(m, MHD_HTTP_HEADER_ALLOW, resp->allow);
	if (resp->retry_after) {
		char secs[16];

		snprintf(secs, sizeof(secs), "%u", resp->retry_after);
		MHD_add_response_header(m, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
	return m;
}

/* Queue resp; the body moves to libmicrohttpd. */
static enum MHD_Result send_resp(struct kt_http_server *s, struct req_state *r,
				 struct kt_http_resp *resp)
{
	struct MHD_Response *m = kt_http_response(resp);
	enum MHD_Result ok;

	if (!m)
		return MHD_NO;
	if (atomic_load_explicit(&s->closing, memory_order_relaxed))
		MHD_add_response_header(m, MHD_HTTP_HEADER_CONNECTION, "close");
	ok = MHD_queue_response(r->req.conn, (unsigned)resp->status, m);
	MHD_destroy_response(m);
	r->answered = true;
	if (ok == MHD_YES && s->o.on_response)
		s->o.on_response(s->o.ctx, &r->req, resp->status);
	kt_buf_release(&resp->body);
	return ok;
}

static enum MHD_Result answer(struct kt_http_server *s, struct req_state *r, int status,
			      const char *allow, const char *fmt, const char *arg)
{
	struct kt_http_resp resp = { .body = KT_BUF_INIT };

	kt_http_text(&resp, status, fmt, arg);
	resp.allow = allow;
	resp.retry_after = status == 503 ? 1 : 0;
	return send_resp(s, r, &resp);
}

/* Why a body was refused, in the words of the answer. */
static enum MHD_Result refuse(struct kt_http_server *s, struct req_state *r)
{
	if (r->refuse == 413)
		return answer(s, r, 413, NULL, "request body is larger than %s", "3 MiB");
	return answer(s, r, 503, NULL, "%s",
		      "the server is at its memory budget; retry in a second");
}

/*
 * Room for n more body bytes, charged to the budget before it is allocated:
 * an announced body gets exactly its size, a chunked one doubles as it
 * grows.  0, or the status that refuses the body (413, 503).
 */
static int body_room(struct kt_http_server *s, struct req_state *r, size_t n)
{
	struct kt_buf *b = &r->body;
	size_t need, cap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return 413;
	need = b->len + n + 1;
	if (need <= b->alloc)
		return 0;
	cap = b->alloc && b->alloc * 2 > need ? b->alloc * 2 : need;
	if (cap > b->max + 1)
		cap = b->max + 1;
	if (!kt_http_budget_take(s->o.budget, cap - b->alloc)) {
		atomic_fetch_add_explicit(&s->o.budget->refused_body, 1, memory_order_relaxed);
		return 503;
	}
	r->charged += cap - b->alloc;
	p = realloc(b->alloc ? b->buf : NULL, cap);
	if (!p)
		return 503;
	if (!b->alloc)
		p[0] = '\0';
	b->buf = p;
	b->alloc = cap;
	return 0;
}

/* The announced body length: 0 when none, ULLONG_MAX when unreadable. */
static unsigned long long content_length(struct MHD_Connection *c)
{
	const char *cl =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long n;

	if (!cl)
		return 0;
	errno = 0;
	n = strtoull(cl, &end, 10);
	return errno || end == cl ? ULLONG_MAX : n;
}

static void hex16(char *out, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 15; i >= 0; i--, v >>= 4)
		out[i] = digits[v & 15];
	out[16] = '\0';
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **req_cls)
{
	struct kt_http_server *s = cls;
	struct req_state *r = *req_cls;
	struct kt_http_resp resp = { .body = KT_BUF_INIT };
	unsigned long long len;
	uint64_t id;

	(void)version;
	if (!r) {
		/* headers complete: route now, so bad requests never upload a body */
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*req_cls = r;
		atomic_fetch_add(&s->in_flight, 1);
		r->req.method = method;
		r->req.path = url;
		r->req.body = "";
		r->req.conn = c;
		r->req.header = req_header;
		r->req.start_us = kt_http_now_us();
		id = atomic_fetch_add_explicit(&s->next_id, 1, memory_order_relaxed);
		hex16(r->req.id, s->id_salt ^ (id * 0x9e3779b97f4a7c15ull));
		r->body.buf = kt_buf_empty;
		r->body.max = s->o.max_body;
		r->h = kt_http_route(s->o.handlers, s->o.n_handlers, url);
		if (!r->h)
			return answer(s, r, 404, NULL, "no handler for '%s'", url);
		len = content_length(c);
		/* the announced body, charged and allocated before a byte of it is read */
		if (len > s->o.max_body)
			r->refuse = 413;
		else if (len)
			r->refuse = body_room(s, r, (size_t)len);
		return r->refuse ? refuse(s, r) : MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;

		*upload_size = 0;
		if (s->o.timeout_s &&
		    kt_http_now_us() - r->req.start_us > (uint64_t)s->o.timeout_s * 1000000u) {
			/* a body trickling in: hang up rather than hold its buffer */
			atomic_fetch_add_explicit(&s->body_timeouts, 1, memory_order_relaxed);
			return MHD_NO;
		}
		/*
		 * The early answer is out; drop what still comes.  Not hanging
		 * up: a reset under a client still sending can destroy the
		 * answer before it is read (it still can, at the library's
		 * discretion; a client asking "Expect: 100-continue" never
		 * sends the body at all).
		 */
		if (r->answered)
			return MHD_YES;
		if (!r->refuse)
			r->refuse = body_room(s, r, n);
		if (r->refuse) {
			/*
			 * A chunked body (no Content-Length) past the cap or the
			 * budget: the library cannot answer in mid-body, so drop a
			 * little more to answer at its end, and hang up past that.
			 */
			kt_buf_release(&r->body);
			kt_http_budget_give(s->o.budget, r->charged);
			r->charged = 0;
			r->discarded += n;
			return r->discarded > OVERFLOW_DISCARD ? MHD_NO : MHD_YES;
		}
		memcpy(r->body.buf + r->body.len, upload, n);
		r->body.len += n;
		r->body.buf[r->body.len] = '\0';
		return MHD_YES;
	}
	if (r->answered)
		return MHD_YES;
	if (r->refuse)
		return refuse(s, r);
	r->req.body = r->body.buf;
	r->req.body_len = r->body.len;
	if (r->h->on_request(r->h, &r->req, &resp)) {
		kt_http_text(&resp, 500, "internal error");
	}
	return send_resp(s, r, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct kt_http_server *s = cls;
	struct req_state *r = *req_cls;

	(void)c;
	(void)toe;
	if (!r)
		return;
	kt_buf_release(&r->body);
	kt_http_budget_give(s->o.budget, r->charged);
	free(r);
	*req_cls = NULL;
	atomic_fetch_sub(&s->in_flight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct kt_http_server *s = cls;

	(void)c;
	if (!s->o.tls)
		return;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		*socket_ctx = kt_tls_conn_open(s->o.tls);
	else if (*socket_ctx)
		kt_tls_conn_close(s->o.tls, *socket_ctx);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct kt_http_server *s = cls;
	char msg[512];
	size_t n;

	if (!s->o.on_log)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
		msg[--n] = '\0';
	s->o.on_log(s->o.ctx, msg);
}

enum kt_rc kt_http_start(const struct kt_http_opts *o, struct kt_http_server **out,
			 struct kt_err *err)
{
	struct kt_http_server *s;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opts[16];
	size_t i = 0;
	struct timespec ts;

	s = calloc(1, sizeof(*s));
	if (!s)
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	s->o = *o;
	if (!s->o.max_body)
		s->o.max_body = KT_HTTP_MAX_BODY;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->id_salt = ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec ^ (uint64_t)getpid();
	s->listen_fd = kt_http_listen(o->listen, &s->port, err);
	if (s->listen_fd < 0) {
		free(s);
		return err ? err->rc : KT_E_IO;
	}
#define OPT(k, v, p) opts[i++] = (struct MHD_OptionItem){ (k), (intptr_t)(v), (p) }
	OPT(MHD_OPTION_LISTEN_SOCKET, s->listen_fd, NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s);
	OPT(MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, s);
	if (o->conn_limit)
		OPT(MHD_OPTION_CONNECTION_LIMIT, o->conn_limit, NULL);
	if (o->timeout_s)
		OPT(MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s, NULL);
	if (o->conn_memory)
		OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->conn_memory, NULL);
	if (o->threads > 1)
		OPT(MHD_OPTION_THREAD_POOL_SIZE, o->threads, NULL);
	if (o->tls) {
		flags |= MHD_USE_TLS;
		kt_tls_activate(o->tls);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)KT_TLS_PRIORITIES);
		OPT(MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)kt_tls_retrieve);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_access, s, MHD_OPTION_ARRAY, opts,
				MHD_OPTION_END);
	if (!s->d) {
		close(s->listen_fd);
		free(s);
		return kt_err_set(err, KT_E_IO, "cannot start the HTTP server on '%s'", o->listen);
	}
	*out = s;
	return KT_OK;
}

unsigned kt_http_port(const struct kt_http_server *s)
{
	return s->port;
}

long kt_http_in_flight(const struct kt_http_server *s)
{
	return atomic_load(&((struct kt_http_server *)s)->in_flight);
}

unsigned long kt_http_body_timeouts(const struct kt_http_server *s)
{
	return atomic_load_explicit(&((struct kt_http_server *)s)->body_timeouts,
				    memory_order_relaxed);
}

void kt_http_quiesce(struct kt_http_server *s)
{
	int fd;

	atomic_store(&s->closing, true);
	if (s->quiesced)
		return;
	fd = MHD_quiesce_daemon(s->d);
	s->quiesced = true;
	/*
	 * The socket stays open until the workers are gone (they may still
	 * hold it), but shut down: connection attempts are refused at once
	 * instead of waiting in the backlog, so clients go to another replica.
	 */
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

void kt_http_free(struct kt_http_server *s)
{
	if (!s)
		return;
	atomic_store(&s->closing, true);
	MHD_stop_daemon(s->d);
	if (s->quiesced)
		close(s->listen_fd); /* given back to us by MHD_quiesce_daemon */
	free(s);
}

/* ---- how many threads a server should run ---- */

unsigned kt_http_cpu_quota(const char *text)
{
	unsigned long long quota, period;
	char *end;

	if (!text || *text < '0' || *text > '9') /* "max", or not a count */
		return 0;
	errno = 0;
	quota = strtoull(text, &end, 10);
	if (errno || *end != ' ' || end[1] < '0' || end[1] > '9')
		return 0;
	period = strtoull(end + 1, &end, 10);
	if (errno || !quota || !period || (*end && *end != '\n'))
		return 0;
	quota = quota / period + (quota % period != 0);
	return quota > UINT_MAX ? UINT_MAX : (unsigned)quota;
}

/* The lowest cpu.max quota from this process's cgroup (v2) up to the root; 0 when none. */
static unsigned cgroup_quota(void)
{
	char line[4096], path[4200], text[64];
	unsigned best = 0, q;
	FILE *f = fopen("/proc/self/cgroup", "r");
	char *cg = NULL, *slash;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			cg = line + 3;
			cg[strcspn(cg, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
	while (cg && *cg == '/') {
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cpu.max", cg);
		f = fopen(path, "r");
		if (f) {
			if (fgets(text, sizeof(text), f) && (q = kt_http_cpu_quota(text)) &&
			    (!best || q < best))
				best = q;
			fclose(f);
		}
		slash = strrchr(cg, '/');
		if (slash == cg)
			break; /* the root has no cpu.max */
		*slash = '\0';
	}
	return best;
}

unsigned kt_http_cpus(unsigned max)
{
	cpu_set_t set;
	int n = 0;
	unsigned cpus, quota;

	if (!sched_getaffinity(0, sizeof(set), &set))
		n = CPU_COUNT(&set);
	if (n <= 0)
		n = (int)sysconf(_SC_NPROCESSORS_ONLN);
	cpus = n <= 0 ? 1 : (unsigned)n;
	quota = cgroup_quota();
	if (quota && quota < cpus)
		cpus = quota;
	return cpus > max ? max : cpus;
}
