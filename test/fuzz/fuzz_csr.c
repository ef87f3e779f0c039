/*
 * fuzz_csr.c: the CSR reader (lib/policy/csr.c) on hostile bytes.
 *
 * The first byte picks what the rest is:
 *   0: DER, wrapped here in a CERTIFICATE REQUEST PEM block, so the fuzzer
 *      works on the structure behind the PEM and base64 layers;
 *   1: the PEM itself;
 *   2: spec.request (base64 of the PEM).
 * Must not crash or leak; the same bytes read the same twice; on success
 * every name is printable ASCII, at most KT_CSR_NAMES_MAX of them, and the
 * common name is one of the DNS names; on refusal there is a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include "../../lib/policy/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(enum kt_rc rc, const struct kt_csr *csr, const char *why)
{
	size_t i, j, dns = 0, cn = 0;

	if (rc == KT_E_NOMEM)
		return;
	if (rc != KT_OK) {
		if (rc != KT_E_PARSE || !why[0] || csr->n || csr->names)
			abort();
		return;
	}
	if (csr->n > KT_CSR_NAMES_MAX)
		abort();
	for (i = 0; i < csr->n; i++) {
		const unsigned char *s = (const unsigned char *)csr->names[i].value;

		for (; *s; s++)
			if (*s < 0x20 || *s > 0x7e)
				abort();
		dns += csr->names[i].kind == KT_CSR_DNS;
		if (csr->names[i].kind != KT_CSR_CN)
			continue;
		if (++cn > 1)
			abort();
		for (j = 0; j < csr->n; j++)
			if (csr->names[j].kind == KT_CSR_DNS &&
			    !strcasecmp(csr->names[j].value, csr->names[i].value))
				break;
		if (j == csr->n)
			abort(); /* a common name that is none of the DNS names */
	}
	(void)dns;
}

static bool same(const struct kt_csr *a, const struct kt_csr *b)
{
	if (a->n != b->n || a->ca != b->ca || a->subject_email != b->subject_email)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->names[i].kind != b->names[i].kind ||
		    strcmp(a->names[i].value, b->names[i].value))
			return false;
	return true;
}

static enum kt_rc read_as(int mode, const uint8_t *data, size_t size, struct kt_csr *csr, char *why)
{
	enum kt_rc rc;
	char *text;

	if (mode == 1)
		return kt_csr_read_pem(data, size, csr, why, 256);
	if (mode == 2) {
		text = malloc(size + 1);
		if (!text)
			return KT_E_NOMEM;
		memcpy(text, data, size);
		text[size] = '\0';
		rc = kt_csr_read(text, strlen(text), csr, why, 256);
		free(text);
		return rc;
	}
	/* PEM of the DER: 64-column base64 lines between the BEGIN and END lines */
	{
		static const char begin[] = "-----BEGIN CERTIFICATE REQUEST-----\n",
				  end[] = "-----END CERTIFICATE REQUEST-----\n";
		size_t cap = sizeof(begin) + sizeof(end) + (size + 2) / 3 * 4 + size / 48 + 2, n;
		size_t i;

		text = malloc(cap);
		if (!text)
			return KT_E_NOMEM;
		memcpy(text, begin, strlen(begin));
		n = strlen(begin);
		for (i = 0; i < size; i += 48) {
			size_t k = size - i < 48 ? size - i : 48;

			n += (size_t)EVP_EncodeBlock((unsigned char *)text + n, data + i, (int)k);
			text[n++] = '\n';
		}
		memcpy(text + n, end, strlen(end));
		n += strlen(end);
		rc = kt_csr_read_pem((const unsigned char *)text, n, csr, why, 256);
		free(text);
		return rc;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_csr a, b;
	char why[256] = "", why2[256] = "";
	enum kt_rc ra, rb;
	int mode;

	if (!size)
		return 0;
	mode = data[0] % 3;
	data++, size--;
	if (size > KT_CSR_MAX + 1024)
		return 0;
	ra = read_as(mode, data, size, &a, why);
	check(ra, &a, why);
	rb = read_as(mode, data, size, &b, why2);
	if (ra != rb || (ra == KT_OK && !same(&a, &b)) || (ra == KT_E_PARSE && strcmp(why, why2)))
		abort(); /* not deterministic */
	kt_csr_release(&a);
	kt_csr_release(&b);
	return 0;
}
