/*
 * t_jwt.c: the token verifier against the attack list of issue 6.
 *
 * Keys are generated at run time and every token is signed here with
 * OpenSSL directly (not with cjose, which the verifier uses), so a bug in
 * how the verifier drives cjose cannot hide behind the same bug in the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include "kt/buf.h"
#include "kt/jwt.h"

#define NOW 1800000000LL
#define ISS "https://issuer.example.org"
#define AUD "kubernetes"

static EVP_PKEY *rsa_a, *rsa_b, *ec_a, *rsa_small;
static struct kt_jwks *keys;
static struct kt_jwt_policy pol;

static char *b64url(const void *data, size_t n)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *d = data;
	char *out = malloc(n * 4 / 3 + 4), *o = out;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		*o++ = al[d[i] >> 2];
		*o++ = al[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
		*o++ = al[((d[i + 1] & 15) << 2) | (d[i + 2] >> 6)];
		*o++ = al[d[i + 2] & 63];
	}
	if (n - i == 1) {
		*o++ = al[d[i] >> 2];
		*o++ = al[(d[i] & 3) << 4];
	} else if (n - i == 2) {
		*o++ = al[d[i] >> 2];
		*o++ = al[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
		*o++ = al[(d[i + 1] & 15) << 2];
	}
	*o = 0;
	return out;
}

static char *b64_bn(EVP_PKEY *k, const char *param, size_t pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;

	assert_true(EVP_PKEY_get_bn_param(k, param, &bn));
	n = pad ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	return b64url(buf, (size_t)n);
}

static void add_jwk(struct kt_buf *b, EVP_PKEY *k, const char *kid, const char *extra)
{
	char *x, *y;

	if (b->buf[b->len - 1] != '[')
		kt_buf_addch(b, ',');
	if (EVP_PKEY_is_a(k, "RSA")) {
		x = b64_bn(k, OSSL_PKEY_PARAM_RSA_N, 0);
		y = b64_bn(k, OSSL_PKEY_PARAM_RSA_E, 0);
		kt_buf_addf(b, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"", x, y);
	} else {
		x = b64_bn(k, OSSL_PKEY_PARAM_EC_PUB_X, 32);
		y = b64_bn(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
		kt_buf_addf(b, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"", x, y);
	}
	if (kid)
		kt_buf_addf(b, ",\"kid\":\"%s\"", kid);
	kt_buf_addf(b, "%s}", extra ? extra : "");
	free(x);
	free(y);
}

/* Sign "b64(header).b64(payload)" with alg; returns a new token. */
static char *mint(const char *header, const char *payload, const char *alg, EVP_PKEY *k)
{
	struct kt_buf t = KT_BUF_INIT;
	unsigned char sig[1024], *der;
	size_t siglen = sizeof(sig);
	char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload)), *s;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *hash = !strcmp(alg + 2, "256")   ? EVP_sha256()
			     : !strcmp(alg + 2, "384") ? EVP_sha384()
						       : EVP_sha512();

	kt_buf_addf(&t, "%s.%s", h, p);
	assert_true(EVP_DigestSignInit(md, &pctx, hash, NULL, k) == 1);
	if (alg[0] == 'P') {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
	}
	assert_true(EVP_DigestSign(md, sig, &siglen, (unsigned char *)t.buf, t.len) == 1);
	if (alg[0] == 'E') { /* DER -> r||s as JWS wants */
		const unsigned char *q = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)siglen);
		unsigned char raw[64];

		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
		ECDSA_SIG_free(es);
		memcpy(sig, raw, 64);
		siglen = 64;
	}
	(void)der;
	s = b64url(sig, siglen);
	kt_buf_addf(&t, ".%s", s);
	free(h);
	free(p);
	free(s);
	EVP_MD_CTX_free(md);
	return kt_buf_detach(&t, NULL);
}

