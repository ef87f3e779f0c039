/*
 * yaml.c: YAML (or JSON) bytes to jansson values, one document at a time,
 * read by the one YAML reader (lib/yaml) and given meaning here.
 *
 * The reader bounds nesting and alias expansion and refuses repeated keys;
 * this file resolves scalars by go-yaml v2's YAML 1.1 rules (what
 * Kubernetes uses, not libfyaml's 1.2), merges << keys, copies aliases
 * (each copy counted by the reader's budget) and refuses keys that repeat
 * once resolved ({1: a, "1": b}).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt/utf8.h"
#include "kt/yaml.h"
#include "internal.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

struct reading {
	const char *name;
	bool json_mode;
	struct yaml_doc *doc;
	enum kt_rc (*on_doc)(void *ctx, struct yaml_doc *doc);
	void *ctx;
	struct kt_err *err;
};

static enum kt_rc fail(struct reading *rd, enum kt_rc rc, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* An error at line:col (1-based) of the file. */
static enum kt_rc fail(struct reading *rd, enum kt_rc rc, int line, int col, const char *fmt, ...)
{
	char where[256], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(where, sizeof(where), "%s:%d:%d", rd->name, line, col);
	return kt_err_at(rd->err, rc, where, "%s", msg);
}

/* ---- scalars ---- */

static bool word_in(const char *s, size_t n, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == n && !memcmp(s, *words, n))
			return true;
	return false;
}

static const char *const null_words[] = { "~", "null", "Null", "NULL", NULL };
static const char *const true_words[] = { "y",    "Y",    "yes", "Yes", "YES", "true",
					  "True", "TRUE", "on",  "On",  "ON",  NULL };
static const char *const false_words[] = { "n",     "N",     "no",  "No",  "NO",  "false",
					   "False", "FALSE", "off", "Off", "OFF", NULL };
static const char *const special_floats[] = { ".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf",
					      "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
					      ".NaN",  ".NAN",  NULL };

/* Go's strconv.ParseInt(s, 0, 64) on s (no underscores).  false: not an integer. */
static bool parse_go_int(const char *s, long long *out, bool *overflow)
{
	const char *p = s, *digits;
	int base = 10;
	char *end;

	*overflow = false;
	if (*p == '+' || *p == '-')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, digits = p + 2;
	else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		base = 8, digits = p + 2;
	else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
		base = 2, digits = p + 2;
	else if (p[0] == '0' && p[1])
		base = 8, digits = p + 1;
	else
		digits = p;
	if (!*digits)
		return false;
	for (end = (char *)digits; *end; end++) {
		int d = (*end >= '0' && *end <= '9')   ? *end - '0'
			: (*end >= 'a' && *end <= 'f') ? *end - 'a' + 10
			: (*end >= 'A' && *end <= 'F') ? *end - 'A' + 10
						       : 99;

		if (d >= base)
			return false;
	}
	errno = 0;
	if (*s == '-') {
		/* parse the magnitude negated so LLONG_MIN fits */
		unsigned long long u = strtoull(digits, NULL, base);

		if (errno || u > (unsigned long long)LLONG_MAX + 1) {
			*overflow = true;
			return true;
		}
		*out = u == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)u;
	} else {
		unsigned long long u = strtoull(digits, NULL, base);

		if (errno || u > (unsigned long long)LLONG_MAX) {
			*overflow = true;
			return true;
		}
		*out = (long long)u;
	}
	return true;
}

/* Past an optional exponent ([eE][-+]?[0-9]+); NULL when it is malformed. */
static const char *skip_exponent(const char *p)
{
	if (*p != 'e' && *p != 'E')
		return p;
	p++;
	if (*p == '+' || *p == '-')
		p++;
	if (!(*p >= '0' && *p <= '9'))
		return NULL;
	while (*p >= '0' && *p <= '9')
		p++;
	return p;
}

