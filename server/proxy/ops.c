/*
 * ops.c: the proxy's upstream settings, credentials, metrics and logs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/err.h>
#include "kt/buf.h"
#include "internal.h"

#define MAX_TOKEN_FILE (64u << 10)

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *cls)
{
	struct proxy_upstream *u = cls;

	(void)h;
	(void)a;
	pthread_mutex_lock(&u->share_lock[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *cls)
{
	struct proxy_upstream *u = cls;

	(void)h;
	pthread_mutex_unlock(&u->share_lock[d]);
}

static enum kt_rc parse_upstream(struct proxy_upstream *u, const char *url, struct kt_err *err)
{
	const char *h = url + 8, *end = h + strcspn(h, "/?#"), *colon;
	size_t hl;

	if (strncmp(url, "https://", 8) || end == h || (*end && strcmp(end, "/")))
		return kt_err_set(err, KT_E_INVALID,
				  "upstream '%s' must be https://HOST[:PORT] with no path", url);
	u->hostport = strndup(h, (size_t)(end - h));
	u->base = strndup(url, (size_t)(end - url));
	if (!u->hostport || !u->base)
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	if (h[0] == '[') { /* [v6]:port */
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (!rb)
			return kt_err_set(err, KT_E_INVALID, "upstream '%s': bad IPv6 literal",
					  url);
		u->host = strndup(h + 1, (size_t)(rb - h - 1));
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hl = colon ? (size_t)(colon - h) : (size_t)(end - h);
		u->host = strndup(h, hl);
	}
	if (!u->host)
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	snprintf(u->port, sizeof(u->port), "%.*s", colon ? (int)(end - colon - 1) : 3,
		 colon ? colon + 1 : "443");
	if (!u->port[0] || strspn(u->port, "0123456789") != strlen(u->port))
		return kt_err_set(err, KT_E_INVALID, "upstream '%s': bad port", url);
	return KT_OK;
}

static enum kt_rc tls_error(struct kt_err *err, const char *what, const char *file)
{
	char buf[256];

	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	return kt_err_set(err, KT_E_INVALID, "%s '%s': %s", what, file ? file : "", buf);
}

/* The tunnel's TLS client: verified like curl's, HTTP/1.1 only (SPDY needs it). */
static enum kt_rc tls_init(struct proxy_upstream *u, const struct kt_proxy_opts *o,
			   struct kt_err *err)
{
	static const unsigned char alpn[] = "\x08http/1.1";

