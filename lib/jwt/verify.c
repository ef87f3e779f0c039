/*
 * verify.c: compact JWS -> Kubernetes identity.
 *
 * The header and the payload are decoded and parsed here first, with
 * duplicate keys rejected, and every decision (algorithm, key choice,
 * claims) is taken on that parse; cjose only checks the signature bytes.
 * Relying on cjose's own header parse alone would accept duplicates.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <cjose/cjose.h>
#include "internal.h"

static const struct {
	const char *name;
	unsigned bit;
	cjose_jwk_kty_t kty;
	int curve; /* EC only */
} algs[] = {
	{ "RS256", KT_JWT_RS256, CJOSE_JWK_KTY_RSA, 0 },
	{ "RS384", KT_JWT_RS384, CJOSE_JWK_KTY_RSA, 0 },
	{ "RS512", KT_JWT_RS512, CJOSE_JWK_KTY_RSA, 0 },
	{ "PS256", KT_JWT_PS256, CJOSE_JWK_KTY_RSA, 0 },
	{ "PS384", KT_JWT_PS384, CJOSE_JWK_KTY_RSA, 0 },
	{ "PS512", KT_JWT_PS512, CJOSE_JWK_KTY_RSA, 0 },
	{ "ES256", KT_JWT_ES256, CJOSE_JWK_KTY_EC, CJOSE_JWK_EC_P_256 },
	{ "ES384", KT_JWT_ES384, CJOSE_JWK_KTY_EC, CJOSE_JWK_EC_P_384 },
	{ "ES512", KT_JWT_ES512, CJOSE_JWK_KTY_EC, CJOSE_JWK_EC_P_521 },
};
#define N_ALGS (sizeof(algs) / sizeof(algs[0]))

static const char *const fail_names[KT_JWT_FAIL_MAX] = {
	[KT_JWT_OK] = "ok",
	[KT_JWT_MALFORMED] = "malformed",
	[KT_JWT_TOO_LARGE] = "too_large",
	[KT_JWT_DUPLICATE] = "duplicate_key",
	[KT_JWT_ALG] = "algorithm",
	[KT_JWT_UNKNOWN_KID] = "unknown_kid",
	[KT_JWT_KEY_TYPE] = "key_type",
	[KT_JWT_SIGNATURE] = "signature",
	[KT_JWT_ISSUER] = "issuer",
	[KT_JWT_AUDIENCE] = "audience",
	[KT_JWT_EXPIRED] = "expired",
	[KT_JWT_NOT_YET_VALID] = "not_yet_valid",
	[KT_JWT_CLAIM] = "required_claim",
	[KT_JWT_USERNAME] = "username",
	[KT_JWT_GROUPS] = "groups",
	[KT_JWT_NO_KEYS] = "no_keys",
};

unsigned kt_jwt_alg_parse(const char *name)
{
	size_t i;

	for (i = 0; name && i < N_ALGS; i++)
		if (!strcmp(algs[i].name, name))
			return algs[i].bit;
	return 0;
}

const char *kt_jwt_fail_str(enum kt_jwt_fail f)
{
	return f >= 0 && f < KT_JWT_FAIL_MAX ? fail_names[f] : "unknown";
}

void kt_jwt_policy_init(struct kt_jwt_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->algs = KT_JWT_RS256;
	p->skew = KT_JWT_DEFAULT_SKEW;
	p->username_claim = "sub";
	p->username_prefix = "oidc:";
	p->groups_claim = "groups";
	p->groups_prefix = "oidc:";
}

void kt_identity_release(struct kt_identity *id)
{
	size_t i;

	for (i = 0; i < id->n_groups; i++)
		free(id->groups[i]);
	free(id->groups);
	free(id->user);
	memset(id, 0, sizeof(*id));
}

enum kt_rc kt_identity_copy(struct kt_identity *dst, const struct kt_identity *src)
{
	size_t i;

	kt_identity_release(dst);
	dst->exp = src->exp;
	if (!(dst->user = strdup(src->user)))
		goto nomem;
	if (src->n_groups && !(dst->groups = calloc(src->n_groups, sizeof(char *))))
		goto nomem;
	for (; dst->n_groups < src->n_groups; dst->n_groups++)
		if (!(dst->groups[dst->n_groups] = strdup(src->groups[dst->n_groups])))
			goto nomem;
	return KT_OK;
nomem:
	for (i = 0; i < dst->n_groups; i++)
		free(dst->groups[i]);
	dst->n_groups = 0;
	kt_identity_release(dst);
	return KT_E_NOMEM;
}

