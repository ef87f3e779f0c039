/*
 * csr.c: the names a CA would sign from a CertificateRequest's spec.request.
 *
 * cert-manager reads spec.request with Go: encoding/json's base64, then
 * encoding/pem's first block whatever its label, then crypto/x509, which
 * merges every extensionRequest attribute and refuses duplicate
 * extensions.  Other CAs read it with OpenSSL or their own code.  A
 * hostname check is only as good as its agreement with the reader that
 * signs, so this reader accepts only input every plausible reader reads the
 * same way, and refuses the rest with a reason:
 *
 *   - base64 of the alphabet only, '=' padding only at the end, unused bits
 *     zero (newlines ignored, as Go does);
 *   - exactly one PEM block, labelled CERTIFICATE REQUEST, no headers, only
 *     whitespace around it;
 *   - DER: one element, definite minimal lengths, no BER constructed strings,
 *     booleans 00 or ff, minimal integers and OID arcs, nothing after it;
 *   - subject strings UTF8String, PrintableString or IA5String, valid;
 *     at most one common name, and it must be one of the DNS names;
 *   - every extensionRequest attribute (one value each), no extension
 *     twice across all of them, no critical extension this file does not
 *     know, the subject alternative names of the kinds DNS, IP, URI and
 *     email only, printable ASCII, no empty list.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "kt/utf8.h"
#include "internal.h"

#define DER_DEPTH_MAX 32
#define EXT_MAX 64

static enum kt_rc fail(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum kt_rc fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return KT_E_PARSE;
}

static int b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/*
 * Strict standard base64 (RFC 4648 section 4) of s into out (at least
 * n / 4 * 3 bytes); '\r' and '\n' are skipped, as Go's decoder does.
 * NULL on success, else why not.
 */
static const char *b64_decode(const unsigned char *s, size_t n, unsigned char *out, size_t *outlen)
{
	unsigned long acc = 0;
	size_t i, got = 0, pad = 0, o = 0;

	for (i = 0; i < n; i++) {
		int v;

		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '=') {
			if (got % 4 < 2)
				return "has '=' padding in the middle";
			pad++;
			got++;
			continue;
		}
		v = b64_value(s[i]);
		if (v < 0)
			return "has a character other than base64 (A-Z a-z 0-9 + / =)";
		if (pad)
			return "has data after '=' padding";
		acc = acc << 6 | (unsigned long)v;
		if (++got % 4 == 0) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	if (got % 4)
		return "is not padded to a multiple of 4 characters";
	if (pad) {
		/* the last quad is "xx==" or "xxx=": acc holds 2 or 3 sextets */
		unsigned long bits = pad == 2 ? acc & 0xf : acc & 0x3;

		if (pad > 2 || bits)
			return "has non-zero unused bits before its padding";
		if (pad == 2) {
			out[o++] = (unsigned char)(acc >> 4);
		} else {
			out[o++] = (unsigned char)(acc >> 10);
			out[o++] = (unsigned char)(acc >> 2);
		}
	}
	*outlen = o;
	return NULL;
}

/* ---- PEM ---- */

static const char BEGIN[] = "-----BEGIN ", END[] = "-----END ", DASHES[] = "-----";
static const char LABEL[] = "CERTIFICATE REQUEST";

/* The line at p (without its "\n" and one "\r" before it), and where the next one starts. */
static size_t line_at(const unsigned char *p, const unsigned char *e, const unsigned char **next)
{
	const unsigned char *nl = memchr(p, '\n', (size_t)(e - p));
	size_t n = nl ? (size_t)(nl - p) : (size_t)(e - p);

	*next = nl ? nl + 1 : e;
	if (n && p[n - 1] == '\r')
		n--;
	return n;
}

