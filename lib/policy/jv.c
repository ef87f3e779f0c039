/*
 * jv.c: a bounded, in-place JSON parser into a bump arena (see jv.h for why).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "jv.h"

struct kt_jv_chunk {
	struct kt_jv_chunk *next;
	size_t size;
	/* data follows, 8-aligned */
};

#define CHUNK_HDR ((sizeof(struct kt_jv_chunk) + 7) & ~(size_t)7)

void kt_jv_arena_init(struct kt_jv_arena *a, void *stack, size_t size)
{
	memset(a, 0, sizeof(*a));
	if (stack && size >= 8) {
		uintptr_t p = ((uintptr_t)stack + 7) & ~(uintptr_t)7;

		a->p = (char *)p;
		a->end = (char *)stack + size;
		if (a->p > a->end)
			a->p = a->end;
	}
}

void kt_jv_arena_release(struct kt_jv_arena *a)
{
	struct kt_jv_chunk *c = a->chunks, *n;

	while (c) {
		n = c->next;
		free(c);
		c = n;
	}
	memset(a, 0, sizeof(*a));
}

void *kt_jv_alloc(struct kt_jv_arena *a, size_t n)
{
	char *r;

	n = (n + 7) & ~(size_t)7;
	if ((size_t)(a->end - a->p) < n) {
		size_t want = a->total ? a->total : 16384;
		struct kt_jv_chunk *c;

		if (want < n + CHUNK_HDR)
			want = n + CHUNK_HDR;
		if (a->total + want > KT_JV_MAX_ARENA) {
			want = n + CHUNK_HDR;
			if (a->total + want > KT_JV_MAX_ARENA) {
				a->failed = true;
				return NULL;
			}
		}
		c = malloc(want);
		if (!c) {
			a->failed = true;
			a->oom = true;
			return NULL;
		}
		c->next = a->chunks;
		c->size = want;
		a->chunks = c;
		a->total += want;
		a->p = (char *)c + CHUNK_HDR;
		a->end = (char *)c + want;
	}
	r = a->p;
	a->p += n;
	return r;
}

char *kt_jv_strndup(struct kt_jv_arena *a, const char *s, size_t n)
{
	char *r = kt_jv_alloc(a, n + 1);

	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

static inline struct kt_jv *new_node(struct kt_jv_arena *a)
{
	struct kt_jv *v;

	if (a->nodes >= KT_JV_MAX_NODES) {
		a->failed = true;
		return NULL;
	}
	/* fast path: the node fits the current chunk (sizeof is a multiple of 8) */
	if ((size_t)(a->end - a->p) >= sizeof(*v)) {
		v = (struct kt_jv *)(void *)a->p;
		a->p += sizeof(*v);
	} else {
		v = kt_jv_alloc(a, sizeof(*v));
		if (!v)
			return NULL;
	}
	*v = (struct kt_jv){ 0 };
	a->nodes++;
	return v;
}

/* ---- parser ---- */

struct parser {
	char *p, *end, *start;
	struct kt_jv_arena *a;
	int depth, max_depth;
	const char *why; /* static reason on failure */
	bool nomem;
};

static bool fail(struct parser *ps, const char *why)
{
	if (!ps->why)
		ps->why = why;
	return false;
}

/* The private copy ends in a NUL, which is no whitespace: no bound check needed. */
static inline void skip_ws(struct parser *ps)
{
	char *p = ps->p;

	while ((unsigned char)*p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	ps->p = p;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool hex4(struct parser *ps, const char *p, unsigned *out)
{
	unsigned v = 0;
	int i, h;

	if (ps->end - p < 4)
		return fail(ps, "truncated \\u escape");
	for (i = 0; i < 4; i++) {
		h = hexval(p[i]);
		if (h < 0)
			return fail(ps, "invalid \\u escape");
		v = v << 4 | (unsigned)h;
	}
	*out = v;
	return true;
}

static char *put_utf8(char *d, unsigned cp)
{
	if (cp < 0x80) {
		*d++ = (char)cp;
	} else if (cp < 0x800) {
		*d++ = (char)(0xc0 | cp >> 6);
		*d++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*d++ = (char)(0xe0 | cp >> 12);
		*d++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*d++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*d++ = (char)(0xf0 | cp >> 18);
		*d++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*d++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*d++ = (char)(0x80 | (cp & 0x3f));
	}
	return d;
}

size_t kt_jv_utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n, i;
	unsigned cp;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Skip bytes that need no attention inside a string: everything but '"',
 * '\\', control characters and non-ASCII bytes.  Sixteen at a time with
 * SSE2 (every x86-64 has it): one signed compare against 0x20 catches both
 * control characters and bytes >= 0x80.  Strings are most of a review.
 */
static inline char *skip_plain(char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x20);

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
							_mm_cmpeq_epi8(v, bslash)),
					   _mm_cmplt_epi8(v, space));
		int mask = _mm_movemask_epi8(hit);

		if (mask)
			return p + __builtin_ctz((unsigned)mask);
		p += 16;
	}
