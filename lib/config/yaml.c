/*
 * yaml.c: libfyaml's event stream -> a tree of kt_ynode with line:col.
 *
 * Why events and not libfyaml's document tree: the 0.7 API exposes no
 * position for mapping and sequence nodes, and its document builder stops
 * at the first duplicate key.  Building our own small tree from events
 * gives every node its mark, lets us report every duplicate key, bounds
 * depth and alias expansion ourselves, and costs one pass.
 *
 * Aliases are not copied: an alias is a second pointer to the anchored
 * node, and each node's weight (the nodes reachable from it with aliases
 * followed) is capped, so "billion laughs" files are refused in linear time.
 */
#include <stdlib.h>
#include <string.h>
#include <libfyaml.h>
#include "internal.h"

struct frame {
	struct kt_ynode *node;
	struct kt_ynode **kids; /* map: key, value, key, value... */
	size_t n, cap;
};

struct anchor {
	const char *name; /* arena */
	size_t len;
	struct kt_ynode *node;
};

struct builder {
	struct kt_arena *a;
	struct kt_diag_sink *sink;
	struct frame *st;
	size_t depth, st_cap;
	struct anchor *tab; /* open addressing, power-of-two size */
	size_t tab_n, tab_cap;
	struct kt_ynode *root;
	int line, col;      /* last known position */
	const char *input;  /* the text being parsed */
	size_t input_len;
	bool invalid, nomem, stop;
};

static const char yaml_tag[] = "tag:yaml.org,2002:";

static size_t hash(const char *s, size_t n)
{
	size_t h = 1469598103934665603ull & (size_t)-1;

	while (n--)
		h = (h ^ (unsigned char)*s++) * (size_t)1099511628211ull;
	return h;
}

static struct anchor *anchor_slot(struct builder *b, const char *name, size_t len)
{
	size_t i = hash(name, len) & (b->tab_cap - 1);

	while (b->tab[i].name && (b->tab[i].len != len || memcmp(b->tab[i].name, name, len)))
		i = (i + 1) & (b->tab_cap - 1);
	return &b->tab[i];
}

static bool anchor_grow(struct builder *b)
{
	struct anchor *old = b->tab;
	size_t i, old_cap = b->tab_cap;

	b->tab_cap = old_cap ? old_cap * 2 : 64;
	b->tab = calloc(b->tab_cap, sizeof(*b->tab));
	if (!b->tab) {
		b->tab = old;
		b->tab_cap = old_cap;
		return false;
	}
	for (i = 0; i < old_cap; i++)
		if (old[i].name)
			*anchor_slot(b, old[i].name, old[i].len) = old[i];
	free(old);
	return true;
}

/* A later anchor of the same name replaces the earlier one, as YAML says. */
static void anchor_set(struct builder *b, struct fy_token *tok, struct kt_ynode *n)
{
	struct anchor *slot;
	const char *name;
	size_t len;

	if (!tok)
		return;
	name = fy_token_get_text(tok, &len);
	if (!name)
		return;
	if ((b->tab_n + 1) * 2 > b->tab_cap && !anchor_grow(b)) {
		b->nomem = true;
		return;
	}
	slot = anchor_slot(b, name, len);
	if (!slot->name) {
		slot->name = kt_arena_strndup(b->a, name, len);
		if (!slot->name) {
			b->nomem = true;
			return;
		}
		slot->len = len;
		b->tab_n++;
	}
	slot->node = n;
}

static void mark(struct builder *b, struct fy_event *ev, struct kt_ynode *n)
{
	const struct fy_mark *m = fy_event_start_mark(ev);

	/* an empty scalar has no mark of its own: it sits where we are */
	if (m && m->line >= 0) {
		b->line = m->line + 1;
		b->col = m->column + 1;
	}
	if (n) {
		n->line = b->line;
		n->col = b->col;
	}
}

static void problem(struct builder *b, int line, int col, const char *fmt, const char *arg)
{
	kt_diag_add(b->sink, line, col, fmt, arg);
	b->invalid = true;
}