static bool is_space(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* "-----BEGIN X-----" or "-----END X-----": is the label X the one we take? */
static enum kt_rc pem_line(const unsigned char *l, size_t n, const char *kw, char *why, size_t size)
{
	size_t k = strlen(kw), d = strlen(DASHES);
	char q[64];

	if (n < k + d || memcmp(l, kw, k) || memcmp(l + n - d, DASHES, d))
		return fail(why, size, "the PEM %s line is malformed",
			    kw[5] == 'B' ? "BEGIN" : "END");
	if (n - k - d != strlen(LABEL) || memcmp(l + k, LABEL, n - k - d)) {
		size_t m = n - k - d < sizeof(q) ? n - k - d : sizeof(q) - 1;

		memcpy(q, l + k, m);
		q[m] = '\0';
		kt_clean_text(q);
		return fail(why, size, "the PEM block is labelled '%s', not '%s'", q, LABEL);
	}
	return KT_OK;
}

/* One PEM block to its DER in *der (malloc'd). */
static enum kt_rc pem_one(const unsigned char *p, size_t n, unsigned char **der, size_t *derlen,
			  char *why, size_t size)
{
	const unsigned char *e = p + n, *s = p, *next, *body;
	unsigned char *b64 = NULL;
	size_t l, bn = 0;
	const char *bad;
	enum kt_rc rc;

	while (s < e && is_space(*s))
		s++;
	if (s == e)
		return fail(why, size, "it is empty");
	/* the BEGIN line starts a line, as Go's reader requires */
	while (s > p && s[-1] != '\n')
		s--;
	l = line_at(s, e, &next);
	if (l < strlen(BEGIN) || memcmp(s, BEGIN, strlen(BEGIN)))
		return fail(why, size, "it does not start with a PEM BEGIN line");
	if ((rc = pem_line(s, l, BEGIN, why, size)))
		return rc;
	b64 = malloc(n);
	if (!b64)
		return KT_E_NOMEM;
	for (body = next; body < e; body = next) {
		l = line_at(body, e, &next);
		if (l >= strlen(END) && !memcmp(body, END, strlen(END)))
			break;
		if (!l) {
			free(b64);
			return fail(why, size, "the PEM block has an empty line");
		}
		if (memchr(body, ':', l)) {
			free(b64);
			return fail(why, size, "the PEM block has headers");
		}
		if (l > 76) {
			free(b64);
			return fail(why, size,
				    "the PEM block has a line longer than 76 characters");
		}
		memcpy(b64 + bn, body, l);
		bn += l;
	}
	if (body >= e) {
		free(b64);
		return fail(why, size, "the PEM block has no END line");
	}
	if ((rc = pem_line(body, l, END, why, size))) {
		free(b64);
		return rc;
	}
	for (s = next; s < e && is_space(*s); s++)
		;
	if (s < e) {
		free(b64);
		if ((size_t)(e - s) >= strlen(BEGIN) && !memcmp(s, BEGIN, strlen(BEGIN)))
			return fail(why, size, "it has more than one PEM block");
		return fail(why, size, "it has data after the PEM block");
	}
	*der = malloc(bn / 4 * 3 + 3);
	if (!*der) {
		free(b64);
		return KT_E_NOMEM;
	}
	bad = b64_decode(b64, bn, *der, derlen);
	free(b64);
	if (bad) {
		free(*der);
		*der = NULL;
		return fail(why, size, "the base64 of the PEM block %s", bad);
	}
	return KT_OK;
}

/* ---- DER ---- */

/*
 * Is p[0..n) a sequence of DER elements (n == 0 is none)?  Go's
 * encoding/asn1 refuses what this refuses, OpenSSL reads some of it (BER).
 */
static const char *der_check(const unsigned char *p, size_t n, unsigned depth)
{
	if (depth > DER_DEPTH_MAX)
		return "is nested too deeply";
	while (n) {
		unsigned char tag = p[0];
		size_t len, hl = 2, i;
		const char *bad;

		if (n < 2)
			return "is truncated";
		if ((tag & 0x1f) == 0x1f)
			return "has a high tag number";
		if (p[1] < 0x80) {
			len = p[1];
		} else {
			size_t k = p[1] & 0x7f;

			if (!k)
				return "has an indefinite length (BER, not DER)";
			if (k > sizeof(size_t) || n < 2 + k)
				return "has a length that does not fit";
			if (!p[2])
				return "has a length with leading zeros (not DER)";
			for (len = 0, i = 0; i < k; i++)
				len = len << 8 | p[2 + i];
			if (len < 0x80)
				return "has a long-form length for a short one (not DER)";
			hl = 2 + k;
		}
		if (len > n - hl)
			return "is truncated";
		if ((tag & 0xc0) == 0) {
			/* universal: only SEQUENCE and SET are constructed in DER */
			bool cons = (tag & 0x20) != 0,
			     seq = (tag & 0x1f) == 0x10 || (tag & 0x1f) == 0x11;

			if (cons != seq)
				return "has a constructed string or a primitive sequence (not DER)";
			if (tag == 0x01 && (len != 1 || (p[hl] != 0 && p[hl] != 0xff)))
				return "has a boolean other than 00 or ff";
			if (tag == 0x02 &&
			    (!len || (len > 1 && ((p[hl] == 0 && !(p[hl + 1] & 0x80)) ||
						  (p[hl] == 0xff && (p[hl + 1] & 0x80))))))
				return "has an integer that is not minimally encoded";
			if (tag == 0x06) {
				if (!len || (p[hl + len - 1] & 0x80))
					return "has a malformed object identifier";
				for (i = 0; i < len; i++)
					if (p[hl + i] == 0x80 &&
					    (i == 0 || !(p[hl + i - 1] & 0x80)))
						return "has an object identifier arc with leading zeros";
			}
		}
		if ((tag & 0x20) && (bad = der_check(p + hl, len, depth + 1)))
			return bad;
		p += hl + len;
		n -= hl + len;
	}
	return NULL;
}

/* Exactly one DER element in p[0..n). */
static const char *der_one(const unsigned char *p, size_t n)
{
	const unsigned char *q = p;
	const char *bad = der_check(p, n, 0);
	long len;
	int tag, cls;

	if (bad)
		return bad;
	if (!n || (ASN1_get_object(&q, &len, &tag, &cls, (long)n) & 0x80))
		return "is not DER";
	if ((size_t)(q - p) + (size_t)len != n)
		return "has data after its end";
	return NULL;
}

/* ---- names ---- */

static enum kt_rc add_name(struct kt_csr *csr, enum kt_csr_kind kind, const char *v, size_t n)
{
	struct kt_csr_name *a;

	if (csr->n == KT_CSR_NAMES_MAX)
		return KT_E_INVALID;
	if (csr->n % 16 == 0) {
		a = realloc(csr->names, (csr->n + 16) * sizeof(*a));
		if (!a)
			return KT_E_NOMEM;
		csr->names = a;
	}
	a = &csr->names[csr->n];
	a->kind = kind;
	a->value = malloc(n + 1);
	if (!a->value)
		return KT_E_NOMEM;
	memcpy(a->value, v, n);
	a->value[n] = '\0';
	csr->n++;
	return KT_OK;
}

/* Printable ASCII only: no reader may see another name in it. */
static bool printable(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/*
 * A URI Go's url.Parse and String() give back unchanged: a lowercase scheme
 * and the characters of RFC 3986 only.
 */
static bool uri_plain(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n && ((s[i] >= 'a' && s[i] <= 'z') ||
			 (i && ((s[i] >= '0' && s[i] <= '9') || strchr("+-.", s[i])))))
		i++;
	if (!i || i == n || s[i] != ':')
		return false;
	for (; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("-._~:/?#[]@!$&'()*+,;=%", s[i])))
			return false;
	return true;
}

