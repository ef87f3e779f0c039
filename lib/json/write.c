/*
 * write.c: JSON strings for kt/jwrite.h.
 *
 * Runs of bytes that need nothing are copied whole; the rest goes one
 * sequence at a time through kt_utf8_decode, the decoder kt_json_text()
 * uses, so both turn the same bytes into U+FFFD.
 */
#include <string.h>
#include "kt/jwrite.h"
#include "kt/utf8.h"

/* Bytes written as they are: printable ASCII (DEL too) but '"' and '\\'. */
/* clang-format off */
static const unsigned char plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* clang-format on */

enum kt_rc kt_jw_chars(struct kt_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run, l;
	unsigned long cp;
	enum kt_rc rc = KT_OK;
	char e[6];

	while (!rc && i < n) {
		for (run = i; run < n && plain[p[run]]; run++)
			;
		if (run > i && (rc = kt_jw_raw(b, s + i, run - i)))
			break;
		if ((i = run) == n)
			break;
		if (p[i] >= 0x80) {
			l = kt_utf8_decode(p + i, n - i, &cp);
			rc = l ? kt_buf_add(b, s + i, l) : kt_buf_add(b, "\xef\xbf\xbd", 3);
			i += l ? l : 1;
			continue;
		}
		e[0] = '\\';
		switch (p[i]) {
		case '"':
		case '\\':
			e[1] = (char)p[i];
			break;
		case '\b':
			e[1] = 'b';
			break;
		case '\f':
			e[1] = 'f';
			break;
		case '\n':
			e[1] = 'n';
			break;
		case '\r':
			e[1] = 'r';
			break;
		case '\t':
			e[1] = 't';
			break;
		default:
			memcpy(e + 1, "u00", 3);
			e[4] = hex[p[i] >> 4];
			e[5] = hex[p[i] & 15];
			rc = kt_buf_add(b, e, 6);
			i++;
			continue;
		}
		rc = kt_buf_add(b, e, 2);
		i++;
	}
	return rc;
}

enum kt_rc kt_jw_str(struct kt_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	enum kt_rc rc;

	/* room for the string as it usually is, nothing to escape */
	if ((rc = kt_buf_grow(b, n + 2)))
		return rc;
	b->buf[b->len++] = '"';
	b->buf[b->len] = '\0';
	if ((rc = kt_jw_chars(b, s, n)) || (rc = kt_buf_grow(b, 1)))
		return rc;
	b->buf[b->len++] = '"';
	b->buf[b->len] = '\0';
	return KT_OK;
}

enum kt_rc kt_jw_int(struct kt_buf *b, long long i)
{
	char d[24], *p = d + sizeof(d);
	unsigned long long u = i < 0 ? 0ull - (unsigned long long)i : (unsigned long long)i;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (i < 0)
		*--p = '-';
	return kt_jw_raw(b, p, (size_t)(d + sizeof(d) - p));
}

enum kt_rc kt_jw_pointer_seg(struct kt_buf *b, const char *s)
{
	enum kt_rc rc = kt_jw_lit(b, "/");
	size_t run;

	/* '~' and '/' are ASCII: cutting there never splits a UTF-8 sequence */
	while (!rc && *s) {
		run = strcspn(s, "~/");
		if (run && (rc = kt_jw_chars(b, s, run)))
			break;
		s += run;
		if (*s)
			rc = kt_jw_raw(b, *s++ == '~' ? "~0" : "~1", 2);
	}
	return rc;
}
