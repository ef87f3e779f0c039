/*
 * read.c: reading a parsed view (kt/jview.h).
 *
 * Nodes are in document order; a container's children follow it, each
 * member as its key node then its value, and every node knows where its
 * subtree ends (next), so a lookup steps over siblings without entering
 * them.  Strings and keys were unescaped by the parser and numbers
 * converted by it: reading is pointer and field access.
 */
#include <stdio.h>
#include <string.h>
#include "kt/jview.h"

#define NONE UINT32_MAX

static struct kt_jv absent(struct kt_jview *doc)
{
	return (struct kt_jv){ doc, NONE };
}

struct kt_jv kt_jview_root(struct kt_jview *v)
{
	return (struct kt_jv){ v, v->count ? 0 : NONE };
}

size_t kt_jv_size(struct kt_jv v)
{
	enum kt_jtype t = kt_jv_type(v);

	return t == KT_J_ARRAY || t == KT_J_OBJECT ? v.doc->n[v.i].size : 0;
}

struct kt_jv kt_jv_getn(struct kt_jv obj, const char *name, size_t len)
{
	const struct kt_jnode *n;
	uint32_t k, end;

	if (kt_jv_type(obj) != KT_J_OBJECT)
		return absent(obj.doc);
	n = obj.doc->n;
	end = n[obj.i].next;
	for (k = obj.i + 1; k < end; k = n[k + 1].next)
		if (n[k].size == len && !memcmp(n[k].s, name, len))
			return (struct kt_jv){ obj.doc, k + 1 };
	return absent(obj.doc);
}

struct kt_jv kt_jv_first(struct kt_jv parent)
{
	enum kt_jtype t = kt_jv_type(parent);

	if ((t != KT_J_ARRAY && t != KT_J_OBJECT) || !parent.doc->n[parent.i].size)
		return absent(parent.doc);
	return (struct kt_jv){ parent.doc, parent.i + 1 + (t == KT_J_OBJECT) };
}

struct kt_jv kt_jv_next(struct kt_jv child)
{
	const struct kt_jnode *n;
	uint32_t p, next;

	if (!kt_jv_ok(child) || (p = child.doc->n[child.i].parent) == NONE)
		return absent(child.doc);
	n = child.doc->n;
	next = n[child.i].next;
	if (next >= n[p].next)
		return absent(child.doc);
	return (struct kt_jv){ child.doc, next + (n[p].type == KT_J_OBJECT) };
}

struct kt_jv kt_jv_at(struct kt_jv arr, size_t i)
{
	struct kt_jv e;

	if (kt_jv_type(arr) != KT_J_ARRAY || i >= arr.doc->n[arr.i].size)
		return absent(arr.doc);
	for (e = kt_jv_first(arr); i--; e = kt_jv_next(e))
		;
	return e;
}

const char *kt_jv_key(struct kt_jv member, size_t *len)
{
	const struct kt_jnode *n;
	uint32_t p;

	if (!kt_jv_ok(member) || (p = member.doc->n[member.i].parent) == NONE ||
	    member.doc->n[p].type != KT_J_OBJECT)
		return NULL;
	n = &member.doc->n[member.i - 1];
	if (len)
		*len = n->size;
	return n->s;
}

const char *kt_jv_strn(struct kt_jv v, size_t *len)
{
	if (kt_jv_type(v) != KT_J_STRING)
		return NULL;
	if (len)
		*len = v.doc->n[v.i].size;
	return v.doc->n[v.i].s;
}

bool kt_jv_streq(struct kt_jv v, const char *s)
{
	const struct kt_jnode *n;
	size_t len = strlen(s);

	if (kt_jv_type(v) != KT_J_STRING)
		return false;
	n = &v.doc->n[v.i];
	if (n->size != len)
		return false;
	return !memcmp(n->s, s, len);
}

bool kt_jv_int(struct kt_jv v, long long *out)
{
	const struct kt_jnode *n;

	/* parsing refused integers beyond 64 bits; reals are not integers */
	if (kt_jv_type(v) != KT_J_NUMBER || !((n = &v.doc->n[v.i])->flags & KT_JN_INT))
		return false;
	*out = n->ll;
	return true;
}

bool kt_jv_real(struct kt_jv v, double *out)
{
	const struct kt_jnode *n;

	if (kt_jv_type(v) != KT_J_NUMBER)
		return false;
	n = &v.doc->n[v.i];
	*out = n->flags & KT_JN_INT ? (double)n->ll : n->d;
	return true;
}

bool kt_jv_equal(struct kt_jv a, struct kt_jv b)
{
	enum kt_jtype t = kt_jv_type(a);
	long long x, y;
	double p, q;
	const char *s, *r;
	size_t n = 0, m = 0;
	struct kt_jv e, f;

	if (t != kt_jv_type(b))
		return false;
	switch (t) {
	case KT_J_NUMBER:
		if (kt_jv_int(a, &x))
			return kt_jv_int(b, &y) && x == y;
		return !kt_jv_int(b, &y) && kt_jv_real(a, &p) && kt_jv_real(b, &q) && p == q;
	case KT_J_STRING:
		s = kt_jv_strn(a, &n);
		r = kt_jv_strn(b, &m);
		return n == m && !memcmp(s, r, n);
	case KT_J_ARRAY:
		if (kt_jv_size(a) != kt_jv_size(b))
			return false;
		for (e = kt_jv_first(a), f = kt_jv_first(b); kt_jv_ok(e);
		     e = kt_jv_next(e), f = kt_jv_next(f))
			if (!kt_jv_equal(e, f))
				return false;
		return true;
	case KT_J_OBJECT:
		if (kt_jv_size(a) != kt_jv_size(b))
			return false;
		for (e = kt_jv_first(a); kt_jv_ok(e); e = kt_jv_next(e)) {
			s = kt_jv_key(e, &n);
			if (!kt_jv_equal(e, kt_jv_getn(b, s, n)))
				return false;
		}
		return true;
	default:
		return true; /* absent, null, true, false */
	}
}

/* Append the pointer of node i to buf at *at; false when it does not fit. */
static bool pointer(struct kt_jview *doc, uint32_t i, char *buf, size_t size, size_t *at)
{
	const struct kt_jnode *n = doc->n;
	uint32_t p = n[i].parent, k;
	size_t len, idx;
	const char *key;
	int w;

	if (p == NONE)
		return true;
	if (!pointer(doc, p, buf, size, at))
		return false;
	if (n[p].type == KT_J_ARRAY) {
		for (idx = 0, k = p + 1; k != i; k = n[k].next)
			idx++;
		w = snprintf(buf + *at, size - *at, "/%zu", idx);
		if (w < 0 || (size_t)w >= size - *at)
			return false;
		*at += (size_t)w;
		return true;
	}
	key = n[i - 1].s;
	len = n[i - 1].size;
	if (*at + 1 >= size)
		return false;
	buf[(*at)++] = '/';
	for (size_t j = 0; j < len; j++) {
		const char *e = key[j] == '~' ? "~0" : key[j] == '/' ? "~1" : NULL;
		size_t l = e ? 2 : 1;

		if (*at + l >= size)
			return false;
		memcpy(buf + *at, e ? e : key + j, l);
		*at += l;
	}
	return true;
}

const char *kt_jv_pointer(struct kt_jv v, char *buf, size_t size, bool *cut)
{
	size_t at = 0;
	bool ok;

	if (!size)
		return buf;
	ok = kt_jv_ok(v) && pointer(v.doc, v.i, buf, size, &at);
	buf[at] = '\0';
	if (cut)
		*cut = !ok;
	return buf;
}
