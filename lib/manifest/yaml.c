/*
 * yaml.c: YAML (or JSON) bytes to jansson values, one document at a time,
 * built from libfyaml's event stream.
 *
 * Why events and not libfyaml's document tree: the tree would expand aliases
 * for us without a budget (the "billion laughs" bomb) and resolve scalars by
 * YAML 1.2 rules, while Kubernetes uses go-yaml v2's YAML 1.1 rules.  Walking
 * events we keep one frame per open collection, count every value (aliases
 * included) against a budget, bound the nesting, and see each mapping key
 * once, so duplicates are caught with their line.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libfyaml.h>
#include "kt/buf.h"
#include "kt/utf8.h"
#include "manifest_int.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

struct frame {
	json_t *node;      /* the object or array being built */
	bool is_map;
	bool have_key;     /* mapping: a key waits for its value */
	char *key;
	size_t key_len;
	bool key_merge;    /* the waiting key is a << merge key */
	int key_line, key_col;
	json_t *merges;    /* mappings to merge in when the mapping ends */
	char *anchor;      /* registered when the node is complete */
	size_t nodes_start;
	int height;        /* 1 + the height of the tallest child */
	int line, col;
	bool item_lines;   /* the root's "items": remember where each item starts */
};

struct builder {
	const char *name;
	const char *buf;   /* the input, for single-quoted scalars */
	size_t len;
	bool json_mode;
	struct frame stack[KT_MANIFEST_MAX_DEPTH];
	int depth;
	size_t nodes;
	json_t *anchors;   /* name -> [node, weight, height] */
	struct yaml_doc *doc;
	struct kt_err *err;
};

