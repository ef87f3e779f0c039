/*
 * health.c: what /healthz, /livez and /readyz answer, for both servers;
 * each serves it over its own transport (webhook/h_health.c, proxy/proxy.c).
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