#endif
	while (p < end) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
			break;
		p++;
	}
	return p;
}

/*
 * Decode the string starting after its opening quote, in place: the decoded
 * form is never longer than the escaped one, so it is written over the
 * source and NUL-terminated where the closing quote (or earlier) was.
 */
static bool parse_string(struct parser *ps, const char **out, uint32_t *len)
{
	char *s = ps->p, *p = s, *d = s, *q, *end = ps->end;
	unsigned char c;
	size_t n;

	for (;;) {
		/* plain bytes; moved down only once an escape made the text shorter */
		q = skip_plain(p, end);
		if (d != p)
			memmove(d, p, (size_t)(q - p));
		d += q - p;
		p = q;
		if (p >= end)
			return fail(ps, "unterminated string");
		c = (unsigned char)*p;
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(ps, "control character in string");
		if (c >= 0x80) {
			n = kt_jv_utf8_len((unsigned char *)p, (unsigned char *)end);
			if (!n)
				return fail(ps, "invalid UTF-8 in string");
			if (d != p)
				memmove(d, p, n);
			d += n;
			p += n;
			continue;
		}
		/* a backslash */
		if (p + 1 >= end)
			return fail(ps, "unterminated string");
		switch (p[1]) {
		case '"': *d++ = '"'; break;
		case '\\': *d++ = '\\'; break;
		case '/': *d++ = '/'; break;
		case 'b': *d++ = '\b'; break;
		case 'f': *d++ = '\f'; break;
		case 'n': *d++ = '\n'; break;
		case 'r': *d++ = '\r'; break;
		case 't': *d++ = '\t'; break;
		case 'u': {
			unsigned cp, lo;

			if (!hex4(ps, p + 2, &cp))
				return false;
			p += 6;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(ps, "lone low surrogate in \\u escape");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(ps, p + 2, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					return fail(ps, "lone high surrogate in \\u escape");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			if (cp == 0)
				return fail(ps, "\\u0000 in string");
			d = put_utf8(d, cp);
			continue;
		}
		default:
			return fail(ps, "invalid escape in string");
		}
		p += 2;
	}
	/* the decoded text is never longer: the NUL lands at or before the quote */
	*d = '\0';
	if (d - s > (ptrdiff_t)UINT32_MAX)
		return fail(ps, "string too long");
	*out = s;
	*len = (uint32_t)(d - s);
	ps->p = p + 1;
	return true;
}

static bool parse_number(struct parser *ps, struct kt_jv *v)
{
	char *p = ps->p, *s = p, *end = ps->end;

	if (p < end && *p == '-')
		p++;
	if (p >= end)
		return fail(ps, "truncated number");
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	} else {
		return fail(ps, "invalid number");
	}
	if (p < end && *p == '.') {
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return fail(ps, "invalid number");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return fail(ps, "invalid number");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p - s > 64)
		return fail(ps, "number too long");
	v->type = KT_JV_NUMBER;
	v->u.s = s;
	v->len = (uint32_t)(p - s);
	ps->p = p;
	return true;
}

static int key_cmp(const void *x, const void *y)
{
	const struct kt_jv *a = *(struct kt_jv *const *)x, *b = *(struct kt_jv *const *)y;

	if (a->klen != b->klen)
		return a->klen < b->klen ? -1 : 1;
	return memcmp(a->key, b->key, a->klen);
}

/*
 * Reject duplicate keys: pairwise for objects of up to 32 members (a pod
 * spec has about 20; comparing lengths first makes that cheaper than a
 * sort), by sorting for larger ones, so a hostile object stays O(n log n).
 */
