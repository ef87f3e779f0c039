/*
 * simd.cc: parsing for kt/jview.h with simdjson, the project's one C++
 * file, behind the C functions of that header (issue #15: jsmn's pass and
 * the walk that checked what it left loose took 159,000 instructions of a
 * 253,000-instruction decision; simdjson does the same checks in a
 * fraction, docs/performance.md).
 *
 * simdjson's DOM parser validates the grammar, UTF-8, escapes (a lone
 * surrogate either way is an error in 3.0), literals and numbers, bounds
 * nesting before it builds anything, and writes every string unescaped
 * and NUL-terminated into its own buffer.  One walk of its tape then
 * fills the view's nodes, pointing strings into that buffer (the parser
 * is the view's: it lives until the view parses again), and refuses what
 * simdjson takes and jansson, the oracle of test/fuzz/fuzz_jview.c, does
 * not: \u0000 (unescaped to a NUL byte), duplicate keys (compared
 * unescaped, as simdjson gives them), integers from 2^63 to 2^64 - 1
 * (simdjson's uint64), a root that is not an object or an array, more
 * values than the caller allows.
 *
 * No exception leaves this file: simdjson is used through its error
 * codes, the parser is made with new (std::nothrow), and nothing here is
 * compiled with exceptions.
 */
#define SIMDJSON_EXCEPTIONS 0
#include <cstdlib>
#include <cstring>
#include <new>
#include <simdjson.h>
extern "C" {
#include "kt/jview.h"
}