bool kt_jwt_b64url_ok(const char *s, size_t n)
{
	size_t i;

	if (n % 4 == 1)
		return false; /* no byte string encodes to this length */
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* Decode one part and parse it as a JSON object without duplicate keys. */
static enum kt_jwt_fail decode_json(const char *s, size_t n, json_t **out)
{
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	json_error_t jerr;
	cjose_err cerr;
	json_t *j;

	if (!n || !cjose_base64url_decode(s, n, &raw, &raw_len, &cerr))
		return KT_JWT_MALFORMED;
	j = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, &jerr);
	free(raw);
	if (!j) {
		/* jansson reports duplicates only through its message text */
		if (strstr(jerr.text, "duplicate"))
			return KT_JWT_DUPLICATE;
		return KT_JWT_MALFORMED;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		return KT_JWT_MALFORMED;
	}
	*out = j;
	return KT_JWT_OK;
}

struct parts {
	const char *h, *p, *s;
	size_t hn, pn, sn;
};

static enum kt_jwt_fail split(const char *tok, size_t len, struct parts *pt)
{
	const char *d1, *d2;

	if (len > KT_JWT_MAX_BYTES)
		return KT_JWT_TOO_LARGE;
	d1 = memchr(tok, '.', len);
	if (!d1)
		return KT_JWT_MALFORMED;
	d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok));
	if (!d2)
		return KT_JWT_MALFORMED;
	pt->h = tok;
	pt->hn = (size_t)(d1 - tok);
	pt->p = d1 + 1;
	pt->pn = (size_t)(d2 - pt->p);
	pt->s = d2 + 1;
	pt->sn = len - (size_t)(pt->s - tok);
	/* a fourth dot (JWE, nested) fails the alphabet check */
	if (!pt->hn || !pt->pn || !pt->sn || !kt_jwt_b64url_ok(pt->h, pt->hn) ||
	    !kt_jwt_b64url_ok(pt->p, pt->pn) || !kt_jwt_b64url_ok(pt->s, pt->sn))
		return KT_JWT_MALFORMED;
	return KT_JWT_OK;
}

bool kt_jwt_peek_kid(const char *token, size_t len, char *buf, size_t size)
{
	struct parts pt;
	json_t *h = NULL;
	const char *kid;
	bool ok = false;

	if (split(token, len, &pt) || decode_json(pt.h, pt.hn, &h))
		return false;
	kid = json_string_value(json_object_get(h, "kid"));
	if (kid && size) {
		snprintf(buf, size, "%s", kid);
		ok = true;
	}
	json_decref(h);
	return ok;
}

static bool typ_ok(json_t *typ)
{
	static const char *const ok[] = { "JWT", "at+jwt", "application/jwt",
					  "application/at+jwt" };
	const char *t;
	size_t i;

	if (!typ)
		return true;
	if (!(t = json_string_value(typ)))
		return false;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcasecmp(t, ok[i]))
			return true;
	return false;
}

/* Check the header; on success *alg indexes algs[] and *kid is borrowed from h. */
static enum kt_jwt_fail check_header(const struct kt_jwt_policy *p, json_t *h, size_t *alg,
				     const char **kid)
{
	const char *name = json_string_value(json_object_get(h, "alg"));
	unsigned allowed = p->algs ? p->algs : KT_JWT_RS256;
	json_t *jkid = json_object_get(h, "kid");
	size_t i;

	if (!name)
		return KT_JWT_MALFORMED;
	/* we understand no extension, so any crit makes the token unusable (RFC 7515 4.1.11) */
	if (json_object_get(h, "crit"))
		return KT_JWT_ALG;
	if (!typ_ok(json_object_get(h, "typ")))
		return KT_JWT_MALFORMED;
	for (i = 0; i < N_ALGS; i++)
		if (!strcmp(algs[i].name, name))
			break;
	if (i == N_ALGS || !(allowed & algs[i].bit))
		return KT_JWT_ALG; /* none, HS*, unknown, or not configured */
	if (jkid && (!json_is_string(jkid) || json_string_length(jkid) > 256))
		return KT_JWT_MALFORMED;
	*alg = i;
	*kid = json_string_value(jkid);
	return KT_JWT_OK;
}

static bool key_fits(const struct kt_jwk *k, size_t alg)
{
	if (k->kty != algs[alg].kty)
		return false;
	if (k->kty == CJOSE_JWK_KTY_EC && k->curve != algs[alg].curve)
		return false;
	return !k->alg || !strcmp(k->alg, algs[alg].name);
}