static bool check_dups(struct parser *ps, struct kt_jv *obj)
{
	struct kt_jv **v, *a, *b;
	uint32_t i, n = obj->len;

	if (n < 2)
		return true;
	if (n <= 32) {
		for (a = obj->u.kids; a; a = a->next)
			for (b = a->next; b; b = b->next)
				if (a->klen == b->klen && !memcmp(a->key, b->key, a->klen))
					return fail(ps, "duplicate key in object");
		return true;
	}
	v = kt_jv_alloc(ps->a, (size_t)n * sizeof(*v));
	if (!v) {
		ps->nomem = true;
		return fail(ps, "out of memory");
	}
	i = 0;
	for (a = obj->u.kids; a; a = a->next)
		v[i++] = a;
	qsort(v, n, sizeof(*v), key_cmp);
	for (i = 1; i < n; i++)
		if (!key_cmp(&v[i - 1], &v[i]))
			return fail(ps, "duplicate key in object");
	return true;
}

static bool parse_value(struct parser *ps, struct kt_jv *v);

static bool parse_container(struct parser *ps, struct kt_jv *v, bool is_obj)
{
	struct kt_jv **tail = &v->u.kids, *kid;
	char close = is_obj ? '}' : ']';

	if (++ps->depth > ps->max_depth)
		return fail(ps, "nesting too deep");
	v->type = is_obj ? KT_JV_OBJECT : KT_JV_ARRAY;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return true;
	}
	for (;;) {
		kid = new_node(ps->a);
		if (!kid) {
			ps->nomem = true;
			return fail(ps, "too many values");
		}
		if (is_obj) {
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != '"')
				return fail(ps, "expected a string key");
			ps->p++;
			if (!parse_string(ps, &kid->key, &kid->klen))
				return false;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return fail(ps, "expected ':'");
			ps->p++;
		}
		if (!parse_value(ps, kid))
			return false;
		*tail = kid;
		tail = &kid->next;
		if (v->len == UINT32_MAX)
			return fail(ps, "too many members");
		v->len++;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return fail(ps, is_obj ? "unterminated object" : "unterminated array");
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == close) {
			ps->p++;
			break;
		}
		return fail(ps, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
	ps->depth--;
	return is_obj ? check_dups(ps, v) : true;
}

static bool literal(struct parser *ps, const char *word, size_t n)
{
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return fail(ps, "invalid literal");
	ps->p += n;
	return true;
}

static bool parse_value(struct parser *ps, struct kt_jv *v)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end of input");
	switch (*ps->p) {
	case '{':
		return parse_container(ps, v, true);
	case '[':
		return parse_container(ps, v, false);
	case '"':
		ps->p++;
		v->type = KT_JV_STRING;
		return parse_string(ps, &v->u.s, &v->len);
	case 't':
		v->type = KT_JV_TRUE;
		return literal(ps, "true", 4);
	case 'f':
		v->type = KT_JV_FALSE;
		return literal(ps, "false", 5);
	case 'n':
		v->type = KT_JV_NULL;
		return literal(ps, "null", 4);
	default:
		return parse_number(ps, v);
	}
}

enum kt_rc kt_jv_parse(struct kt_jv_arena *a, const char *text, size_t len, int max_depth,
		    struct kt_jv **out, struct kt_err *err)
{
	struct parser ps = { 0 };
	struct kt_jv *root;
	char *copy;

	*out = NULL;
	copy = kt_jv_alloc(a, len + 1);
	root = copy ? new_node(a) : NULL;
	if (!root)
		return kt_err_set(err, a->oom ? KT_E_NOMEM : KT_E_PARSE,
				  "input of %zu bytes is too large to decode", len);
	memcpy(copy, text, len);
	copy[len] = '\0';
	ps.p = ps.start = copy;
	ps.end = copy + len;
	ps.a = a;
	ps.max_depth = max_depth;
	if (parse_value(&ps, root)) {
		skip_ws(&ps);
		if (ps.p == ps.end) {
			*out = root;
			return KT_OK;
		}
		fail(&ps, "trailing data after the JSON value");
	}
	/* a limit is a property of the input (too large); only malloc failing is ours */
	if (ps.nomem && a->oom)
		return kt_err_set(err, KT_E_NOMEM, "out of memory decoding the input");
	if (ps.nomem)
		return kt_err_set(err, KT_E_PARSE, "input is too large to decode: more than %u "
						   "values or %u bytes of memory",
				  KT_JV_MAX_NODES, KT_JV_MAX_ARENA);
	return kt_err_set(err, KT_E_PARSE, "invalid JSON at byte %zu: %s", (size_t)(ps.p - ps.start),
			  ps.why);
}

