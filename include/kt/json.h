/*
 * json.h: writing JSON with jansson, the way every output of kubetenant
 * needs it: never invalid UTF-8 (hostile input is echoed in responses and
 * log lines), compact, and byte for byte the same for the same value
 * (jansson keeps the members of an object in insertion order).
 */
#ifndef KT_JSON_H
#define KT_JSON_H

#include <stddef.h>
#include <jansson.h>
#include "kt/buf.h"
#include "kt/err.h"

/*
 * A jansson string of the first max bytes of s (len bytes, NUL allowed):
 * each byte that is not part of valid UTF-8 (kt/utf8.h) becomes U+FFFD,
 * and "..." is appended when s was cut.  Returns a new reference; NULL
 * when out of memory.
 */
json_t *kt_json_text(const char *s, size_t len, size_t max);

/*
 * Append v (borrowed) serialized compactly to out.  KT_E_NOMEM when out
 * of memory or past out->max (out may then hold part of the text).
 */
enum kt_rc kt_json_dump(const json_t *v, struct kt_buf *out);

/*
 * A view (kt/jview.h) of a tree decoded elsewhere (YAML read by `check`
 * and `audit`), through its JSON text, which text keeps for as long as
 * the view is read.  j of any type, or NULL (then *out is absent); the
 * limits are the decision path's (kt/policy.h).  KT_E_PARSE when over
 * them, KT_E_NOMEM.
 */
struct kt_jview;
struct kt_jv;
enum kt_rc kt_json_view(json_t *j, struct kt_buf *text, struct kt_jview *v, struct kt_jv *out,
			struct kt_err *err);

/*
 * Between begin and end, this thread's jansson allocations come from one
 * per-thread block (lib/util/json_arena.c) and are all taken back at end:
 * for trees built and freed in between, such as a decoded review.  A value
 * that outlives the scope is a use after free.  Scopes nest.
 */
void kt_json_arena_begin(void);
void kt_json_arena_end(void);

#endif