/*
 * With a kid, only keys carrying it are tried: an unknown kid is reported as
 * such so the caller can refresh the set.  Without one, every key of the
 * right type is tried, as Kubernetes' own OIDC authenticator does.
 */
static enum kt_jwt_fail check_signature(const struct kt_jwks *keys, const char *tok, size_t len,
					size_t alg, const char *kid)
{
	enum kt_jwt_fail why;
	bool seen_kid = false, seen_type = false;
	cjose_jws_t *jws;
	cjose_err cerr;
	size_t i;

	if (!keys || !keys->n)
		return KT_JWT_NO_KEYS;
	jws = cjose_jws_import(tok, len, &cerr);
	if (!jws)
		return KT_JWT_MALFORMED;
	why = KT_JWT_SIGNATURE;
	for (i = 0; i < keys->n; i++) {
		const struct kt_jwk *k = &keys->keys[i];

		if (kid && (!k->kid || strcmp(k->kid, kid)))
			continue;
		seen_kid = true;
		if (!key_fits(k, alg))
			continue;
		seen_type = true;
		if (cjose_jws_verify(jws, k->jwk, &cerr)) {
			why = KT_JWT_OK;
			break;
		}
	}
	cjose_jws_release(jws);
	if (why == KT_JWT_OK)
		return why;
	if (kid && !seen_kid)
		return KT_JWT_UNKNOWN_KID;
	return seen_type ? KT_JWT_SIGNATURE : KT_JWT_KEY_TYPE;
}

/* A NumericDate claim: absent (returns 0 and *has=false), a finite number, or malformed. */
static bool numeric_date(json_t *c, const char *name, double *v, bool *has)
{
	json_t *j = json_object_get(c, name);

	*has = j != NULL;
	if (!j)
		return true;
	if (!json_is_number(j))
		return false;
	*v = json_number_value(j);
	return isfinite(*v);
}

static enum kt_jwt_fail check_times(const struct kt_jwt_policy *p, json_t *c, long long now,
				    long long *exp)
{
	double v = 0;
	bool has;

	if (!numeric_date(c, "exp", &v, &has))
		return KT_JWT_MALFORMED;
	if (!has)
		return KT_JWT_EXPIRED; /* a token that never expires is not accepted */
	if (v <= (double)now)
		return KT_JWT_EXPIRED;
	*exp = v > 9e15 ? (long long)9e15 : (long long)v;
	if (!numeric_date(c, "nbf", &v, &has))
		return KT_JWT_MALFORMED;
	if (has && v > (double)(now + p->skew))
		return KT_JWT_NOT_YET_VALID;
	if (!numeric_date(c, "iat", &v, &has))
		return KT_JWT_MALFORMED;
	if (has && v > (double)(now + p->skew))
		return KT_JWT_NOT_YET_VALID;
	return KT_JWT_OK;
}

static bool audience_ok(const struct kt_jwt_policy *p, const char *aud)
{
	size_t i;

	if (!strcmp(aud, p->audience))
		return true;
	for (i = 0; i < p->n_audiences; i++)
		if (p->audiences[i] && !strcmp(aud, p->audiences[i]))
			return true;
	return false;
}

static enum kt_jwt_fail check_audience(const struct kt_jwt_policy *p, json_t *c)
{
	json_t *aud = json_object_get(c, "aud"), *e;
	size_t i;

	if (!p->audience)
		return KT_JWT_AUDIENCE;
	if (json_is_string(aud))
		return audience_ok(p, json_string_value(aud)) ? KT_JWT_OK : KT_JWT_AUDIENCE;
	if (!json_is_array(aud) || json_array_size(aud) > KT_JWT_MAX_AUD)
		return KT_JWT_AUDIENCE;
	json_array_foreach (aud, i, e) {
		if (!json_is_string(e))
			return KT_JWT_AUDIENCE;
		if (audience_ok(p, json_string_value(e)))
			return KT_JWT_OK;
	}
	return KT_JWT_AUDIENCE;
}