/* go-yaml's float syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_yaml_float(const char *s)
{
	const char *p = s;
	int lead = 0, frac = 0;

	if (*p == '+' || *p == '-')
		p++;
	while (*p >= '0' && *p <= '9')
		p++, lead++;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++, frac++;
	}
	if (!lead && !frac)
		return false;
	p = skip_exponent(p);
	return p && !*p;
}

/* JSON's number syntax (strict mode for *.json files). */
static bool is_json_number(const char *s, bool *integer)
{
	const char *p = s;

	*integer = true;
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return false;
	if (*p == '.') {
		*integer = false;
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E')
		*integer = false;
	p = skip_exponent(p);
	return p && !*p;
}

/*
 * A float as Go's encoding/json writes it: whole numbers below 1e21 print
 * without a fraction, so they come back as integers.
 */
static json_t *go_float(double f)
{
	if (f == floor(f) && fabs(f) < 9.2e18)
		return json_integer((json_int_t)f);
	return json_real(f);
}

enum plain_kind { P_STRING, P_NULL, P_BOOL, P_INT, P_FLOAT, P_BAD };

/*
 * Resolve a plain scalar.  *v is a new value for every kind but P_STRING
 * (the caller keeps the text) and P_BAD (a float JSON cannot carry).
 */
static enum plain_kind resolve_plain(const char *s, size_t n, bool json_mode, json_t **v)
{
	char small[64], *t = small;
	enum plain_kind kind = P_STRING;
	long long iv;
	bool overflow, integer;
	size_t i, j;

	*v = NULL;
	if (!n)
		return (*v = json_null()) ? P_NULL : P_BAD;
	/* most scalars are no null or bool word: those are short and start so */
	if (n > 5 || !memchr("~nNtTyYfFoO", s[0], 11))
		goto number;
	if (word_in(s, n, null_words))
		return (*v = json_null()) ? P_NULL : P_BAD;
	if (word_in(s, n, json_mode ? (const char *const[]){ "true", NULL } : true_words))
		return (*v = json_true()) ? P_BOOL : P_BAD;
	if (word_in(s, n, json_mode ? (const char *const[]){ "false", NULL } : false_words))
		return (*v = json_false()) ? P_BOOL : P_BAD;
number:
	if (!strchr("+-.0123456789", s[0]))
		return P_STRING;
	if (!json_mode && word_in(s, n, special_floats))
		return P_BAD;
	if (n >= sizeof(small) && !(t = malloc(n + 1)))
		return P_BAD;
	/* go-yaml drops '_' digit separators before parsing numbers */
	for (i = j = 0; i < n; i++)
		if (json_mode || s[i] != '_')
			t[j++] = s[i];
	t[j] = '\0';
	if (memchr(s, '\0', n)) {
		kind = P_STRING;
	} else if (json_mode) {
		if (is_json_number(t, &integer)) {
			errno = 0;
			iv = integer ? strtoll(t, NULL, 10) : 0;
			if (integer && !errno)
				*v = json_integer(iv), kind = P_INT;
			else
				*v = json_real(strtod(t, NULL)), kind = P_FLOAT;
		}
	} else if (parse_go_int(t, &iv, &overflow)) {
		if (!overflow)
			*v = json_integer(iv), kind = P_INT;
		else
			*v = json_real(strtod(t, NULL)), kind = P_FLOAT;
	} else if (is_yaml_float(t)) {
		double f = strtod(t, NULL);

		kind = isfinite(f) ? P_FLOAT : P_BAD;
		if (kind == P_FLOAT)
			*v = go_float(f);
	}
	if (t != small)
		free(t);
	if ((kind == P_INT || kind == P_FLOAT) && (!*v || !isfinite(json_number_value(*v)))) {
		json_decref(*v);
		*v = NULL;
		return P_BAD;
	}
	return kind;
}

static const struct {
	const char *name;
	enum plain_kind kind;
} scalar_tags[] = {
	{ "str", P_STRING }, { "binary", P_STRING }, { "timestamp", P_STRING }, { "null", P_NULL },
	{ "bool", P_BOOL },  { "int", P_INT },       { "float", P_FLOAT },
};

/* The kind a tagged scalar must have, or -1 for a tag we do not take. */
static int tag_kind(const struct kt_ynode *n)
{
	size_t i, plen = strlen(TAG_PREFIX);

	for (i = 0; i < sizeof(scalar_tags) / sizeof(scalar_tags[0]); i++)
		if (n->tag_len == plen + strlen(scalar_tags[i].name) &&
		    !memcmp(n->tag, TAG_PREFIX, plen) &&
		    !memcmp(n->tag + plen, scalar_tags[i].name, n->tag_len - plen))
			return (int)scalar_tags[i].kind;
	return -1;
}

/* Tags, as each node opens: the core ones a scalar may carry, !!map and !!seq, and "!". */
static enum kt_rc opened(void *ctx, const struct kt_ynode *n)
{
	const char *want = n->kind == KT_Y_MAP ? TAG_PREFIX "map" : TAG_PREFIX "seq";

	if (!n->tag || (n->tag_len == 1 && n->tag[0] == '!'))
		return KT_OK;
	if (n->kind == KT_Y_SCALAR
		    ? tag_kind(n) >= 0
		    : n->tag_len == strlen(want) && !memcmp(n->tag, want, n->tag_len))
		return KT_OK;
	return fail(ctx, KT_E_PARSE, n->line, n->col, "unsupported tag '%.*s'",
		    (int)(n->tag_len > 64 ? 64 : n->tag_len), n->tag);
}

static enum kt_rc problem(void *ctx, const struct kt_yproblem *p)
{
	struct reading *rd = ctx;
	int n = (int)(p->len > 64 ? 64 : p->len);
	char where[256];

	switch (p->code) {
	case KT_YP_SYNTAX:
		if (!p->text)
			return kt_err_at(rd->err, KT_E_PARSE, rd->name, "invalid YAML");
		snprintf(where, sizeof(where), "%s:%d:%d", rd->name, p->line, p->col);
		return kt_err_at(rd->err, KT_E_PARSE, where, "%s", p->text);
	case KT_YP_DEPTH:
		return fail(rd, KT_E_PARSE, p->line, p->col, "nesting deeper than %d levels",
			    KT_MANIFEST_MAX_DEPTH);
	case KT_YP_WEIGHT:
		return fail(rd, KT_E_LIMIT, p->line, p->col,
			    "more than %u values (aliases expanded)", KT_MANIFEST_MAX_NODES);
	case KT_YP_DUP_KEY:
		return fail(rd, KT_E_PARSE, p->line, p->col, "duplicate key '%.*s'",
			    (int)(p->len > 128 ? 128 : p->len), p->text);
	case KT_YP_NO_ANCHOR:
	case KT_YP_ALIAS_CYCLE:
		return fail(rd, KT_E_PARSE, p->line, p->col, "undefined alias '*%.*s'", n, p->text);
	default:
		return fail(rd, KT_E_PARSE, p->line, p->col, "invalid YAML");
	}
}

/* The value of a scalar (new reference), or an error. */
static enum kt_rc scalar_value(struct reading *rd, const struct kt_ynode *node, json_t **out)
{
	const char *s = node->u.s, *tag = node->tag;
	size_t n = node->n;
	bool plain = !node->quoted;
	enum plain_kind want = P_STRING, got;
	enum kt_rc rc = KT_OK;

	if (tag && !(node->tag_len == 1 && tag[0] == '!')) {
		want = (enum plain_kind)tag_kind(node);
		plain = want != P_STRING;
	} else if (tag) {
		plain = false; /* the non-specific tag "!" makes a string */
	}
	if (plain) {
		got = resolve_plain(s, n, rd->json_mode, out);
		if (got == P_BAD)
			rc = fail(rd, KT_E_PARSE, node->line, node->col,
				  "number '%.*s' cannot be represented in JSON",
				  (int)(n > 64 ? 64 : n), s);
		else if (want != P_STRING && got != want && !(want == P_FLOAT && got == P_INT))
			rc = fail(rd, KT_E_PARSE, node->line, node->col, "'%.*s' is not a valid %s",
				  (int)(n > 64 ? 64 : n), s, tag + strlen(TAG_PREFIX));
		else if (got != P_STRING && !*out)
			rc = fail(rd, KT_E_NOMEM, node->line, node->col, "out of memory");
		if (rc) {
			json_decref(*out);
			*out = NULL;
		}
		if (rc || got != P_STRING)
			return rc;
	}
	*out = json_stringn(s, n);
	if (!*out)
		return fail(rd, KT_E_NOMEM, node->line, node->col, "out of memory");
	return KT_OK;
}

static bool ascii(const char *s, size_t n)
{
	while (n--)
		if ((unsigned char)*s++ >= 0x80)
			return false;
	return true;
}

/*
 * A mapping key as a JSON object key: resolved, then written back as text,
 * into num or pointing at the node's own text (the usual case: a string,
 * known without making one).
 */
static enum kt_rc key_text(struct reading *rd, const struct kt_ynode *k, char num[64],
			   const char **key, size_t *len)
{
	json_t *v = NULL;
	enum kt_rc rc;

	if (k->kind != KT_Y_SCALAR)
		return fail(rd, KT_E_PARSE, k->line, k->col, "mapping keys must be scalars");
	*key = k->u.s;
	*len = k->n;
	/* plain text is screened UTF-8; quoted text may carry escapes jansson refuses */
	if (!k->tag && (k->quoted ? ascii(k->u.s, k->n)
				  : resolve_plain(k->u.s, k->n, rd->json_mode, &v) == P_STRING))
		return KT_OK;
	json_decref(v);
	v = NULL;
	rc = scalar_value(rd, k, &v);
	if (rc)
		return rc;
	switch (json_typeof(v)) {
	case JSON_STRING: /* the node's text, as scalar_value() made it */
		break;
	case JSON_NULL:
		*key = "null", *len = 4;
		break;
	case JSON_TRUE:
		*key = "true", *len = 4;
		break;
	case JSON_FALSE:
		*key = "false", *len = 5;
		break;
	case JSON_INTEGER:
		*key = num;
		*len = (size_t)snprintf(num, 64, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	default:
		*key = num;
		*len = (size_t)snprintf(num, 64, "%g", json_real_value(v));
		break;
	}
	json_decref(v);
	return KT_OK;
}

static enum kt_rc value_of(struct reading *rd, const struct kt_ynode *n, bool items, json_t **out);

/* Merge the mappings named by a << key (a mapping, or a list of mappings). */
static enum kt_rc take_merge(struct reading *rd, json_t *merges, json_t *v, int line, int col)
{
	size_t i;
	json_t *x;

	if (json_is_object(v))
		return json_array_append(merges, v)
			       ? fail(rd, KT_E_NOMEM, line, col, "out of memory")
			       : KT_OK;
	if (json_is_array(v)) {
		json_array_foreach (v, i, x)
			if (!json_is_object(x))
				break;
		if (i == json_array_size(v))
			return json_array_extend(merges, v)
				       ? fail(rd, KT_E_NOMEM, line, col, "out of memory")
				       : KT_OK;
	}
	return fail(rd, KT_E_PARSE, line, col,
		    "a << merge key needs a mapping or a list of mappings");
}

/* Apply merges: earlier sources win over later ones, explicit keys over all. */
static enum kt_rc apply_merges(struct reading *rd, const struct kt_ynode *n, json_t *obj,
			       json_t *merges)
{
	size_t i;
	json_t *src;

	json_array_foreach (merges, i, src) {
		const char *k;
		size_t kl;
		json_t *v;

		json_object_keylen_foreach (src, k, kl, v) {
			if (json_object_getn(obj, k, kl))
				continue;
			if (json_object_setn(obj, k, kl, v))
				return fail(rd, KT_E_NOMEM, n->line, n->col, "out of memory");
		}
	}
	return KT_OK;
}

/* A mapping; at the root, the lines of its "items" are kept for List kinds. */
static enum kt_rc mapping(struct reading *rd, const struct kt_ynode *n, bool root, json_t **out)
{
	json_t *obj = json_object(), *merges = NULL, *v;
	enum kt_rc rc = KT_OK;
	size_t i;

	if (!obj)
		return fail(rd, KT_E_NOMEM, n->line, n->col, "out of memory");
	for (i = 0; i < n->n && !rc; i++) {
		const struct kt_ynode *k = n->u.pairs[i].key;
		const char *key = NULL;
		char num[64];
		size_t kl = 0;
		/* only a plain << merges; a quoted one is an ordinary key */
		bool merge = !rd->json_mode && !k->quoted && !k->tag && kt_ynode_is(k, "<<");

		rc = key_text(rd, k, num, &key, &kl);
		if (!rc)
			rc = value_of(rd, n->u.pairs[i].value,
				      root && kl == 5 && !memcmp(key, "items", 5), &v);
		if (!rc && merge) {
			if (!merges && !(merges = json_array()))
				rc = fail(rd, KT_E_NOMEM, k->line, k->col, "out of memory");
			else
				rc = take_merge(rd, merges, v, n->u.pairs[i].value->line,
						n->u.pairs[i].value->col);
			json_decref(v);
		} else if (!rc && json_object_getn(obj, key, kl)) {
			json_decref(v);
			rc = fail(rd, KT_E_PARSE, k->line, k->col, "duplicate key '%.*s'",
				  (int)(kl > 128 ? 128 : kl), key);
		} else if (!rc && json_object_setn_new(obj, key, kl, v)) {
			rc = fail(rd, KT_E_NOMEM, k->line, k->col, "out of memory");
		}
	}
	if (!rc && merges)
		rc = apply_merges(rd, n, obj, merges);
	json_decref(merges);
	if (rc) {
		json_decref(obj);
		return rc;
	}
	*out = obj;
	return KT_OK;
}

/* A node's value (new reference); items: the root's "items", whose lines are kept. */
static enum kt_rc value_of(struct reading *rd, const struct kt_ynode *n, bool items, json_t **out)
{
	enum kt_rc rc = KT_OK;
	json_t *arr, *v;
	size_t i;

	*out = NULL;
	if (n->kind == KT_Y_SCALAR)
		return scalar_value(rd, n, out);
	if (n->kind == KT_Y_MAP)
		return mapping(rd, n, false, out);
	arr = json_array();
	if (!arr)
		return fail(rd, KT_E_NOMEM, n->line, n->col, "out of memory");
	for (i = 0; i < n->n && !rc; i++) {
		const struct kt_ynode *item = n->u.items[i];

		if (items && kt_yaml_doc_item_line(rd->doc, item->line))
			rc = fail(rd, KT_E_NOMEM, item->line, item->col, "out of memory");
		if (!rc)
			rc = value_of(rd, item, false, &v);
		if (!rc && json_array_append_new(arr, v))
			rc = fail(rd, KT_E_NOMEM, item->line, item->col, "out of memory");
	}
	if (rc) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return KT_OK;
}

static enum kt_rc document(void *ctx, struct kt_ynode *root, int index)
{
	struct reading *rd = ctx;
	enum kt_rc rc = KT_OK;

	kt_yaml_doc_reset(rd->doc);
	rd->doc->index = index;
	if (root) {
		rd->doc->line = root->line;
		rc = root->kind == KT_Y_MAP ? mapping(rd, root, true, &rd->doc->root)
					    : value_of(rd, root, false, &rd->doc->root);
	}
	if (!rc)
		rc = rd->on_doc(rd->ctx, rd->doc);
	kt_yaml_doc_reset(rd->doc);
	return rc;
}

/*
 * YAML allows only printable Unicode in UTF-8 (c-printable: tab, line breaks,
 * U+0020..U+007E, U+0085, U+00A0..U+D7FF, U+E000..U+FFFD, U+10000..U+10FFFF).
 * Checking this before libfyaml sees the bytes is also a defence: libfyaml
 * 0.7.12 loops forever on invalid UTF-8 inside a "%" directive.
 * Returns the offset of the first bad byte, or len.
 */
static size_t screen_input(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		unsigned long cp;
		size_t n;

		if (c < 0x80) {
			if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
				return i;
			i++;
			continue;
		}
		/* not UTF-8 (overlong, surrogate, beyond U+10FFFF...), C1 controls, U+FFFE/F */
		n = kt_utf8_decode(s + i, len - i, &cp);
		if (!n || (cp >= 0x80 && cp <= 0x9f && cp != 0x85) || cp == 0xfffe || cp == 0xffff)
			return i;
		i += n;
	}
	return len;
}

static enum kt_rc screen_error(struct reading *rd, const char *buf, size_t off)
{
	int line = 1, col = 1;
	size_t i;

	for (i = 0; i < off; i++) {
		if (buf[i] == '\n')
			line++, col = 1;
		else if (((unsigned char)buf[i] & 0xc0) != 0x80)
			col++;
	}
	return fail(rd, KT_E_PARSE, line, col,
		    "byte 0x%02x is not printable UTF-8 (YAML and JSON text must be)",
		    (unsigned char)buf[off]);
}

enum kt_rc kt_yaml_parse_stream(const char *name, const char *buf, size_t len, bool json_mode,
				enum kt_rc (*on_doc)(void *ctx, struct yaml_doc *doc), void *ctx,
				struct kt_err *err)
{
	struct yaml_doc doc;
	struct reading rd = { .name = name,
			      .json_mode = json_mode,
			      .doc = &doc,
			      .on_doc = on_doc,
			      .ctx = ctx,
			      .err = err };
	const struct kt_yaml_reader r = {
		.max_depth = KT_MANIFEST_MAX_DEPTH,
		.max_weight = KT_MANIFEST_MAX_NODES,
		.json = json_mode,
		.stream = true,
		.keys_by_value = true,
		.ctx = &rd,
		.opened = opened,
		.problem = problem,
		.document = document,
	};
	struct kt_arena arena = { 0 };
	enum kt_rc rc;
	size_t bad;

	memset(&doc, 0, sizeof(doc));
	bad = screen_input((const unsigned char *)buf, len);
	if (bad < len)
		return screen_error(&rd, buf, bad);
	rc = kt_yaml_read(&r, buf, len, &arena);
	if (rc == KT_E_NOMEM)
		kt_err_set(err, rc, "out of memory");
	kt_yaml_doc_reset(&doc);
	free(doc.item_lines);
	kt_arena_release(&arena);
	return rc;
}
