/*
 * jview.h: a read-only view of JSON text, for the decision path.
 *
 * simdjson's DOM parser (lib/json/simd.cc, the one C++ file) validates
 * the grammar, UTF-8 and escapes (lone surrogates refused) and
 * unescapes every string; one walk of its tape then fills the view's
 * nodes and refuses what simdjson lets through and jansson does not:
 * \u0000 in a string or key, duplicate keys at every level (compared
 * unescaped: "\u0061" is "a"), integers beyond int64, a root that is
 * not an object or an array, more values than asked.  Nesting is bounded
 * by the parser itself, before any value is read.  Nothing is allocated
 * per value: the parser, a padded copy of the text, a node array and a
 * scratch array are kept by the view for the next document.
 *
 * Values are handles (struct kt_jv, passed by value) valid until the view
 * parses again or is released.  A handle of an absent value (a missing
 * member, an index past the end, a lookup on the wrong type) is valid too
 * and reads as absent everywhere, so lookups chain without checks:
 *	kt_jv_str(kt_jv_get(kt_jv_get(root, "metadata"), "name"))
 */
#ifndef KT_JVIEW_H
#define KT_JVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "kt/err.h"

enum kt_jtype {
	KT_J_ABSENT = 0,
	KT_J_NULL,
	KT_J_FALSE,
	KT_J_TRUE,
	KT_J_NUMBER,
	KT_J_STRING,
	KT_J_ARRAY,
	KT_J_OBJECT,
};

/* One value or key; the view's internals, read through the functions below. */
struct kt_jnode {
	union {
		const char *s; /* strings: the unescaped bytes, NUL-terminated (the parser's) */
		long long ll;  /* numbers written as integers (flag KT_JN_INT) */
		double d;      /* other numbers */
	};
	uint32_t next;   /* the node after this one's subtree: skipping is O(1) */
	uint32_t parent; /* the array or object (never the key); UINT32_MAX: root */
	uint32_t size;   /* elements or members; strings: unescaped length */
	uint8_t type;    /* enum kt_jtype */
	uint8_t flags;   /* KT_JN_* */
};
#define KT_JN_KEY 1u /* an object key */
#define KT_JN_INT 2u /* a number written as an integer (no fraction, no exponent) */

struct kt_jview {
	struct kt_jnode *n;
	uint32_t count; /* nodes, keys included; 0: nothing parsed */
	/* owned buffers, reused by the next parse */
	size_t cap;    /* nodes and scratch entries allocated */
	void *scratch; /* the keys of one object, for the duplicate check */
	void *simd;    /* simdjson's parser and a padded copy of the text (simd.cc) */
};

/* clang-format off */
#define KT_JVIEW_INIT { 0 }
/* clang-format on */

struct kt_jv {
	struct kt_jview *doc; /* NULL: absent */
	uint32_t i;           /* UINT32_MAX: absent */
};

/*
 * Parse len bytes of text (copied: the text may go once this returns).
 * The root must be an object or an array, at most max_depth levels deep
 * and with at most max_values values (keys not counted).  KT_E_PARSE with
 * "invalid JSON: why" for anything that is not strict JSON or is over a
 * limit (simdjson tells what, not where); KT_E_NOMEM.  On failure the
 * view holds no document.
 */
enum kt_rc kt_jview_parse(struct kt_jview *v, const char *text, size_t len, unsigned max_depth,
			  unsigned max_values, struct kt_err *err);
/* Free the buffers; the view may be parsed into again. */
void kt_jview_release(struct kt_jview *v);

/*
 * This thread's view, for a decision that parses, reads and is done before
 * the next one (the webhook): its buffers are kept from one request to
 * the next and freed when the thread ends.  NULL when out of memory.
 * kt_jview_done() forgets the document and gives back buffers grown for
 * an unusually large one.
 */
struct kt_jview *kt_jview_thread(void);
void kt_jview_done(struct kt_jview *v);

struct kt_jv kt_jview_root(struct kt_jview *v);

/* Present (JSON null included).  A zeroed handle is absent. */
static inline bool kt_jv_ok(struct kt_jv v)
{
	return v.doc && v.i != UINT32_MAX;
}

static inline enum kt_jtype kt_jv_type(struct kt_jv v)
{
	return kt_jv_ok(v) ? (enum kt_jtype)v.doc->n[v.i].type : KT_J_ABSENT;
}

/* Absent or JSON null: the same for Kubernetes (omitempty). */
static inline bool kt_jv_absent(struct kt_jv v)
{
	return kt_jv_type(v) <= KT_J_NULL;
}

static inline bool kt_jv_is(struct kt_jv v, enum kt_jtype t)
{
	return kt_jv_type(v) == t;
}

