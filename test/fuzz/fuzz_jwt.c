/*
 * fuzz_jwt.c: the token verifier and the key-set parser on hostile bytes.
 *
 * The first byte picks what the rest is:
 *   0: a compact token, verified against a fixed key set;
 *   1: a JWKS document;
 *   2: "header\npayload", signed here with the test key (ES256) and then
 *      verified, so the fuzzer reaches the claim checks behind the signature.
 * The embedded private key exists only for this target; it protects nothing.
 * Must not crash, leak, or accept an identity in the system: namespace.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "kt/buf.h"
#include "kt/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char test_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgG2PPWOfPIkjKjgCM\n"
	"sDYP/K4SWNxfOMucHWXdozbDC/ChRANCAARyX/OGhi1mZplPznel6VRPxoAYC6O6\n"
	"XSk0SqYQLGEyy0AoHvFRr/k6UWSrGFaRBVBUJcrXJbni74myKNBbafYL\n"
	"-----END PRIVATE KEY-----\n";

static const char jwks_json[] =
	"{\"keys\":[{\"kty\":\"EC\",\"x\":\"cl_zhoYtZmaZT853pelUT8aAGAujul0pNEqmECxhMss\",\"y\":\""
	"QCge8VGv-TpRZKsYVpEFUFQlytclueLvibIo0Ftp9gs\",\"crv\":\"P-256\",\"kid\":\"fz\",\"use\":"
	"\"sig\"},{\"kty\":\"RSA\",\"n\":\"t6ikicwMr4rg1e7rshLbhPPMOAuBl0A3mGCA6hLbb1t7XHBd7Tw"
	"AFi0dgeKfN0VyRuOsmOm72KkX1IxSKdYwWUxMX7goh_w0_C_yXq5EKqd_FSIdFs4TKVojOZlJYhs"
	"yndLb_dOZJoZfZyiSGlOQiK1AJLgTzqisnbYNNLRjO9myQJO08k0JoNAZH0PcWBHeouIkqrR6Js9"
	"2mhs28rx8pxQCWFMIywN69p8xN1OpgTKgeuCvdOmVAuz37DIrYczG4LizI5gcxSspZEB5tv8g-AZ"
	"He6tRp_nbMEWzJ5aVhrxOclFv4ux3qcdwBNq60qGRKMhMCi-iLCcbiC9gVblLzQ\",\"e\":\"AQAB\","
	"\"kid\":\"rsa1\"}]}";

static struct kt_jwks *keys;
static EVP_PKEY *pkey;

static void b64url(struct kt_buf *b, const unsigned char *d, size_t n)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) |
			     (i + 2 < n ? d[i + 2] : 0);

		kt_buf_addch(b, al[v >> 18 & 63]);
		kt_buf_addch(b, al[v >> 12 & 63]);
		if (i + 1 < n)
			kt_buf_addch(b, al[v >> 6 & 63]);
		if (i + 2 < n)
			kt_buf_addch(b, al[v & 63]);
	}
}

/* b64(header).b64(payload).b64(ES256 signature) */
static void sign(struct kt_buf *tok, const uint8_t *h, size_t hn, const uint8_t *p, size_t pn)
{
	unsigned char der[128], raw[64];
	size_t dlen = sizeof(der);
	const unsigned char *q = der;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *sig;

	b64url(tok, h, hn);
	kt_buf_addch(tok, '.');
	b64url(tok, p, pn);
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSign(md, der, &dlen, (unsigned char *)tok->buf, tok->len) != 1) {
		EVP_MD_CTX_free(md);
		return;
	}
	EVP_MD_CTX_free(md);
	sig = d2i_ECDSA_SIG(NULL, &q, (long)dlen);
	if (!sig)
		return;
	BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32);
	ECDSA_SIG_free(sig);
	kt_buf_addch(tok, '.');
	b64url(tok, raw, 64);
}

static void verify(const char *tok, size_t len)
{
	static const struct kt_jwt_claim req[] = { { "tenant", "a" } };
	struct kt_jwt_policy p;
	struct kt_identity id = { 0 };
	enum kt_jwt_fail why;
	char kid[64];
	size_t i;

	kt_jwt_policy_init(&p);
	p.issuer = "https://issuer.example.org";
	p.audience = "kubernetes";
	p.algs = KT_JWT_RS256 | KT_JWT_ES256 | KT_JWT_PS256;
	if (len && (tok[len - 1] & 1)) {
		p.required = req;
		p.n_required = 1;
		p.username_claim = "email";
		p.groups_prefix = "";
	}
	if (kt_jwt_verify(&p, keys, tok, len, 1800000000, &id, &why, NULL) == KT_OK) {
		if (!id.user || !strncmp(id.user, "system:", 7) || id.exp <= 1800000000)
			abort();
		for (i = 0; i < id.n_groups; i++)
			if (!strncmp(id.groups[i], "system:", 7))
				abort();
	}
	kt_identity_release(&id);
	kt_jwt_peek_kid(tok, len, kid, sizeof(kid));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_buf tok = KT_BUF_INIT;
	struct kt_jwks *k = NULL;
	const uint8_t *nl;

	if (!keys) {
		BIO *bio = BIO_new_mem_buf(test_key_pem, -1);

		pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
		if (!pkey || kt_jwks_parse(jwks_json, strlen(jwks_json), &keys, NULL))
			abort();
	}
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		kt_buf_add(&tok, data + 1, size - 1);
		verify(tok.buf, tok.len);
		break;
	case 1:
		if (!kt_jwks_parse((const char *)data + 1, size - 1, &k, NULL))
			kt_jwks_unref(k);
		break;
	default:
		nl = memchr(data + 1, '\n', size - 1);
		if (!nl || size > 8192)
			break;
		sign(&tok, data + 1, (size_t)(nl - data - 1), nl + 1,
		     size - (size_t)(nl + 1 - data));
		verify(tok.buf, tok.len);
		break;
	}
	kt_buf_release(&tok);
	return 0;
}