static bool printable_string(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr(" '()+,-./:=?", s[i])) ||
		    !s[i])
			return false;
	return true;
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
	unsigned long cp;
	size_t k;

	for (size_t i = 0; i < n; i += k)
		if (!(k = kt_utf8_decode(s + i, n - i, &cp)) || !cp)
			return false;
	return true;
}

static const char *const san_kinds[] = { "otherName",     "email",        "DNS", "x400Address",
					 "directoryName", "ediPartyName", "URI", "IP",
					 "registeredID" };

/*
 * Only the kinds this file reads, each primitive as DER has them: Go skips
 * a constructed [2] where OpenSSL may read a DNS name, and cert-manager
 * copies otherNames it does not show.
 */
static enum kt_rc san_kinds_check(const unsigned char *p, int len, char *why, size_t size)
{
	const unsigned char *e = p + len;
	long l;
	int tag, cls, flags;

	flags = ASN1_get_object(&p, &l, &tag, &cls, len);
	if ((flags & 0x80) || tag != V_ASN1_SEQUENCE)
		return fail(why, size, "its subject alternative name extension is not a list");
	while (p < e) {
		flags = ASN1_get_object(&p, &l, &tag, &cls, e - p);
		if (flags & 0x80)
			return fail(why, size,
				    "its subject alternative name extension is malformed");
		if (cls != V_ASN1_CONTEXT_SPECIFIC || (flags & V_ASN1_CONSTRUCTED) ||
		    !(tag == GEN_DNS || tag == GEN_IPADD || tag == GEN_URI || tag == GEN_EMAIL))
			return fail(why, size,
				    "it has a subject alternative name of kind %s, which "
				    "kubetenant does not read",
				    cls == V_ASN1_CONTEXT_SPECIFIC && tag < 9 ? san_kinds[tag]
									      : "unknown");
		p += l;
	}
	return KT_OK;
}

