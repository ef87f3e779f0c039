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
#include "kt/buf.h"

/* The n bytes of s escaped, without quotes: a part of a string. */
enum kt_rc kt_jw_chars(struct kt_buf *b, const char *s, size_t n);

/* s as a JSON string, quotes included; NULL is "". */
enum kt_rc kt_jw_str(struct kt_buf *b, const char *s);

#endif
