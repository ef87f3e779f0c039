/*
 * proxy_fwd.c: ordinary requests, forwarded with libcurl and streamed back.
 *
 * The response body is never collected: libmicrohttpd pulls it through
 * on_read(), which drives this connection's curl multi handle until the
 * API server sends the next bytes.  A watch or `logs -f` therefore reaches
 * kubectl as each event arrives, for as long as the API server keeps the
 * stream open; no idle timer runs while the thread waits in curl.  At most
 * FWD_PENDING_MAX bytes wait between curl and the client: past that curl is
 * paused, so a slow client slows the API server instead of filling memory.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include "proxy.h"

#define FWD_PENDING_MAX (256u << 10)
#define FWD_HEADERS_MAX (64u << 10)
#define FWD_HEADER_TIMEOUT 300.0 /* seconds to wait for the API server's response headers */

struct fwd {
	struct proxy *p;
	struct preq *r;
	struct pconn *pc;
	struct curl_slist *hdrs;
	struct kt_buf resp_hdrs;  /* "Name: value\0" of the current response */
	struct kt_buf pending;    /* body bytes curl gave us, not yet sent */
	size_t off;
	long status;
	int client_fd;
	bool head_done, done, paused, attached, head_only;
	CURLcode result;
};

void proxy_conn_release(struct pconn *pc)
{
	if (pc->multi)
		curl_multi_cleanup(pc->multi);
	if (pc->easy)
		curl_easy_cleanup(pc->easy);
	pc->multi = NULL;
	pc->easy = NULL;
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
		curl_easy_getinfo(f->pc->easy, CURLINFO_RESPONSE_CODE, &f->status);
		if (f->status >= 200)
			f->head_done = true;
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
	if (kt_buf_add(&f->pending, data, len))
		return 0;
	return len;
}

/* One round of curl work; waits up to wait_ms for sockets when nothing happened. */
static void step(struct fwd *f, int wait_ms)
{
	CURLMsg *msg;
	int running = 0, left;

	curl_multi_perform(f->pc->multi, &running);
	while ((msg = curl_multi_info_read(f->pc->multi, &left)))
		if (msg->msg == CURLMSG_DONE) {
			f->done = true;
			f->result = msg->data.result;
		}
	if (!f->done && wait_ms && f->pending.len == f->off)
		curl_multi_poll(f->pc->multi, NULL, 0, wait_ms, NULL);
}

/* The client hung up (FIN or reset), so an idle watch must stop too. */
static bool client_gone(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

	if (fd < 0)
		return false;
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static ssize_t on_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct fwd *f = cls;
	size_t n;

	(void)pos;
	for (;;) {
		if (f->pending.len > f->off) {
			n = f->pending.len - f->off;
			if (n > max)
				n = max;
			memcpy(buf, f->pending.buf + f->off, n);
			f->off += n;
			if (f->off == f->pending.len) {
				kt_buf_reset(&f->pending);
				f->off = 0;
				if (f->paused) {
					f->paused = false;
					curl_easy_pause(f->pc->easy, CURLPAUSE_CONT);
				}
			}
			f->r->bytes += n;
			return (ssize_t)n;
		}
		if (f->done)
			return f->result == CURLE_OK ? MHD_CONTENT_READER_END_OF_STREAM
						     : MHD_CONTENT_READER_END_WITH_ERROR;
		/* SIGTERM: long streams end so clients reconnect to another replica */
		if (atomic_load(&f->p->draining) || client_gone(f->client_fd))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		step(f, 1000);
	}
}

static void detach(struct fwd *f)
{
	if (!f->attached)
		return;
	/* let a finished transfer complete so the upstream connection is reused */
	if (!f->done && f->pending.len == f->off)
		step(f, 0);
	curl_multi_remove_handle(f->pc->multi, f->pc->easy);
	f->attached = false;
}