static enum kt_rc read_san(struct kt_csr *csr, const ASN1_OCTET_STRING *v, char *why, size_t size)
{
	const unsigned char *p = ASN1_STRING_get0_data(v);
	GENERAL_NAMES *gens;
	const char *bad;
	enum kt_rc rc = KT_OK;
	int i, len = ASN1_STRING_length(v);

	if ((bad = der_one(p, (size_t)len)))
		return fail(why, size, "its subject alternative name extension %s", bad);
	if ((rc = san_kinds_check(p, len, why, size)))
		return rc;
	gens = d2i_GENERAL_NAMES(NULL, &p, len);
	if (!gens)
		return fail(why, size, "its subject alternative name extension cannot be read");
	if (!sk_GENERAL_NAME_num(gens))
		rc = fail(why, size, "its subject alternative name extension is empty");
	for (i = 0; !rc && i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *s = NULL;
		enum kt_csr_kind kind = KT_CSR_DNS;
		char ip[INET6_ADDRSTRLEN];

		switch (g->type) {
		case GEN_DNS:
			s = g->d.dNSName, kind = KT_CSR_DNS;
			break;
		case GEN_URI:
			s = g->d.uniformResourceIdentifier, kind = KT_CSR_URI;
			break;
		case GEN_EMAIL:
			s = g->d.rfc822Name, kind = KT_CSR_EMAIL;
			break;
		case GEN_IPADD:
			s = g->d.iPAddress;
			if (ASN1_STRING_length(s) == 4 ||
			    (ASN1_STRING_length(s) == 16 &&
			     !memcmp(ASN1_STRING_get0_data(s), "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)))
				inet_ntop(AF_INET,
					  ASN1_STRING_get0_data(s) + ASN1_STRING_length(s) - 4, ip,
					  sizeof(ip));
			else if (ASN1_STRING_length(s) == 16)
				inet_ntop(AF_INET6, ASN1_STRING_get0_data(s), ip, sizeof(ip));
			else {
				rc = fail(why, size, "it has an IP address of %d bytes",
					  ASN1_STRING_length(s));
				continue;
			}
			rc = add_name(csr, KT_CSR_IP, ip, strlen(ip));
			continue;
		default:
			rc = fail(why, size,
				  "it has a subject alternative name of kind %s, which "
				  "kubetenant does not read",
				  g->type >= 0 && g->type < 9 ? san_kinds[g->type] : "unknown");
			continue;
		}
		if (!printable(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s)))
			rc = fail(why, size,
				  "it has a %s name with a character other than printable "
				  "ASCII",
				  kind == KT_CSR_DNS   ? "DNS"
				  : kind == KT_CSR_URI ? "URI"
						       : "email");
		else if (kind == KT_CSR_URI &&
			 !uri_plain(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s)))
			rc = fail(why, size,
				  "it has a URI that readers may rewrite (a scheme "
				  "other than lowercase, or characters URIs do not have)");
		else
			rc = add_name(csr, kind, (const char *)ASN1_STRING_get0_data(s),
				      (size_t)ASN1_STRING_length(s));
	}
	GENERAL_NAMES_free(gens);
	if (rc == KT_E_INVALID)
		rc = fail(why, size, "it has more than %d names", KT_CSR_NAMES_MAX);
	return rc;
}

/* Extensions the reader knows: their meaning is checked or harmless. */
static bool known_ext(int nid)
{
	return nid == NID_subject_alt_name || nid == NID_basic_constraints ||
	       nid == NID_key_usage || nid == NID_ext_key_usage ||
	       nid == NID_subject_key_identifier;
}

static enum kt_rc read_ext(struct kt_csr *csr, X509_EXTENSION *x, char *why, size_t size)
{
	const ASN1_OBJECT *o = X509_EXTENSION_get_object(x);
	const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(x);
	int nid = OBJ_obj2nid(o);
	const unsigned char *p = ASN1_STRING_get0_data(v);
	const char *bad;
	char oid[80];