/* A name Kubernetes will see: bounded, printable, never in the system: namespace. */
static char *make_name(const char *prefix, json_t *v)
{
	const char *raw = json_string_value(v);
	size_t plen = prefix ? strlen(prefix) : 0, rlen, i;
	char *s;

	if (!raw)
		return NULL;
	rlen = json_string_length(v);
	if (!rlen || plen + rlen > KT_JWT_MAX_NAME || strlen(raw) != rlen)
		return NULL; /* empty, too long, or an embedded NUL */
	for (i = 0; i < rlen; i++)
		if ((unsigned char)raw[i] < 0x20 || raw[i] == 0x7f)
			return NULL; /* would break or forge HTTP headers */
	if (!strncmp(raw, "system:", 7))
		return NULL;
	s = malloc(plen + rlen + 1);
	if (!s)
		return NULL;
	memcpy(s, prefix, plen);
	memcpy(s + plen, raw, rlen + 1);
	if (!strncmp(s, "system:", 7)) {
		free(s);
		return NULL;
	}
	return s;
}

static enum kt_jwt_fail take_groups(const struct kt_jwt_policy *p, json_t *c,
				    struct kt_identity *id)
{
	json_t *g = json_object_get(c, p->groups_claim), *e;
	size_t i, n;

	if (!g || json_is_null(g))
		return KT_JWT_OK;
	if (json_is_string(g))
		n = 1;
	else if (json_is_array(g))
		n = json_array_size(g);
	else
		return KT_JWT_GROUPS;
	if (n > KT_JWT_MAX_GROUPS)
		return KT_JWT_GROUPS;
	if (!n)
		return KT_JWT_OK;
	id->groups = calloc(n, sizeof(char *));
	if (!id->groups)
		return KT_JWT_GROUPS;
	for (i = 0; i < n; i++) {
		e = json_is_string(g) ? g : json_array_get(g, i);
		id->groups[i] = make_name(p->groups_prefix, e);
		if (!id->groups[i])
			return KT_JWT_GROUPS;
		id->n_groups++;
	}
	return KT_JWT_OK;
}

static enum kt_jwt_fail check_claims(const struct kt_jwt_policy *p, json_t *c, long long now,
				     struct kt_identity *id)
{
	const char *iss = json_string_value(json_object_get(c, "iss"));
	const char *claim = p->username_claim ? p->username_claim : "sub";
	enum kt_jwt_fail why;
	size_t i;

	if (!iss || !p->issuer || strcmp(iss, p->issuer))
		return KT_JWT_ISSUER;
	if ((why = check_audience(p, c)))
		return why;
	if ((why = check_times(p, c, now, &id->exp)))
		return why;
	for (i = 0; i < p->n_required; i++) {
		const char *v = json_string_value(json_object_get(c, p->required[i].name));

		if (!v || strcmp(v, p->required[i].value))
			return KT_JWT_CLAIM;
	}
	/* an unverified email is whatever the user typed at sign-up */
	if (!strcmp(claim, "email") && !json_is_true(json_object_get(c, "email_verified")))
		return KT_JWT_USERNAME;
	id->user = make_name(p->username_prefix, json_object_get(c, claim));
	if (!id->user)
		return KT_JWT_USERNAME;
	return take_groups(p, c, id);
}

static enum kt_rc refuse(struct kt_err *err, enum kt_jwt_fail f, enum kt_jwt_fail *why)
{
	if (why)
		*why = f;
	return kt_err_set(err, KT_E_AUTH, "token refused: %s", kt_jwt_fail_str(f));
}

enum kt_rc kt_jwt_verify(const struct kt_jwt_policy *p, const struct kt_jwks *keys,
			 const char *token, size_t len, long long now, struct kt_identity *out,
			 enum kt_jwt_fail *why, struct kt_err *err)
{
	struct kt_identity id = { 0 };
	enum kt_jwt_fail f;
	struct parts pt;
	json_t *h = NULL, *c = NULL;
	const char *kid = NULL;
	size_t alg = 0;
	enum kt_rc rc;

	if ((f = split(token, len, &pt)))
		goto refused;
	if ((f = decode_json(pt.h, pt.hn, &h)))
		goto refused;
	if ((f = check_header(p, h, &alg, &kid)))
		goto refused;
	if ((f = decode_json(pt.p, pt.pn, &c)))
		goto refused;
	if ((f = check_signature(keys, token, len, alg, kid)))
		goto refused;
	if ((f = check_claims(p, c, now, &id)))
		goto refused;
	*out = id;
	if (why)
		*why = KT_JWT_OK;
	json_decref(h);
	json_decref(c);
	return KT_OK;
refused:
	rc = refuse(err, f, why);
	kt_identity_release(&id);
	json_decref(h);
	json_decref(c);
	return rc;
}
