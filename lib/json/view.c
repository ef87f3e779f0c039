/*
 * view.c: parsing and validating for kt/jview.h.
 *
 * jsmn (strict) finds the tokens and their spans, and nothing more: it
 * lets separators go unchecked ("[1:2]", "{"a" "b"}", "[1,]"), takes any
 * run of primitive characters ("tru", "01", "-"), control characters and
 * any byte in strings, stops at a NUL byte as if the text ended there, and
 * counts no depth.  So a second pass walks the tokens in order against
 * the text, the JSON grammar in hand: every byte between two tokens must
 * be the whitespace and the one separator the grammar allows there, every
 * token must start exactly where the walk expects it, literals and numbers
 * are matched in full, strings are checked 8 bytes at a time while they
 * are plain ASCII and decoded past that (UTF-8 through kt_utf8_decode,
 * escapes, surrogate pairs), and each object's keys are compared once its
 * members are walked.  Whatever jsmn accepted wrongly ends there.
 *
 * Numbers are refused where jansson refuses them too (an integer beyond
 * 64 bits, a real that overflows a double): fail closed, and the fuzz
 * target (test/fuzz/fuzz_jview.c) holds both to the same answer.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "kt/jview.h"
#include "kt/utf8.h"

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#define NONE UINT32_MAX
/* node flags */
#define F_KEY 1u  /* an object key */
#define F_ESC 2u  /* a string with escapes: s is filled when it is read */
#define F_CSTR 4u /* s is unescaped into the arena, NUL-terminated */

/* Objects with more keys than this are checked for duplicates by sorting. */
#define SMALL_OBJECT 12u

struct keyref {
	const char *s;
	uint32_t len, node;
};

struct walk {
	struct kt_jview *v;
	const jsmntok_t *tok;
	const char *t;
	uint32_t ntok, values, max_values, max_depth;
	const char *why;
	uint32_t at; /* byte of the error */
};

static bool fail(struct walk *w, size_t at, const char *why)
{
	w->why = why;
	w->at = (uint32_t)at;
	return false;
}