/* The tag, if any, must be one the core schema knows; !!str makes a string. */
static bool check_tag(struct builder *b, struct fy_token *tag, struct kt_ynode *n)
{
	const char *t;
	size_t len;
	char shown[64];

	if (!tag)
		return true;
	t = fy_token_get_text(tag, &len);
	if (!t)
		return true;
	if (len == 1 && t[0] == '!') {
		n->str_tag = true;
		return true;
	}
	if (len > sizeof(yaml_tag) - 1 && !memcmp(t, yaml_tag, sizeof(yaml_tag) - 1)) {
		const char *s = t + sizeof(yaml_tag) - 1;
		size_t sl = len - (sizeof(yaml_tag) - 1);

		if (sl == 3 && !memcmp(s, "str", 3)) {
			n->str_tag = true;
			return true;
		}
		if ((sl == 3 && (!memcmp(s, "map", 3) || !memcmp(s, "seq", 3) ||
				 !memcmp(s, "int", 3))) ||
		    (sl == 4 && (!memcmp(s, "bool", 4) || !memcmp(s, "null", 4))) ||
		    (sl == 5 && !memcmp(s, "float", 5)))
			return true;
	}
	snprintf(shown, sizeof(shown), "%.*s", len > 48 ? 48 : (int)len, t);
	for (char *p = shown; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	problem(b, n->line, n->col, "unsupported tag '%s'", shown);
	return false;
}

static void add_weight(struct kt_ynode *parent, const struct kt_ynode *child)
{
	parent->weight += child->weight;
	if (parent->weight > KT_Y_MAX_WEIGHT)
		parent->weight = KT_Y_MAX_WEIGHT + 1;
}

static void attach(struct builder *b, struct kt_ynode *n)
{
	struct frame *f;

	if (!b->depth) {
		b->root = n;
		return;
	}
	f = &b->st[b->depth - 1];
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct kt_ynode **k = realloc(f->kids, cap * sizeof(*k));

		if (!k) {
			b->nomem = true;
			return;
		}
		f->kids = k;
		f->cap = cap;
	}
	f->kids[f->n++] = n;
	add_weight(f->node, n);
}

static struct kt_ynode *node_new(struct builder *b, unsigned char kind, struct fy_event *ev)
{
	struct kt_ynode *n = kt_arena_alloc(b->a, sizeof(*n));

