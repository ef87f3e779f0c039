/*
 * jwrite.h: JSON text written straight into a buffer, for the answers on
 * the decision path (no tree, no allocation per value).  Strings come out
 * as kt_json_text() and jansson's compact dump write them: each byte that
 * is not part of valid UTF-8 (kt/utf8.h) becomes U+FFFD, '"' and '\' and
 * control bytes are escaped (\b \f \n \r \t, else \u00XX), everything
 * else, U+2028 included, is written as it is.
 */
#ifndef KT_JWRITE_H
#define KT_JWRITE_H

#include <stddef.h>
#include <string.h>
#include "kt/buf.h"

/* The n bytes of s escaped, without quotes: a part of a string. */
enum kt_rc kt_jw_chars(struct kt_buf *b, const char *s, size_t n);

/*
 * n bytes of JSON text written as they are: kt_buf_add() inlined for when
 * the buffer has room (the writers' common case), within b->max as there.
 */
static inline enum kt_rc kt_jw_raw(struct kt_buf *b, const char *s, size_t n)
{
	if (b->alloc - b->len <= n || (b->max && n > b->max - b->len))
		return kt_buf_add(b, s, n);
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return KT_OK;
}

/* The same from a string literal (no strlen). */
#define kt_jw_lit(b, lit) kt_jw_raw((b), "" lit, sizeof(lit) - 1)

/* s as a JSON string, quotes included; NULL is "". */
enum kt_rc kt_jw_str(struct kt_buf *b, const char *s);
/* i as a JSON integer (jansson's dump of a json_int_t). */
enum kt_rc kt_jw_int(struct kt_buf *b, long long i);

/*
 * One segment of a JSON pointer (RFC 6901), inside a string being written:
 * '/' then s with '~' as "~0" and '/' as "~1", escaped as kt_jw_chars()
 * escapes (so a pointer written segment by segment is the string jansson
 * dumps for the whole pointer).
 */
enum kt_rc kt_jw_pointer_seg(struct kt_buf *b, const char *s);

#endif
