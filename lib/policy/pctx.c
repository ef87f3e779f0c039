/*
 * pctx.c: what a rule does with a decision in progress (struct kt_pctx):
 * add a denial or a warning, word a path or a quoted value, and read a
 * value as the type it must have, denying it as malformed otherwise; read
 * an object's labels and annotations.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* ---- findings ---- */

/*
 * A copy safe for any output: control characters and bytes that are not
 * valid UTF-8 (a CSR's names are raw bytes; a message may cut a sequence)
 * become '?', so responses and logs stay valid JSON and one line.
 */
static char *dup_clean(const char *s)
{
	char *r = strdup(s);

	if (r)
		kt_clean_text(r);
	return r;
}

static void add_finding(struct kt_pctx *c, bool denial, const char *rule, const char *path,
			const char *fmt, va_list ap)
{
	struct kt_finding **v = denial ? &c->d->denials : &c->d->warnings;
	size_t *n = denial ? &c->d->n_denials : &c->d->n_warnings;
	char msg[KT_PCTX_MSG_MAX];
	struct kt_finding *f, *nv;

	if (*n >= KT_POLICY_MAX_FINDINGS) {
		if (denial)
			c->dropped_denials++;
		else
			c->dropped_warnings++;
		return;
	}
	/* grow by powers of two: at most log2(KT_POLICY_MAX_FINDINGS) reallocs */
	if (!(*n & (*n - 1)) || !*n) {
		nv = realloc(*v, (*n ? *n * 2 : 2) * sizeof(**v));
		if (!nv) {
			c->rc = KT_E_NOMEM;
			return;
		}
		*v = nv;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	f = &(*v)[*n];
	f->rule = strdup(rule);
	f->message = dup_clean(msg);
	f->path = path ? dup_clean(path) : NULL;
	(*n)++;
	if (!f->rule || !f->message || (path && !f->path))
		c->rc = KT_E_NOMEM;
}

void kt_pctx_deny(struct kt_pctx *c, const char *rule, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_finding(c, true, rule, path, fmt, ap);
	va_end(ap);
}

void kt_pctx_warn(struct kt_pctx *c, const char *rule, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_finding(c, false, rule, path, fmt, ap);
	va_end(ap);
}

const char *kt_pctx_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return buf;
}

const char *kt_pctx_q(char *buf, size_t size, const char *s)
{
	size_t n;

	if (!s)
		s = "";
	n = strlen(s);
	if (n < size) {
		memcpy(buf, s, n + 1);
	} else if (size > 4) {
		memcpy(buf, s, size - 4);
		memcpy(buf + size - 4, "...", 4);
	} else if (size) {
		buf[0] = '\0';
	}
	return buf;
}

/* A wrong JSON type where a rule reads: the rule would read nothing, so deny. */
static void wrong_type(struct kt_pctx *c, struct kt_jv v, const char *want, const char *fmt,
		       va_list ap)
{
	static const char *const types[] = {
		[KT_J_NULL] = "null",       [KT_J_FALSE] = "false",  [KT_J_TRUE] = "true",
		[KT_J_STRING] = "a string", [KT_J_ARRAY] = "a list", [KT_J_OBJECT] = "an object"
	};
	char path[KT_PCTX_PATH_MAX];
	long long ll;
	const char *t = types[kt_jv_type(v)];

	/* jansson's words for numbers: integers and reals apart */
	if (kt_jv_is(v, KT_J_NUMBER))
		t = kt_jv_int(v, &ll) ? "an integer" : "a number";
	vsnprintf(path, sizeof(path), fmt, ap);
	kt_pctx_deny(c, "request.malformed", path, "%s must be %s, not %s", path, want, t);
}

#define AS(test, want, result, fail)             \
	do {                                     \
		va_list ap;                      \
		if (kt_jv_absent(v) || (test))   \
			return (result);         \
		va_start(ap, fmt);               \
		wrong_type(c, v, want, fmt, ap); \
		va_end(ap);                      \
		return (fail);                   \
	} while (0)

struct kt_jv kt_as_list(struct kt_pctx *c, struct kt_jv v, const char *fmt, ...)
{
	struct kt_jv none = { v.doc, UINT32_MAX };

	AS(kt_jv_is(v, KT_J_ARRAY), "a list", kt_jv_absent(v) ? none : v, none);
}

struct kt_jv kt_as_object(struct kt_pctx *c, struct kt_jv v, const char *fmt, ...)
{
	struct kt_jv none = { v.doc, UINT32_MAX };

	AS(kt_jv_is(v, KT_J_OBJECT), "an object", kt_jv_absent(v) ? none : v, none);
}

const char *kt_as_string(struct kt_pctx *c, struct kt_jv v, const char *fmt, ...)
{
	AS(kt_jv_is(v, KT_J_STRING), "a string", kt_jv_str(v), NULL);
}

bool kt_as_true(struct kt_pctx *c, struct kt_jv v, const char *fmt, ...)
{
	AS(kt_jv_is(v, KT_J_TRUE) || kt_jv_is(v, KT_J_FALSE), "true or false", kt_jv_true(v),
	   false);
}

#undef AS

/* ---- reading objects ---- */

bool kt_strv_has(const struct kt_strv *v, const char *s)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], s))
			return true;
	return false;
}

const char *kt_meta_annotation(const struct kt_pctx *c, const char *key)
{
	return kt_gets(c->ann, key);
}