	OBJ_obj2txt(oid, sizeof(oid), o, 1);
	if (!known_ext(nid)) {
		if (X509_EXTENSION_get_critical(x))
			return fail(why, size,
				    "it has a critical extension %s that kubetenant does "
				    "not know; a CA might act on it",
				    oid);
		return KT_OK;
	}
	if ((bad = der_one(p, (size_t)ASN1_STRING_length(v))))
		return fail(why, size, "its extension %s %s", oid, bad);
	if (nid == NID_subject_alt_name)
		return read_san(csr, v, why, size);
	if (nid == NID_basic_constraints) {
		BASIC_CONSTRAINTS *bc = d2i_BASIC_CONSTRAINTS(NULL, &p, ASN1_STRING_length(v));

		if (!bc)
			return fail(why, size, "its basic constraints extension cannot be read");
		csr->ca = bc->ca != 0;
		BASIC_CONSTRAINTS_free(bc);
	}
	return KT_OK;
}

/*
 * The extensionRequest attribute.  Two are refused; were they not, they
 * would be merged as Go merges them.
 */
static enum kt_rc read_exts(struct kt_csr *csr, const X509_REQ *req, char *why, size_t size)
{
	STACK_OF(X509_EXTENSION) *all = sk_X509_EXTENSION_new_null();
	enum kt_rc rc = KT_OK;
	int i, j, n = 0;

