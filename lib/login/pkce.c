/*
 * pkce.c: random values for state, nonce and the PKCE verifier (RFC 7636).
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include "internal.h"

static char *b64url(const unsigned char *in, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1), *p;
	int len;

	if (!out)
		return NULL;
	len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (p = out; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return out;
}

char *kt_login_random(size_t nbytes)
{
	unsigned char r[64];

	if (nbytes > sizeof(r) || RAND_bytes(r, (int)nbytes) != 1)
		return NULL; /* no randomness: no login, rather than a guessable state */
	return b64url(r, nbytes);
}

char *kt_login_s256(const char *verifier)
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)verifier, strlen(verifier), md);
	return b64url(md, sizeof(md));
}