/* A typical payload with one field replaced or added through a format. */
static char *claims(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *claims(const char *fmt, ...)
{
	struct kt_buf b = KT_BUF_INIT;
	char extra[20000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(extra, sizeof(extra), fmt, ap);
	va_end(ap);
	kt_buf_addf(&b, "{%s}", extra);
	return kt_buf_detach(&b, NULL);
}

#define STD "\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1800000600,\"iat\":1799999990"

static enum kt_jwt_fail try(const char *header, const char *payload, const char *alg, EVP_PKEY *k,
			    struct kt_identity *id)
{
	char *tok = mint(header, payload, alg, k);
	struct kt_identity tmp = { 0 };
	enum kt_jwt_fail why = KT_JWT_FAIL_MAX;
	struct kt_err err = { 0 };
	enum kt_rc rc;

	rc = kt_jwt_verify(&pol, keys, tok, strlen(tok), NOW, id ? id : &tmp, &why, &err);
	assert_int_equal(rc == KT_OK, why == KT_JWT_OK);
	assert_null(strstr(err.msg, tok)); /* never quote the token */
	kt_identity_release(&tmp);
	free(tok);
	return why;
}

static enum kt_jwt_fail std_try(const char *payload_extra)
{
	char *p = claims("%s", payload_extra);
	enum kt_jwt_fail why = try("{\"alg\":\"RS256\",\"kid\":\"a\"}", p, "RS256", rsa_a, NULL);

	free(p);
	return why;
}

static int setup(void **state)
{
	struct kt_buf b = KT_BUF_INIT;
	struct kt_err err = { 0 };

	(void)state;
	rsa_a = EVP_RSA_gen(2048);
	rsa_b = EVP_RSA_gen(2048);
	rsa_small = EVP_RSA_gen(1024);
	ec_a = EVP_EC_gen("P-256");
	assert_non_null(rsa_a);
	assert_non_null(ec_a);
	kt_buf_adds(&b, "{\"keys\":[");
	add_jwk(&b, rsa_a, "a", NULL);
	add_jwk(&b, rsa_b, "b", ",\"use\":\"sig\",\"alg\":\"RS256\"");
	add_jwk(&b, ec_a, "e", NULL);
	add_jwk(&b, rsa_small, "small", NULL);
	kt_buf_adds(&b, ",{\"kty\":\"oct\",\"kid\":\"hmac\",\"k\":\"c2VjcmV0\"}]}");
	assert_int_equal(kt_jwks_parse(b.buf, b.len, &keys, &err), KT_OK);
	kt_buf_release(&b);
	kt_jwt_policy_init(&pol);
	pol.issuer = ISS;
	pol.audience = AUD;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kt_jwks_unref(keys);
	EVP_PKEY_free(rsa_a);
	EVP_PKEY_free(rsa_b);
	EVP_PKEY_free(rsa_small);
	EVP_PKEY_free(ec_a);
	return 0;
}

static int reset_policy(void **state)
{
	(void)state;
	kt_jwt_policy_init(&pol);
	pol.issuer = ISS;
	pol.audience = AUD;
	return 0;
}

static void valid_token_gives_prefixed_identity(void **state)
{
	struct kt_identity id = { 0 };
	char *p = claims(STD ",\"sub\":\"alice\",\"groups\":[\"team-a-devs\",\"auditors\"]");

	(void)state;
	assert_int_equal(try("{\"alg\":\"RS256\",\"kid\":\"a\",\"typ\":\"JWT\"}", p, "RS256", rsa_a,
			     &id),
			 KT_JWT_OK);
	assert_string_equal(id.user, "oidc:alice");
	assert_int_equal(id.n_groups, 2);
	assert_string_equal(id.groups[0], "oidc:team-a-devs");
	assert_string_equal(id.groups[1], "oidc:auditors");
	assert_int_equal(id.exp, 1800000600);
	kt_identity_release(&id);
	free(p);
	/* the key set kept exactly the three usable keys: oct and 1024-bit RSA dropped */
	assert_int_equal(kt_jwks_count(keys), 3);
	assert_true(kt_jwks_has_kid(keys, "e"));
	assert_false(kt_jwks_has_kid(keys, "small"));
	assert_false(kt_jwks_has_kid(keys, "hmac"));
}

static void time_claims(void **state)
{
	(void)state;
	assert_int_equal(std_try("\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
				 "\"exp\":1800000000"),
			 KT_JWT_EXPIRED); /* exp == now: no leeway */
	assert_int_equal(std_try("\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
				 "\"exp\":1799999999"),
			 KT_JWT_EXPIRED);
	assert_int_equal(std_try("\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\""),
			 KT_JWT_EXPIRED); /* no exp at all */
	assert_int_equal(std_try("\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
				 "\"exp\":\"1800000600\""),
			 KT_JWT_MALFORMED);
	assert_int_equal(std_try(STD ",\"sub\":\"a\",\"nbf\":1800000031"), KT_JWT_NOT_YET_VALID);
	assert_int_equal(std_try(STD ",\"sub\":\"a\",\"nbf\":1800000030"), KT_JWT_OK);
	assert_int_equal(std_try("\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
				 "\"exp\":1800000600,\"iat\":1800000100"),
			 KT_JWT_NOT_YET_VALID);
	pol.skew = 0;
	assert_int_equal(std_try(STD ",\"sub\":\"a\",\"nbf\":1800000001"), KT_JWT_NOT_YET_VALID);
}

static void issuer_and_audience(void **state)
{
	(void)state;
	assert_int_equal(std_try("\"iss\":\"https://evil.example.org\",\"aud\":\"" AUD "\","
				 "\"exp\":1800000600,\"sub\":\"a\""),
			 KT_JWT_ISSUER);
	assert_int_equal(std_try("\"iss\":\"" ISS "/\",\"aud\":\"" AUD "\","
				 "\"exp\":1800000600,\"sub\":\"a\""),
			 KT_JWT_ISSUER);
	assert_int_equal(std_try("\"aud\":\"" AUD "\",\"exp\":1800000600,\"sub\":\"a\""),
			 KT_JWT_ISSUER);
	assert_int_equal(std_try("\"iss\":\"" ISS "\",\"aud\":\"other\","
				 "\"exp\":1800000600,\"sub\":\"a\""),
			 KT_JWT_AUDIENCE);
	assert_int_equal(std_try("\"iss\":\"" ISS "\",\"aud\":[\"other\",\"" AUD "\"],"
				 "\"exp\":1800000600,\"sub\":\"a\""),
			 KT_JWT_OK);
	assert_int_equal(std_try("\"iss\":\"" ISS "\",\"aud\":[\"other\",1],"
				 "\"exp\":1800000600,\"sub\":\"a\""),
			 KT_JWT_AUDIENCE);
	assert_int_equal(std_try("\"iss\":\"" ISS "\",\"exp\":1800000600,\"sub\":\"a\""),
			 KT_JWT_AUDIENCE);
	/* more accepted audiences: a dashboard's client ID next to kubectl's */
	{
		static const char *const more[] = { "dashboard", "other-app" };

		pol.audiences = more;
		pol.n_audiences = 2;
		assert_int_equal(std_try("\"iss\":\"" ISS "\",\"aud\":\"dashboard\","
					 "\"exp\":1800000600,\"sub\":\"a\""),
				 KT_JWT_OK);
		assert_int_equal(std_try("\"iss\":\"" ISS "\",\"aud\":[\"x\",\"other-app\"],"
					 "\"exp\":1800000600,\"sub\":\"a\""),
				 KT_JWT_OK);
		assert_int_equal(std_try("\"iss\":\"" ISS "\",\"aud\":\"dashboard2\","
					 "\"exp\":1800000600,\"sub\":\"a\""),
				 KT_JWT_AUDIENCE);
		pol.n_audiences = 1;
		assert_int_equal(std_try("\"iss\":\"" ISS "\",\"aud\":\"other-app\","
					 "\"exp\":1800000600,\"sub\":\"a\""),
				 KT_JWT_AUDIENCE);
	}
}

static char *raw_token(const char *header, const char *payload, const char *sig)
{
	struct kt_buf t = KT_BUF_INIT;
	char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload));

	kt_buf_addf(&t, "%s.%s.%s", h, p, sig);
	free(h);
	free(p);
	return kt_buf_detach(&t, NULL);
}