	if (!all)
		return KT_E_NOMEM;
	for (i = 0; i < X509_REQ_get_attr_count(req); i++)
		n += OBJ_obj2nid(X509_ATTRIBUTE_get0_object(X509_REQ_get_attr(req, i))) ==
		     NID_ext_req;
	if (n > 1)
		rc = fail(why, size,
			  "it has %d extensionRequest attributes; readers differ (Go "
			  "merges them, OpenSSL reads the first): send one",
			  n);
	for (i = 0; !rc && i < X509_REQ_get_attr_count(req); i++) {
		X509_ATTRIBUTE *a = X509_REQ_get_attr(req, i);
		int nid = OBJ_obj2nid(X509_ATTRIBUTE_get0_object(a));
		ASN1_TYPE *t;
		STACK_OF(X509_EXTENSION) * exts;
		const unsigned char *p;

		if (nid == NID_ms_ext_req) {
			rc = fail(why, size,
				  "it has a Microsoft extension request attribute; use "
				  "the PKCS #9 extensionRequest");
			break;
		}
		if (nid != NID_ext_req)
			continue;
		if (X509_ATTRIBUTE_count(a) != 1) {
			rc = fail(why, size, "an extensionRequest attribute has %d values, not one",
				  X509_ATTRIBUTE_count(a));
			break;
		}
		t = X509_ATTRIBUTE_get0_type(a, 0);
		if (!t || t->type != V_ASN1_SEQUENCE) {
			rc = fail(why, size,
				  "an extensionRequest attribute is not a list of "
				  "extensions");
			break;
		}
		p = ASN1_STRING_get0_data(t->value.sequence);
		exts = d2i_X509_EXTENSIONS(NULL, &p, ASN1_STRING_length(t->value.sequence));
		if (!exts || p != ASN1_STRING_get0_data(t->value.sequence) +
					     ASN1_STRING_length(t->value.sequence)) {
			sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
			rc = fail(why, size, "an extensionRequest attribute cannot be read");
			break;
		}
		while (sk_X509_EXTENSION_num(exts)) {
			X509_EXTENSION *x = sk_X509_EXTENSION_shift(exts);

			if (sk_X509_EXTENSION_num(all) == EXT_MAX ||
			    !sk_X509_EXTENSION_push(all, x)) {
				X509_EXTENSION_free(x);
				rc = sk_X509_EXTENSION_num(all) == EXT_MAX
					     ? fail(why, size, "it has more than %d extensions",
						    EXT_MAX)
					     : KT_E_NOMEM;
				break;
			}
		}
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	for (i = 0; !rc && i < sk_X509_EXTENSION_num(all); i++) {
		const ASN1_OBJECT *o = X509_EXTENSION_get_object(sk_X509_EXTENSION_value(all, i));

		for (j = 0; !rc && j < i; j++)
			if (!OBJ_cmp(o,
				     X509_EXTENSION_get_object(sk_X509_EXTENSION_value(all, j)))) {
				char oid[80];

				OBJ_obj2txt(oid, sizeof(oid), o, 1);
				rc = fail(why, size, "it requests extension %s more than once%s",
					  oid,
					  OBJ_obj2nid(o) == NID_subject_alt_name
						  ? " (two subject alternative name lists)"
						  : "");
			}
	}
	for (i = 0; !rc && i < sk_X509_EXTENSION_num(all); i++)
		rc = read_ext(csr, sk_X509_EXTENSION_value(all, i), why, size);
	sk_X509_EXTENSION_pop_free(all, X509_EXTENSION_free);
	return rc;
}

/* Subject strings every reader reads alike, and the one common name. */
static enum kt_rc read_subject(struct kt_csr *csr, const X509_REQ *req, char *why, size_t size)
{
	const X509_NAME *subj = X509_REQ_get_subject_name(req);
	const ASN1_STRING *cn = NULL;
	int i;