static enum kt_rc fail(struct builder *b, enum kt_rc rc, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static enum kt_rc fail(struct builder *b, enum kt_rc rc, int line, int col, const char *fmt, ...)
{
	char where[256], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(where, sizeof(where), "%s:%d:%d", b->name, line + 1, col + 1);
	return kt_err_at(b->err, rc, where, "%s", msg);
}

static void mark_of(struct fy_event *ev, int *line, int *col)
{
	const struct fy_mark *m = fy_event_start_mark(ev);

	*line = m ? m->line : 0;
	*col = m ? m->column : 0;
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
static const char *const true_words[] = { "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE",
					  "on", "On", "ON", NULL };
static const char *const false_words[] = { "n", "N", "no", "No", "NO", "false", "False", "FALSE",
					   "off", "Off", "OFF", NULL };
static const char *const special_floats[] = { ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
					      "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN", NULL };

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
		int d = (*end >= '0' && *end <= '9') ? *end - '0' :
			(*end >= 'a' && *end <= 'f') ? *end - 'a' + 10 :
			(*end >= 'A' && *end <= 'F') ? *end - 'A' + 10 : 99;

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
	if (!n || word_in(s, n, null_words))
		return (*v = json_null()) ? P_NULL : P_BAD;
	if (word_in(s, n, json_mode ? (const char *const[]){ "true", NULL } : true_words))
		return (*v = json_true()) ? P_BOOL : P_BAD;
	if (word_in(s, n, json_mode ? (const char *const[]){ "false", NULL } : false_words))
		return (*v = json_false()) ? P_BOOL : P_BAD;
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

/*
 * A single-quoted scalar, decoded from its source text: '' is a quote and
 * line breaks fold (one break is a space, n breaks are n-1 newlines; white
 * space around breaks goes).  We do not ask libfyaml: 0.7.12 garbles two or
 * more adjacent '' escapes ('a''''b' comes back as "a'''").
 */
static json_t *single_quoted(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t i = 0, o = 0, line = 0;
	json_t *v;

	if (!out)
		return NULL;
	while (i < n) {
		unsigned breaks = 0;

		if (s[i] == '\'' && i + 1 < n && s[i + 1] == '\'') {
			out[o++] = '\'';
			i += 2;
			continue;
		}
		if (s[i] != '\n' && s[i] != '\r') {
			out[o++] = s[i++];
			continue;
		}
		while (o > line && (out[o - 1] == ' ' || out[o - 1] == '\t'))
			o--;
		while (i < n && (s[i] == '\n' || s[i] == '\r')) {
			i += (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
			breaks++;
			while (i < n && (s[i] == ' ' || s[i] == '\t'))
				i++;
		}
		if (breaks == 1)
			out[o++] = ' ';
		else
			while (--breaks)
				out[o++] = '\n';
		line = o;
	}
	v = json_stringn(out, o);
	free(out);
	return v;
}

/* The value of a scalar event (new reference), or an error. */
static enum kt_rc scalar_value(struct builder *b, struct fy_event *ev, json_t **out)
{
	struct fy_token *tok = ev->scalar.value, *tagtok = ev->scalar.tag;
	enum fy_scalar_style style = fy_token_scalar_style(tok);
	size_t n = 0, tn = 0;
	const char *s, *tag = tagtok ? fy_token_get_text(tagtok, &tn) : NULL;
	bool plain = style == FYSS_PLAIN;
	enum plain_kind want = P_STRING, got;
	json_t *text = NULL;
	int line, col;

	mark_of(ev, &line, &col);
	if (style == FYSS_SINGLE_QUOTED) {
		/* never fy_token_get_text() here: it leaks and garbles on these */
		const struct fy_mark *from = fy_token_start_mark(tok), *to = fy_token_end_mark(tok);

		if (!from || !to || to->input_pos < from->input_pos || to->input_pos > b->len)
			return fail(b, KT_E_PARSE, line, col, "cannot locate a quoted scalar");
		text = single_quoted(b->buf + from->input_pos, to->input_pos - from->input_pos);
		if (!text)
			return fail(b, KT_E_NOMEM, line, col, "out of memory");
		s = json_string_value(text);
		n = json_string_length(text);
	} else {
		s = fy_token_get_text(tok, &n);
		if (!s)
			s = "", n = 0;
	}
	if (tag && !(tn == 1 && tag[0] == '!')) {
		static const struct { const char *name; enum plain_kind kind; } tags[] = {
			{ "str", P_STRING }, { "binary", P_STRING }, { "timestamp", P_STRING },
			{ "null", P_NULL }, { "bool", P_BOOL }, { "int", P_INT }, { "float", P_FLOAT },
		};
		size_t i, plen = strlen(TAG_PREFIX);

		for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
			if (tn == plen + strlen(tags[i].name) && !memcmp(tag, TAG_PREFIX, plen) &&
			    !memcmp(tag + plen, tags[i].name, tn - plen))
				break;
		if (i == sizeof(tags) / sizeof(tags[0])) {
			json_decref(text);
			return fail(b, KT_E_PARSE, line, col, "unsupported tag '%.*s'", (int)(tn > 64 ? 64 : tn), tag);
		}
		want = tags[i].kind;
		plain = want != P_STRING;
	} else if (tag) {
		plain = false; /* the non-specific tag "!" makes a string */
	}
	if (plain) {
		enum kt_rc rc = KT_OK;

		got = resolve_plain(s, n, b->json_mode, out);
		if (got == P_BAD)
			rc = fail(b, KT_E_PARSE, line, col, "number '%.*s' cannot be represented in JSON",
				  (int)(n > 64 ? 64 : n), s);
		else if (want != P_STRING && got != want && !(want == P_FLOAT && got == P_INT))
			rc = fail(b, KT_E_PARSE, line, col, "'%.*s' is not a valid %s", (int)(n > 64 ? 64 : n),
				  s, tag + strlen(TAG_PREFIX));
		else if (got != P_STRING && !*out)
			rc = fail(b, KT_E_NOMEM, line, col, "out of memory");
		if (rc || got != P_STRING) {
			if (rc) {
				json_decref(*out);
				*out = NULL;
			}
			json_decref(text);
			return rc;
		}
	}
	*out = text ? text : json_stringn(s, n);
	if (!*out)
		return fail(b, KT_E_NOMEM, line, col, "out of memory");
	return KT_OK;
}

/* A mapping key as a JSON object key: resolved, then written back as text. */
static enum kt_rc key_text(struct builder *b, json_t *v, int line, int col, char **key, size_t *len)
{
	char num[64];
	const char *s = num;
	size_t n;

	switch (json_typeof(v)) {
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		break;
	case JSON_NULL:
		s = "null", n = 4;
		break;
	case JSON_TRUE:
		s = "true", n = 4;
		break;
	case JSON_FALSE:
		s = "false", n = 5;
		break;
	case JSON_INTEGER:
		n = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		n = (size_t)snprintf(num, sizeof(num), "%g", json_real_value(v));
		break;
	default:
		return fail(b, KT_E_PARSE, line, col, "mapping keys must be scalars");
	}
	*key = malloc(n + 1);
	if (!*key)
		return fail(b, KT_E_NOMEM, line, col, "out of memory");
	memcpy(*key, s, n);
	(*key)[n] = '\0';
	*len = n;
	return KT_OK;
}

/* ---- building ---- */

static enum kt_rc count_node(struct builder *b, size_t weight, int line, int col)
{
	if (weight > KT_MANIFEST_MAX_NODES - b->nodes)
		return fail(b, KT_E_LIMIT, line, col, "more than %u values (aliases expanded)",
			    KT_MANIFEST_MAX_NODES);
	b->nodes += weight;
	return KT_OK;
}

static enum kt_rc add_anchor(struct builder *b, const char *name, json_t *node, size_t weight,
			     int height)
{
	json_t *rec = json_pack("[O,I,i]", node, (json_int_t)weight, height);

	if (!rec || json_object_set_new(b->anchors, name, rec))
		return kt_err_set(b->err, KT_E_NOMEM, "out of memory");
	return KT_OK;
}

static char *token_strdup(struct fy_token *tok)
{
	size_t n = 0;
	const char *s = tok ? fy_token_get_text(tok, &n) : NULL;
	char *d;

	if (!s)
		return NULL;
	d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* Merge the mappings named by a << key (a mapping, or a list of mappings). */
static enum kt_rc take_merge(struct builder *b, struct frame *f, json_t *v, int line, int col)
{
	size_t i;
	json_t *x;

	if (!f->merges && !(f->merges = json_array()))
		return fail(b, KT_E_NOMEM, line, col, "out of memory");
	if (json_is_object(v))
		return json_array_append(f->merges, v) ? fail(b, KT_E_NOMEM, line, col, "out of memory") : KT_OK;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (!json_is_object(x))
				break;
		if (i == json_array_size(v))
			return json_array_extend(f->merges, v) ? fail(b, KT_E_NOMEM, line, col, "out of memory") : KT_OK;
	}
	return fail(b, KT_E_PARSE, line, col, "a << merge key needs a mapping or a list of mappings");
}

/* Apply merges: earlier sources win over later ones, explicit keys over all. */
static enum kt_rc apply_merges(struct builder *b, struct frame *f)
{
	size_t i;
	json_t *src;

	json_array_foreach(f->merges, i, src) {
		const char *k;
		size_t kl;
		json_t *v;

		json_object_keylen_foreach(src, k, kl, v) {
			if (json_object_getn(f->node, k, kl))
				continue;
			if (json_object_setn(f->node, k, kl, v))
				return fail(b, KT_E_NOMEM, f->line, f->col, "out of memory");
		}
	}
	return KT_OK;
}

/*
 * Hand a finished value (new reference, consumed) of the given height to the
 * innermost open collection, or make it the document root.
 */
static enum kt_rc put_value(struct builder *b, json_t *v, int height, int line, int col,
			    bool plain_key)
{
	struct frame *f;
	enum kt_rc rc = KT_OK;

	if (!b->depth) {
		b->doc->root = v;
		b->doc->line = line + 1;
		return KT_OK;
	}
	f = &b->stack[b->depth - 1];
	if (f->height < height + 1)
		f->height = height + 1;
	if (!f->is_map) {
		if (f->item_lines && yaml_doc_item_line(b->doc, line + 1)) {
			json_decref(v);
			return fail(b, KT_E_NOMEM, line, col, "out of memory");
		}
		if (json_array_append_new(f->node, v))
			return fail(b, KT_E_NOMEM, line, col, "out of memory");
		return KT_OK;
	}
	if (!f->have_key) {
		/* this value is a key */
		rc = key_text(b, v, line, col, &f->key, &f->key_len);
		/* only a plain << merges; a quoted one is an ordinary key */
		f->key_merge = plain_key && !b->json_mode && json_is_string(v) && f->key_len == 2 &&
			       !memcmp(f->key, "<<", 2);
		json_decref(v);
		if (rc)
			return rc;
		f->have_key = true;
		f->key_line = line;
		f->key_col = col;
		return KT_OK;
	}
	if (f->key_merge) {
		rc = take_merge(b, f, v, line, col);
		json_decref(v);
	} else if (json_object_getn(f->node, f->key, f->key_len)) {
		json_decref(v);
		rc = fail(b, KT_E_PARSE, f->key_line, f->key_col, "duplicate key '%.*s'",
			  (int)(f->key_len > 128 ? 128 : f->key_len), f->key);
	} else if (json_object_setn_new(f->node, f->key, f->key_len, v)) {
		rc = fail(b, KT_E_NOMEM, line, col, "out of memory");
	}
	free(f->key);
	f->key = NULL;
	f->have_key = false;
	return rc;
}

static enum kt_rc open_collection(struct builder *b, struct fy_event *ev, bool is_map)
{
	struct fy_token *anchor = is_map ? ev->mapping_start.anchor : ev->sequence_start.anchor;
	struct fy_token *tag = is_map ? ev->mapping_start.tag : ev->sequence_start.tag;
	struct frame *f, *parent = b->depth ? &b->stack[b->depth - 1] : NULL;
	int line, col;
	enum kt_rc rc;

	mark_of(ev, &line, &col);
	if (parent && parent->is_map && !parent->have_key)
		return fail(b, KT_E_PARSE, line, col, "mapping keys must be scalars");
	if (b->depth >= KT_MANIFEST_MAX_DEPTH)
		return fail(b, KT_E_PARSE, line, col, "nesting deeper than %d levels",
			    KT_MANIFEST_MAX_DEPTH);
	if (tag) {
		size_t tn = 0;
		const char *t = fy_token_get_text(tag, &tn);
		const char *want = is_map ? TAG_PREFIX "map" : TAG_PREFIX "seq";

		if (!t || !((tn == 1 && t[0] == '!') || (tn == strlen(want) && !memcmp(t, want, tn))))
			return fail(b, KT_E_PARSE, line, col, "unsupported tag '%.*s'",
				    (int)(tn > 64 ? 64 : tn), t ? t : "");
	}
	rc = count_node(b, 1, line, col);
	if (rc)
		return rc;
	f = &b->stack[b->depth];
	memset(f, 0, sizeof(*f));
	f->is_map = is_map;
	f->node = is_map ? json_object() : json_array();
	f->anchor = token_strdup(anchor);
	f->nodes_start = b->nodes;
	f->line = line;
	f->col = col;
	/* the root's "items" list: remember where each item starts, for List kinds */
	f->item_lines = b->depth == 1 && !is_map && parent->is_map && parent->key_len == 5 &&
			!memcmp(parent->key, "items", 5);
	b->depth++;
	if (!f->node || (anchor && !f->anchor))
		return fail(b, KT_E_NOMEM, line, col, "out of memory");
	return KT_OK;
}

static void frame_release(struct frame *f)
{
	json_decref(f->node);
	json_decref(f->merges);
	free(f->key);
	free(f->anchor);
	memset(f, 0, sizeof(*f));
}

static enum kt_rc close_collection(struct builder *b)
{
	struct frame *f = &b->stack[b->depth - 1];
	json_t *node = f->node;
	int height = f->height ? f->height : 1, line = f->line, col = f->col;
	enum kt_rc rc = KT_OK;

	if (f->merges)
		rc = apply_merges(b, f);
	if (!rc && f->anchor)
		rc = add_anchor(b, f->anchor, node, b->nodes - f->nodes_start, height);
	f->node = NULL;
	frame_release(f);
	b->depth--;
	if (rc) {
		json_decref(node);
		return rc;
	}
	return put_value(b, node, height, line, col, false);
}

static enum kt_rc on_alias(struct builder *b, struct fy_event *ev)
{
	size_t n = 0;
	const char *name = fy_token_get_text(ev->alias.anchor, &n);
	json_t *rec = NULL, *copy;
	char key[256];
	int line, col, height;
	enum kt_rc rc;

	mark_of(ev, &line, &col);
	if (name && n < sizeof(key)) {
		memcpy(key, name, n);
		key[n] = '\0';
		rec = json_object_get(b->anchors, key);
	}
	if (!rec)
		return fail(b, KT_E_PARSE, line, col, "undefined alias '*%.*s'", (int)(n > 64 ? 64 : n),
			    name ? name : "");
	height = (int)json_integer_value(json_array_get(rec, 2));
	if (b->depth + height > KT_MANIFEST_MAX_DEPTH)
		return fail(b, KT_E_PARSE, line, col, "nesting deeper than %d levels",
			    KT_MANIFEST_MAX_DEPTH);
	rc = count_node(b, (size_t)json_integer_value(json_array_get(rec, 1)), line, col);
	if (rc)
		return rc;
	copy = json_deep_copy(json_array_get(rec, 0));
	if (!copy)
		return fail(b, KT_E_NOMEM, line, col, "out of memory");
	return put_value(b, copy, height, line, col, false);
}

static enum kt_rc on_scalar(struct builder *b, struct fy_event *ev)
{
	json_t *v = NULL;
	int line, col;
	enum kt_rc rc;
	char *anchor;

	mark_of(ev, &line, &col);
	rc = count_node(b, 1, line, col);
	if (rc)
		return rc;
	rc = scalar_value(b, ev, &v);
	if (rc)
		return rc;
	if (ev->scalar.anchor) {
		anchor = token_strdup(ev->scalar.anchor);
		rc = anchor ? add_anchor(b, anchor, v, 1, 0) : fail(b, KT_E_NOMEM, line, col, "out of memory");
		free(anchor);
		if (rc) {
			json_decref(v);
			return rc;
		}
	}
	return put_value(b, v, 0, line, col,
			 fy_token_scalar_style(ev->scalar.value) == FYSS_PLAIN && !ev->scalar.tag);
}

static void builder_reset(struct builder *b)
{
	while (b->depth > 0)
		frame_release(&b->stack[--b->depth]);
	json_object_clear(b->anchors);
	b->nodes = 0;
}

/* The first error libfyaml collected, as our error. */
static enum kt_rc parser_error(struct builder *b, struct fy_diag *diag)
{
	struct fy_diag_error *de;
	void *it = NULL;
	char where[256];

	while ((de = fy_diag_errors_iterate(diag, &it))) {
		if (de->type < FYET_ERROR)
			continue;
		snprintf(where, sizeof(where), "%s:%d:%d", b->name, de->line, de->column);
		return kt_err_at(b->err, KT_E_PARSE, where, "%s", de->msg ? de->msg : "invalid YAML");
	}
	return kt_err_at(b->err, KT_E_PARSE, b->name, "invalid YAML");
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

static enum kt_rc screen_error(struct builder *b, const char *buf, size_t off)
{
	int line = 0, col = 0;
	size_t i;

	for (i = 0; i < off; i++) {
		if (buf[i] == '\n')
			line++, col = 0;
		else if (((unsigned char)buf[i] & 0xc0) != 0x80)
			col++;
	}
	return fail(b, KT_E_PARSE, line, col,
		    "byte 0x%02x is not printable UTF-8 (YAML and JSON text must be)",
		    (unsigned char)buf[off]);
}

enum kt_rc yaml_parse_stream(const char *name, const char *buf, size_t len, bool json_mode,
			     enum kt_rc (*on_doc)(void *ctx, struct yaml_doc *doc), void *ctx,
			     struct kt_err *err)
{
	struct builder b = { .name = name, .buf = buf, .len = len, .json_mode = json_mode, .err = err };
	struct fy_diag_cfg dcfg;
	struct fy_diag *diag = NULL;
	struct fy_parse_cfg cfg;
	struct fy_parser *p = NULL;
	struct yaml_doc doc;
	struct fy_event *ev;
	enum kt_rc rc = KT_OK;
	size_t bad;

	memset(&doc, 0, sizeof(doc));
	b.doc = &doc;
	bad = screen_input((const unsigned char *)buf, len);
	if (bad < len)
		return screen_error(&b, buf, bad);
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.level = FYET_ERROR;
	diag = fy_diag_create(&dcfg);
	b.anchors = json_object();
	if (!diag || !b.anchors) {
		rc = kt_err_set(err, KT_E_NOMEM, "out of memory");
		goto out;
	}
	fy_diag_set_collect_errors(diag, true);
	memset(&cfg, 0, sizeof(cfg));
	cfg.flags = FYPCF_QUIET | (json_mode ? FYPCF_JSON_FORCE : FYPCF_JSON_NONE);
	cfg.diag = diag;
	p = fy_parser_create(&cfg);
	if (!p || fy_parser_set_string(p, buf, len)) {
		rc = kt_err_set(err, KT_E_NOMEM, "out of memory");
		goto out;
	}
	while (!rc && (ev = fy_parser_parse(p))) {
		switch (ev->type) {
		case FYET_DOCUMENT_START:
			builder_reset(&b);
			yaml_doc_reset(&doc);
			break;
		case FYET_DOCUMENT_END:
			rc = on_doc(ctx, &doc);
			yaml_doc_reset(&doc);
			doc.index++;
			break;
		case FYET_MAPPING_START:
		case FYET_SEQUENCE_START:
			rc = open_collection(&b, ev, ev->type == FYET_MAPPING_START);
			break;
		case FYET_MAPPING_END:
		case FYET_SEQUENCE_END:
			if (b.depth > 0)
				rc = close_collection(&b);
			break;
		case FYET_SCALAR:
			rc = on_scalar(&b, ev);
			break;
		case FYET_ALIAS:
			rc = on_alias(&b, ev);
			break;
		default:
			break;
		}
		fy_parser_event_free(p, ev);
	}
	if (!rc && fy_parser_get_stream_error(p))
		rc = parser_error(&b, diag);
out:
	builder_reset(&b);
	yaml_doc_reset(&doc);
	free(doc.item_lines);
	json_decref(b.anchors);
	fy_parser_destroy(p);
	if (diag)
		fy_diag_destroy(diag);
	return rc;
}