	if (!n) {
		b->nomem = true;
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->weight = 1;
	mark(b, ev, n);
	return n;
}

/*
 * The text of a single-quoted scalar, decoded here: libfyaml 0.7.12 leaks
 * its chunk buffer when it formats several escaped quotes in a row
 * (runs like 'x''''''''y'), found by fuzzing.  The rules are short: '' is
 * one quote; a line break between lines folds to a space, n breaks to n-1
 * newlines; white space around a break goes.
 */
static char *single_quoted(struct builder *b, const char *raw, size_t n, size_t *len)
{
	char *out = kt_arena_alloc(b->a, n + 1);
	size_t i = 0, o = 0;

	if (!out)
		return NULL;
	while (i < n) {
		if (raw[i] == '\'' && i + 1 < n && raw[i + 1] == '\'') {
			out[o++] = '\'';
			i += 2;
		} else if (raw[i] == '\n' || raw[i] == '\r') {
			size_t breaks = 0;

			while (o && (out[o - 1] == ' ' || out[o - 1] == '\t'))
				o--;
			while (i < n && (raw[i] == '\n' || raw[i] == '\r' || raw[i] == ' ' ||
					 raw[i] == '\t')) {
				if (raw[i] == '\n' || (raw[i] == '\r' && (i + 1 >= n || raw[i + 1] != '\n')))
					breaks++;
				i++;
			}
			if (breaks == 1)
				out[o++] = ' ';
			else
				for (; breaks > 1; breaks--)
					out[o++] = '\n';
		} else {
			out[o++] = raw[i++];
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

/*
 * A scalar's text.  Most scalars of a tenants file are one line with no
 * escapes, and for those the source bytes are the text: taking them
 * directly skips libfyaml's formatting, a fifth of the load time of a large
 * file.  (Checked against fy_token_get_text on every scalar of the fuzz
 * corpus.)  Everything else is formatted by libfyaml, bar the case above.
 */
static const char *scalar_text(struct builder *b, struct fy_token *tok, const char *input,
			       size_t *len)
{
	const struct fy_mark *s = fy_token_start_mark(tok), *e = fy_token_end_mark(tok);
	enum fy_scalar_style style = fy_token_scalar_style(tok);
	const char *raw;
	size_t n;

	if (!s || !e || e->input_pos < s->input_pos || e->input_pos > b->input_len)
		return fy_token_get_text(tok, len);
	raw = input + s->input_pos;
	n = e->input_pos - s->input_pos;
	if (!memchr(raw, '\n', n) && !memchr(raw, '\r', n) &&
	    (style == FYSS_PLAIN || (style == FYSS_DOUBLE_QUOTED && !memchr(raw, '\\', n)) ||
	     (style == FYSS_SINGLE_QUOTED && !memchr(raw, '\'', n)))) {
		*len = n;
		return raw;
	}
	if (style == FYSS_SINGLE_QUOTED && memmem(raw, n, "''''", 4))
		return single_quoted(b, raw, n, len);
	return fy_token_get_text(tok, len);
}

static void on_scalar(struct builder *b, struct fy_event *ev)
{
	struct kt_ynode *n = node_new(b, KT_Y_SCALAR, ev);
	const char *text;
	size_t len = 0;

	if (!n)
		return;
	n->complete = true;
	text = scalar_text(b, ev->scalar.value, b->input, &len);
	if (!text)
		len = 0;
	if (len > KT_Y_MAX_SCALAR) {
		kt_diag_add(b->sink, n->line, n->col, "scalar longer than %u bytes",
			    KT_Y_MAX_SCALAR);
		b->invalid = true;
		len = 0;
	}
	n->u.s = kt_arena_strndup(b->a, text ? text : "", len);
	if (!n->u.s) {
		b->nomem = true;
		return;
	}
	n->n = len;
	n->plain = fy_token_scalar_style(ev->scalar.value) == FYSS_PLAIN;
	check_tag(b, ev->scalar.tag, n);
	if (n->str_tag)
		n->plain = false;
	anchor_set(b, ev->scalar.anchor, n);
	attach(b, n);
}

static void on_alias(struct builder *b, struct fy_event *ev)
{
	struct anchor *slot = NULL;
	const char *name;
	size_t len = 0;
	char shown[72];
	struct kt_ynode *n;

	mark(b, ev, NULL);
	name = fy_token_get_text(ev->alias.anchor, &len);
	if (name && b->tab_cap)
		slot = anchor_slot(b, name, len);
	if (slot && slot->name && slot->node->complete) {
		attach(b, slot->node);
		return;
	}
	snprintf(shown, sizeof(shown), "%.*s", len > 64 ? 64 : (int)len, name ? name : "");
	for (char *p = shown; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	problem(b, b->line, b->col,
		slot && slot->name ? "alias '*%s' refers to a node that contains it"
				   : "alias '*%s' has no anchor before it",
		shown);
	/* keep the shape of the tree: an empty scalar stands in */
	n = node_new(b, KT_Y_SCALAR, ev);
	if (!n)
		return;
	n->u.s = "";
	n->plain = true;
	n->complete = true;
	attach(b, n);
}

static void on_start(struct builder *b, struct fy_event *ev, unsigned char kind)
{
	struct kt_ynode *n = node_new(b, kind, ev);
	struct fy_token *anchor, *tag;

	if (!n)
		return;
	if (kind == KT_Y_MAP) {
		anchor = ev->mapping_start.anchor;
		tag = ev->mapping_start.tag;
	} else {
		anchor = ev->sequence_start.anchor;
		tag = ev->sequence_start.tag;
	}
	check_tag(b, tag, n);
	if (n->str_tag) {
		problem(b, n->line, n->col, "%s", "a mapping or list cannot be tagged '!!str'");
		n->str_tag = false;
	}
	anchor_set(b, anchor, n);
	if (b->depth >= KT_Y_MAX_DEPTH) {
		kt_diag_add(b->sink, n->line, n->col, "nesting deeper than %d levels",
			    KT_Y_MAX_DEPTH);
		b->invalid = true;
		b->stop = true;
		return;
	}
	if (b->depth == b->st_cap) {
		size_t cap = b->st_cap ? b->st_cap * 2 : 8;
		struct frame *st = realloc(b->st, cap * sizeof(*st));

		if (!st) {
			b->nomem = true;
			return;
		}
		memset(st + b->st_cap, 0, (cap - b->st_cap) * sizeof(*st));
		b->st = st;
		b->st_cap = cap;
	}
	b->st[b->depth].node = n;
	b->st[b->depth].n = 0;
	b->depth++;
}

static int key_cmp(const struct kt_ynode *a, const struct kt_ynode *b)
{
	size_t n = a->n < b->n ? a->n : b->n;
	int c = memcmp(a->u.s, b->u.s, n);

	return c ? c : (a->n > b->n) - (a->n < b->n);
}

/* qsort has no context argument in C11: sort (key, index) pairs instead */
struct keyref {
	const struct kt_ynode *key;
	size_t i;
};

static int keyref_cmp(const void *x, const void *y)
{
	const struct keyref *a = x, *b = y;
	int c = key_cmp(a->key, b->key);

	return c ? c : (a->i > b->i) - (a->i < b->i);
}

static void report_dup(struct builder *b, struct kt_ypair *later, const struct kt_ynode *first)
{
	char shown[72];
	size_t i, n = later->key->n > 64 ? 64 : later->key->n;

	later->dup = true;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)later->key->u.s[i];

		shown[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	shown[n] = '\0';
	kt_diag_add(b->sink, later->key->line, later->key->col,
		    "duplicate key '%s%s' (first defined at line %d)", shown,
		    later->key->n > 64 ? "..." : "", first->line);
	b->invalid = true;
}

/* Every repeated scalar key is reported; the first one wins. */
static void find_dups(struct builder *b, struct kt_ynode *map)
{
	struct kt_ypair *p = map->u.pairs;
	struct keyref *r;
	size_t i, j, n = map->n;

	if (n < 2)
		return;
	if (n <= 16) {
		for (i = 1; i < n; i++) {
			if (p[i].key->kind != KT_Y_SCALAR)
				continue;
			for (j = 0; j < i; j++)
				if (p[j].key->kind == KT_Y_SCALAR && !p[j].dup &&
				    !key_cmp(p[i].key, p[j].key)) {
					report_dup(b, &p[i], p[j].key);
					break;
				}
		}
		return;
	}
	r = malloc(n * sizeof(*r));
	if (!r) {
		b->nomem = true;
		return;
	}
	for (i = j = 0; i < n; i++)
		if (p[i].key->kind == KT_Y_SCALAR)
			r[j++] = (struct keyref){ p[i].key, i };
	qsort(r, j, sizeof(*r), keyref_cmp);
	/* sorted by (text, position): each run starts with the first definition */
	for (i = 0; i < j;) {
		size_t k = i + 1;

		while (k < j && !key_cmp(r[k].key, r[i].key)) {
			report_dup(b, &p[r[k].i], r[i].key);
			k++;
		}
		i = k;
	}
	free(r);
}

static void on_end(struct builder *b)
{
	struct frame *f;
	struct kt_ynode *n;
	size_t i;

	if (!b->depth)
		return;
	f = &b->st[--b->depth];
	n = f->node;
	if (n->kind == KT_Y_MAP) {
		n->n = f->n / 2;
		n->u.pairs = kt_arena_alloc(b->a, (n->n ? n->n : 1) * sizeof(*n->u.pairs));
		if (!n->u.pairs) {
			b->nomem = true;
			return;
		}
		for (i = 0; i < n->n; i++) {
			n->u.pairs[i].key = f->kids[2 * i];
			n->u.pairs[i].value = f->kids[2 * i + 1];
			n->u.pairs[i].dup = false;
		}
		find_dups(b, n);
	} else {
		n->n = f->n;
		n->u.items = kt_arena_alloc(b->a, (n->n ? n->n : 1) * sizeof(*n->u.items));
		if (!n->u.items) {
			b->nomem = true;
			return;
		}
		if (n->n)
			memcpy(n->u.items, f->kids, n->n * sizeof(*n->u.items));
	}
	n->complete = true;
	attach(b, n);
}

static void builder_release(struct builder *b)
{
	size_t i;

	for (i = 0; i < b->st_cap; i++)
		free(b->st[i].kids);
	free(b->st);
	free(b->tab);
}

static void collect_syntax_errors(struct builder *b, struct fy_diag *diag)
{
	struct fy_diag_error *e;
	void *it = NULL;
	bool any = false;

	while ((e = fy_diag_errors_iterate(diag, &it))) {
		if (e->type < FYET_ERROR)
			continue;
		kt_diag_add(b->sink, e->line > 0 ? e->line : b->line,
			    e->column > 0 ? e->column : b->col, "invalid YAML: %s",
			    e->msg ? e->msg : "syntax error");
		any = true;
	}
	if (!any)
		kt_diag_add(b->sink, b->line, b->col, "invalid YAML");
}

static void discard(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	(void)user;
	(void)buf;
	(void)len;
}

enum kt_rc kt_yaml_load(const char *text, size_t len, struct kt_arena *a,
			struct kt_diag_sink *sink, struct kt_ynode **root)
{
	struct builder b = { .a = a, .sink = sink, .line = 1, .col = 1, .input = text,
			     .input_len = len };
	struct fy_parse_cfg pcfg = { 0 };
	struct fy_diag_cfg dcfg;
	struct fy_diag *diag;
	struct fy_parser *fyp;
	struct fy_event *ev;
	enum kt_rc rc = KT_OK;
	int docs = 0;

	*root = NULL;
	/* libfyaml must never print: collect its errors and show them our way */
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = discard;
	dcfg.colorize = false;
	diag = fy_diag_create(&dcfg);
	if (!diag)
		return KT_E_NOMEM;
	fy_diag_set_collect_errors(diag, true);
	pcfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_DEFAULT_VERSION_1_2 |
		     FYPCF_JSON_NONE;
	pcfg.diag = diag;
	fyp = fy_parser_create(&pcfg);
	if (!fyp || fy_parser_set_string(fyp, text, len)) {
		if (fyp)
			fy_parser_destroy(fyp);
		fy_diag_destroy(diag);
		return KT_E_NOMEM;
	}
	while (!b.nomem && !b.stop && (ev = fy_parser_parse(fyp))) {
		switch (ev->type) {
		case FYET_DOCUMENT_START:
			mark(&b, ev, NULL);
			if (++docs > 1) {
				kt_diag_add(sink, b.line, b.col, "%s",
					    "a tenants file holds one YAML document; "
					    "this is a second one");
				b.invalid = true;
				b.stop = true;
			}
			break;
		case FYET_MAPPING_START:
			on_start(&b, ev, KT_Y_MAP);
			break;
		case FYET_SEQUENCE_START:
			on_start(&b, ev, KT_Y_SEQ);
			break;
		case FYET_MAPPING_END:
		case FYET_SEQUENCE_END:
			mark(&b, ev, NULL);
			on_end(&b);
			break;
		case FYET_SCALAR:
			on_scalar(&b, ev);
			break;
		case FYET_ALIAS:
			on_alias(&b, ev);
			break;
		default:
			break;
		}
		fy_parser_event_free(fyp, ev);
	}
	if (b.nomem) {
		rc = KT_E_NOMEM;
	} else if (!b.stop && fy_parser_get_stream_error(fyp)) {
		collect_syntax_errors(&b, diag);
		rc = KT_E_PARSE;
	} else {
		if (b.root && b.root->weight > KT_Y_MAX_WEIGHT) {
			kt_diag_add(sink, b.root->line, b.root->col,
				    "the file expands to more than %u nodes through aliases",
				    KT_Y_MAX_WEIGHT);
			b.invalid = true;
		}
		if (b.invalid)
			rc = KT_E_INVALID;
		if (!b.stop && b.root && b.root->complete)
			*root = b.root;
	}
	fy_parser_destroy(fyp);
	fy_diag_destroy(diag);
	builder_release(&b);
	return rc;
}

/* ------------------------------------------------ plain scalar resolution */

static bool is(const struct kt_ynode *n, const char *s)
{
	return n->n == strlen(s) && !memcmp(n->u.s, s, n->n);
}

bool kt_y_is_null(const struct kt_ynode *n)
{
	return n && n->kind == KT_Y_SCALAR && n->plain &&
	       (!n->n || is(n, "~") || is(n, "null") || is(n, "Null") || is(n, "NULL"));
}

bool kt_y_is_bool(const struct kt_ynode *n, bool *val)
{
	if (!n || n->kind != KT_Y_SCALAR || !n->plain)
		return false;
	if (is(n, "true") || is(n, "True") || is(n, "TRUE")) {
		*val = true;
		return true;
	}
	if (is(n, "false") || is(n, "False") || is(n, "FALSE")) {
		*val = false;
		return true;
	}
	return false;
}
