/*
 * fwd.c: ordinary requests, forwarded with libcurl and streamed back.
 *
 * Everything here runs on the thread of the request's event loop (loop.c).  A
 * forwarded request suspends its connection until the API server's
 * response headers arrive; a small answer that is complete by then leaves
 * in one buffer (one TLS record, one write).  Anything longer, a watch or
 * `logs -f`, is pulled by libmicrohttpd through on_read(), which suspends
 * the connection whenever it has nothing to send and is resumed by the
 * next bytes, so events reach kubectl as they arrive and an idle watch
 * costs no thread and no timer.  At most FWD_PENDING_MAX bytes wait between
 * curl and the client: past that the transfer is paused, so a slow client
 * slows the API server instead of filling memory.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <gnutls/gnutls.h>
#include "internal.h"
#include "scope.h"

#define FWD_PENDING_MAX (256u << 10)
#define FWD_HEADERS_MAX (64u << 10)
#define FWD_HEADER_TIMEOUT 300.0 /* seconds to wait for the API server's response headers */
#define FWD_CORK_MAX (8u << 10)  /* answers up to this size leave as one TLS record */

struct fwd {
	struct proxy *p;
	struct proxy_worker *w; /* the loop it runs on */
	struct preq *r;         /* NULL once the request has ended */
	struct MHD_Connection *c;
	CURL *e;
	struct fwd *prev, *next; /* w->fwds */
	struct curl_slist *hdrs;
	struct proxy_scope *scope; /* a tenant-scoped list or watch (proxy_scope.c) */
	struct kt_buf resp_hdrs;   /* "Name: value\0" of the current response */
	struct kt_buf pending;     /* body bytes curl gave us, not yet sent */
	size_t off;
	long status;
	int client_fd, refs; /* the request's, and the streaming response's */
	struct timespec t0;
	bool head_done, done, paused, attached, head_only, suspended, cancelled;
	CURLcode result;
};

/* The connection waits for the API server: take it out of the daemon's loop. */
static void suspend(struct fwd *f)
{
	f->suspended = true;
	MHD_suspend_connection(f->c);
}

/* Something happened that the waiting connection must see. */
static void wake(struct fwd *f)
{
	if (!f->suspended)
		return;
	f->suspended = false;
	MHD_resume_connection(f->c);
	f->w->dirty = true;
}

/* The transfer ends here; the handle goes back to the pool (its connection stays cached). */
static void detach(struct fwd *f)
{
	struct proxy_worker *w = f->w;

	if (f->attached)
		curl_multi_remove_handle(w->multi, f->e);
	f->attached = false;
	if (!f->e)
		return;
	if (w->n_easy < sizeof(w->easy_pool) / sizeof(w->easy_pool[0])) {
		curl_easy_reset(f->e);
		w->easy_pool[w->n_easy++] = f->e;
	} else {
		curl_easy_cleanup(f->e);
	}
	f->e = NULL;
}

static void unref(struct fwd *f)
{
	if (--f->refs)
		return;
	detach(f);
	if (f->prev)
		f->prev->next = f->next;
	else
		f->w->fwds = f->next;
	if (f->next)
		f->next->prev = f->prev;
	curl_slist_free_all(f->hdrs);
	kt_proxy_scope_free(f->scope);
	kt_buf_release(&f->resp_hdrs);
	kt_buf_release(&f->pending);
	free(f);
}

