/*
 * h_metrics.c: GET /metrics, the webhook's registry (metrics.c) in the
 * Prometheus text format (server/prom.c).
 *
 * Served on its own plain-HTTP listener (127.0.0.1:9090 by default), so
 * scraping needs no client certificate and metrics never share a port with
 * the API server's traffic.
 */
#include <stdlib.h>
#include "webhook.h"

struct metrics_handler {
	struct kt_handler super; /* first member */
	struct kt_serve *s;
};

static int metrics_on_request(struct kt_handler *h, const struct kt_http_req *req,
			      struct kt_http_resp *resp)
{
	return kt_prom_answer(&((struct metrics_handler *)h)->s->metrics.reg, req->method, resp);
}

static void metrics_on_dispose(struct kt_handler *h)
{
	free(h);
}

struct kt_handler *kt_metrics_handler_new(struct kt_serve *s)
{
	struct metrics_handler *self = calloc(1, sizeof(*self));

	if (!self)
		return NULL;
	self->super.path = "/metrics";
	self->super.on_request = metrics_on_request;
	self->super.on_dispose = metrics_on_dispose;
	self->s = s;
	return &self->super;
}