	for (i = 0; i < X509_NAME_entry_count(subj); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(subj, i);
		const ASN1_STRING *d = X509_NAME_ENTRY_get_data(e);
		const unsigned char *s = ASN1_STRING_get0_data(d);
		size_t n = (size_t)ASN1_STRING_length(d);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		bool ok;

		switch (ASN1_STRING_type(d)) {
		case V_ASN1_UTF8STRING:
			ok = utf8_valid(s, n);
			break;
		case V_ASN1_PRINTABLESTRING:
			ok = printable_string(s, n);
			break;
		case V_ASN1_IA5STRING:
			ok = printable(s, n);
			break;
		default:
			return fail(why, size,
				    "its subject has a value that is not a UTF8String, "
				    "PrintableString or IA5String");
		}
		if (!ok)
			return fail(why, size,
				    "its subject has a string with characters its type "
				    "does not allow");
		if (nid == NID_pkcs9_emailAddress)
			csr->subject_email = true;
		if (nid != NID_commonName)
			continue;
		if (cn)
			return fail(why, size, "its subject has more than one common name");
		cn = d;
	}
	/* an empty common name is no name (Go reads it as absent) */
	if (!cn || !ASN1_STRING_length(cn))
		return KT_OK;
	for (i = 0; i < (int)csr->n; i++) {
		const struct kt_csr_name *dns = &csr->names[i];
		size_t n = (size_t)ASN1_STRING_length(cn);

		if (dns->kind != KT_CSR_DNS || strlen(dns->value) != n ||
		    strncasecmp(dns->value, (const char *)ASN1_STRING_get0_data(cn), n))
			continue;
		switch (add_name(csr, KT_CSR_CN, (const char *)ASN1_STRING_get0_data(cn), n)) {
		case KT_OK:
			return KT_OK;
		case KT_E_INVALID:
			return fail(why, size, "it has more than %d names", KT_CSR_NAMES_MAX);
		default:
			return KT_E_NOMEM;
		}
	}
	{
		char q[96];
		size_t m = (size_t)ASN1_STRING_length(cn) < sizeof(q)
				   ? (size_t)ASN1_STRING_length(cn)
				   : sizeof(q) - 1;

		memcpy(q, ASN1_STRING_get0_data(cn), m);
		q[m] = '\0';
		kt_clean_text(q);
		return fail(why, size,
			    "its common name '%s' is not one of its DNS names; a CA "
			    "signs it as a name too",
			    q);
	}
}

enum kt_rc kt_csr_read_pem(const unsigned char *pem, size_t len, struct kt_csr *csr, char *why,
			   size_t size)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	const char *bad;
	size_t derlen = 0;
	X509_REQ *req = NULL;
	enum kt_rc rc;

	memset(csr, 0, sizeof(*csr));
	if (len > KT_CSR_MAX)
		return fail(why, size, "it is larger than %u bytes", KT_CSR_MAX);
	if ((rc = pem_one(pem, len, &der, &derlen, why, size)))
		return rc;
	if ((bad = der_one(der, derlen))) {
		rc = fail(why, size, "its DER %s", bad);
		goto out;
	}
	p = der;
	req = d2i_X509_REQ(NULL, &p, (long)derlen);
	if (!req || p != der + derlen) {
		rc = fail(why, size, "it is not a valid PKCS #10 certificate request");
		goto out;
	}
	if (X509_REQ_get_version(req) != X509_REQ_VERSION_1) {
		rc = fail(why, size, "its version is not 1");
		goto out;
	}
	if (!X509_REQ_get0_pubkey(req)) {
		rc = fail(why, size, "its public key cannot be read");
		goto out;
	}
	if ((rc = read_exts(csr, req, why, size)) || (rc = read_subject(csr, req, why, size)))
		goto out;
out:
	X509_REQ_free(req);
	free(der);
	if (rc)
		kt_csr_release(csr);
	return rc;
}

enum kt_rc kt_csr_read(const char *b64, size_t len, struct kt_csr *csr, char *why, size_t size)
{
	unsigned char *pem;
	const char *bad;
	size_t n = 0;
	enum kt_rc rc;

	memset(csr, 0, sizeof(*csr));
	if (len > KT_CSR_MAX / 3 * 4 + 4)
		return fail(why, size, "it is larger than %u bytes", KT_CSR_MAX);
	pem = malloc(len / 4 * 3 + 3);
	if (!pem)
		return KT_E_NOMEM;
	bad = b64_decode((const unsigned char *)b64, len, pem, &n);
	if (bad)
		rc = fail(why, size, "its base64 %s", bad);
	else
		rc = kt_csr_read_pem(pem, n, csr, why, size);
	free(pem);
	return rc;
}

void kt_csr_release(struct kt_csr *csr)
{
	for (size_t i = 0; i < csr->n; i++)
		free(csr->names[i].value);
	free(csr->names);
	memset(csr, 0, sizeof(*csr));
}