static enum kt_jwt_fail verify_str(const char *tok)
{
	struct kt_identity id = { 0 };
	enum kt_jwt_fail why = KT_JWT_FAIL_MAX;

	kt_jwt_verify(&pol, keys, tok, strlen(tok), NOW, &id, &why, NULL);
	kt_identity_release(&id);
	return why;
}

static void alg_none_and_hmac_confusion(void **state)
{
	char *p = claims(STD ",\"sub\":\"alice\"");
	char *tok;
	unsigned char mac[64];
	unsigned int maclen = 0;
	char *pem, *sig, *dot;
	BIO *bio = BIO_new(BIO_s_mem());
	long pemlen;

	(void)state;
	tok = raw_token("{\"alg\":\"none\"}", p, "");
	assert_int_equal(verify_str(tok), KT_JWT_MALFORMED);
	free(tok);
	tok = raw_token("{\"alg\":\"none\",\"kid\":\"a\"}", p, "AAAA");
	assert_int_equal(verify_str(tok), KT_JWT_ALG);
	free(tok);
	/* HS256 with the RSA public key (PEM) as the HMAC secret */
	PEM_write_bio_PUBKEY(bio, rsa_a);
	pemlen = BIO_get_mem_data(bio, &pem);
	tok = raw_token("{\"alg\":\"HS256\",\"kid\":\"a\"}", p, "");
	dot = strrchr(tok, '.');
	HMAC(EVP_sha256(), pem, (int)pemlen, (unsigned char *)tok, (size_t)(dot - tok), mac,
	     &maclen);
	sig = b64url(mac, maclen);
	*dot = 0;
	{
		struct kt_buf t = KT_BUF_INIT;

		kt_buf_addf(&t, "%s.%s", tok, sig);
		assert_int_equal(verify_str(t.buf), KT_JWT_ALG);
		/* every algorithm allowed still never includes HMAC */
		pol.algs = ~0u;
		assert_int_equal(verify_str(t.buf), KT_JWT_ALG);
		kt_buf_release(&t);
	}
	assert_int_equal(kt_jwt_alg_parse("HS256"), 0);
	assert_int_equal(kt_jwt_alg_parse("none"), 0);
	assert_int_equal(kt_jwt_alg_parse("ES384"), KT_JWT_ES384);
	free(sig);
	free(tok);
	free(p);
	BIO_free(bio);
}