static void on_free(void *cls)
{
	struct fwd *f = cls;

	detach(f);
	curl_slist_free_all(f->hdrs);
	kt_buf_release(&f->resp_hdrs);
	kt_buf_release(&f->pending);
	if (f->r)
		f->r->fwd = NULL;
	free(f);
}

void proxy_fwd_release(struct preq *r)
{
	struct fwd *f = r->fwd;

	if (f)
		f->r = NULL;
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
	if (proxy_creds_header(&f->p->creds, &auth) && !(l = curl_slist_append(l, auth.buf)))
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
	CURL *e = f->pc->easy;

	curl_easy_reset(e); /* keeps the live upstream connection */
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

static enum MHD_Result respond(struct MHD_Connection *c, struct fwd *f)
{
	struct MHD_Response *resp;
	curl_off_t cl = -1;
	const char *s = f->resp_hdrs.buf, *end = s + f->resp_hdrs.len;
	enum MHD_Result ret;
	uint64_t size;
	bool whole;

	/*
	 * Most API answers arrive with their headers: sent from one buffer they
	 * leave in one TLS record and one write, not two.
	 */
	if (!f->done && !f->head_only)
		step(f, 0);
	whole = f->head_only || (f->done && f->result == CURLE_OK);
	curl_easy_getinfo(f->pc->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	size = cl >= 0 ? (uint64_t)cl : MHD_SIZE_UNKNOWN;
	if (whole) {
		size_t n = f->head_only ? 0 : f->pending.len;

		resp = MHD_create_response_from_buffer(n, f->pending.buf, MHD_RESPMEM_MUST_COPY);
		f->r->bytes += n;
	} else {
		resp = MHD_create_response_from_callback(size, 64 * 1024, on_read, f, on_free);
	}
	if (!resp) {
		on_free(f);
		return MHD_NO;
	}
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
		on_free(f);
	return ret;
}

enum MHD_Result proxy_forward(struct proxy *p, struct MHD_Connection *c, struct preq *r,
			      struct pconn *pc)
{
	const union MHD_ConnectionInfo *ci;
	struct kt_buf url = KT_BUF_INIT;
	struct timespec t0;
	struct fwd *f;

	if (!pc->easy && !(pc->easy = curl_easy_init()))
		return proxy_queue_status(c, r, 500, "InternalError", "out of memory");
	if (!pc->multi && !(pc->multi = curl_multi_init()))
		return proxy_queue_status(c, r, 500, "InternalError", "out of memory");
	f = calloc(1, sizeof(*f));
	if (!f)
		return proxy_queue_status(c, r, 500, "InternalError", "out of memory");
	f->p = p;
	f->r = r;
	f->pc = pc;
	f->resp_hdrs.max = FWD_HEADERS_MAX;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	f->client_fd = ci ? ci->connect_fd : -1;
	if (build_headers(f, r) || kt_buf_addf(&url, "%s%s", p->up.base, r->uri)) {
		kt_buf_release(&url);
		on_free(f);
		return proxy_queue_status(c, r, 500, "InternalError", "out of memory");
	}
	setup(f, r, url.buf);
	kt_buf_release(&url);
	curl_multi_add_handle(pc->multi, pc->easy);
	f->attached = true;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!f->head_done && !f->done) {
		if (proxy_elapsed(&t0) > FWD_HEADER_TIMEOUT || atomic_load(&p->stop_tunnels))
			break;
		step(f, 1000);
	}
	if (!f->head_done) {
		char msg[CURL_ERROR_SIZE + 64];

		snprintf(msg, sizeof(msg), "the API server did not answer: %s",
			 f->done ? curl_easy_strerror(f->result) : "timeout");
		proxy_log("warn", "upstream error", "error", msg, "path", r->uri, NULL);
		on_free(f);
		return proxy_queue_status(c, r, 502, "BadGateway", msg);
	}
	proxy_observe_latency(&p->m, proxy_elapsed(&t0));
	r->fwd = f;
	return respond(c, f);
}
