/*
 * h_webhook.c: POST /mutate and POST /validate.
 *
 * Transport only: the review goes to kt_policy_review_routed() and its decision
 * comes back through kt_policy_response().  What is decided here is only
 * what the engine cannot see: the method, the content type, whether a
 * tenants file is loaded at all, and whether the memory budget has room
 * for decoding this review (measured on the text first, without allocating).  Every failure is a non-200 answer, which
 * the API server (failurePolicy: Fail) turns into a denial: fail closed.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "webhook.h"

/* A decode that may have taken this much is followed by giving the heap back. */
#define TRIM_AFTER (1u << 20)

struct webhook_handler {
	struct kt_handler super; /* first member */
	struct kt_serve *s;
	enum kt_policy_mode mode;
	enum kt_endpoint ep;
};

/* "application/json", any case, optionally followed by parameters. */
static bool is_json(const char *ct)
{
	static const char json[] = "application/json";
	size_t n = sizeof(json) - 1;

	if (!ct || strncasecmp(ct, json, n))
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return !*ct || *ct == ';';
}

static void add_rules(struct kt_log_line *line, const char *key, const struct kt_finding *f,
		      size_t n)
{
	struct kt_log_line *list = kt_log_list(line, key);
	size_t i;

	for (i = 0; i < n && i < 64; i++)
		kt_log_add(list, f[i].rule ? f[i].rule : "", 128);
}

/* One line per decision: who did what to which object, and why. Never the object. */
static void log_decision(struct webhook_handler *self, const struct kt_http_req *req,
			 const struct kt_decision *d, const char *verdict, unsigned long generation,
			 uint64_t micros)
{
	struct kt_log_line *line;

	if (KT_LOG_INFO < kt_log_min)
		return;
	line = kt_log_begin(KT_LOG_INFO, "admission");
	kt_log_str(line, "id", req->id);
	kt_log_str(line, "endpoint", self->super.path + 1);
	kt_log_str(line, "uid", d->uid);
	kt_log_str(line, "tenant", d->tenant ? d->tenant->name : NULL);
	kt_log_str(line, "kind", d->kind);
	kt_log_str(line, "namespace", d->namespace);
	kt_log_str(line, "name", d->name);
	kt_log_str(line, "operation", d->operation);
	kt_log_str(line, "user", d->user);
	kt_log_str(line, "verdict", verdict);
	add_rules(line, "rules", d->denials, d->n_denials);
	if (d->n_warnings)
		add_rules(line, "warnings", d->warnings, d->n_warnings);
	kt_log_num(line, "generation", (long long)generation);
	kt_log_num(line, "micros", (long long)micros);
	kt_log_end(line);
}

static void log_rejected(struct webhook_handler *self, const struct kt_http_req *req, int status,
			 const char *why)
{
	struct kt_log_line *line;

	if (KT_LOG_WARN < kt_log_min)
		return;
	line = kt_log_begin(KT_LOG_WARN, "admission request rejected");
	kt_log_str(line, "id", req->id);
	kt_log_str(line, "endpoint", self->super.path + 1);
	kt_log_num(line, "status", status);
	kt_log_str(line, "error", why);
	kt_log_end(line);
}

static int reject(struct webhook_handler *self, const struct kt_http_req *req,
		  struct kt_http_resp *resp, int status, enum kt_verdict v, const char *why)
{
	kt_metrics_request(&self->s->metrics, self->ep, NULL, NULL, v,
			   kt_http_now_us() - req->start_us);
	log_rejected(self, req, status, why);
	return kt_http_text(resp, status, "%s", why);
}

/* Up to this size a review is charged a bound on its decode, not measured. */
#define SMALL_REVIEW (64u << 10)

/*
 * What decoding this review may take, to charge to the budget before it
 * happens.  Text of len bytes holds at most len / 2 + 1 JSON values, so a
 * small review (the API server's usual few KB) is charged that bound at
 * once, without a pass over its bytes: a few hundred KB, held only while a
 * worker decides, and never more than 1/16 of the budget.  Larger ones are
 * measured (kt_policy_decode_cost), which also refuses them when too deep
 * or too many values before any work; a small one is refused by the
 * decode's own limits.
 */
static enum kt_rc decode_cost(struct webhook_handler *self, const struct kt_http_req *req,
			      size_t *cost, struct kt_err *err)
{
	size_t len = req->body_len, bound = (len / 2 + 1) * KT_POLICY_VALUE_COST + len;
	size_t max = self->s->budget.max;

	if (len <= SMALL_REVIEW && (!max || bound <= max / 16)) {
		*cost = bound;
		return KT_OK;
	}
	return kt_policy_decode_cost(req->body, len, cost, err);
}

