/*
 * pem.c: the CA certificates a tenants file may carry (global.oidc.issuerCA
 * and proxyCA).  They end up in a ConfigMap the proxy trusts and in every
 * member's kubeconfig, so they are parsed here, with OpenSSL, rather than
 * passed on as opaque text: a typo must fail `validate`, not a login.
 */
#include <limits.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "internal.h"

#define PEM_BEGIN "-----BEGIN "
#define PEM_CERT "-----BEGIN CERTIFICATE-----"
#define PEM_MAX_CERTS 64

const char *kt_pem_problem(const char *s, size_t n)
{
	const char *p, *why = NULL;
	size_t i, blocks = 0, certs = 0;
	BIO *bio;
	X509 *x;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c >= 0x7f)
			return "it holds a character that is not printable ASCII";
	}
	/* every block must be a certificate: no private key may slip in here */
	for (p = s; (p = memmem(p, n - (size_t)(p - s), PEM_BEGIN, strlen(PEM_BEGIN)));
	     p += strlen(PEM_BEGIN)) {
		if ((size_t)(s + n - p) < strlen(PEM_CERT) || memcmp(p, PEM_CERT, strlen(PEM_CERT)))
			return "it holds a PEM block that is not a CERTIFICATE";
		if (++blocks > PEM_MAX_CERTS)
			return "it holds more than 64 certificates";
	}
	if (!blocks)
		return "no '-----BEGIN CERTIFICATE-----' line";
	if (n > INT_MAX || !(bio = BIO_new_mem_buf(s, (int)n)))
		return "out of memory";
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		certs++;
		X509_free(x);
	}
	BIO_free(bio);
	ERR_clear_error();
	if (certs != blocks)
		why = "a certificate does not parse (bad base64 or DER)";
	return why;
}
