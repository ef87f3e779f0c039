/*
 * jwt.h: OIDC token verification for the proxy, with no I/O.
 *
 * kt_jwt_verify() turns a compact JWS into a Kubernetes identity or a reason
 * for refusing it.  It is a pure function of (policy, key set, token, clock):
 * the caller fetches the key set (kt/oidc.h) and passes the time in, so the
 * unit tests and the fuzzer drive every path without a network or a sleep.
 *
 * What it refuses, and why (each is a known way to forge OIDC logins):
 *  - tokens over KT_JWT_MAX_BYTES, with anything but three base64url parts,
 *    or with duplicate JSON keys in the header or the payload (two parsers
 *    that pick different duplicates disagree on who the user is);
 *  - `alg` outside the configured set; `none` and every HMAC algorithm can
 *    never be configured (HS256 "signed" with the RSA public key as secret is
 *    the classic confusion attack);
 *  - keys whose type or curve does not match `alg`, symmetric keys in the
 *    key set, RSA keys under 2048 bits, `crit` headers;
 *  - wrong `iss`, `aud` not containing the audience, `exp` passed (no leeway),
 *    `nbf`/`iat` in the future beyond the configured skew, required claims
 *    missing or different;
 *  - usernames or groups that are empty, too long, contain control bytes,
 *    or that start with "system:" before or after prefixing: an IdP must
 *    never be able to name a Kubernetes system identity (system:masters).
 */
#ifndef KT_JWT_H
#define KT_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include "kt/err.h"

#define KT_JWT_MAX_BYTES (16u << 10) /* whole compact token */
#define KT_JWT_MAX_GROUPS 256        /* groups in one token */
#define KT_JWT_MAX_NAME 256          /* username or group, prefix included */
#define KT_JWT_MAX_AUD 64            /* entries of an `aud` list */
#define KT_JWKS_MAX_BYTES (256u << 10)
#define KT_JWKS_MAX_KEYS 64
#define KT_JWT_DEFAULT_SKEW 30 /* seconds allowed for nbf and iat */

/* Signature algorithms; a policy allows a set of them (bit mask). */
enum kt_jwt_alg {
	KT_JWT_RS256 = 1 << 0,
	KT_JWT_RS384 = 1 << 1,
	KT_JWT_RS512 = 1 << 2,
	KT_JWT_PS256 = 1 << 3,
	KT_JWT_PS384 = 1 << 4,
	KT_JWT_PS512 = 1 << 5,
	KT_JWT_ES256 = 1 << 6,
	KT_JWT_ES384 = 1 << 7,
	KT_JWT_ES512 = 1 << 8,
};

/* Bit for an algorithm name ("RS256"), or 0 when it is unknown or never allowed. */
unsigned kt_jwt_alg_parse(const char *name);

/* Why a token was refused; also the `reason` label of the proxy's metrics. */
enum kt_jwt_fail {
	KT_JWT_OK = 0,
	KT_JWT_MALFORMED,   /* not a compact JWS, bad base64url, not JSON objects */
	KT_JWT_TOO_LARGE,   /* over KT_JWT_MAX_BYTES */
	KT_JWT_DUPLICATE,   /* duplicate JSON keys */
	KT_JWT_ALG,         /* algorithm not allowed (none, HS*, unlisted) or crit */
	KT_JWT_UNKNOWN_KID, /* no key with that kid: the caller may refresh the JWKS */
	KT_JWT_KEY_TYPE,    /* no key of the type the algorithm needs */
	KT_JWT_SIGNATURE,   /* signature does not verify */
	KT_JWT_ISSUER,
	KT_JWT_AUDIENCE,
	KT_JWT_EXPIRED,
	KT_JWT_NOT_YET_VALID, /* nbf or iat in the future */
	KT_JWT_CLAIM,         /* a required claim is missing or different */
	KT_JWT_USERNAME,      /* missing, unverified email, too long, system: */
	KT_JWT_GROUPS,        /* wrong type, too many, too long, system: */
	KT_JWT_NO_KEYS,       /* no key set loaded yet */
	KT_JWT_FAIL_MAX
};

/* Static label: "expired", "alg", ... */
const char *kt_jwt_fail_str(enum kt_jwt_fail f);