static void kid_and_key_type(void **state)
{
	char *p = claims(STD ",\"sub\":\"alice\"");

	(void)state;
	assert_int_equal(try("{\"alg\":\"RS256\",\"kid\":\"zz\"}", p, "RS256", rsa_a, NULL),
			 KT_JWT_UNKNOWN_KID);
	/* right kid, other key's signature */
	assert_int_equal(try("{\"alg\":\"RS256\",\"kid\":\"a\"}", p, "RS256", rsa_b, NULL),
			 KT_JWT_SIGNATURE);
	/* no kid: every RSA key is tried, and b verifies */
	assert_int_equal(try("{\"alg\":\"RS256\"}", p, "RS256", rsa_b, NULL), KT_JWT_OK);
	/* the 1024-bit key was dropped from the set */
	assert_int_equal(try("{\"alg\":\"RS256\",\"kid\":\"small\"}", p, "RS256", rsa_small, NULL),
			 KT_JWT_UNKNOWN_KID);
	/* ES256 is not allowed by default */
	assert_int_equal(try("{\"alg\":\"ES256\",\"kid\":\"e\"}", p, "ES256", ec_a, NULL),
			 KT_JWT_ALG);
	pol.algs = KT_JWT_RS256 | KT_JWT_ES256 | KT_JWT_PS256 | KT_JWT_RS512;
	assert_int_equal(try("{\"alg\":\"ES256\",\"kid\":\"e\"}", p, "ES256", ec_a, NULL),
			 KT_JWT_OK);
	/* EC algorithm naming an RSA key, and the reverse */
	assert_int_equal(try("{\"alg\":\"ES256\",\"kid\":\"a\"}", p, "ES256", ec_a, NULL),
			 KT_JWT_KEY_TYPE);
	assert_int_equal(try("{\"alg\":\"RS256\",\"kid\":\"e\"}", p, "RS256", rsa_a, NULL),
			 KT_JWT_KEY_TYPE);
	assert_int_equal(try("{\"alg\":\"PS256\",\"kid\":\"a\"}", p, "PS256", rsa_a, NULL),
			 KT_JWT_OK);
	/* key b pins RS256 */
	assert_int_equal(try("{\"alg\":\"RS512\",\"kid\":\"b\"}", p, "RS512", rsa_b, NULL),
			 KT_JWT_KEY_TYPE);
	assert_int_equal(try("{\"alg\":\"RS512\",\"kid\":\"a\"}", p, "RS512", rsa_a, NULL),
			 KT_JWT_OK);
	assert_int_equal(try("{\"alg\":\"RS256\",\"kid\":\"a\",\"crit\":[\"exp\"]}", p, "RS256",
			     rsa_a, NULL),
			 KT_JWT_ALG);
	assert_int_equal(try("{\"alg\":\"RS256\",\"kid\":\"a\",\"typ\":\"logout+jwt\"}", p, "RS256",
			     rsa_a, NULL),
			 KT_JWT_MALFORMED);
	free(p);
}