static size_t on_header(char *line, size_t size, size_t n, void *cls)
{
	struct fwd *f = cls;
	size_t len = size * n, end = len;
	const char *colon;

	if (len >= 5 && !memcmp(line, "HTTP/", 5)) { /* a new response (after a 1xx) */
		kt_buf_reset(&f->resp_hdrs);
		return len;
	}
	while (end && (line[end - 1] == '\r' || line[end - 1] == '\n'))
		end--;
	if (!end) {
		curl_easy_getinfo(f->e, CURLINFO_RESPONSE_CODE, &f->status);
		if (f->status >= 200) {
			f->head_done = true;
			kt_proxy_observe_latency(&f->p->m, kt_proxy_elapsed(&f->t0));
			wake(f);
		}
		return len;
	}
	colon = memchr(line, ':', end);
	if (!colon || line[0] == ' ' || line[0] == '\t')
		return len; /* obsolete folding: dropped */
	if (kt_buf_add(&f->resp_hdrs, line, end) || kt_buf_addch(&f->resp_hdrs, 0))
		return 0; /* over FWD_HEADERS_MAX: abort */
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *cls)
{
	struct fwd *f = cls;
	size_t len = size * n;

	if (f->pending.len - f->off >= FWD_PENDING_MAX) {
		f->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (f->scope ? !kt_proxy_scope_body(f->scope, f->status, data, len, &f->pending)
		     : kt_buf_add(&f->pending, data, len) != KT_OK)
		return 0;
	wake(f);
	return len;
}

void kt_proxy_fwd_collect(struct proxy_worker *w)
{
	struct fwd *f;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(w->multi, &left))) {
		if (msg->msg != CURLMSG_DONE ||
		    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f) != CURLE_OK)
			continue;
		f->done = true;
		f->result = msg->data.result;
		if (f->scope)
			kt_proxy_scope_end(f->scope, &f->status, &f->result, &f->pending);
		curl_multi_remove_handle(w->multi, f->e);
		f->attached = false;
		wake(f);
	}
}

/* The client hung up (FIN or reset): a suspended connection cannot notice by itself. */
static bool client_gone(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

	if (fd < 0)
		return false;
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* End the transfer now: the connection is answered (502) or closed when it resumes. */
static void stop(struct fwd *f, bool hangup)
{
	f->cancelled = hangup;
	if (f->attached) {
		curl_multi_remove_handle(f->w->multi, f->e);
		f->attached = false;
	}
	if (!f->done) {
		f->done = true;
		f->result = hangup ? CURLE_ABORTED_BY_CALLBACK : CURLE_OPERATION_TIMEDOUT;
	}
	wake(f);
}

void kt_proxy_fwd_sweep(struct proxy_worker *w)
{
	struct fwd *f, *next;

	for (f = w->fwds; f; f = next) {
		next = f->next;
		if (f->suspended && client_gone(f->client_fd))
			stop(f, true);
		else if (!f->head_done && !f->done && kt_proxy_elapsed(&f->t0) > FWD_HEADER_TIMEOUT)
			stop(f, false);
	}
}

void kt_proxy_fwd_wake_streams(struct proxy_worker *w)
{
	struct fwd *f;

	for (f = w->fwds; f; f = f->next)
		if (f->head_done)
			wake(f);
}

void kt_proxy_fwd_cancel_all(struct proxy_worker *w)
{
	struct fwd *f, *next;

	for (f = w->fwds; f; f = next) {
		next = f->next;
		stop(f, true);
	}
}

void kt_proxy_fwd_free_pool(struct proxy_worker *w)
{
	while (w->n_easy)
		curl_easy_cleanup(w->easy_pool[--w->n_easy]);
}

static ssize_t on_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct fwd *f = cls;
	size_t n;

	(void)pos;
	if (f->pending.len > f->off) {
		n = f->pending.len - f->off;
		if (n > max)
			n = max;
		memcpy(buf, f->pending.buf + f->off, n);
		f->off += n;
		if (f->off == f->pending.len) {
			kt_buf_reset(&f->pending);
			f->off = 0;
			if (f->paused && f->e) {
				f->paused = false;
				curl_easy_pause(f->e, CURLPAUSE_CONT);
			}
		}
		if (f->r)
			f->r->bytes += n;
		return (ssize_t)n;
	}
	if (f->done)
		return f->result == CURLE_OK && !f->cancelled ? MHD_CONTENT_READER_END_OF_STREAM
							      : MHD_CONTENT_READER_END_WITH_ERROR;
	/* SIGTERM: long streams end so clients reconnect to another replica */
	if (atomic_load(&f->p->draining))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	suspend(f); /* resumed by the next bytes, the end, a hang-up or a drain */
	return 0;
}

static void on_free(void *cls)
{
	unref(cls);
}

void kt_proxy_fwd_release(struct preq *r)
{
	struct fwd *f = r->fwd;

	r->fwd = NULL;
	if (!f)
		return;
	f->r = NULL;
	unref(f);
}

static bool has_header(const struct kt_buf *b, size_t n, const char *name)
{
	size_t nl = strlen(name), i;
	const char *s = b->buf;

	for (i = 0; i < n; i++, s += strlen(s) + 1)
		if (!strncasecmp(s, name, nl) && s[nl] == ':')
			return true;
	return false;
}

