/*
 * internal.h: what jwks.c and verify.c share; not part of the API.
 */
#ifndef KT_JWT_INTERNAL_H
#define KT_JWT_INTERNAL_H

#include <stdatomic.h>
#include <cjose/jwk.h>
#include "kt/jwt.h"

struct kt_jwk {
	cjose_jwk_t *jwk;
	cjose_jwk_kty_t kty;
	int curve; /* cjose_jwk_ec_curve for EC keys */
	char *kid; /* NULL when the key has none */
	char *alg; /* NULL when the key does not pin one */
};

struct kt_jwks {
	atomic_size_t refs;
	size_t n;
	struct kt_jwk keys[];
};

/*
 * True when s[0..n) is base64url text that cjose can decode without
 * aborting: cjose 0.6 assert()s (kills the process) on a length of 1 mod 4,
 * so every string is checked here before cjose sees it.
 */
bool kt_jwt_b64url_ok(const char *s, size_t n);

#endif
