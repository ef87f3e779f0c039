/*
 * health.c: what /healthz, /livez and /readyz answer, for both servers and
 * every listener (webhook/h_health.c and proxy/proxy.c only pass it on).
 */
#include <string.h>
#include "core.h"

int kt_health_probe(const char *path, bool draining, const char *not_ready, const char **why)
{
	*why = "ok";
	if (!strcmp(path, "/healthz") || !strcmp(path, "/livez"))
		return 200;
	if (strcmp(path, "/readyz"))
		return 0;
	if (draining)
		*why = "shutting down";
	else if (not_ready)
		*why = not_ready;
	else
		return 200;
	return 503;
}

int kt_health_answer(const char *method, const char *path, bool draining, const char *not_ready,
		     const char *ready, struct kt_http_resp *resp)
{
	const char *why;
	int status = kt_health_probe(path, draining, not_ready, &why);

	if (!status)
		return 0;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		resp->allow = "GET, HEAD";
		kt_http_text(resp, 405, "method '%.32s' is not allowed; use GET", method);
		return 405;
	}
	if (status == 200 && ready && !strcmp(path, "/readyz"))
		why = ready;
	kt_http_text(resp, status, "%s", why);
	return status;
}
