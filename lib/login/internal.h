/*
 * internal.h: the pieces of kt_login_token(), shared inside lib/login.
 */
#ifndef KT_LOGIN_INTERNAL_H
#define KT_LOGIN_INTERNAL_H

#include "kt/buf.h"
#include "kt/login.h"
#include "kt/oidc.h"

/* pkce.c */
char *kt_login_random(size_t nbytes);      /* base64url of nbytes random bytes */
char *kt_login_s256(const char *verifier); /* base64url(SHA-256(verifier)) */

/* exchange.c: HTTPS to the issuer */
/* POST a form (name, value pairs, NULL-terminated) and keep the body, any status. */
enum kt_login_fail kt_login_post(const struct kt_login_opts *o, const char *url,
				 const char *const *form, struct kt_buf *out, struct kt_err *err);
/* "%XX" escape for a query string; NULL on OOM */
char *kt_login_escape(const char *s);

/* loopback.c: the browser's redirect to http://127.0.0.1:PORT/callback */
int kt_login_loopback_open(int *port, struct kt_err *err);
enum kt_login_fail kt_login_loopback_wait(int fd, const char *state, long long deadline,
					  char **code, struct kt_err *err);
bool kt_login_open_browser(const char *cmd, const char *url);

/* device.c */
enum kt_login_fail kt_login_device_flow(const struct kt_login_opts *o,
					const struct kt_oidc_endpoints *e,
					struct kt_login_answer *a, struct kt_err *err);

/* cache.c */
struct kt_login_cached {
	char *id_token, *refresh_token;
};
int kt_login_cache_lock(const char *path, struct kt_err *err); /* fd, -1 on error */
/* A missing, unreadable, foreign or malformed file is an empty session. */
void kt_login_cache_read(const char *path, struct kt_login_cached *c);
enum kt_login_fail kt_login_cache_write(const char *path, const char *id_token,
					const char *refresh_token, struct kt_err *err);
void kt_login_cached_release(struct kt_login_cached *c);

#endif