namespace
{

using simdjson::dom::element_type;

#define NONE UINT32_MAX
/* Objects with more keys than this are checked for duplicates by sorting. */
#define SMALL_OBJECT 64u
/*
 * Buffers kept between documents: 16K nodes (768 KB with the scratch
 * array) and a parser for 64 KB of text (simdjson takes about 14 bytes a
 * byte of text: 900 KB); a larger review's are given back.
 */
#define KEEP_NODES (16u << 10)
#define KEEP_BYTES (64u << 10)

/* An open container of the walk. */
struct level {
	uint32_t node, members;
	bool obj, key; /* an object; its next word is a key */
};

struct simd {
	simdjson::dom::parser parser;
	char *text; /* the text, then SIMDJSON_PADDING bytes simdjson may read */
	size_t cap; /* bytes of text it holds, the padding not counted */
	struct level *lv;
	size_t nlv; /* max_depth */
};

struct keyref {
	const char *s;
	uint32_t len, sig; /* sig: the first and last bytes and the length, compared first */
};

struct walk {
	struct kt_jview *v;
	uint32_t count, values, max_values;
	bool nul; /* the text has "\u0000": strings must be looked at */
	const char *why;
};

const char too_many[] = "too many values";

bool fail(struct walk *w, const char *why)
{
	w->why = why;
	return false;
}

/* Keys sort by bytes, then length; equal ones are duplicates. */
int keycmp(const void *a, const void *b)
{
	const struct keyref *x = static_cast<const struct keyref *>(a);
	const struct keyref *y = static_cast<const struct keyref *>(b);
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/*
 * The object at node i, its members walked: refuse a key written twice.
 * Pairwise in all but large objects, a key's signature compared before
 * its bytes (a review's objects have a few to some twenty keys: sorting
 * them cost more than the parse's own walk).
 */
bool unique_keys(struct walk *w, uint32_t i)
{
	const struct kt_jnode *n = w->v->n;
	struct keyref *r = static_cast<struct keyref *>(w->v->scratch);
	uint32_t k, j, m;

	for (m = 0, k = i + 1; k < n[i].next; k = n[k + 1].next, m++) {
		const unsigned char *s = reinterpret_cast<const unsigned char *>(n[k].s);
		uint32_t len = n[k].size;

		/* s[0] of "" is its NUL */
		r[m] = keyref{ n[k].s, len, s[0] | s[len ? len - 1 : 0] << 8 | len << 16 };
	}
	if (m <= SMALL_OBJECT) {
		for (k = 1; k < m; k++)
			for (j = 0; j < k; j++)
				if (r[j].sig == r[k].sig && r[j].len == r[k].len &&
				    !memcmp(r[j].s, r[k].s, r[k].len))
					return fail(w, "duplicate key in object");
		return true;
	}
	qsort(r, m, sizeof(*r), keycmp);
	for (j = 1; j < m; j++)
		if (!keycmp(&r[j - 1], &r[j]))
			return fail(w, "duplicate key in object");
	return true;
}

/* The next node, or NULL when the array is full (only past max_values). */
struct kt_jnode *take(struct walk *w, uint32_t parent, uint8_t type)
{
	struct kt_jnode *nd;

	if (w->count >= w->v->cap)
		return NULL;
	nd = &w->v->n[w->count];
	nd->s = NULL;
	nd->next = ++w->count;
	nd->parent = parent;
	nd->size = 0;
	nd->type = type;
	nd->flags = 0;
	return nd;
}

/* The string at offset off of simdjson's string buffer: its length (32 bits), bytes, NUL. */
bool string(struct walk *w, struct kt_jnode *nd, const uint8_t *sb, uint64_t off, bool key)
{
	uint32_t len;

	memcpy(&len, sb + off, sizeof(len));
	nd->s = reinterpret_cast<const char *>(sb + off + sizeof(len));
	nd->size = len;
	if (w->nul && memchr(nd->s, '\0', len))
		return fail(w, key ? "\\u0000 in an object key" : "\\u0000 in string");
	return true;
}

/*
 * The document's tape (simdjson's doc/tape.md: a 64-bit word a value,
 * its type in the top byte; a container's words enclose its children's,
 * a key's word comes before its value's, a number's value is the next
 * word) walked once, in order, into nodes in the same order.  lv holds
 * the open containers; simdjson bounded their nesting already.
 */
bool walk_tape(struct walk *w, const simdjson::dom::document &doc, struct level *lv, size_t nlv)
{
	using simdjson::internal::tape_type;
	const uint64_t *tape = doc.tape.get();
	const uint8_t *sb = doc.string_buf.get();
	/* the root word gives the tape's length, the last word another root word */
	uint64_t end = (tape[0] & simdjson::internal::JSON_VALUE_MASK) - 1, x;
	struct kt_jnode *nd, *n = w->v->n;
	size_t top = 0; /* open containers */

	for (uint64_t i = 1; i < end; i++) {
		tape_type t = static_cast<tape_type>(tape[i] >> 56);
		struct level *up = top ? &lv[top - 1] : NULL;

		if (t == tape_type::END_OBJECT || t == tape_type::END_ARRAY) {
			n[up->node].size = up->members;
			n[up->node].next = w->count;
			top--;
			if (t == tape_type::END_OBJECT && !unique_keys(w, up->node))
				return false;
			continue;
		}
		if (up && up->key) {
			/* simdjson's grammar: a member starts with a string */
			if (t != tape_type::STRING)
				return fail(w, "unexpected value");
			if (!(nd = take(w, up->node, KT_J_STRING)))
				return fail(w, too_many);
			nd->flags = KT_JN_KEY;
			if (!string(w, nd, sb, tape[i] & simdjson::internal::JSON_VALUE_MASK, true))
				return false;
			up->key = false;
			continue;
		}
		if (++w->values > w->max_values || !(nd = take(w, up ? up->node : NONE, KT_J_NULL)))
			return fail(w, too_many);
		if (up) {
			up->members++;
			up->key = up->obj;
		}
		switch (t) {
		case tape_type::START_OBJECT:
		case tape_type::START_ARRAY:
			if (top == nlv)
				return fail(w, "nesting too deep");
			nd->type = t == tape_type::START_OBJECT ? KT_J_OBJECT : KT_J_ARRAY;
			lv[top++] =
				level{ static_cast<uint32_t>(nd - n), 0,
				       t == tape_type::START_OBJECT, t == tape_type::START_OBJECT };
			break;
		case tape_type::STRING:
			nd->type = KT_J_STRING;
			if (!string(w, nd, sb, tape[i] & simdjson::internal::JSON_VALUE_MASK,
				    false))
				return false;
			break;
		case tape_type::INT64:
			nd->type = KT_J_NUMBER;
			nd->flags = KT_JN_INT;
			x = tape[++i];
			memcpy(&nd->ll, &x, sizeof(x));
			break;
		case tape_type::UINT64: /* 2^63 to 2^64 - 1: beyond jansson's json_int_t */
			return fail(w, "integer out of range");
		case tape_type::DOUBLE:
			nd->type = KT_J_NUMBER;
			x = tape[++i];
			memcpy(&nd->d, &x, sizeof(x));
			break;
		case tape_type::TRUE_VALUE:
			nd->type = KT_J_TRUE;
			break;
		case tape_type::FALSE_VALUE:
			nd->type = KT_J_FALSE;
			break;
		case tape_type::NULL_VALUE:
			break;
		default:
			return fail(w, "unexpected value");
		}
	}
	return top == 0 || fail(w, "unbalanced tape");
}

/* The text holds \u0000 (or something ending so, such as \\u0000). */
bool nul_escape(const char *t, size_t len)
{
	const char *p = t, *end = t + len;

	while ((p = static_cast<const char *>(memchr(p, '\\', static_cast<size_t>(end - p))))) {
		if (end - p >= 6 && !memcmp(p, "\\u0000", 6))
			return true;
		p++;
	}
	return false;
}

/* What simdjson found, in the words the view used before it. */
const char *why(simdjson::error_code e)
{
	switch (e) {
	case simdjson::NUMBER_ERROR:
		return "invalid number, or one out of range (an integer beyond 64 bits, a real "
		       "beyond a double)";
	case simdjson::STRING_ERROR:
		return "invalid escape in string, or a lone surrogate \\u escape";
	case simdjson::UNESCAPED_CHARS:
		return "control character in string";
	case simdjson::UNCLOSED_STRING:
		return "unclosed string";
	case simdjson::UTF8_ERROR:
		return "invalid UTF-8";
	case simdjson::T_ATOM_ERROR:
	case simdjson::F_ATOM_ERROR:
	case simdjson::N_ATOM_ERROR:
		return "invalid literal (true, false or null)";
	case simdjson::TAPE_ERROR:
		return "invalid structure (a comma, colon, bracket or key missing or misplaced, "
		       "or trailing data)";
	case simdjson::EMPTY:
		return "unexpected end of input";
	default:
		return simdjson::error_message(e);
	}
}

/* Nodes and scratch for cap nodes, the parser for len bytes: kept when large enough. */
bool reserve(struct kt_jview *v, size_t cap, size_t len, unsigned max_depth)
{
	struct simd *s = static_cast<struct simd *>(v->simd);

	if (cap > v->cap) {
		free(v->n), free(v->scratch);
		v->n = static_cast<struct kt_jnode *>(malloc(cap * sizeof(struct kt_jnode)));
		v->scratch = malloc(cap * sizeof(struct keyref));
		v->cap = cap;
		if (!v->n || !v->scratch) {
			free(v->n), free(v->scratch);
			v->n = NULL, v->scratch = NULL;
			v->cap = 0;
			return false;
		}
	}
	if (!s &&
	    !(v->simd = s = new (std::nothrow) simd{ simdjson::dom::parser(), NULL, 0, NULL, 0 }))
		return false;
	if (max_depth > s->nlv) {
		struct level *lv = static_cast<struct level *>(malloc(max_depth * sizeof(*lv)));

		if (!lv)
			return false;
		free(s->lv);
		s->lv = lv;
		s->nlv = max_depth;
	}
	if (!s->text || len > s->cap) {
		char *t = static_cast<char *>(malloc(len + simdjson::SIMDJSON_PADDING));

		if (!t)
			return false;
		free(s->text);
		s->text = t;
		s->cap = len;
	}
	/* a parser of no capacity is not allocated: give it one, even for "" */
	if (!len)
		len = 1;
	if (len > s->parser.capacity() || max_depth != s->parser.max_depth())
		return !s->parser.allocate(len > s->parser.capacity() ? len : s->parser.capacity(),
					   max_depth);
	return true;
}

} // namespace

extern "C" enum kt_rc kt_jview_parse(struct kt_jview *v, const char *text, size_t len,
				     unsigned max_depth, unsigned max_values, struct kt_err *err)
{
	struct walk w = { v, 0, 0, max_values, false, NULL };
	simdjson::dom::element root;
	simdjson::error_code e;
	struct simd *s;
	size_t cap;

	v->count = 0;
	if (len > INT32_MAX / 2)
		return kt_err_set(err, KT_E_PARSE, "JSON text of %zu bytes is too large", len);
	/* a value takes two bytes at least ("1,", "{}"); keys are at most the values */
	cap = len / 2 + 2;
	if (cap > 2 * static_cast<size_t>(max_values) + 2)
		cap = 2 * static_cast<size_t>(max_values) + 2;
	if (!reserve(v, cap, len, max_depth))
		return kt_err_set(err, KT_E_NOMEM, "out of memory reading JSON");
	s = static_cast<struct simd *>(v->simd);
	memcpy(s->text, text, len);
	memset(s->text + len, 0, simdjson::SIMDJSON_PADDING);
	if ((e = s->parser.parse(s->text, len, false).get(root))) {
		if (e == simdjson::DEPTH_ERROR)
			return kt_err_set(err, KT_E_PARSE,
					  "invalid JSON: nesting too deep (more than %u levels)",
					  max_depth);
		if (e == simdjson::MEMALLOC)
			return kt_err_set(err, KT_E_NOMEM, "out of memory reading JSON");
		/* simdjson says what, not where; a NUL byte is worth naming */
		if (memchr(text, '\0', len))
			return kt_err_set(err, KT_E_PARSE, "invalid JSON: NUL byte in the text");
		return kt_err_set(err, KT_E_PARSE, "invalid JSON: %s", why(e));
	}
	if (root.type() != element_type::OBJECT && root.type() != element_type::ARRAY)
		return kt_err_set(err, KT_E_PARSE,
				  "invalid JSON: an object or an array was expected");
	w.nul = nul_escape(text, len);
	if (!walk_tape(&w, s->parser.doc, s->lv, s->nlv)) {
		if (w.why == too_many)
			return kt_err_set(err, KT_E_PARSE,
					  "JSON text is too large to decode: more than %u values",
					  max_values);
		return kt_err_set(err, KT_E_PARSE, "invalid JSON: %s", w.why);
	}
	v->count = w.count;
	return KT_OK;
}

extern "C" void kt_jview_release(struct kt_jview *v)
{
	struct simd *s = static_cast<struct simd *>(v->simd);

	if (s) {
		free(s->text);
		free(s->lv);
		delete s;
	}
	free(v->n);
	free(v->scratch);
	*v = kt_jview{};
}

extern "C" void kt_jview_done(struct kt_jview *v)
{
	const struct simd *s = static_cast<const struct simd *>(v->simd);

	if (v->cap > KEEP_NODES || (s && s->parser.capacity() > KEEP_BYTES))
		kt_jview_release(v);
	v->count = 0;
}
