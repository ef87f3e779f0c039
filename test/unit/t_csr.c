/*
 * t_csr.c: the CSR reader (lib/policy/csr.c).
 *
 * Run plainly, it checks the reader on the crafted corpus in
 * test/cases/csr (ok-*.pem accepted, bad-*.pem refused with a reason) and
 * the base64 layer of spec.request.  Run as `t_csr --names FILE...`, it
 * prints the names it reads from each PEM file, sorted, in the format of
 * test/go/csrnames, for the differential test against Go's crypto/x509
 * (test/e2e/t3100-csr-differential.bats).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kt/buf.h"
#include "../../lib/policy/internal.h"

#define CORPUS "test/cases/csr"

static const char *const kinds[] = { "cn", "dns", "ip", "uri", "email" };

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int print_names(int argc, char **argv)
{
	int status = 0;

	for (int i = 0; i < argc; i++) {
		struct kt_buf b = KT_BUF_INIT;
		struct kt_csr csr;
		char why[256], *lines[KT_CSR_NAMES_MAX + 1];
		size_t n;

		if (kt_buf_read_file(&b, argv[i], 1u << 20, NULL)) {
			fprintf(stderr, "cannot read %s\n", argv[i]);
			status = 2;
			continue;
		}
		printf("== %s\n", argv[i]);
		if (kt_csr_read_pem((const unsigned char *)b.buf, b.len, &csr, why, sizeof(why))) {
			printf("error: %s\n", why);
			kt_buf_release(&b);
			continue;
		}
		for (n = 0; n < csr.n; n++)
			if (asprintf(&lines[n], "%s:%s", kinds[csr.names[n].kind],
				     csr.names[n].value) < 0)
				return 2;
		qsort(lines, n, sizeof(*lines), cmp);
		for (size_t j = 0; j < n; j++) {
			printf("%s\n", lines[j]);
			free(lines[j]);
		}
		kt_csr_release(&csr);
		kt_buf_release(&b);
	}
	return status;
}

/* Every corpus file: ok-* read, bad-* refused with a reason. */
static void corpus(void **state)
{
	struct dirent *de;
	unsigned ok = 0, bad = 0;
	DIR *d = opendir(CORPUS);

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d))) {
		struct kt_buf b = KT_BUF_INIT;
		struct kt_csr csr;
		char path[512], why[256] = "";
		enum kt_rc rc;
		bool want_ok = !strncmp(de->d_name, "ok-", 3);

		if (!strstr(de->d_name, ".pem"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", CORPUS, de->d_name);
		assert_int_equal(kt_buf_read_file(&b, path, 1u << 20, NULL), KT_OK);
		rc = kt_csr_read_pem((const unsigned char *)b.buf, b.len, &csr, why, sizeof(why));
		if ((rc == KT_OK) != want_ok)
			fail_msg("%s: %s (%s)", de->d_name, rc ? "refused" : "accepted", why);
		if (rc == KT_OK)
			assert_true(csr.n > 0);
		else
			assert_true(rc == KT_E_PARSE && why[0]);
		want_ok ? ok++ : bad++;
		kt_csr_release(&csr);
		kt_buf_release(&b);
	}
	closedir(d);
	assert_true(ok >= 10 && bad >= 30);
}

static enum kt_rc read_b64(const char *b64, char *why)
{
	struct kt_csr csr;
	enum kt_rc rc = kt_csr_read(b64, strlen(b64), &csr, why, 256);

	kt_csr_release(&csr);
	return rc;
}

/* spec.request as encoding/json reads it: padded base64, newlines ignored. */
static void base64_layer(void **state)
{
	struct kt_buf b = KT_BUF_INIT, enc = KT_BUF_INIT;
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char why[256];
	size_t i;

	(void)state;
	assert_int_equal(kt_buf_read_file(&b, CORPUS "/ok-simple.pem", 1u << 20, NULL), KT_OK);
	for (i = 0; i < b.len; i += 3) {
		unsigned long v = (unsigned long)(unsigned char)b.buf[i] << 16;
		char q[4];

		v |= i + 1 < b.len ? (unsigned long)(unsigned char)b.buf[i + 1] << 8 : 0;
		v |= i + 2 < b.len ? (unsigned char)b.buf[i + 2] : 0;
		q[0] = alphabet[v >> 18 & 63], q[1] = alphabet[v >> 12 & 63];
		q[2] = i + 1 < b.len ? alphabet[v >> 6 & 63] : '=';
		q[3] = i + 2 < b.len ? alphabet[v & 63] : '=';
		assert_int_equal(kt_buf_add(&enc, q, 4), KT_OK);
		if (i % 57 == 54)
			assert_int_equal(kt_buf_add(&enc, "\r\n", 2), KT_OK); /* Go skips them */
	}
	assert_int_equal(kt_buf_add(&enc, "", 1), KT_OK);
	assert_int_equal(read_b64(enc.buf, why), KT_OK);
	/* a space, a missing padding, data after padding, a URL-safe character */
	enc.buf[10] = ' ';
	assert_int_equal(read_b64(enc.buf, why), KT_E_PARSE);
	assert_non_null(strstr(why, "other than base64"));
	enc.buf[10] = '-';
	assert_int_equal(read_b64(enc.buf, why), KT_E_PARSE);
	assert_int_equal(read_b64("QUJD", why), KT_E_PARSE); /* "ABC": not PEM */
	assert_non_null(strstr(why, "PEM BEGIN"));
	assert_int_equal(read_b64("QUI", why), KT_E_PARSE);
	assert_non_null(strstr(why, "multiple of 4"));
	assert_int_equal(read_b64("QUI=QUJD", why), KT_E_PARSE);
	assert_non_null(strstr(why, "after '=' padding"));
	assert_int_equal(read_b64("QUJ=", why), KT_E_PARSE);
	assert_non_null(strstr(why, "unused bits"));
	assert_int_equal(read_b64("Q===", why), KT_E_PARSE);
	assert_int_equal(read_b64("", why), KT_E_PARSE);
	kt_buf_release(&b);
	kt_buf_release(&enc);
}

/* The reasons a tenant reads: one per class of refusal. */
static void reasons(void **state)
{
	static const struct {
		const char *file, *why;
	} cases[] = {
		{ "bad-two-san-one-attr", "requests extension 2.5.29.17 more than once" },
		{ "bad-two-san-two-attrs", "2 extensionRequest attributes" },
		{ "bad-two-extreq", "2 extensionRequest attributes" },
		{ "bad-ip-5-bytes", "IP address of 5 bytes" },
		{ "bad-crl-label-first", "labelled 'X509 CRL', not 'CERTIFICATE REQUEST'" },
		{ "bad-two-blocks", "more than one PEM block" },
		{ "bad-extreq-two-values", "extensionRequest attribute has 2 values" },
		{ "bad-critical-unknown", "critical extension 1.2.3.4.5" },
		{ "bad-cn-not-in-san", "common name 'b.example.com' is not one of its DNS names" },
		{ "bad-two-cn", "more than one common name" },
		{ "bad-der-trailing", "has data after its end" },
		{ "bad-ber-indefinite", "indefinite length" },
		{ "bad-headers", "headers" },
		{ "bad-othername", "kind otherName" },
		{ "bad-constructed-dns", "kind DNS" },
		{ "bad-empty-san", "is empty" },
		{ "bad-dns-nul", "printable ASCII" },
		{ "bad-san-trailing", "has data after its end" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kt_buf b = KT_BUF_INIT;
		struct kt_csr csr;
		char path[256], why[256] = "";

		snprintf(path, sizeof(path), CORPUS "/%s.pem", cases[i].file);
		assert_int_equal(kt_buf_read_file(&b, path, 1u << 20, NULL), KT_OK);
		assert_int_equal(kt_csr_read_pem((const unsigned char *)b.buf, b.len, &csr, why,
						 sizeof(why)),
				 KT_E_PARSE);
		if (!strstr(why, cases[i].why))
			fail_msg("%s: '%s' does not say '%s'", cases[i].file, why, cases[i].why);
		kt_buf_release(&b);
	}
}

/* The names and flags of a request the reader accepts. */
static void names(void **state)
{
	struct kt_buf b = KT_BUF_INIT;
	struct kt_csr csr;
	char why[256];

	(void)state;
	assert_int_equal(kt_buf_read_file(&b, CORPUS "/ok-ip-uri-email.pem", 1u << 20, NULL),
			 KT_OK);
	assert_int_equal(kt_csr_read_pem((const unsigned char *)b.buf, b.len, &csr, why,
					 sizeof(why)),
			 KT_OK);
	assert_int_equal(csr.n, 6);
	assert_int_equal(csr.names[0].kind, KT_CSR_DNS);
	assert_string_equal(csr.names[1].value, "10.0.0.1");
	assert_string_equal(csr.names[2].value, "2001:db8::1");
	assert_string_equal(csr.names[3].value, "10.1.2.3");
	assert_int_equal(csr.names[4].kind, KT_CSR_URI);
	assert_int_equal(csr.names[5].kind, KT_CSR_EMAIL);
	assert_false(csr.ca);
	kt_csr_release(&csr);
	kt_buf_release(&b);
	assert_int_equal(kt_buf_read_file(&b, CORPUS "/ok-ca.pem", 1u << 20, NULL), KT_OK);
	assert_int_equal(kt_csr_read_pem((const unsigned char *)b.buf, b.len, &csr, why,
					 sizeof(why)),
			 KT_OK);
	assert_true(csr.ca);
	assert_int_equal(csr.names[csr.n - 1].kind, KT_CSR_CN);
	kt_csr_release(&csr);
	kt_buf_release(&b);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(corpus),
		cmocka_unit_test(base64_layer),
		cmocka_unit_test(reasons),
		cmocka_unit_test(names),
	};

	if (argc > 1 && !strcmp(argv[1], "--names"))
		return print_names(argc - 2, argv + 2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