/* Members of an object, elements of an array; 0 for anything else. */
size_t kt_jv_size(struct kt_jv v);
/* The member of that name (a key compares unescaped); absent if none or not an object. */
struct kt_jv kt_jv_getn(struct kt_jv obj, const char *name, size_t len);
/* Inline, so that the length of a literal name is known when compiling. */
static inline struct kt_jv kt_jv_get(struct kt_jv obj, const char *name)
{
	return kt_jv_getn(obj, name, strlen(name));
}
/* Element i of an array (O(i): elements are skipped whole). */
struct kt_jv kt_jv_at(struct kt_jv arr, size_t i);

/*
 * Children in order: the elements of an array, the member values of an
 * object; kt_jv_key() names a member value.
 *	for (struct kt_jv e = kt_jv_first(list); kt_jv_ok(e); e = kt_jv_next(e))
 */
struct kt_jv kt_jv_first(struct kt_jv parent);
struct kt_jv kt_jv_next(struct kt_jv child);
/* The first element of an array only (an object has none): jansson's json_array_foreach. */
static inline struct kt_jv kt_jv_first_elem(struct kt_jv arr)
{
	return kt_jv_type(arr) == KT_J_ARRAY ? kt_jv_first(arr)
					     : (struct kt_jv){ arr.doc, UINT32_MAX };
}
/* The first member value of an object only (an array has none). */
static inline struct kt_jv kt_jv_first_member(struct kt_jv obj)
{
	return kt_jv_type(obj) == KT_J_OBJECT ? kt_jv_first(obj)
					      : (struct kt_jv){ obj.doc, UINT32_MAX };
}
/* The unescaped key of a member value (len in *len when not NULL), or NULL. */
const char *kt_jv_key(struct kt_jv member, size_t *len);
/* The length of the unescaped key of a member value (0 when not one). */
static inline size_t kt_jv_keylen(struct kt_jv member)
{
	size_t len = 0;

	return kt_jv_key(member, &len) ? len : 0;
}

/*
 * The unescaped string (NUL-terminated; never contains NUL), its length
 * in *len when not NULL; NULL when v is not a string.  The pointer lives
 * as long as the document.
 */
const char *kt_jv_strn(struct kt_jv v, size_t *len);
static inline const char *kt_jv_str(struct kt_jv v)
{
	return kt_jv_strn(v, NULL);
}
/* The length of the string v, 0 for anything else. */
static inline size_t kt_jv_len(struct kt_jv v)
{
	return kt_jv_type(v) == KT_J_STRING ? v.doc->n[v.i].size : 0;
}
/* v is a string equal to s. */
bool kt_jv_streq(struct kt_jv v, const char *s);
/* The string of v, or dflt when v is not a string. */
static inline const char *kt_jv_str_or(struct kt_jv v, const char *dflt)
{
	const char *s = kt_jv_str(v);

	return s ? s : dflt;
}

/* A number written as an integer (no fraction, no exponent) into *out. */
bool kt_jv_int(struct kt_jv v, long long *out);
/* Any number, as a double. */
bool kt_jv_real(struct kt_jv v, double *out);
/* The number v as jansson's json_number_value and json_integer_value: 0 when not one. */
static inline double kt_jv_num(struct kt_jv v)
{
	double d = 0;

	return kt_jv_real(v, &d) ? d : 0;
}
static inline long long kt_jv_ll(struct kt_jv v)
{
	long long ll = 0;

	return kt_jv_int(v, &ll) ? ll : 0;
}
static inline bool kt_jv_true(struct kt_jv v)
{
	return kt_jv_type(v) == KT_J_TRUE;
}

static inline bool kt_jv_is_bool(struct kt_jv v)
{
	return kt_jv_type(v) == KT_J_TRUE || kt_jv_type(v) == KT_J_FALSE;
}
/* A number written as an integer (jansson's json_is_integer). */
static inline bool kt_jv_is_int(struct kt_jv v)
{
	long long ll;

	return kt_jv_int(v, &ll);
}

/*
 * Deep equality as jansson's json_equal: the same type (an integer is not
 * a real), value, elements in order, members as sets; two absent values
 * are equal too, absent and null are not.  a and b may be of two views.
 */
bool kt_jv_equal(struct kt_jv a, struct kt_jv b);

/*
 * The JSON pointer (RFC 6901) of v from the root, into buf ("" for the
 * root; '~' and '/' in keys escaped).  Returns buf; false in *cut (when
 * not NULL) unless it did not fit, then buf holds a prefix.
 */
const char *kt_jv_pointer(struct kt_jv v, char *buf, size_t size, bool *cut);

#endif
