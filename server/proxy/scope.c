/*
 * scope.c: `proxy -f`: tenant-scoped lists and watches of namespaces,
 * nodes and classes (docs/proxy-scope.md), hooked into proxy_fwd.c.
 *
 * A GET list or watch of one of the six collections (kt_scope_match) goes
 * upstream with the proxy's own identity, no Impersonate-* header, an
 * Accept that can only bring JSON back and no Accept-Encoding; the answer
 * goes through lib/proxy/scope.c before a byte reaches the client: a list
 * whole (at most KT_SCOPE_MAX_LIST bytes), a watch event by event.  Every
 * other request, a GET of one namespace included, is forwarded as the
 * member, so RBAC keeps deciding it.
 *
 * The tenants file is the webhook's (kt_serve: same reload, same logs),
 * polled by the proxy's refresher thread; a request takes the file current
 * when it starts and builds its view from it, so a reload never changes a
 * watch half-way (the client's next watch sees the new file).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "kt/scope.h"
#include "webhook/webhook.h" /* the tenants file reloads as the webhook does */
#include "kt/version.h"
#include "internal.h"
#include "scope.h"

#define RELOAD_INTERVAL 2 /* seconds between checks of the tenants file */

struct proxy_scope_conf {
	struct kt_serve st;
	long long next;
};

struct proxy_scope {
	struct kt_scope *view;
	bool watch;
	bool whole;    /* the answer is buffered and filtered once complete */
	bool overflow; /* a list over KT_SCOPE_MAX_LIST */
	bool failed;   /* a watch event could not be filtered: the stream ended */
	struct kt_buf in;
	struct kt_scope_watch w;
};

enum kt_rc kt_proxy_scope_init(struct proxy *p, struct kt_err *err)
{
	struct kt_diags d = { 0 };
	struct kt_config *cfg = NULL;
	enum kt_rc rc;

	if (!p->opts->tenants)
		return KT_OK;
	rc = kt_config_load(p->opts->tenants, &cfg, &d, err);
	if (rc == KT_E_INVALID || rc == KT_E_PARSE) {
		kt_err_set(err, rc, "%s:%d:%d: %s%s", p->opts->tenants, d.n ? d.v[0].line : 0,
			   d.n ? d.v[0].col : 0, d.n && d.v[0].msg ? d.v[0].msg : "invalid",
			   d.n > 1 ? " (and more: kubetenant validate -f FILE)" : "");
		kt_diags_release(&d);
		return rc;
	}
	if (rc)
		return rc;
	if (!(p->scope = calloc(1, sizeof(*p->scope)))) {
		kt_config_free(cfg);
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	}
	kt_serve_init(&p->scope->st, p->opts->tenants, KT_VERSION);
	kt_serve_set_config(&p->scope->st, cfg);
	return KT_OK;
}

void kt_proxy_scope_poll(struct proxy *p, long long now)
{
	if (!p->scope || now < p->scope->next)
		return;
	p->scope->next = now + RELOAD_INTERVAL;
	kt_serve_reload(&p->scope->st, false);
}

void kt_proxy_scope_release(struct proxy *p)
{
	if (!p->scope)
		return;
	kt_serve_release(&p->scope->st);
	free(p->scope);
	p->scope = NULL;
}

struct proxy_scope *kt_proxy_scope_start(struct preq *r, bool *nomem)
{
	struct proxy_scope *s;
	struct kt_conf_ref *ref;
	enum kt_scope_res res;
	bool watch;

	*nomem = false;
	if (!r->p->scope || !(res = kt_scope_match(r->method, r->uri, &watch)))
		return NULL;
	if (!(s = calloc(1, sizeof(*s))))
		goto nomem;
	ref = kt_conf_acquire(&r->p->scope->st.conf);
	if (kt_scope_new(ref ? ref->cfg : NULL, res, r->id.groups, r->id.n_groups, &s->view)) {
		kt_conf_release(ref);
		free(s);
		goto nomem;
	}
	kt_conf_release(ref);
	s->watch = watch;
	s->in = (struct kt_buf)KT_BUF_INIT;
	s->in.max = KT_SCOPE_MAX_LIST;
	kt_scope_watch_init(&s->w);
	return s;
nomem:
	*nomem = true;
	return NULL;
}

