/*
 * read.c: libfyaml's event stream -> a tree of kt_ynode with line:col.
 *
 * Why events and not libfyaml's document tree: the 0.7 API exposes no
 * position for mapping and sequence nodes, its document builder stops at
 * the first duplicate key, and it would expand aliases with no budget (the
 * "billion laughs" file).  Building our own small tree from events gives
 * every node its mark, lets us report every duplicate key, bounds depth and
 * alias expansion ourselves, and costs one pass.
 *
 * Aliases are not copied: an alias is a second pointer to the anchored
 * node, and each document's weight (the nodes reachable with aliases
 * followed) is capped, so a bomb is refused in linear time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libfyaml.h>
#include "kt/yaml.h"

#define DEFAULT_DEPTH 64
#define DEFAULT_WEIGHT (4u << 20)

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
	const struct kt_yaml_reader *r;
	struct kt_arena *a;
	struct frame *st;
	size_t depth, st_cap, max_depth, max_weight;
	struct anchor *tab; /* open addressing, power-of-two size; one document's */
	size_t tab_n, tab_cap;
	struct kt_ynode *root;
	size_t total;  /* this document's weight so far (saturating) */
	int line, col; /* last known position */
	const char *input;
	size_t input_len;
	enum kt_rc cb_rc; /* what a callback said to stop with */
	bool invalid, nomem, stop, heavy;
};

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

