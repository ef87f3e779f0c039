/*
 * h_health.c: GET /healthz (the process answers) and GET /readyz (it can
 * decide: a valid tenants file is loaded and it is not shutting down), as
 * server/health.c answers for both servers.
 */
#include <stdio.h>
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
	struct kt_conf_ref *ref = self->ready ? kt_conf_acquire(&self->s->conf) : NULL;
	char ready[64];

	if (ref)
		snprintf(ready, sizeof(ready), "ready: tenants file generation %lu",
			 ref->generation);
	kt_health_answer(req->method, h->path, atomic_load(&self->s->draining),
			 ref ? NULL : "no valid tenants file is loaded", ref ? ready : NULL, resp);
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