void kt_proxy_scope_free(struct proxy_scope *s)
{
	if (!s)
		return;
	kt_scope_free(s->view);
	kt_buf_release(&s->in);
	kt_scope_watch_release(&s->w);
	free(s);
}

/* The member's headers, less who they are and how the answer is encoded. */
static bool keep(const char *line)
{
	static const char *const drop[] = { "impersonate-", "accept:", "accept-encoding:" };
	size_t i;

	for (i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		if (!strncasecmp(line, drop[i], strlen(drop[i])))
			return false;
	return true;
}

enum kt_rc kt_proxy_scope_headers(struct proxy_scope *s, struct preq *r, struct curl_slist **out)
{
	struct kt_buf auth = KT_BUF_INIT, accept = KT_BUF_INIT;
	struct curl_slist *l = NULL, *t;
	const char *line = r->fwd_hdrs.buf, *client = NULL;
	size_t i;
	enum kt_rc rc = KT_E_NOMEM;

	(void)s;
	for (i = 0; i < r->n_fwd_hdrs; i++, line += strlen(line) + 1) {
		if (!strncasecmp(line, "accept:", 7))
			client = line + 7;
		if (!keep(line))
			continue;
		if (!(t = curl_slist_append(l, line)))
			goto out;
		l = t;
	}
	if (kt_scope_accept(client, &accept) || kt_buf_addf(&auth, "Accept: %s", accept.buf) ||
	    !(t = curl_slist_append(l, auth.buf)))
		goto out;
	l = t;
	kt_buf_reset(&auth);
	if (!(l = curl_slist_append(l, "Content-Type:")) || !(l = curl_slist_append(l, "Expect:")))
		goto out;
	if (kt_proxy_creds_header(&r->p->creds, &auth) && !(l = curl_slist_append(l, auth.buf)))
		goto out;
	*out = l;
	l = NULL;
	rc = KT_OK;
out:
	curl_slist_free_all(l);
	kt_buf_release(&auth);
	kt_buf_release(&accept);
	return rc;
}

bool kt_proxy_scope_whole(struct proxy_scope *s, long status)
{
	/* a watch refused (403, 410...) answers one Status, not a stream */
	s->whole = !s->watch || status != 200;
	return s->whole;
}

bool kt_proxy_scope_body(struct proxy_scope *s, long status, const char *data, size_t len,
			 struct kt_buf *out)
{
	if (kt_proxy_scope_whole(s, status)) {
		if (kt_buf_add(&s->in, data, len))
			s->overflow = true;
		return !s->overflow;
	}
	if (!s->failed && kt_scope_watch_feed(s->view, &s->w, data, len, out))
		s->failed = true; /* the stream ends here: the client watches again */
	return !s->failed;
}

void kt_proxy_scope_end(struct proxy_scope *s, long *status, CURLcode *result, struct kt_buf *out)
{
	const char *msg = NULL;

	if (!s->whole || (*result != CURLE_OK && !s->overflow))
		return; /* a watch's events are out; a failed transfer stays failed */
	kt_buf_reset(out);
	if (s->overflow)
		msg = "the API server's list is too large to filter; list with --chunk-size";
	else if (kt_scope_filter_list(s->view, s->in.buf, s->in.len, out))
		msg = "the API server's answer could not be filtered";
	kt_buf_release(&s->in);
	if (!msg)
		return;
	kt_log(KT_LOG_WARN, "scoped list refused", "error", msg, NULL);
	kt_buf_reset(out);
	kt_buf_addf(out,
		    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
		    "\"status\":\"Failure\",\"message\":\"%s\",\"reason\":\"BadGateway\","
		    "\"code\":502}",
		    msg);
	*status = 502;
	*result = CURLE_OK;
}