/* Anchors name nodes of their own document only. */
static void anchors_reset(struct builder *b)
{
	if (b->tab_n)
		memset(b->tab, 0, b->tab_cap * sizeof(*b->tab));
	b->tab_n = 0;
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

static void problem(struct builder *b, enum kt_yproblem_code code, int line, int col,
		    const char *text, size_t len, int first_line)
{
	struct kt_yproblem p = { code, line, col, text, len, first_line, b->root };
	enum kt_rc rc;

	b->invalid = true;
	if (!b->r->problem)
		return;
	if (!p.root && b->depth)
		p.root = b->st[0].node;
	rc = b->r->problem(b->r->ctx, &p);
	if (rc) {
		b->cb_rc = rc;
		b->stop = true;
	}
}

static void add_weight(size_t *to, size_t w, size_t max)
{
	*to += w;
	if (*to > max)
		*to = max + 1;
}

/* Count n more nodes against the document's budget. */
static void spend(struct builder *b, size_t n)
{
	add_weight(&b->total, n, b->max_weight);
	if (b->total > b->max_weight && !b->heavy) {
		b->heavy = true;
		problem(b, KT_YP_WEIGHT, b->line, b->col, NULL, 0, 0);
	}
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
	add_weight(&f->node->weight, n->weight, b->max_weight);
	if (f->node->height < n->height + 1)
		f->node->height = n->height + 1;
}

static const char yaml_str[] = "tag:yaml.org,2002:str";

static struct kt_ynode *node_new(struct builder *b, unsigned char kind, struct fy_event *ev,
				 struct fy_token *tag)
{
	struct kt_ynode *n = kt_arena_alloc(b->a, sizeof(*n));
	const char *t;
	size_t len = 0;

	if (!n) {
		b->nomem = true;
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->weight = 1;
	n->height = kind != KT_Y_SCALAR;
	mark(b, ev, n);
	t = tag ? fy_token_get_text(tag, &len) : NULL;
	if (t) {
		n->tag = kt_arena_strndup(b->a, t, len);
		if (!n->tag) {
			b->nomem = true;
			return NULL;
		}
		n->tag_len = len;
		n->str_tag = (len == 1 && t[0] == '!') ||
			     (len == sizeof(yaml_str) - 1 && !memcmp(t, yaml_str, len));
	}
	spend(b, 1);
	if (b->r->opened && !b->stop) {
		enum kt_rc rc = b->r->opened(b->r->ctx, n);

		if (rc) {
			b->cb_rc = rc;
			b->stop = true;
		}
	}
	return n;
}

/*
 * The text of a single-quoted scalar, decoded here: libfyaml 0.7.12 leaks
 * its chunk buffer and garbles the text when it formats several escaped
 * quotes in a row ('a''''b' comes back as "a'''"), found by fuzzing.  The
 * rules are short: '' is one quote; a line break between lines folds to a
 * space, n breaks to n-1 newlines; white space around a break goes.
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
				if (raw[i] == '\n' ||
				    (raw[i] == '\r' && (i + 1 >= n || raw[i + 1] != '\n')))
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
 * A scalar's text.  Most scalars are one line with no escapes, and for
 * those the source bytes are the text: taking them directly skips
 * libfyaml's formatting, a fifth of the load time of a large tenants file.
 * Single-quoted scalars we decode ourselves (above); the rest libfyaml
 * formats.
 */
static const char *scalar_text(struct builder *b, struct fy_token *tok, size_t *len)
{
	const struct fy_mark *s = fy_token_start_mark(tok), *e = fy_token_end_mark(tok);
	enum fy_scalar_style style = fy_token_scalar_style(tok);
	const char *raw;
	size_t n;

	if (!s || !e || e->input_pos < s->input_pos || e->input_pos > b->input_len)
		return style == FYSS_SINGLE_QUOTED ? NULL : fy_token_get_text(tok, len);
	raw = b->input + s->input_pos;
	n = e->input_pos - s->input_pos;
	if (!memchr(raw, '\n', n) && !memchr(raw, '\r', n) &&
	    (style == FYSS_PLAIN || (style == FYSS_DOUBLE_QUOTED && !memchr(raw, '\\', n)) ||
	     (style == FYSS_SINGLE_QUOTED && !memchr(raw, '\'', n)))) {
		*len = n;
		return raw;
	}
	if (style == FYSS_SINGLE_QUOTED)
		return single_quoted(b, raw, n, len);
	return fy_token_get_text(tok, len);
}

static void on_scalar(struct builder *b, struct fy_event *ev)
{
	struct kt_ynode *n = node_new(b, KT_Y_SCALAR, ev, ev->scalar.tag);
	const char *text;
	size_t len = 0;

	if (!n)
		return;
	n->complete = true;
	text = scalar_text(b, ev->scalar.value, &len);
	if (!text)
		len = 0;
	if (b->r->max_scalar && len > b->r->max_scalar) {
		problem(b, KT_YP_SCALAR_LEN, n->line, n->col, NULL, 0, 0);
		len = 0;
	}
	n->u.s = kt_arena_strndup(b->a, text ? text : "", len);
	if (!n->u.s) {
		b->nomem = true;
		return;
	}
	n->n = len;
	n->quoted = fy_token_scalar_style(ev->scalar.value) != FYSS_PLAIN;
	n->plain = !n->quoted && !n->str_tag;
	anchor_set(b, ev->scalar.anchor, n);
	attach(b, n);
}

static void on_alias(struct builder *b, struct fy_event *ev)
{
	struct anchor *slot = NULL;
	const char *name;
	size_t len = 0;
	struct kt_ynode *n;

	mark(b, ev, NULL);
	name = fy_token_get_text(ev->alias.anchor, &len);
	if (name && b->tab_cap)
		slot = anchor_slot(b, name, len);
	if (slot && slot->name && slot->node->complete) {
		if (b->depth + (size_t)slot->node->height > b->max_depth) {
			problem(b, KT_YP_DEPTH, b->line, b->col, NULL, 0, 0);
			b->stop = true;
			return;
		}
		spend(b, slot->node->weight);
		attach(b, slot->node);
		return;
	}
	problem(b, slot && slot->name ? KT_YP_ALIAS_CYCLE : KT_YP_NO_ANCHOR, b->line, b->col,
		name ? name : "", name ? len : 0, 0);
	/* keep the shape of the tree: an empty scalar stands in */
	n = node_new(b, KT_Y_SCALAR, ev, NULL);
	if (!n)
		return;
	n->u.s = "";
	n->plain = true;
	n->complete = true;
	attach(b, n);
}

static void on_start(struct builder *b, struct fy_event *ev, unsigned char kind)
{
	struct fy_token *anchor, *tag;
	struct kt_ynode *n;

	if (kind == KT_Y_MAP) {
		anchor = ev->mapping_start.anchor;
		tag = ev->mapping_start.tag;
	} else {
		anchor = ev->sequence_start.anchor;
		tag = ev->sequence_start.tag;
	}
	n = node_new(b, kind, ev, tag);
	if (!n || b->stop)
		return;
	anchor_set(b, anchor, n);
	if (b->depth >= b->max_depth) {
		problem(b, KT_YP_DEPTH, n->line, n->col, NULL, 0, 0);
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
	later->dup = true;
	problem(b, KT_YP_DUP_KEY, later->key->line, later->key->col, later->key->u.s, later->key->n,
		first->line);
}

/* Every repeated scalar key is reported; the first one wins. */
static void find_dups(struct builder *b, struct kt_ynode *map)
{
	struct kt_ypair *p = map->u.pairs;
	struct keyref *r;
	size_t i, j, n = map->n;

	if (n < 2 || b->r->keys_by_value)
		return;
	if (n <= 16) {
		for (i = 1; i < n && !b->stop; i++) {
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
	for (i = 0; i < j && !b->stop;) {
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

static void on_document_end(struct builder *b, int index)
{
	struct kt_ynode *root = b->root && b->root->complete ? b->root : NULL;
	enum kt_rc rc = KT_OK;

	if (b->r->document)
		rc = b->r->document(b->r->ctx, root, index);
	if (rc) {
		b->cb_rc = rc;
		b->stop = true;
	}
	b->root = NULL;
	b->total = 0;
	b->heavy = false;
	anchors_reset(b);
}

static void syntax_errors(struct builder *b, struct fy_diag *diag)
{
	struct fy_diag_error *e;
	void *it = NULL;
	bool any = false;

	while (!b->stop && (e = fy_diag_errors_iterate(diag, &it))) {
		if (e->type < FYET_ERROR)
			continue;
		problem(b, KT_YP_SYNTAX, e->line > 0 ? e->line : b->line,
			e->column > 0 ? e->column : b->col, e->msg, e->msg ? strlen(e->msg) : 0, 0);
		any = true;
	}
	if (!any && !b->stop)
		problem(b, KT_YP_SYNTAX, b->line, b->col, NULL, 0, 0);
}

static void discard(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	(void)user;
	(void)buf;
	(void)len;
}

/*
 * The text must be UTF-8 without NUL bytes: libfyaml would otherwise guess
 * UTF-16 from a byte-order mark, or stop early, and report nothing useful;
 * and libfyaml 0.7.12 loops forever on invalid UTF-8 inside a "%" directive.
 * ASCII, nearly all of a YAML file, is skipped eight bytes at a time;
 * the position is worked out only when there is a problem.
 */
static bool utf8_problem(const unsigned char *s, size_t n, int *line, int *col, size_t *at)
{
	size_t i = 0, k, chars = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len;
		unsigned cp;
		uint64_t w;

		if (i + 8 <= n) {
			memcpy(&w, s + i, 8);
			/* no high bit and no zero byte in the word */
			if (!(w & 0x8080808080808080ull) &&
			    !((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull)) {
				i += 8;
				continue;
			}
		}
		len = c < 0x80             ? 1
		      : (c & 0xe0) == 0xc0 ? 2
		      : (c & 0xf0) == 0xe0 ? 3
		      : (c & 0xf8) == 0xf0 ? 4
					   : 0;
		if (!c || !len || i + len > n)
			break;
		cp = len == 1 ? c : len == 2 ? c & 0x1fu : len == 3 ? c & 0x0fu : c & 0x07u;
		for (k = 1; k < len && (s[i + k] & 0xc0) == 0x80; k++)
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		/* no truncated, overlong, surrogate or out-of-range sequences */
		if (k < len || (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
			break;
		i += len;
	}
	if (i >= n)
		return false;
	*at = i;
	*line = 1;
	for (k = 0; k < i; k++) {
		if (s[k] == '\n') {
			(*line)++;
			chars = 0;
		} else if ((s[k] & 0xc0) != 0x80) {
			chars++;
		}
	}
	*col = (int)chars + 1;
	return true;
}

enum kt_rc kt_yaml_read(const struct kt_yaml_reader *r, const char *text, size_t len,
			struct kt_arena *a)
{
	struct builder b = { .r = r, .a = a, .line = 1, .col = 1, .input = text, .input_len = len };
	struct fy_parse_cfg pcfg = { 0 };
	struct fy_diag_cfg dcfg;
	struct fy_diag *diag;
	struct fy_parser *fyp;
	struct fy_event *ev;
	enum kt_rc rc = KT_OK;
	bool syntax = false;
	int docs = 0;
	size_t i;

	b.max_depth = r->max_depth ? r->max_depth : DEFAULT_DEPTH;
	if (utf8_problem((const unsigned char *)text, len, &b.line, &b.col, &i)) {
		problem(&b, KT_YP_NOT_UTF8, b.line, b.col, text + i, 1, 0);
		return b.cb_rc ? b.cb_rc : KT_E_PARSE;
	}
	b.max_weight = r->max_weight ? r->max_weight : DEFAULT_WEIGHT;
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
		     (r->json ? FYPCF_JSON_FORCE : FYPCF_JSON_NONE);
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
			if (++docs > 1 && !r->stream) {
				problem(&b, KT_YP_SECOND_DOC, b.line, b.col, NULL, 0, 0);
				b.stop = true;
			}
			break;
		case FYET_DOCUMENT_END:
			on_document_end(&b, docs - 1);
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
	if (!b.nomem && !b.stop && fy_parser_get_stream_error(fyp)) {
		syntax = true;
		syntax_errors(&b, diag);
	}
	if (b.nomem)
		rc = KT_E_NOMEM;
	else if (b.cb_rc)
		rc = b.cb_rc;
	else if (syntax)
		rc = KT_E_PARSE;
	else if (b.invalid)
		rc = KT_E_INVALID;
	fy_parser_destroy(fyp);
	fy_diag_destroy(diag);
	for (i = 0; i < b.st_cap; i++)
		free(b.st[i].kids);
	free(b.st);
	free(b.tab);
	return rc;
}

bool kt_ynode_is(const struct kt_ynode *n, const char *word)
{
	return n->kind == KT_Y_SCALAR && n->n == strlen(word) && !memcmp(n->u.s, word, n->n);
}