static enum kt_rc build_headers(struct fwd *f, struct preq *r)
{
	struct kt_buf auth = KT_BUF_INIT;
	struct curl_slist *l = NULL, *t;
	const char *s = r->fwd_hdrs.buf;
	size_t i;

	if (f->scope)
		return kt_proxy_scope_headers(f->scope, r, &f->hdrs);
	for (i = 0; i < r->n_fwd_hdrs; i++, s += strlen(s) + 1) {
		if (!(t = curl_slist_append(l, s)))
			goto nomem;
		l = t;
	}
	/* curl adds these by itself unless told not to; the client decides */
	if (!has_header(&r->fwd_hdrs, r->n_fwd_hdrs, "accept") &&
	    !(l = curl_slist_append(l, "Accept:")))
		goto nomem;
	if (!has_header(&r->fwd_hdrs, r->n_fwd_hdrs, "content-type") &&
	    !(l = curl_slist_append(l, "Content-Type:")))
		goto nomem;
	if (!(l = curl_slist_append(l, "Expect:")))
		goto nomem;
	if (kt_proxy_creds_header(&f->p->creds, &auth) && !(l = curl_slist_append(l, auth.buf)))
		goto nomem;
	kt_buf_release(&auth);
	f->hdrs = l;
	return KT_OK;
nomem:
	kt_buf_release(&auth);
	curl_slist_free_all(l);
	return KT_E_NOMEM;
}

static void setup(struct fwd *f, struct preq *r, const char *url)
{
	const struct kt_proxy_opts *o = f->p->opts;
	CURL *e = f->e;

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_SHARE, f->p->up.share);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 64L * 1024);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->hdrs);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(e, CURLOPT_PRIVATE, f);
	if (o->upstream_ca)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->upstream_ca);
	if (o->client_cert) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, o->client_cert);
		curl_easy_setopt(e, CURLOPT_SSLKEY, o->client_key);
	}
	if (!strcmp(r->method, "GET")) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		f->head_only = true;
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
		if (r->body.len || strcmp(r->method, "DELETE")) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body.buf);
		}
	}
}

/*
 * libmicrohttpd writes an answer's head and body as two TLS records, two
 * TCP segments and two wake-ups of the client.  A small whole answer is
 * corked instead: both land in GnuTLS's buffer and leave as one record
 * when the daemon's run ends, or when the request ends if that is sooner
 * (before any close).  Only a socket with nothing queued is corked, so the
 * record always fits; should it not, the connection is reset rather than
 * left holding an answer the daemon believes sent.
 */
static void cork(struct MHD_Connection *c, struct fwd *f)
{
	struct preq *r = f->r;
	struct proxy_worker *w = f->w;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	int queued = -1;

	if (!ci || !ci->tls_session || f->client_fd < 0 ||
	    w->n_corked == sizeof(w->corked) / sizeof(w->corked[0]) ||
	    ioctl(f->client_fd, SIOCOUTQ, &queued) || queued)
		return;
	r->cork = ci->tls_session;
	r->cork_fd = f->client_fd;
	gnutls_record_cork((gnutls_session_t)r->cork);
	w->corked[w->n_corked++] = r;
}