static void tampering_and_size(void **state)
{
	char *p = claims(STD ",\"sub\":\"alice\"");
	char *tok = mint("{\"alg\":\"RS256\",\"kid\":\"a\"}", p, "RS256", rsa_a);
	char *evil = claims(STD ",\"sub\":\"admin\"");
	char *eb = b64url(evil, strlen(evil));
	char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
	struct kt_buf t = KT_BUF_INIT;
	char *big;

	(void)state;
	assert_int_equal(verify_str(tok), KT_JWT_OK);
	kt_buf_add(&t, tok, (size_t)(d1 + 1 - tok));
	kt_buf_adds(&t, eb);
	kt_buf_adds(&t, d2);
	assert_int_equal(verify_str(t.buf), KT_JWT_SIGNATURE);
	kt_buf_reset(&t);
	kt_buf_adds(&t, tok);
	t.buf[d2 + 5 - tok] = t.buf[d2 + 5 - tok] == 'A' ? 'B' : 'A';
	assert_int_equal(verify_str(t.buf), KT_JWT_SIGNATURE);
	kt_buf_reset(&t);
	kt_buf_addf(&t, "%s.AAAA", tok); /* four parts */
	assert_int_equal(verify_str(t.buf), KT_JWT_MALFORMED);
	kt_buf_reset(&t);
	kt_buf_adds(&t, tok);
	t.buf[3] = '+'; /* not base64url */
	assert_int_equal(verify_str(t.buf), KT_JWT_MALFORMED);
	assert_int_equal(verify_str("a.b"), KT_JWT_MALFORMED);
	/* cjose would assert() (abort the proxy) on base64url of length 1 mod 4 */
	assert_int_equal(verify_str("eyJhbGciOiJSUzI1NiJ9X.e30.AAAA"), KT_JWT_MALFORMED);
	assert_int_equal(verify_str("eyJhbGciOiJSUzI1NiJ9.e30.AAAAA"), KT_JWT_MALFORMED);
	assert_int_equal(verify_str(""), KT_JWT_MALFORMED);
	/* 20 KB of claims, validly signed */
	big = malloc(17000);
	memset(big, 'x', 16999);
	big[16999] = 0;
	free(p);
	p = claims(STD ",\"sub\":\"alice\",\"pad\":\"%s\"", big);
	assert_int_equal(try("{\"alg\":\"RS256\",\"kid\":\"a\"}", p, "RS256", rsa_a, NULL),
			 KT_JWT_TOO_LARGE);
	kt_buf_release(&t);
	free(big);
	free(tok);
	free(evil);
	free(eb);
	free(p);
}

static void duplicate_keys(void **state)
{
	(void)state;
	assert_int_equal(std_try(STD ",\"sub\":\"alice\",\"sub\":\"system:admin\""),
			 KT_JWT_DUPLICATE);
	assert_int_equal(try("{\"alg\":\"RS256\",\"kid\":\"a\",\"kid\":\"b\"}",
			     "{" STD ",\"sub\":\"alice\"}", "RS256", rsa_a, NULL),
			 KT_JWT_DUPLICATE);
}

