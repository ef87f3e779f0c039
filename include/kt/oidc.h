/*
 * oidc.h: the issuer's signing keys, fetched over HTTPS and kept fresh.
 *
 * Discovery (`<issuer>/.well-known/openid-configuration`) is fetched once
 * and its `issuer` must equal the configured one exactly, as OpenID Connect
 * Discovery 1.0 section 4.3 requires (a mismatch means someone else's
 * metadata).  The JWKS at its `jwks_uri` is then fetched on demand and
 * periodically.  Every fetch is HTTPS only, verified against the system CAs
 * or a given CA file, follows no redirects, and is bounded in size and time.
 */
#ifndef KT_OIDC_H
#define KT_OIDC_H

#include <stdbool.h>
#include "kt/buf.h"
#include "kt/err.h"
#include "kt/jwt.h"

#define KT_OIDC_MAX_DISCOVERY (64u << 10)
#define KT_OIDC_TIMEOUT_MS 10000L

struct kt_oidc;

/*
 * One request to an issuer, the only way kubetenant speaks to one: GET, or
 * POST of the form-encoded `body` when not NULL, with the rules above
 * (ca_file NULL: system CAs), the answer (at most `max` bytes) in out.  Any
 * HTTP status is the caller's to judge: it is in *status (0 when none came).
 */
enum kt_rc kt_oidc_fetch(const char *url, const char *ca_file, const char *body, size_t max,
			 struct kt_buf *out, long *status, struct kt_err *err);

/*
 * Returns a new fetcher in *out (free with kt_oidc_free); fetches nothing
 * yet.  issuer and ca_file (NULL: system CAs) are copied.
 */
enum kt_rc kt_oidc_new(const char *issuer, const char *ca_file, struct kt_oidc **out,
		       struct kt_err *err);
void kt_oidc_free(struct kt_oidc *o);

/*
 * Fetch the key set now (and discovery, until it once succeeded) and swap
 * it in.  On failure the previous key set stays in use.  Thread-safe; the
 * network I/O runs without holding the lock that kt_oidc_keys() takes.
 */
enum kt_rc kt_oidc_refresh(struct kt_oidc *o, long long now, struct kt_err *err);

/*
 * The same, but only when no refresh was attempted in the last
 * `min_interval` seconds: a token naming an unknown kid may mean the issuer
 * rotated its keys, but a flood of made-up kids must not become a flood of
 * requests to the issuer.  Returns true when a refresh ran and succeeded.
 */
bool kt_oidc_refresh_limited(struct kt_oidc *o, long long now, long long min_interval,
			     struct kt_err *err);

/* The current key set: a new reference (kt_jwks_unref) or NULL before the first fetch. */
struct kt_jwks *kt_oidc_keys(struct kt_oidc *o);

/*
 * What discovery names for a client that logs in: https:// URLs only, NULL
 * where absent or not https://.  All NULL until a refresh succeeded once;
 * discovery runs once, so they then stay as they are while o lives.
 */
struct kt_oidc_endpoints {
	char *authorization, *token, *device;
};
const struct kt_oidc_endpoints *kt_oidc_endpoints(const struct kt_oidc *o);

/* Time of the last successful key fetch, 0 if none. */
long long kt_oidc_loaded_at(struct kt_oidc *o);

#endif
