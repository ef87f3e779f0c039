/*
 * h_metrics.c: GET /metrics in the Prometheus text format (0.0.4).
 *
 * Served on its own plain-HTTP listener (127.0.0.1:9090 by default), so
 * scraping needs no client certificate and metrics never share a port with
 * the API server's traffic.
 */
#include <stdlib.h>
#include <string.h>
#include "webhook.h"

struct metrics_handler {
	struct kt_handler super; /* first member */
	struct kt_serve *s;
};

static int metrics_on_request(struct kt_handler *h, const struct kt_http_req *req,
			      struct kt_http_resp *resp)
{
	struct metrics_handler *self = (void *)h;
	struct kt_metrics_gauges g = { 0 };

	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		resp->allow = "GET, HEAD";
		return kt_http_text(resp, 405, "method '%.32s' is not allowed; use GET",
				    req->method);
	}
	g.in_flight = self->s->https ? kt_http_in_flight(self->s->https) : 0;
	g.body_timeouts = self->s->https ? kt_http_body_timeouts(self->s->https) : 0;
	g.budget = &self->s->budget;
	g.rss_bytes = kt_metrics_rss();
	g.version = self->s->version;
	if (kt_metrics_format(&self->s->metrics, &g, &resp->body))
		return -1;
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
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