static void system_names_are_refused(void **state)
{
	struct kt_identity id = { 0 };
	char *p;

	(void)state;
	assert_int_equal(std_try(STD ",\"sub\":\"system:admin\""), KT_JWT_USERNAME);
	assert_int_equal(std_try(STD ",\"sub\":\"alice\",\"groups\":[\"ok\",\"system:masters\"]"),
			 KT_JWT_GROUPS);
	assert_int_equal(std_try(STD ",\"sub\":\"alice\",\"groups\":\"system:masters\""),
			 KT_JWT_GROUPS);
	pol.groups_prefix = "";
	pol.username_prefix = "";
	assert_int_equal(std_try(STD ",\"sub\":\"system:serviceaccount:kube-system:x\""),
			 KT_JWT_USERNAME);
	assert_int_equal(std_try(STD ",\"sub\":\"alice\",\"groups\":[\"system:masters\"]"),
			 KT_JWT_GROUPS);
	/* a prefix that itself lands in system: */
	pol.groups_prefix = "system:";
	assert_int_equal(std_try(STD ",\"sub\":\"alice\",\"groups\":[\"masters\"]"), KT_JWT_GROUPS);
	pol.groups_prefix = "oidc:";
	p = claims(STD ",\"sub\":\"alice\",\"groups\":\"solo\"");
	assert_int_equal(try("{\"alg\":\"RS256\",\"kid\":\"a\"}", p, "RS256", rsa_a, &id),
			 KT_JWT_OK);
	assert_string_equal(id.user, "alice");
	assert_int_equal(id.n_groups, 1);
	assert_string_equal(id.groups[0], "oidc:solo");
	kt_identity_release(&id);
	free(p);
	assert_int_equal(std_try(STD ",\"sub\":\"alice\",\"groups\":42"), KT_JWT_GROUPS);
	assert_int_equal(std_try(STD ",\"sub\":\"alice\",\"groups\":[\"a\",null]"), KT_JWT_GROUPS);
	assert_int_equal(std_try(STD ",\"sub\":\"ali\\r\\nImpersonate-User: x\""), KT_JWT_USERNAME);
	assert_int_equal(std_try(STD ",\"sub\":\"\""), KT_JWT_USERNAME);
	assert_int_equal(std_try(STD ",\"sub\":42"), KT_JWT_USERNAME);
	/* jansson refuses an escaped NUL unless asked, so it never reaches make_name */
	assert_int_equal(std_try(STD ",\"sub\":\"a\\u0000b\""), KT_JWT_MALFORMED);
}

static void too_many_groups(void **state)
{
	struct kt_buf b = KT_BUF_INIT;
	int i;

	(void)state;
	kt_buf_adds(&b, STD ",\"sub\":\"alice\",\"groups\":[");
	for (i = 0; i <= KT_JWT_MAX_GROUPS; i++)
		kt_buf_addf(&b, "%s\"g%d\"", i ? "," : "", i);
	kt_buf_adds(&b, "]");
	assert_int_equal(std_try(b.buf), KT_JWT_GROUPS);
	kt_buf_release(&b);
}

static void email_needs_verification(void **state)
{
	struct kt_identity id = { 0 };
	char *p;

	(void)state;
	pol.username_claim = "email";
	assert_int_equal(std_try(STD ",\"sub\":\"1\",\"email\":\"alice@example.org\""),
			 KT_JWT_USERNAME);
	assert_int_equal(std_try(STD ",\"sub\":\"1\",\"email\":\"alice@example.org\","
				     "\"email_verified\":false"),
			 KT_JWT_USERNAME);
	assert_int_equal(std_try(STD ",\"sub\":\"1\",\"email\":\"alice@example.org\","
				     "\"email_verified\":\"true\""),
			 KT_JWT_USERNAME);
	p = claims(STD ",\"sub\":\"1\",\"email\":\"alice@example.org\",\"email_verified\":true");
	assert_int_equal(try("{\"alg\":\"RS256\",\"kid\":\"a\"}", p, "RS256", rsa_a, &id),
			 KT_JWT_OK);
	assert_string_equal(id.user, "oidc:alice@example.org");
	kt_identity_release(&id);
	free(p);
}

