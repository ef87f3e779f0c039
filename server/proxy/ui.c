/*
 * ui.c: the tenant dashboard under /ui/ (`proxy --ui`).
 *
 * The files are public and need no token: they hold no data.  The page logs
 * in by itself (OIDC code + PKCE against --issuer-url) and calls the API on
 * this same origin with the user's own token, so it sees exactly what the
 * user's kubectl sees.  What is served here is constant, which is why the
 * policy can be strict: scripts and styles only from these files, no
 * framing, no referrer (the login code sits in the page's URL a moment),
 * and the only other origin the page may fetch is the issuer's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "internal.h"
#include "ui.h"

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
};

bool kt_proxy_ui_match(const char *uri)
{
	return !strncmp(uri, "/ui", 3) && (!uri[3] || uri[3] == '/' || uri[3] == '?');
}

/* "https://host:port" of the issuer, for connect-src; NULL when it is not plainly one. */
static char *issuer_origin(const char *url)
{
	const char *h = url + 8, *end = h + strcspn(h, "/?#");
	const char *s;

	if (strncmp(url, "https://", 8) || end == h)
		return NULL;
	for (s = h; s < end; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]",
			    *s))
			return NULL;
	return strndup(url, (size_t)(end - url));
}

static void secure(struct MHD_Response *resp, const struct proxy *p)
{
	char *origin = issuer_origin(p->opts->issuer_url);
	char csp[512];

	snprintf(csp, sizeof(csp),
		 "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
		 "connect-src 'self'%s%s; object-src 'none'; base-uri 'none'; form-action 'none'; "
		 "frame-ancestors 'none'",
		 origin ? " " : "", origin ? origin : "");
	free(origin);
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
	/* revalidated each time (ETag): a new binary shows its new page at once */
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
}

static enum MHD_Result answer(struct MHD_Connection *c, struct preq *r, unsigned code,
			      const void *body, size_t len, enum MHD_ResponseMemoryMode mode,
			      const char *type, const char *etag)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, mode);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	secure(resp, r->p);
	if (type)
		MHD_add_response_header(resp, "Content-Type", type);
	if (etag)
		MHD_add_response_header(resp, "ETag", etag);
	if (code == 308)
		MHD_add_response_header(resp, "Location", "/ui/");
	if (code == 405)
		MHD_add_response_header(resp, "Allow", "GET, HEAD");
	r->status = code;
	ret = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* What the page needs to log in; the same for everyone. */
static enum MHD_Result config(struct MHD_Connection *c, struct preq *r)
{
	const struct kt_proxy_opts *o = r->p->opts;
	json_t *j = json_pack("{s:s, s:s}", "issuer", o->issuer_url, "clientId", o->ui_client_id);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!s)
		return MHD_NO;
	return answer(c, r, 200, s, strlen(s), MHD_RESPMEM_MUST_FREE, "application/json", NULL);
}

static const char *type_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

enum MHD_Result kt_proxy_ui_serve(struct MHD_Connection *c, struct preq *r)
{
	size_t plen = strcspn(r->uri, "?");
	const char *name = r->uri + 4, *inm;
	const struct kt_ui_asset *a;

	r->logged = true; /* public files: nobody to audit */
	if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
		return answer(c, r, 405, "method not allowed\n", 19, MHD_RESPMEM_PERSISTENT,
			      "text/plain", NULL);
	if (plen == 3)
		return answer(c, r, 308, "", 0, MHD_RESPMEM_PERSISTENT, NULL, NULL);
	plen -= 4;
	if (!plen)
		name = "index.html", plen = 10;
	if (plen == 11 && !strncmp(name, "config.json", 11))
		return config(c, r);
	for (a = kt_ui_assets; a->name; a++) {
		if (strlen(a->name) != plen || strncmp(a->name, name, plen))
			continue;
		inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
		if (inm && strstr(inm, a->etag))
			return answer(c, r, 304, "", 0, MHD_RESPMEM_PERSISTENT, NULL, a->etag);
		return answer(c, r, 200, a->data, a->len, MHD_RESPMEM_PERSISTENT, type_of(a->name),
			      a->etag);
	}
	return answer(c, r, 404, "not found\n", 10, MHD_RESPMEM_PERSISTENT, "text/plain", NULL);
}
