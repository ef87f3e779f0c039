/*
 * h_health.c: GET /healthz (the process answers) and GET /readyz (it can
 * decide: a valid tenants file is loaded and it is not shutting down), as
 * server/health.c decides for both servers.
 */
#include <stdlib.h>
#include <string.h>
#include "webhook.h"

struct health_handler {
	struct kt_handler super; /* first member */
	struct kt_serve *s;
	bool ready; /* /readyz rather than /healthz */
};

static int health_on_request(struct kt_handler *h, const struct kt_http_req *req,
			     struct kt_http_resp *resp)
{
	struct health_handler *self = (void *)h;
	struct kt_conf_ref *ref = NULL;
	const char *why;
	int status;

	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		resp->allow = "GET, HEAD";
		return kt_http_text(resp, 405, "method '%.32s' is not allowed; use GET",
				    req->method);
	}
	if (self->ready)
		ref = kt_conf_acquire(&self->s->conf);
	status = kt_health_probe(self->ready ? "/readyz" : "/healthz",
				 atomic_load(&self->s->draining),
				 ref ? NULL : "no valid tenants file is loaded", &why);
	if (status == 200 && ref)
		kt_http_text(resp, 200, "ready: tenants file generation %lu", ref->generation);
	else
		kt_http_text(resp, status, "%s", why);
	kt_conf_release(ref);
	return 0;
}

static void health_on_dispose(struct kt_handler *h)
{
	free(h);
}

struct kt_handler *kt_health_handler_new(struct kt_serve *s, const char *path, bool ready)
{
	struct health_handler *self = calloc(1, sizeof(*self));

	if (!self)
		return NULL;
	self->super.path = path;
	self->super.on_request = health_on_request;
	self->super.on_dispose = health_on_dispose;
	self->s = s;
	self->ready = ready;
	return &self->super;
}