	u->tls = SSL_CTX_new(TLS_client_method());
	if (!u->tls)
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	SSL_CTX_set_min_proto_version(u->tls, TLS1_2_VERSION);
	SSL_CTX_set_verify(u->tls, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(u->tls,
			 SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_alpn_protos(u->tls, alpn, sizeof(alpn) - 1);
	if (o->upstream_ca ? SSL_CTX_load_verify_locations(u->tls, o->upstream_ca, NULL) != 1
			   : SSL_CTX_set_default_verify_paths(u->tls) != 1)
		return tls_error(err, "cannot load the upstream CA", o->upstream_ca);
	if (o->client_cert &&
	    (SSL_CTX_use_certificate_chain_file(u->tls, o->client_cert) != 1 ||
	     SSL_CTX_use_PrivateKey_file(u->tls, o->client_key, SSL_FILETYPE_PEM) != 1))
		return tls_error(err, "cannot load the client certificate", o->client_cert);
	return KT_OK;
}

enum kt_rc kt_proxy_upstream_init(struct proxy_upstream *u, const struct kt_proxy_opts *o,
				  struct kt_err *err)
{
	enum kt_rc rc;
	int i;

	memset(u, 0, sizeof(*u));
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&u->share_lock[i], NULL);
	if ((rc = parse_upstream(u, o->upstream, err)) || (rc = tls_init(u, o, err)))
		return rc;
	u->share = curl_share_init();
	if (!u->share)
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	curl_share_setopt(u->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(u->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(u->share, CURLSHOPT_USERDATA, u);
	curl_share_setopt(u->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(u->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	return KT_OK;
}

void kt_proxy_upstream_release(struct proxy_upstream *u)
{
	int i;

	if (u->share)
		curl_share_cleanup(u->share);
	SSL_CTX_free(u->tls);
	free(u->base);
	free(u->host);
	free(u->hostport);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&u->share_lock[i]);
	memset(u, 0, sizeof(*u));
}

/*
 * Projected service-account tokens are rotated by the kubelet (an atomic
 * symlink swap), so the file is stat()ed at most once a second and re-read
 * when its inode, size or mtime changed.
 */
static void creds_refresh(struct proxy_creds *c, long long now)
{
	struct kt_buf b = KT_BUF_INIT;
	struct stat st;

	if (now == c->checked && c->token)
		return;
	c->checked = now;
	if (stat(c->token_file, &st))
		return; /* keep the last good token */
	if (c->token && st.st_ino == (ino_t)c->ino && st.st_size == c->size &&
	    st.st_mtim.tv_sec == c->mtime.tv_sec && st.st_mtim.tv_nsec == c->mtime.tv_nsec)
		return;
	if (kt_buf_read_file(&b, c->token_file, MAX_TOKEN_FILE, NULL))
		return;
	while (b.len && strchr(" \t\r\n", b.buf[b.len - 1]))
		b.buf[--b.len] = 0;
	if (!b.len || strpbrk(b.buf, "\r\n")) {
		kt_buf_release(&b);
		return;
	}
	free(c->token);
	c->token = kt_buf_detach(&b, NULL);
	c->ino = (long long)st.st_ino;
	c->size = st.st_size;
	c->mtime = st.st_mtim;
}

bool kt_proxy_creds_header(struct proxy_creds *c, struct kt_buf *out)
{
	bool ok = false;

	kt_buf_reset(out);
	if (!c->token_file)
		return false;
	pthread_mutex_lock(&c->lock);
	creds_refresh(c, (long long)time(NULL));
	if (c->token)
		ok = !kt_buf_addf(out, "Authorization: Bearer %s", c->token);
	pthread_mutex_unlock(&c->lock);
	return ok;
}

void kt_proxy_creds_release(struct proxy_creds *c)
{
	pthread_mutex_destroy(&c->lock); /* the loops have stopped: nobody holds it */
	free(c->token);
	c->token = NULL;
}

static const unsigned long lat_bounds_us[PROXY_LAT_BUCKETS] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 5000000,
};

static const char *const jwks_results[] = { "ok", "error" };

static bool number_label(void *ctx, size_t i, const char **l, char *scratch, size_t len)
{
	(void)ctx;
	snprintf(scratch, len, "%zu", i);
	l[0] = scratch;
	return true;
}

static bool reason_label(void *ctx, size_t i, const char **l, char *scratch, size_t len)
{
	struct proxy_metrics *m = ctx;

	(void)scratch;
	(void)len;
	l[0] = atomic_load_explicit(&m->reason_names[i], memory_order_acquire);
	return l[0] != NULL;
}

static bool loop_label(void *ctx, size_t i, const char **l, char *scratch, size_t len)
{
	struct proxy_metrics *m = ctx;

	return i < atomic_load(&m->loops) && number_label(NULL, i, l, scratch, len);
}

static double jwks_keys(void *ctx, size_t i)
{
	struct kt_jwks *keys = kt_oidc_keys(((struct proxy *)ctx)->oidc);
	size_t n = kt_jwks_count(keys);

	(void)i;
	kt_jwks_unref(keys);
	return (double)n;
}

static double tunnels_open(void *ctx, size_t i)
{
	(void)i;
	return (double)(long)atomic_load(&((struct proxy_metrics *)ctx)->tunnels_open);
}

static struct kt_prom_family *labelled(struct kt_prom *r, const char *name, const char *help,
				       const char *label, size_t n, atomic_ulong *v,
				       bool (*fn)(void *, size_t, const char **, char *, size_t))
{
	struct kt_prom_family *f = kt_prom_add(r, KT_PROM_COUNTER, name, help);

	if (f) {
		f->labels[0] = label;
		f->n = n;
		f->v = v;
		f->label = fn;
	}
	return f;
}

void kt_proxy_metrics_init(struct proxy *p)
{
	struct proxy_metrics *m = &p->m;
	struct kt_prom *r = &m->reg;
	struct kt_prom_family *f;

	memset(m, 0, sizeof(*m));
	kt_histogram_init(&m->latency, lat_bounds_us, PROXY_LAT_BUCKETS);
	pthread_mutex_init(&m->lock, NULL);
	labelled(r, "kubetenant_proxy_requests_total", "Requests answered, by HTTP status.", "code",
		 600, m->by_status, number_label);
	f = labelled(r, "kubetenant_proxy_auth_failures_total", "Refused requests, by reason.",
		     "reason", PROXY_MAX_REASONS, m->auth_fail, reason_label);
	if (f)
		f->ctx = m;
	f = kt_prom_add(r, KT_PROM_HISTOGRAM, "kubetenant_proxy_upstream_latency_seconds",
			"Time to the API server's response headers.");
	if (f)
		f->hist = &m->latency;
	kt_prom_func(r, KT_PROM_GAUGE, "kubetenant_proxy_tunnels_open",
		     "Exec, attach and port-forward tunnels open now.", tunnels_open, m);
	kt_prom_value(r, KT_PROM_COUNTER, "kubetenant_proxy_tunnels_total",
		      "Tunnels opened since start.", &m->tunnels_total);
	kt_prom_value(r, KT_PROM_COUNTER, "kubetenant_proxy_token_cache_hits_total",
		      "Tokens found verified in the cache.", &m->cache_hits);
	kt_prom_value(r, KT_PROM_COUNTER, "kubetenant_proxy_token_cache_misses_total",
		      "Tokens verified in full.", &m->cache_misses);
	f = labelled(r, "kubetenant_proxy_jwks_refresh_total", "Key set fetches, by result.",
		     "result", 2, m->jwks, NULL);
	if (f) {
		f->names = jwks_results;
		f->zeros = true;
	}
	kt_prom_func(r, KT_PROM_GAUGE, "kubetenant_proxy_jwks_keys",
		     "Keys in the issuer's key set in use.", jwks_keys, p);
	f = labelled(r, "kubetenant_proxy_loop_connections_total",
		     "Connections dealt to each event loop.", "loop", PROXY_MAX_LOOPS,
		     m->loop_conns, loop_label);
	if (f) {
		f->ctx = m;
		f->zeros = true;
	}
}

void kt_proxy_count_status(struct proxy_metrics *m, unsigned status)
{
	if (status < 600)
		atomic_fetch_add_explicit(&m->by_status[status], 1, memory_order_relaxed);
}

void kt_proxy_count_auth_fail(struct proxy_metrics *m, const char *reason)
{
	size_t i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < PROXY_MAX_REASONS && m->reason_names[i]; i++)
		if (!strcmp(m->reason_names[i], reason))
			break;
	if (i < PROXY_MAX_REASONS && !m->reason_names[i])
		atomic_store_explicit(&m->reason_names[i], reason, memory_order_release);
	pthread_mutex_unlock(&m->lock);
	if (i < PROXY_MAX_REASONS)
		atomic_fetch_add_explicit(&m->auth_fail[i], 1, memory_order_relaxed);
}

void kt_proxy_observe_latency(struct proxy_metrics *m, double s)
{
	kt_histogram_observe(&m->latency, (uint64_t)(s * 1e6));
}

double kt_proxy_elapsed(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* The audit line: the identity the token proved, never the token. */
void kt_proxy_audit(struct preq *r, const char *verb)
{
	struct kt_log_line *line, *groups;
	char *path;
	size_t i;

	if (r->logged)
		return;
	r->logged = true;
	if (KT_LOG_INFO < kt_log_min)
		return;
	line = kt_log_begin(KT_LOG_INFO, "request");
	kt_log_str(line, "user", r->id.user);
	groups = kt_log_list(line, "groups");
	for (i = 0; i < r->id.n_groups; i++)
		kt_log_add(groups, r->id.groups[i], 256);
	kt_log_str(line, "verb", verb);
	kt_log_str(line, "method", r->method ? r->method : "");
	path = r->uri ? strndup(r->uri, strcspn(r->uri, "?")) : NULL; /* never the query */
	kt_log_str(line, "path", path);
	free(path);
	kt_log_num(line, "status", r->status);
	kt_log_num(line, "bytes", (long long)r->bytes);
	kt_log_num(line, "micros", (long long)(kt_proxy_elapsed(&r->start) * 1e6));
	kt_log_str(line, "client", r->client_ip);
	if (r->reason)
		kt_log_str(line, "reason", r->reason);
	kt_log_end(line);
}

struct MHD_Response *kt_proxy_status_response(unsigned code, const char *reason,
					      const char *message)
{
	json_t *o = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status",
			      "apiVersion", "v1", "metadata", "status", "Failure", "message",
			      message, "reason", reason, "code", (int)code);
	char *body = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	struct MHD_Response *resp;

	json_decref(o);
	if (!body)
		return NULL;
	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return NULL;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return resp;
}

enum MHD_Result kt_proxy_queue_status(struct MHD_Connection *c, struct preq *r, unsigned code,
				      const char *reason, const char *message)
{
	struct MHD_Response *resp = kt_proxy_status_response(code, reason, message);
	enum MHD_Result ret;

	r->status = code;
	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	return ret;
}
