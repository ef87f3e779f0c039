/*
 * scope.h: `proxy -f`, tenant-scoped lists (proxy_scope.c), as hooks
 * for proxy.c (the tenants file) and proxy_fwd.c (one request).
 */
#ifndef KT_SERVER_PROXY_SCOPE_H
#define KT_SERVER_PROXY_SCOPE_H

#include <stdbool.h>
#include <curl/curl.h>
#include "kt/buf.h"
#include "kt/err.h"

struct proxy;
struct preq;
struct proxy_scope;

/* Load --tenants when given (an invalid file fails the start, file:line:col in err). */
enum kt_rc kt_proxy_scope_init(struct proxy *p, struct kt_err *err);
/* From the refresher thread: reload the file when it changed (every few seconds). */
void kt_proxy_scope_poll(struct proxy *p, long long now);
void kt_proxy_scope_release(struct proxy *p);

/* A scoped list or watch: its state; NULL for every other request (*nomem on failure). */
struct proxy_scope *kt_proxy_scope_start(struct preq *r, bool *nomem);
void kt_proxy_scope_free(struct proxy_scope *s);
/* The headers to send upstream instead of r's: the proxy's identity, JSON only. */
enum kt_rc kt_proxy_scope_headers(struct proxy_scope *s, struct preq *r, struct curl_slist **out);
/* True when the answer must be complete before it is filtered and sent (not a watch stream). */
bool kt_proxy_scope_whole(struct proxy_scope *s, long status);
/* Body bytes as they arrive; what may be sent goes to out.  False ends the transfer. */
bool kt_proxy_scope_body(struct proxy_scope *s, long status, const char *data, size_t len,
			 struct kt_buf *out);
/* The transfer ended: a whole answer is filtered into out (or becomes a 502 Status). */
void kt_proxy_scope_end(struct proxy_scope *s, long *status, CURLcode *result, struct kt_buf *out);

#endif