static bool ws(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static uint32_t skip_ws(const struct walk *w, uint32_t p, uint32_t end)
{
	while (p < end && ws(w->t[p]))
		p++;
	return p;
}

/* Where a token's text begins and ends, quotes of strings included. */
static uint32_t raw_start(const jsmntok_t *k)
{
	return (uint32_t)k->start - (k->type == JSMN_STRING);
}

static uint32_t raw_end(const jsmntok_t *k)
{
	return (uint32_t)k->end + (k->type == JSMN_STRING);
}

static int hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static size_t put_utf8(char *out, unsigned long cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The first of 8 bytes (read little-endian) that needs a look of its own:
 * a quote, a backslash, a control byte or a byte of a UTF-8 sequence; 8
 * if none.  (x - 0x20 in every byte) & ~x sets the high bit of the first
 * byte below 0x20 (a borrow can mark the bytes after it, never before);
 * a byte equal to b is a zero byte of x ^ b.
 */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
#define BELOW(x, b) (((x)-ONES * (b)) & ~(x))

static unsigned plain8(uint64_t x)
{
	uint64_t m =
		(x | BELOW(x, 0x20) | BELOW(x ^ (ONES * '"'), 1) | BELOW(x ^ (ONES * '\\'), 1)) &
		HIGHS;

	return m ? (unsigned)__builtin_ctzll(m) / 8 : 8;
}

/*
 * The string between p and end (quotes excluded), checked; with out, its
 * unescaped bytes written there (never more than end - p).  Returns the
 * unescaped length, or -1 with the reason (and its byte) in w.
 */
static long string(struct walk *w, uint32_t p, uint32_t end, char *out, bool *esc)
{
	const unsigned char *t = (const unsigned char *)w->t;
	size_t n = 0, l;
	unsigned long cp;
	int hi, lo;
	uint64_t x;

	*esc = false;
	while (p < end) {
		unsigned char c;
		uint32_t k, left = end - p;

		/*
		 * Plain ASCII 8 bytes at a time, up to the first byte that needs
		 * a look of its own; past a string's end only while the text
		 * goes on, those bytes made plain so they cannot stop the run.
		 */
		if (left >= 8 || p + 8 <= w->v->len) {
			memcpy(&x, t + p, 8);
			x = le64toh(x);
			if (left < 8)
				x = (x & ((1ull << 8 * left) - 1)) | (ONES * 'a' << 8 * left);
			if ((k = plain8(x)) > left)
				k = left;
			if (out)
				memcpy(out + n, t + p, k);
			n += k, p += k;
			if (k == 8 || p == end)
				continue;
		}
		c = t[p];
		if (c >= 0x20 && c != '\\' && c < 0x80) {
			if (out)
				out[n] = (char)c;
			n++, p++;
			continue;
		}
		if (c < 0x20)
			return fail(w, p, "control character in string"), -1;
		if (c >= 0x80) {
			if (!(l = kt_utf8_decode(t + p, end - p, &cp)))
				return fail(w, p, "invalid UTF-8 in string"), -1;
			if (out)
				memcpy(out + n, t + p, l);
			n += l, p += (uint32_t)l;
			continue;
		}
		*esc = true;
		if (p + 1 >= end)
			return fail(w, p, "invalid escape in string"), -1;
		switch (t[p + 1]) {
		case '"':
			cp = '"';
			break;
		case '\\':
			cp = '\\';
			break;
		case '/':
			cp = '/';
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			if (end - p < 6 || (hi = hex4(w->t + p + 2)) < 0)
				return fail(w, p, "invalid \\u escape in string"), -1;
			if (hi >= 0xdc00 && hi <= 0xdfff)
				return fail(w, p, "lone surrogate \\u escape in string"), -1;
			if (hi >= 0xd800 && hi <= 0xdbff) {
				if (end - p < 12 || t[p + 6] != '\\' || t[p + 7] != 'u' ||
				    (lo = hex4(w->t + p + 8)) < 0xdc00 || lo > 0xdfff)
					return fail(w, p, "lone surrogate \\u escape in string"),
					       -1;
				cp = 0x10000 + (((unsigned long)hi - 0xd800) << 10) +
				     ((unsigned long)lo - 0xdc00);
				p += 6;
			} else if (!hi) {
				return fail(w, p, "\\u0000 in string"), -1;
			} else {
				cp = (unsigned long)hi;
			}
			p += 6;
			if (out)
				put_utf8(out + n, cp);
			n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
			continue;
		default:
			return fail(w, p, "invalid escape in string"), -1;
		}
		if (out)
			out[n] = (char)cp;
		n++, p += 2;
	}
	return (long)n;
}

/* Room for n bytes in the arena: sized at parse for every string once. */
static char *arena_take(struct kt_jview *v, size_t n)
{
	char *p;

	if (n > v->arena_cap - v->arena_used)
		return NULL;
	p = v->arena + v->arena_used;
	v->arena_used += n;
	return p;
}

/*
 * true, false, null, or a number by RFC 8259's grammar; integers must fit
 * 64 bits and reals a double, as jansson requires.
 */
static bool primitive(struct walk *w, uint32_t i)
{
	const jsmntok_t *k = &w->tok[i];
	const char *s = w->t + k->start, *e = w->t + k->end, *p = s;
	size_t len = (size_t)(e - s);
	struct kt_jnode *nd = &w->v->n[i];
	bool real = false;
	char small[64], *copy;

	if (len == 4 && !memcmp(s, "true", 4))
		return nd->type = KT_J_TRUE, true;
	if (len == 5 && !memcmp(s, "false", 5))
		return nd->type = KT_J_FALSE, true;
	if (len == 4 && !memcmp(s, "null", 4))
		return nd->type = KT_J_NULL, true;
	nd->type = KT_J_NUMBER;
	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0')
		p++;
	else if (p < e && *p >= '1' && *p <= '9')
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	else
		return fail(w, k->start, "invalid literal or number");
	if (p < e && *p == '.') {
		real = true;
		if (++p == e || *p < '0' || *p > '9')
			return fail(w, k->start, "invalid number");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		real = true;
		if (++p < e && (*p == '+' || *p == '-'))
			p++;
		if (p == e || *p < '0' || *p > '9')
			return fail(w, k->start, "invalid number");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p != e)
		return fail(w, k->start, "invalid literal or number");
	/* the usual case: an integer of at most 18 digits always fits */
	if (!real && len - (*s == '-') <= 18)
		return true;
	/* a scratch copy at the arena's top, NUL-terminated for strto*() */
	copy = len < sizeof(small) ? small : w->v->arena + w->v->arena_used;
	if (copy != small && w->v->arena_cap - w->v->arena_used <= len)
		return fail(w, k->start, "number too long");
	memcpy(copy, s, len);
	copy[len] = '\0';
	errno = 0;
	if (!real) {
		(void)strtoll(copy, NULL, 10);
		if (errno == ERANGE)
			return fail(w, k->start, "integer out of range");
	} else {
		double d = strtod(copy, NULL);

		if (errno == ERANGE && (d > 1.0 || d < -1.0))
			return fail(w, k->start, "real number out of range");
	}
	return true;
}

/* Keys sort by bytes, then length; equal ones are duplicates. */
static int keycmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static bool same_key(const struct kt_jnode *a, const struct kt_jnode *b)
{
	return a->size == b->size && !memcmp(a->s, b->s, a->size);
}

/* The object at node i, its members walked: refuse a key written twice. */
static bool unique_keys(struct walk *w, uint32_t i)
{
	struct kt_jnode *n = w->v->n;
	struct keyref *r = w->v->scratch;
	uint32_t members = n[i].size, k, j, m;

	if (members <= SMALL_OBJECT) {
		for (k = i + 1; k < n[i].next; k = n[k + 1].next)
			for (j = i + 1; j < k; j = n[j + 1].next)
				if (same_key(&n[j], &n[k]))
					return fail(w, n[k].start - 1, "duplicate key in object");
		return true;
	}
	for (m = 0, k = i + 1; k < n[i].next; k = n[k + 1].next, m++)
		r[m] = (struct keyref){ n[k].s, n[k].size, k };
	qsort(r, m, sizeof(*r), keycmp);
	for (j = 1; j < m; j++)
		if (!keycmp(&r[j - 1], &r[j]))
			return fail(w, n[r[j].node].start - 1, "duplicate key in object");
	return true;
}

static bool value(struct walk *w, uint32_t i, uint32_t parent, uint32_t depth);

/* A string token at i: checked, its unescaped length recorded; keys unescaped at once. */
static bool string_node(struct walk *w, uint32_t i, bool key)
{
	const jsmntok_t *k = &w->tok[i];
	struct kt_jnode *nd = &w->v->n[i];
	long n;
	bool esc;
	char *out;

	if ((n = string(w, (uint32_t)k->start, (uint32_t)k->end, NULL, &esc)) < 0) {
		if (key && !strcmp(w->why, "\\u0000 in string"))
			w->why = "\\u0000 in an object key";
		return false;
	}
	nd->type = KT_J_STRING;
	nd->start = (uint32_t)k->start;
	nd->end = (uint32_t)k->end;
	nd->size = (uint32_t)n;
	nd->flags = (uint8_t)((key ? F_KEY : 0) | (esc ? F_ESC : 0));
	nd->s = w->t + k->start;
	if (key && esc) {
		/* compared now, so unescaped now; the arena has room for every string */
		if (!(out = arena_take(w->v, (size_t)n + 1)))
			return fail(w, k->start, "out of room for strings");
		string(w, (uint32_t)k->start, (uint32_t)k->end, out, &esc);
		out[n] = '\0';
		nd->s = out;
		nd->flags |= F_CSTR;
	}
	return true;
}

/*
 * The container at i: its children must follow each other with nothing
 * but whitespace and the right separator in between, and end at its
 * closing bracket.
 */
static bool container(struct walk *w, uint32_t i, uint32_t depth)
{
	const jsmntok_t *k = &w->tok[i];
	struct kt_jnode *nd = &w->v->n[i];
	bool obj = k->type == JSMN_OBJECT;
	uint32_t close = (uint32_t)k->end - 1, p = (uint32_t)k->start + 1, j = i + 1, members = 0;

	if (depth > w->max_depth)
		return fail(w, k->start, "nesting too deep");
	if (w->t[close] != (obj ? '}' : ']'))
		return fail(w, close, "unbalanced brackets");
	nd->type = obj ? KT_J_OBJECT : KT_J_ARRAY;
	for (;;) {
		p = skip_ws(w, p, close);
		if (p == close && !members)
			break;
		if (members) {
			if (p == close)
				break;
			if (w->t[p] != ',')
				return fail(w, p,
					    obj ? "expected ',' or '}'" : "expected ',' or ']'");
			p = skip_ws(w, p + 1, close);
		}
		if (obj) {
			if (j >= w->ntok || w->tok[j].type != JSMN_STRING ||
			    raw_start(&w->tok[j]) != p || raw_end(&w->tok[j]) > close)
				return fail(w, p, "expected a string key");
			if (!string_node(w, j, true))
				return false;
			w->v->n[j].parent = i;
			w->v->n[j].next = j + 1;
			p = skip_ws(w, raw_end(&w->tok[j]), close);
			if (p == close || w->t[p] != ':')
				return fail(w, p, "expected ':'");
			p = skip_ws(w, p + 1, close);
			j++;
		}
		if (j >= w->ntok || raw_start(&w->tok[j]) != p || raw_end(&w->tok[j]) > close)
			return fail(w, p, "expected a value");
		if (!value(w, j, i, depth + 1))
			return false;
		p = raw_end(&w->tok[j]);
		j = w->v->n[j].next;
		members++;
	}
	nd->size = members;
	nd->next = j;
	return !obj || unique_keys(w, i);
}

static bool value(struct walk *w, uint32_t i, uint32_t parent, uint32_t depth)
{
	struct kt_jnode *nd = &w->v->n[i];
	const jsmntok_t *k = &w->tok[i];

	nd->start = (uint32_t)k->start;
	nd->end = (uint32_t)k->end;
	nd->parent = parent;
	nd->next = i + 1;
	nd->size = 0;
	nd->flags = 0;
	nd->s = NULL;
	if (++w->values > w->max_values)
		return fail(w, k->start, "too many values");
	switch (k->type) {
	case JSMN_OBJECT:
	case JSMN_ARRAY:
		return container(w, i, depth);
	case JSMN_STRING:
		return string_node(w, i, false);
	case JSMN_PRIMITIVE:
		return primitive(w, i);
	default:
		return fail(w, k->start, "unexpected token");
	}
}

/* Buffers for up to cap tokens and len bytes of strings, kept when large enough. */
static bool reserve(struct kt_jview *v, size_t cap, size_t len)
{
	void *p;

	if (cap > v->cap) {
		free(v->tok), free(v->n), free(v->scratch);
		v->tok = malloc(cap * sizeof(jsmntok_t));
		v->n = malloc(cap * sizeof(struct kt_jnode));
		v->scratch = malloc(cap * sizeof(struct keyref));
		v->cap = cap;
		if (!v->tok || !v->n || !v->scratch) {
			free(v->tok), free(v->n), free(v->scratch);
			v->tok = v->n = v->scratch = NULL;
			v->cap = 0;
			return false;
		}
	}
	/* every string unescaped once, each with its NUL: at most the text plus a byte a token */
	if (len + cap + 1 > v->arena_cap) {
		if (!(p = malloc(len + cap + 1)))
			return false;
		free(v->arena);
		v->arena = p;
		v->arena_cap = len + cap + 1;
	}
	v->arena_used = 0;
	return true;
}

enum kt_rc kt_jview_parse(struct kt_jview *v, const char *text, size_t len, unsigned max_depth,
			  unsigned max_values, struct kt_err *err)
{
	struct walk w = { .v = v, .t = text, .max_values = max_values, .max_depth = max_depth };
	jsmn_parser jp;
	size_t cap;
	uint32_t p;
	int r;

	v->count = 0;
	v->text = text;
	v->len = len;
	if (len > INT32_MAX / 2)
		return kt_err_set(err, KT_E_PARSE, "JSON text of %zu bytes is too large", len);
	/* a token takes two bytes at least ("1,"); keys and values are at most twice the values */
	cap = len / 2 + 2;
	if (cap > 2 * (size_t)max_values + 2)
		cap = 2 * (size_t)max_values + 2;
	if (!reserve(v, cap, len))
		return kt_err_set(err, KT_E_NOMEM, "out of memory reading JSON");
	jsmn_init(&jp);
	r = jsmn_parse(&jp, text, len, v->tok, (unsigned)cap);
	if (r == JSMN_ERROR_NOMEM)
		return kt_err_set(err, KT_E_PARSE,
				  "JSON text is too large to decode: more than %u "
				  "values",
				  max_values);
	if (r == JSMN_ERROR_PART)
		return kt_err_set(err, KT_E_PARSE,
				  "invalid JSON at byte %u: unexpected end of input", jp.pos);
	/* jsmn stops at the string, the primitive or the character it refuses */
	if (r < 0 && jp.pos < len && text[jp.pos] == '"')
		return kt_err_set(err, KT_E_PARSE,
				  "invalid JSON at byte %u: invalid escape in string", jp.pos);
	if (r < 0 && jp.pos < len && strchr("-0123456789tfn", text[jp.pos]))
		return kt_err_set(err, KT_E_PARSE,
				  "invalid JSON at byte %u: invalid literal or "
				  "number",
				  jp.pos);
	if (r < 0)
		return kt_err_set(err, KT_E_PARSE, "invalid JSON at byte %u: invalid token",
				  jp.pos);
	/* jsmn stops at a NUL byte as if the text ended there */
	if (jp.pos != len)
		return kt_err_set(err, KT_E_PARSE, "invalid JSON at byte %u: NUL byte", jp.pos);
	w.tok = v->tok;
	w.ntok = (uint32_t)r;
	p = skip_ws(&w, 0, (uint32_t)len);
	if (!w.ntok || p == len)
		return kt_err_set(err, KT_E_PARSE,
				  "invalid JSON at byte %zu: unexpected end of input", len);
	if (raw_start(&w.tok[0]) != p)
		return kt_err_set(err, KT_E_PARSE, "invalid JSON at byte %u: unexpected character",
				  p);
	if (w.tok[0].type != JSMN_OBJECT && w.tok[0].type != JSMN_ARRAY)
		return kt_err_set(err, KT_E_PARSE,
				  "invalid JSON at byte %u: an object or an array "
				  "was expected",
				  p);
	if (!value(&w, 0, NONE, 1)) {
		if (!strcmp(w.why, "too many values"))
			return kt_err_set(err, KT_E_PARSE,
					  "JSON text is too large to decode: more "
					  "than %u values",
					  max_values);
		if (!strcmp(w.why, "nesting too deep"))
			return kt_err_set(err, KT_E_PARSE,
					  "invalid JSON at byte %u: nesting too deep "
					  "(more than %u levels)",
					  w.at, max_depth);
		return kt_err_set(err, KT_E_PARSE, "invalid JSON at byte %u: %s", w.at, w.why);
	}
	p = skip_ws(&w, raw_end(&w.tok[0]), (uint32_t)len);
	if (p != len || v->n[0].next != w.ntok)
		return kt_err_set(err, KT_E_PARSE,
				  "invalid JSON at byte %u: trailing data after the "
				  "JSON value",
				  p);
	v->count = w.ntok;
	return KT_OK;
}

void kt_jview_release(struct kt_jview *v)
{
	free(v->tok);
	free(v->n);
	free(v->scratch);
	free(v->arena);
	*v = (struct kt_jview)KT_JVIEW_INIT;
}

/* ---- one view a thread ---- */

/* Buffers kept between documents: a review of about 200 KB. */
#define KEEP_TOKENS (16u << 10)

static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;
static bool thread_key_ok;

static void thread_end(void *p)
{
	kt_jview_release(p);
	free(p);
}

static void thread_init(void)
{
	thread_key_ok = pthread_key_create(&thread_key, thread_end) == 0;
}

struct kt_jview *kt_jview_thread(void)
{
	struct kt_jview *v;

	if (pthread_once(&thread_once, thread_init) || !thread_key_ok)
		return NULL;
	if ((v = pthread_getspecific(thread_key)))
		return v;
	if (!(v = calloc(1, sizeof(*v))))
		return NULL;
	if (pthread_setspecific(thread_key, v)) {
		free(v);
		return NULL;
	}
	return v;
}

void kt_jview_done(struct kt_jview *v)
{
	if (v->cap > KEEP_TOKENS)
		kt_jview_release(v);
	v->count = 0;
	v->text = NULL;
	v->len = 0;
}

/* ---- strings on demand (read.c) ---- */

const char *kt_jview_unescape_(struct kt_jview *v, uint32_t i);

const char *kt_jview_unescape_(struct kt_jview *v, uint32_t i)
{
	struct kt_jnode *nd = &v->n[i];
	struct walk w = { .v = v, .t = v->text };
	char *out;
	bool esc;

	if (nd->flags & F_CSTR)
		return nd->s;
	if (!(out = arena_take(v, nd->size + 1)))
		return NULL; /* cannot happen: the arena was sized for every string */
	if (nd->flags & F_ESC)
		string(&w, nd->start, nd->end, out, &esc);
	else
		memcpy(out, v->text + nd->start, nd->size);
	out[nd->size] = '\0';
	nd->s = out;
	nd->flags |= F_CSTR;
	return out;
}