/* ---- conversions ---- */

static enum kt_rc too_large(const struct kt_jv_arena *a, struct kt_err *err)
{
	if (a->oom)
		return kt_err_set(err, KT_E_NOMEM, "out of memory decoding the object");
	return kt_err_set(err, KT_E_PARSE, "object is too large: more than %u values or %u bytes "
					   "of memory",
			  KT_JV_MAX_NODES, KT_JV_MAX_ARENA);
}

static enum kt_rc from_json(struct kt_jv_arena *a, json_t *j, int depth, struct kt_jv *v,
			    struct kt_err *err)
{
	char buf[64];
	int n;

	switch (json_typeof(j)) {
	case JSON_NULL: v->type = KT_JV_NULL; return KT_OK;
	case JSON_TRUE: v->type = KT_JV_TRUE; return KT_OK;
	case JSON_FALSE: v->type = KT_JV_FALSE; return KT_OK;
	case JSON_INTEGER:
		n = snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		goto number;
	case JSON_REAL:
		if (!isfinite(json_real_value(j)))
			return kt_err_set(err, KT_E_PARSE, "number is not finite");
		n = snprintf(buf, sizeof(buf), "%.17g", json_real_value(j));
number:
		v->type = KT_JV_NUMBER;
		v->u.s = kt_jv_strndup(a, buf, (size_t)n);
		v->len = (uint32_t)n;
		return v->u.s ? KT_OK : too_large(a, err);
	case JSON_STRING: {
		size_t len = json_string_length(j);
		const char *s = json_string_value(j);

		if (memchr(s, '\0', len) || len > UINT32_MAX)
			return kt_err_set(err, KT_E_PARSE, "string contains a NUL byte");
		v->type = KT_JV_STRING;
		v->u.s = kt_jv_strndup(a, s, len);
		v->len = (uint32_t)len;
		return v->u.s ? KT_OK : too_large(a, err);
	}
	case JSON_ARRAY:
	case JSON_OBJECT:
		break;
	}
	if (depth <= 0)
		return kt_err_set(err, KT_E_PARSE, "nesting too deep");
	{
		struct kt_jv **tail = &v->u.kids, *kid;
		enum kt_rc rc;

		if (json_is_array(j)) {
			size_t i;
			json_t *e;

			v->type = KT_JV_ARRAY;
			json_array_foreach(j, i, e) {
				kid = new_node(a);
				if (!kid)
					return too_large(a, err);
				rc = from_json(a, e, depth - 1, kid, err);
				if (rc)
					return rc;
				*tail = kid;
				tail = &kid->next;
				v->len++;
			}
		} else {
			const char *k;
			json_t *e;

			v->type = KT_JV_OBJECT;
			json_object_foreach(j, k, e) {
				size_t kl = strlen(k);

				kid = new_node(a);
				if (!kid || !(kid->key = kt_jv_strndup(a, k, kl)))
					return too_large(a, err);
				kid->klen = (uint32_t)kl;
				rc = from_json(a, e, depth - 1, kid, err);
				if (rc)
					return rc;
				*tail = kid;
				tail = &kid->next;
				v->len++;
			}
		}
	}
	return KT_OK;
}

enum kt_rc kt_jv_from_json(struct kt_jv_arena *a, json_t *j, int max_depth, struct kt_jv **out,
			struct kt_err *err)
{
	struct kt_jv *v = new_node(a);
	enum kt_rc rc;

	*out = NULL;
	if (!v)
		return too_large(a, err);
	if (!j) {
		v->type = KT_JV_NULL;
		*out = v;
		return KT_OK;
	}
	rc = from_json(a, j, max_depth, v, err);
	if (!rc)
		*out = v;
	return rc;
}

json_t *kt_jv_to_json(const struct kt_jv *v)
{
	json_t *j, *k;
	long long ll;
	double d;

	switch (v->type) {
	case KT_JV_NULL: return json_null();
	case KT_JV_TRUE: return json_true();
	case KT_JV_FALSE: return json_false();
	case KT_JV_STRING: return json_stringn_nocheck(v->u.s, v->len);
	case KT_JV_NUMBER:
		if (kt_jv_int(v, &ll))
			return json_integer(ll);
		return kt_jv_double(v, &d) ? json_real(d) : NULL;
	case KT_JV_ARRAY:
		j = json_array();
		kt_jv_each(e, v) {
			if (!j)
				break;
			k = kt_jv_to_json(e);
			if (!k || json_array_append_new(j, k)) {
				json_decref(j);
				j = NULL;
			}
		}
		return j;
	case KT_JV_OBJECT:
		j = json_object();
		kt_jv_each(e, v) {
			if (!j)
				break;
			k = kt_jv_to_json(e);
			if (!k || json_object_set_new_nocheck(j, e->key, k)) {
				json_decref(j);
				j = NULL;
			}
		}
		return j;
	}
	return NULL;
}