/* One claim that must be present as a string with exactly this value. */
struct kt_jwt_claim {
	const char *name, *value;
};

/* What a valid token is; every pointer is borrowed and must outlive the calls. */
struct kt_jwt_policy {
	const char *issuer;           /* exact match with `iss` */
	const char *audience;         /* must appear in `aud` (or one of audiences) */
	const char *const *audiences; /* more accepted client IDs, e.g. a dashboard's */
	size_t n_audiences;
	unsigned algs;               /* enum kt_jwt_alg bits; 0 means RS256 */
	long long skew;              /* seconds of clock skew for nbf and iat */
	const char *username_claim;  /* "sub"; "email" also needs email_verified */
	const char *username_prefix; /* "oidc:" */
	const char *groups_claim;    /* "groups"; absent claim = no groups */
	const char *groups_prefix;   /* "oidc:" */
	const struct kt_jwt_claim *required;
	size_t n_required;
};

/* Fill the defaults above (issuer and audience stay NULL). */
void kt_jwt_policy_init(struct kt_jwt_policy *p);

/* The identity a token proves, names already prefixed. */
struct kt_identity {
	char *user;
	char **groups;
	size_t n_groups;
	long long exp; /* expiry of the token, seconds since the epoch */
};

void kt_identity_release(struct kt_identity *id); /* frees the members; reusable */
/* Deep copy into *dst (released first); KT_E_NOMEM leaves *dst empty. */
enum kt_rc kt_identity_copy(struct kt_identity *dst, const struct kt_identity *src);

/*
 * A parsed JSON Web Key Set, reference counted so that a server can swap in
 * a new set while requests still verify against the old one.
 */
struct kt_jwks;

/*
 * Parse a JWKS document.  Keys that are not usable for verification (oct,
 * use other than "sig", RSA under 2048 bits, unknown kty) are skipped, not
 * errors; a set with no usable key is KT_E_INVALID.  On success *out is a
 * new set with one reference; drop it with kt_jwks_unref().
 */
enum kt_rc kt_jwks_parse(const char *json, size_t len, struct kt_jwks **out, struct kt_err *err);
struct kt_jwks *kt_jwks_ref(struct kt_jwks *keys); /* returns keys; thread-safe */
void kt_jwks_unref(struct kt_jwks *keys);          /* NULL-safe; thread-safe */
size_t kt_jwks_count(const struct kt_jwks *keys);
bool kt_jwks_has_kid(const struct kt_jwks *keys, const char *kid);

/*
 * Verify a compact JWS at time `now` (seconds since the epoch).  Returns
 * KT_OK and fills *out (release with kt_identity_release), KT_E_AUTH with
 * *why set when the token is refused (err says more, never quoting the
 * token), or KT_E_NOMEM.  keys may be NULL (KT_JWT_NO_KEYS).
 */
enum kt_rc kt_jwt_verify(const struct kt_jwt_policy *p, const struct kt_jwks *keys,
			 const char *token, size_t len, long long now, struct kt_identity *out,
			 enum kt_jwt_fail *why, struct kt_err *err);

/*
 * The `kid` of a token's header, for logs and for deciding to refresh the
 * key set; copies at most size-1 bytes into buf.  Returns false when the
 * token has no readable kid.
 */
bool kt_jwt_peek_kid(const char *token, size_t len, char *buf, size_t size);

/*
 * A bounded cache of verified tokens, keyed by the SHA-256 of the token (the
 * token itself is never stored).  Entries are valid until the token's exp.
 * Direct-mapped: a new entry replaces whatever shared its slot, so memory is
 * fixed at creation.  Thread-safe.
 */
struct kt_jwt_cache;

/* Returns a new cache of `slots` entries (rounded up to a power of two); free with kt_jwt_cache_free. */
struct kt_jwt_cache *kt_jwt_cache_new(size_t slots);
void kt_jwt_cache_free(struct kt_jwt_cache *c);
/* On a hit before exp, copies the identity into *out and returns true. */
bool kt_jwt_cache_get(struct kt_jwt_cache *c, const char *token, size_t len, long long now,
		      struct kt_identity *out);
/* Copies id into the cache (silently skipped when out of memory). */
void kt_jwt_cache_put(struct kt_jwt_cache *c, const char *token, size_t len,
		      const struct kt_identity *id);

#endif