static void required_claims(void **state)
{
	static const struct kt_jwt_claim req[] = { { "hd", "example.org" } };

	(void)state;
	pol.required = req;
	pol.n_required = 1;
	assert_int_equal(std_try(STD ",\"sub\":\"a\""), KT_JWT_CLAIM);
	assert_int_equal(std_try(STD ",\"sub\":\"a\",\"hd\":\"evil.org\""), KT_JWT_CLAIM);
	assert_int_equal(std_try(STD ",\"sub\":\"a\",\"hd\":[\"example.org\"]"), KT_JWT_CLAIM);
	assert_int_equal(std_try(STD ",\"sub\":\"a\",\"hd\":\"example.org\""), KT_JWT_OK);
}

static void no_keys(void **state)
{
	char *p = claims(STD ",\"sub\":\"alice\"");
	char *tok = mint("{\"alg\":\"RS256\",\"kid\":\"a\"}", p, "RS256", rsa_a);
	struct kt_identity id = { 0 };
	enum kt_jwt_fail why;
	char kid[8];

	(void)state;
	assert_int_equal(kt_jwt_verify(&pol, NULL, tok, strlen(tok), NOW, &id, &why, NULL),
			 KT_E_AUTH);
	assert_int_equal(why, KT_JWT_NO_KEYS);
	assert_true(kt_jwt_peek_kid(tok, strlen(tok), kid, sizeof(kid)));
	assert_string_equal(kid, "a");
	assert_string_equal(kt_jwt_fail_str(KT_JWT_EXPIRED), "expired");
	free(tok);
	free(p);
}

static void jwks_errors(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"keys\":{}}",
		"{\"keys\":[]}",
		"{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}",
		"{\"keys\":[],\"keys\":[]}",
		"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
		"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAA\",\"y\":\"AAAA\"}]}",
	};
	struct kt_jwks *k = NULL;
	struct kt_err err = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_not_equal(kt_jwks_parse(bad[i], strlen(bad[i]), &k, &err), KT_OK);
		assert_null(k);
	}
}

static void cache_hits_until_exp(void **state)
{
	struct kt_jwt_cache *c = kt_jwt_cache_new(8);
	struct kt_identity id = { 0 }, got = { 0 };
	char *groups[] = { "oidc:g" };

	(void)state;
	id.user = "oidc:alice";
	id.groups = groups;
	id.n_groups = 1;
	id.exp = 100;
	assert_false(kt_jwt_cache_get(c, "tok1", 4, 10, &got));
	kt_jwt_cache_put(c, "tok1", 4, &id);
	assert_true(kt_jwt_cache_get(c, "tok1", 4, 99, &got));
	assert_string_equal(got.user, "oidc:alice");
	assert_string_equal(got.groups[0], "oidc:g");
	assert_false(kt_jwt_cache_get(c, "tok2", 4, 10, &got));
	assert_false(kt_jwt_cache_get(c, "tok1", 3, 10, &got));
	assert_false(kt_jwt_cache_get(c, "tok1", 4, 100, &got)); /* expired */
	assert_false(kt_jwt_cache_get(c, "tok1", 4, 50, &got));  /* and evicted */
	kt_identity_release(&got);
	kt_jwt_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(valid_token_gives_prefixed_identity, reset_policy),
		cmocka_unit_test_setup(time_claims, reset_policy),
		cmocka_unit_test_setup(issuer_and_audience, reset_policy),
		cmocka_unit_test_setup(alg_none_and_hmac_confusion, reset_policy),
		cmocka_unit_test_setup(kid_and_key_type, reset_policy),
		cmocka_unit_test_setup(tampering_and_size, reset_policy),
		cmocka_unit_test_setup(duplicate_keys, reset_policy),
		cmocka_unit_test_setup(system_names_are_refused, reset_policy),
		cmocka_unit_test_setup(too_many_groups, reset_policy),
		cmocka_unit_test_setup(email_needs_verification, reset_policy),
		cmocka_unit_test_setup(required_claims, reset_policy),
		cmocka_unit_test_setup(no_keys, reset_policy),
		cmocka_unit_test(jwks_errors),
		cmocka_unit_test(cache_hits_until_exp),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