/* ---- access ---- */

struct kt_jv *kt_jv_get(const struct kt_jv *obj, const char *key)
{
	size_t kl;

	if (!obj || obj->type != KT_JV_OBJECT)
		return NULL;
	kl = strlen(key);
	kt_jv_each(m, obj)
		if (m->klen == kl && !memcmp(m->key, key, kl))
			return m;
	return NULL;
}

const char *kt_jv_gets(const struct kt_jv *obj, const char *key)
{
	return kt_jv_str(kt_jv_get(obj, key));
}

bool kt_jv_streq(const struct kt_jv *v, const char *s)
{
	return kt_jv_is(v, KT_JV_STRING) && !strcmp(v->u.s, s);
}

bool kt_jv_true(const struct kt_jv *v)
{
	return v && v->type == KT_JV_TRUE;
}

bool kt_jv_int(const struct kt_jv *v, long long *out)
{
	const char *p, *e;
	unsigned long long acc = 0;
	bool neg = false;

	if (!kt_jv_is(v, KT_JV_NUMBER))
		return false;
	p = v->u.s;
	e = p + v->len;
	if (p < e && *p == '-') {
		neg = true;
		p++;
	}
	if (p == e)
		return false;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9')
			return false; /* fraction or exponent: not an integer literal */
		if (acc > (ULLONG_MAX - 9) / 10)
			return false;
		acc = acc * 10 + (unsigned)(*p - '0');
	}
	if (neg ? acc > (unsigned long long)LLONG_MAX + 1 : acc > (unsigned long long)LLONG_MAX)
		return false;
	*out = neg ? (long long)(0 - acc) : (long long)acc;
	return true;
}

bool kt_jv_double(const struct kt_jv *v, double *out)
{
	char buf[72];
	char *end;

	if (!kt_jv_is(v, KT_JV_NUMBER) || v->len >= sizeof(buf))
		return false;
	memcpy(buf, v->u.s, v->len);
	buf[v->len] = '\0';
	*out = strtod(buf, &end);
	return *end == '\0' && isfinite(*out);
}

bool kt_jv_equal(const struct kt_jv *a, const struct kt_jv *b)
{
	double x, y;

	if (!a || !b)
		return a == b;
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case KT_JV_NULL:
	case KT_JV_TRUE:
	case KT_JV_FALSE:
		return true;
	case KT_JV_STRING:
		return a->len == b->len && !memcmp(a->u.s, b->u.s, a->len);
	case KT_JV_NUMBER:
		if (a->len == b->len && !memcmp(a->u.s, b->u.s, a->len))
			return true;
		return kt_jv_double(a, &x) && kt_jv_double(b, &y) && x == y;
	case KT_JV_ARRAY: {
		const struct kt_jv *p = a->u.kids, *q = b->u.kids;

		if (a->len != b->len)
			return false;
		for (; p && q; p = p->next, q = q->next)
			if (!kt_jv_equal(p, q))
				return false;
		return !p && !q;
	}
	case KT_JV_OBJECT: {
		const struct kt_jv *p = a->u.kids, *q = b->u.kids;

		if (a->len != b->len)
			return false;
		/* the API server writes keys in a stable order: try that first */
		for (; p && q; p = p->next, q = q->next)
			if (p->klen != q->klen || memcmp(p->key, q->key, p->klen))
				break;
		if (!p) {
			for (p = a->u.kids, q = b->u.kids; p; p = p->next, q = q->next)
				if (!kt_jv_equal(p, q))
					return false;
			return true;
		}
		/*
		 * Different orders: compare as sets only for small objects, so a
		 * hostile object cannot make this quadratic.  "Not equal" is always
		 * the stricter answer for the callers (they judge the new value).
		 */
		if (a->len > 64)
			return false;
		kt_jv_each(m, a)
			if (!kt_jv_equal(m, kt_jv_get(b, m->key)))
				return false;
		return true;
	}
	}
	return false;
}