void kt_proxy_fwd_uncork(struct preq *r)
{
	struct proxy_worker *w = r->w;
	size_t i;

	if (!r->cork)
		return;
	if (gnutls_record_uncork((gnutls_session_t)r->cork, 0) < 0 &&
	    gnutls_record_check_corked((gnutls_session_t)r->cork) > 0)
		shutdown(r->cork_fd, SHUT_RDWR); /* the daemon sees the error and closes */
	else /* the daemon pushes with TCP_NODELAY (it keeps TCP_CORK on), before this record */
		setsockopt(r->cork_fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	r->cork = NULL;
	for (i = 0; i < w->n_corked; i++)
		if (w->corked[i] == r) {
			w->corked[i] = w->corked[--w->n_corked];
			break;
		}
}

void kt_proxy_fwd_uncork_all(struct proxy_worker *w)
{
	while (w->n_corked)
		kt_proxy_fwd_uncork(w->corked[w->n_corked - 1]);
}

static enum MHD_Result respond(struct MHD_Connection *c, struct fwd *f)
{
	struct MHD_Response *resp;
	curl_off_t cl = -1;
	const char *s = f->resp_hdrs.buf, *end = s + f->resp_hdrs.len;
	enum MHD_Result ret;
	uint64_t size;
	bool whole = f->head_only || (f->done && f->result == CURLE_OK);

	curl_easy_getinfo(f->e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	size = cl >= 0 && !f->scope ? (uint64_t)cl : MHD_SIZE_UNKNOWN;
	if (whole) {
		size_t n = f->head_only ? 0 : f->pending.len;

		resp = MHD_create_response_from_buffer(n, f->pending.buf, MHD_RESPMEM_MUST_COPY);
		f->r->bytes += n;
		if (resp && n <= FWD_CORK_MAX)
			cork(c, f);
	} else {
		resp = MHD_create_response_from_callback(size, 64 * 1024, on_read, f, on_free);
		if (resp)
			f->refs++; /* the response's */
	}
	if (!resp)
		return MHD_NO;
	for (; s < end; s += strlen(s) + 1) {
		const char *colon = strchr(s, ':'), *v;
		char name[128];

		if (!colon || (size_t)(colon - s) >= sizeof(name))
			continue;
		memcpy(name, s, (size_t)(colon - s));
		name[colon - s] = 0;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		if (!kt_proxy_drop_response_header(name, false))
			MHD_add_response_header(resp, name, v);
	}
	f->r->status = (unsigned)f->status;
	ret = MHD_queue_response(c, (unsigned)f->status, resp);
	MHD_destroy_response(resp);
	if (whole)
		kt_proxy_fwd_release(f->r);
	return ret;
}

enum MHD_Result kt_proxy_forward(struct MHD_Connection *c, struct preq *r)
{
	struct proxy *p = r->p;
	struct proxy_worker *w = r->w;
	const union MHD_ConnectionInfo *ci;
	struct kt_buf url = KT_BUF_INIT;
	struct fwd *f = calloc(1, sizeof(*f));
	bool nomem;

	if (!f)
		return kt_proxy_queue_status(c, r, 500, "InternalError", "out of memory");
	f->p = p;
	f->w = w;
	f->r = r;
	f->c = c;
	f->refs = 1;
	f->resp_hdrs = f->pending = (struct kt_buf)KT_BUF_INIT;
	f->resp_hdrs.max = FWD_HEADERS_MAX;
	f->next = w->fwds;
	if (w->fwds)
		w->fwds->prev = f;
	w->fwds = f;
	r->fwd = f;
	f->scope = kt_proxy_scope_start(r, &nomem);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	f->client_fd = ci ? ci->connect_fd : -1;
	f->e = w->n_easy ? w->easy_pool[--w->n_easy] : curl_easy_init();
	if (nomem || !f->e || build_headers(f, r) ||
	    kt_buf_addf(&url, "%s%s", p->up.base, r->uri)) {
		kt_buf_release(&url);
		return kt_proxy_queue_status(c, r, 500, "InternalError", "out of memory");
	}
	setup(f, r, url.buf);
	kt_buf_release(&url);
	clock_gettime(CLOCK_MONOTONIC, &f->t0);
	if (curl_multi_add_handle(w->multi, f->e) != CURLM_OK)
		return kt_proxy_queue_status(c, r, 500, "InternalError",
					     "cannot start the transfer");
	f->attached = true;
	suspend(f);
	return MHD_YES;
}

enum MHD_Result kt_proxy_forward_resume(struct MHD_Connection *c, struct preq *r)
{
	struct fwd *f = r->fwd;
	char msg[CURL_ERROR_SIZE + 64];

	if (f->cancelled && !f->head_done)
		return MHD_NO; /* the client is gone, or the server stops */
	/* a scoped list is filtered whole: answered when complete */
	if (f->head_done && (f->done || !f->scope || !kt_proxy_scope_whole(f->scope, f->status)))
		return respond(c, f);
	if (!f->done) {
		suspend(f);
		return MHD_YES;
	}
	snprintf(msg, sizeof(msg), "the API server did not answer: %s",
		 curl_easy_strerror(f->result));
	kt_log(KT_LOG_WARN, "upstream error", "error", msg, "path", r->uri, NULL);
	return kt_proxy_queue_status(c, r, 502, "BadGateway", msg);
}