/*
 * The tree is freed: give its charge back, and after a large one the heap
 * to the system too.  glibc keeps freed memory for reuse, so one review of
 * 100k values would otherwise keep the process at its peak for good.
 */
static void done_decoding(struct webhook_handler *self, size_t cost)
{
	kt_http_budget_give(&self->s->budget, cost);
#ifdef __GLIBC__
	if (cost >= TRIM_AFTER)
		malloc_trim(0);
#endif
}

static int webhook_on_request(struct kt_handler *h, const struct kt_http_req *req,
			      struct kt_http_resp *resp)
{
	struct webhook_handler *self = (void *)h;
	struct kt_decision d;
	struct kt_err err = { 0 };
	/* both paths are only ever called for tenant namespaces (lib/render/webhook.c) */
	struct kt_review_route route = { .tenant_namespaces_only = true };
	struct kt_conf_ref *ref;
	const char *verdict;
	enum kt_verdict v;
	enum kt_rc rc;
	uint64_t micros;
	size_t cost;
	char why[600];

	if (strcmp(req->method, "POST")) {
		resp->allow = "POST";
		snprintf(why, sizeof(why), "method '%.32s' is not allowed on '%s'; use POST",
			 req->method, h->path);
		return reject(self, req, resp, 405, KT_V_INVALID, why);
	}
	if (!is_json(req->header(req, "Content-Type")))
		return reject(self, req, resp, 415, KT_V_INVALID,
			      "content type must be application/json (an AdmissionReview)");
	if (decode_cost(self, req, &cost, &err)) {
		snprintf(why, sizeof(why), "bad admission review: %s", err.msg);
		return reject(self, req, resp, 400, KT_V_INVALID, why);
	}
	if (!kt_http_budget_take(&self->s->budget, cost)) {
		atomic_fetch_add_explicit(&self->s->budget.refused_work, 1, memory_order_relaxed);
		resp->retry_after = 1;
		snprintf(why, sizeof(why),
			 "the server is at its memory budget (decoding this "
			 "review may take %zu bytes); retry in a second",
			 cost);
		return reject(self, req, resp, 503, KT_V_ERROR, why);
	}
	ref = kt_conf_acquire(&self->s->conf);
	if (!ref) {
		kt_http_budget_give(&self->s->budget, cost);
		return reject(self, req, resp, 503, KT_V_ERROR, "no valid tenants file is loaded");
	}
	memset(&d, 0, sizeof(d));
	route.generation = ref->generation;
	rc = kt_policy_review_routed(ref->cfg, &route, req->body, req->body_len, self->mode, &d,
				     &err);
	if (rc == KT_OK && kt_policy_response(&d, &resp->body) == KT_OK) {
		resp->status = 200;
		resp->content_type = "application/json";
		v = !d.allowed ? KT_V_DENIED : d.patch.len ? KT_V_MUTATED : KT_V_ALLOWED;
		verdict = v == KT_V_DENIED ? "denied" : v == KT_V_MUTATED ? "mutated" : "allowed";
		micros = kt_http_now_us() - req->start_us;
		kt_metrics_request(&self->s->metrics, self->ep, d.kind, d.operation, v, micros);
		log_decision(self, req, &d, verdict, ref->generation, micros);
		kt_decision_release(&d);
		kt_conf_release(ref);
		done_decoding(self, cost);
		return 0;
	}
	kt_decision_release(&d);
	kt_conf_release(ref);
	done_decoding(self, cost);
	if (rc == KT_E_PARSE) {
		snprintf(why, sizeof(why), "bad admission review: %s", err.msg);
		return reject(self, req, resp, 400, KT_V_INVALID, why);
	}
	snprintf(why, sizeof(why), "internal error: %s",
		 err.msg[0] ? err.msg : kt_rc_str(rc ? rc : KT_E_NOMEM));
	return reject(self, req, resp, 500, KT_V_ERROR, why);
}

static void webhook_on_dispose(struct kt_handler *h)
{
	free(h);
}

struct kt_handler *kt_webhook_handler_new(struct kt_serve *s, const char *path,
					  enum kt_policy_mode mode)
{
	struct webhook_handler *self = calloc(1, sizeof(*self));

	if (!self)
		return NULL;
	self->super.path = path;
	self->super.on_request = webhook_on_request;
	self->super.on_dispose = webhook_on_dispose;
	self->s = s;
	self->mode = mode;
	self->ep = mode == KT_POLICY_MUTATE ? KT_EP_MUTATE : KT_EP_VALIDATE;
	return &self->super;
}
