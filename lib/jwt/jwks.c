/*
 * jwks.c: the key set a token is verified against.
 *
 * Each usable key is imported once by cjose and kept with the metadata the
 * verifier matches on (kid, kty, curve, alg, use), so verifying a token
 * never parses JSON keys again.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <cjose/cjose.h>
#include "internal.h"

static void key_release(struct kt_jwk *k)
{
	if (k->jwk)
		cjose_jwk_release(k->jwk);
	free(k->kid);
	free(k->alg);
}

/* Every base64url member a JWK may have must be decodable before cjose sees it. */
static bool members_ok(json_t *jk)
{
	static const char *const b64[] = {
		"n", "e", "d", "p", "q", "dp", "dq", "qi", "x", "y", "k"
	};
	json_t *v;
	size_t i;

	for (i = 0; i < sizeof(b64) / sizeof(b64[0]); i++) {
		v = json_object_get(jk, b64[i]);
		if (v && (!json_is_string(v) ||
			  !kt_jwt_b64url_ok(json_string_value(v), json_string_length(v))))
			return false;
	}
	return true;
}

/* Keep a key only when it can verify signatures: asymmetric, "sig", strong enough. */
static enum kt_rc add_key(struct kt_jwks *set, json_t *jk)
{
	const char *kty = json_string_value(json_object_get(jk, "kty"));
	json_t *use = json_object_get(jk, "use");
	json_t *kid = json_object_get(jk, "kid");
	json_t *alg = json_object_get(jk, "alg");
	struct kt_jwk k = { 0 };
	cjose_err cerr;

	if (!kty || (strcmp(kty, "RSA") && strcmp(kty, "EC")))
		return KT_OK; /* symmetric ("oct") or unknown keys are never used */
	if (use && (!json_is_string(use) || strcmp(json_string_value(use), "sig")))
		return KT_OK;
	if ((kid && !json_is_string(kid)) || (alg && !json_is_string(alg)) || !members_ok(jk))
		return KT_OK;
	k.jwk = cjose_jwk_import_json((cjose_header_t *)jk, &cerr);
	if (!k.jwk)
		return KT_OK;
	k.kty = cjose_jwk_get_kty(k.jwk, &cerr);
	if (k.kty == CJOSE_JWK_KTY_RSA && cjose_jwk_get_keysize(k.jwk, &cerr) < 2048)
		goto skip;
	if (k.kty == CJOSE_JWK_KTY_EC)
		k.curve = cjose_jwk_EC_get_curve(k.jwk, &cerr);
	if (kid && !(k.kid = strdup(json_string_value(kid))))
		goto nomem;
	if (alg && !(k.alg = strdup(json_string_value(alg))))
		goto nomem;
	set->keys[set->n++] = k;
	return KT_OK;
skip:
	key_release(&k);
	return KT_OK;
nomem:
	key_release(&k);
	return KT_E_NOMEM;
}

enum kt_rc kt_jwks_parse(const char *json, size_t len, struct kt_jwks **out, struct kt_err *err)
{
	struct kt_jwks *set = NULL;
	json_error_t jerr;
	json_t *root, *keys, *jk;
	enum kt_rc rc = KT_OK;
	size_t i;

	if (len > KT_JWKS_MAX_BYTES)
		return kt_err_set(err, KT_E_LIMIT, "key set is larger than %u bytes",
				  KT_JWKS_MAX_BYTES);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return kt_err_set(err, KT_E_PARSE, "key set is not valid JSON: %s", jerr.text);
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys)) {
		rc = kt_err_set(err, KT_E_INVALID, "key set has no 'keys' array");
		goto out;
	}
	if (json_array_size(keys) > KT_JWKS_MAX_KEYS) {
		rc = kt_err_set(err, KT_E_INVALID, "key set has more than %d keys",
				KT_JWKS_MAX_KEYS);
		goto out;
	}
	set = calloc(1, sizeof(*set) + json_array_size(keys) * sizeof(set->keys[0]));
	if (!set) {
		rc = kt_err_set(err, KT_E_NOMEM, "out of memory");
		goto out;
	}
	atomic_init(&set->refs, 1);
	json_array_foreach (keys, i, jk) {
		if (!json_is_object(jk))
			continue;
		rc = add_key(set, jk);
		if (rc) {
			kt_err_set(err, rc, "out of memory");
			goto out;
		}
	}
	if (!set->n) {
		rc = kt_err_set(err, KT_E_INVALID, "key set has no usable signing key");
		goto out;
	}
	*out = set;
	set = NULL;
out:
	kt_jwks_unref(set);
	json_decref(root);
	return rc;
}

struct kt_jwks *kt_jwks_ref(struct kt_jwks *keys)
{
	if (keys)
		atomic_fetch_add(&keys->refs, 1);
	return keys;
}

void kt_jwks_unref(struct kt_jwks *keys)
{
	size_t i;

	if (!keys || atomic_fetch_sub(&keys->refs, 1) != 1)
		return;
	for (i = 0; i < keys->n; i++)
		key_release(&keys->keys[i]);
	free(keys);
}

size_t kt_jwks_count(const struct kt_jwks *keys)
{
	return keys ? keys->n : 0;
}

bool kt_jwks_has_kid(const struct kt_jwks *keys, const char *kid)
{
	size_t i;

	for (i = 0; keys && kid && i < keys->n; i++)
		if (keys->keys[i].kid && !strcmp(keys->keys[i].kid, kid))
			return true;
	return false;
}
