/*
 * t_yaml.c: the one YAML reader (lib/yaml) on its own: marks, anchors and
 * aliases, duplicate keys at any depth, the depth, weight and scalar
 * budgets, documents of a stream, and single-quoted text decoded without
 * libfyaml.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "kt/buf.h"
#include "kt/yaml.h"

struct got {
	struct kt_arena a;
	struct kt_ynode *root[4];
	int docs;
	struct kt_yproblem p[8];
	char text[8][80];
	int n;
	enum kt_rc stop_with; /* what problem() returns */
	enum kt_rc rc;
};

static enum kt_rc problem(void *ctx, const struct kt_yproblem *p)
{
	struct got *g = ctx;

	if (g->n < 8) {
		g->p[g->n] = *p;
		snprintf(g->text[g->n], sizeof(g->text[0]), "%.*s", (int)p->len,
			 p->text ? p->text : "");
		g->n++;
	}
	return g->stop_with;
}

static enum kt_rc document(void *ctx, struct kt_ynode *root, int index)
{
	struct got *g = ctx;

	assert_int_equal(index, g->docs);
	if (g->docs < 4)
		g->root[g->docs] = root;
	g->docs++;
	return KT_OK;
}

static void readr(struct got *g, struct kt_yaml_reader *r, const char *text)
{
	memset(g->root, 0, sizeof(g->root));
	g->docs = g->n = 0;
	r->ctx = g;
	r->problem = problem;
	r->document = document;
	g->rc = kt_yaml_read(r, text, strlen(text), &g->a);
}

static void read1(struct got *g, const char *text)
{
	struct kt_yaml_reader r = { 0 };

	readr(g, &r, text);
}

static const struct kt_ynode *get(const struct kt_ynode *map, const char *key)
{
	size_t i;

	assert_int_equal(map->kind, KT_Y_MAP);
	for (i = 0; i < map->n; i++)
		if (kt_ynode_is(map->u.pairs[i].key, key) && !map->u.pairs[i].dup)
			return map->u.pairs[i].value;
	fail_msg("no key '%s'", key);
	return NULL;
}

static void every_node_is_marked(void **state)
{
	struct got g = { 0 };
	const struct kt_ynode *r, *list, *m;

	(void)state;
	read1(&g, "# a comment\n"
		  "name: web\n"
		  "list:\n"
		  "  - one\n"
		  "  -   \"two\"\n"
		  "map: {k: v}\n"
		  "empty:\n");
	assert_int_equal(g.rc, KT_OK);
	r = g.root[0];
	assert_int_equal(r->kind, KT_Y_MAP);
	assert_int_equal(r->line, 2);
	assert_int_equal(r->col, 1);
	assert_int_equal(r->u.pairs[0].key->line, 2);
	assert_int_equal(get(r, "name")->col, 7);
	list = get(r, "list");
	assert_int_equal(list->kind, KT_Y_SEQ);
	assert_int_equal(list->line, 4);
	assert_int_equal(list->col, 3);
	assert_int_equal(list->u.items[1]->line, 5);
	assert_int_equal(list->u.items[1]->col, 8); /* libfyaml: a quoted scalar's text */
	assert_true(list->u.items[1]->quoted);
	assert_false(list->u.items[1]->plain);
	assert_true(list->u.items[0]->plain);
	m = get(r, "map");
	assert_int_equal(m->line, 6);
	assert_int_equal(m->col, 6);
	assert_int_equal(m->u.pairs[0].value->col, 10);
	/* an empty value is an empty plain scalar, at its key's line */
	assert_int_equal(get(r, "empty")->n, 0);
	assert_int_equal(get(r, "empty")->line, 7);
	assert_int_equal(r->height, 2);
	kt_arena_release(&g.a);
}

static void anchors_are_shared_not_copied(void **state)
{
	struct got g = { 0 };
	const struct kt_ynode *a, *b;

	(void)state;
	read1(&g, "a: &x [1, 2, 3]\nb: *x\nc: &x later\nd: *x\n");
	assert_int_equal(g.rc, KT_OK);
	a = get(g.root[0], "a");
	b = get(g.root[0], "b");
	assert_ptr_equal(a, b);
	assert_int_equal(a->weight, 4);
	/* a later anchor of the same name replaces the earlier one */
	assert_true(kt_ynode_is(get(g.root[0], "d"), "later"));
	/* root: itself, 4 keys, a's 4 nodes twice, 2 scalars */
	assert_int_equal(g.root[0]->weight, 1 + 4 + 4 + 4 + 2);
	kt_arena_release(&g.a);

	/* an alias to nothing, or to a node still open, is told by name and position */
	read1(&g, "a: *nope\nb: &self [1, *self]\n");
	assert_int_equal(g.rc, KT_E_INVALID);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.p[0].code, KT_YP_NO_ANCHOR);
	assert_string_equal(g.text[0], "nope");
	assert_int_equal(g.p[0].line, 1);
	assert_int_equal(g.p[0].col, 5); /* libfyaml: the alias's name */
	assert_int_equal(g.p[1].code, KT_YP_ALIAS_CYCLE);
	assert_string_equal(g.text[1], "self");
	assert_int_equal(g.p[1].line, 2);
	/* the tree keeps its shape: an empty scalar stands in */
	assert_non_null(g.root[0]);
	assert_int_equal(get(g.root[0], "a")->n, 0);
	kt_arena_release(&g.a);
}

static void duplicates_at_any_depth(void **state)
{
	struct got g = { 0 };
	struct kt_buf big = KT_BUF_INIT;
	struct kt_yaml_reader r = { 0 };
	int i;

	(void)state;
	read1(&g, "a:\n  b:\n    - c: 1\n      d: 2\n      c: 3\n  b: 4\n");
	assert_int_equal(g.rc, KT_E_INVALID);
	assert_int_equal(g.n, 2);
	/* the inner mapping closes first */
	assert_int_equal(g.p[0].code, KT_YP_DUP_KEY);
	assert_string_equal(g.text[0], "c");
	assert_int_equal(g.p[0].line, 5);
	assert_int_equal(g.p[0].col, 7);
	assert_int_equal(g.p[0].first_line, 3);
	assert_string_equal(g.text[1], "b");
	assert_int_equal(g.p[1].line, 6);
	assert_int_equal(g.p[1].first_line, 2);
	/* the first one wins; the later is marked */
	assert_true(g.root[0]->u.pairs[0].value->u.pairs[1].dup);
	kt_arena_release(&g.a);

	/* a large mapping (sorted, not pairwise): every repeat, with the first line */
	for (i = 0; i < 40; i++)
		kt_buf_addf(&big, "k%d: %d\n", i % 30, i);
	read1(&g, big.buf);
	assert_int_equal(g.rc, KT_E_INVALID);
	assert_int_equal(g.n, 8); /* 10 repeats, 8 kept by this test */
	for (i = 0; i < 8; i++) {
		assert_int_equal(g.p[i].code, KT_YP_DUP_KEY);
		assert_int_equal(g.p[i].first_line, g.p[i].line - 30);
	}
	kt_arena_release(&g.a);
	kt_buf_release(&big);

	/* quoting does not make another key; a caller resolving keys itself sees none */
	read1(&g, "a: 1\n'a': 2\n");
	assert_int_equal(g.n, 1);
	kt_arena_release(&g.a);
	r.keys_by_value = true;
	readr(&g, &r, "on: 1\n'on': 2\n");
	assert_int_equal(g.rc, KT_OK);
	assert_int_equal(g.n, 0);
	kt_arena_release(&g.a);
}

static void depth_is_bounded_aliases_included(void **state)
{
	struct got g = { 0 };
	struct kt_yaml_reader r = { .max_depth = 4 };

	(void)state;
	readr(&g, &r, "a: [[[x]]]\n");
	assert_int_equal(g.rc, KT_OK);
	kt_arena_release(&g.a);
	readr(&g, &r, "a: [[[[x]]]]\n");
	assert_int_equal(g.rc, KT_E_INVALID);
	assert_int_equal(g.p[0].code, KT_YP_DEPTH);
	assert_int_equal(g.p[0].col, 7);
	assert_int_equal(g.docs, 0); /* reading stops: no tree */
	kt_arena_release(&g.a);
	/* three levels under an anchor, used two levels down: five */
	readr(&g, &r, "a: &d [[[x]]]\nb: [*d]\n");
	assert_int_equal(g.rc, KT_E_INVALID);
	assert_int_equal(g.p[0].code, KT_YP_DEPTH);
	assert_int_equal(g.p[0].line, 2);
	kt_arena_release(&g.a);
	readr(&g, &r, "a: &d [[[x]]]\nb: *d\n");
	assert_int_equal(g.rc, KT_OK);
	kt_arena_release(&g.a);
}

static void alias_expansion_is_bounded(void **state)
{
	struct got g = { 0 };
	struct kt_yaml_reader r = { 0 };
	struct kt_buf b = KT_BUF_INIT;
	char prev = 'a';
	int i;

	(void)state;
	/* billion laughs: 9^9 nodes once expanded, read in linear time */
	kt_buf_adds(&b, "a: &a [x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 9; i++) {
		char cur = (char)('a' + i);

		kt_buf_addf(&b, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", cur, cur,
			    prev, prev, prev, prev, prev, prev, prev, prev, prev);
		prev = cur;
	}
	readr(&g, &r, b.buf);
	assert_int_equal(g.rc, KT_E_INVALID);
	assert_int_equal(g.n, 1); /* told once */
	assert_int_equal(g.p[0].code, KT_YP_WEIGHT);
	assert_non_null(g.p[0].root);
	assert_int_equal(g.p[0].root->line, 1);
	kt_arena_release(&g.a);
	/* a caller stops on it with its own code */
	g.stop_with = KT_E_LIMIT;
	readr(&g, &r, b.buf);
	assert_int_equal(g.rc, KT_E_LIMIT);
	assert_int_equal(g.docs, 0);
	kt_arena_release(&g.a);
	/* the budget is per document */
	g.stop_with = KT_OK;
	r.max_weight = 10;
	r.stream = true;
	readr(&g, &r, "[1, 2, 3, 4]\n---\n[1, 2, 3, 4]\n---\n[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n");
	assert_int_equal(g.docs, 3);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.p[0].line, 5);
	kt_arena_release(&g.a);
	kt_buf_release(&b);
}

static void documents_and_scalars(void **state)
{
	struct got g = { 0 };
	struct kt_yaml_reader r = { .max_scalar = 8 };
	const struct kt_ynode *n;

	(void)state;
	/* one document wanted: a second one stops the reading */
	readr(&g, &r, "a: 1\n---\nb: 2\n");
	assert_int_equal(g.rc, KT_E_INVALID);
	assert_int_equal(g.p[0].code, KT_YP_SECOND_DOC);
	assert_int_equal(g.p[0].line, 2);
	kt_arena_release(&g.a);
	/* a stream: each document in turn, an empty one as NULL */
	r.stream = true;
	readr(&g, &r, "a: 1\n---\n---\n- b\n");
	assert_int_equal(g.rc, KT_OK);
	assert_int_equal(g.docs, 3);
	assert_int_equal(g.root[2]->kind, KT_Y_SEQ);
	assert_int_equal(g.root[2]->line, 4);
	kt_arena_release(&g.a);
	/* a scalar over the budget is told and reads as "" */
	readr(&g, &r, "a: 123456789\nb: '12345678'\n");
	assert_int_equal(g.rc, KT_E_INVALID);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.p[0].code, KT_YP_SCALAR_LEN);
	assert_int_equal(get(g.root[0], "a")->n, 0);
	assert_int_equal(get(g.root[0], "b")->n, 8);
	kt_arena_release(&g.a);
	/* single quotes decoded by us: runs of '' and line folding */
	read1(&g,
	      "a: 'x''''''''y'\nb: 'one\n   two  \n\n  three'\nc: !!str 5\nd: ! 6\ne: !!int 7\n");
	assert_int_equal(g.rc, KT_OK);
	n = get(g.root[0], "a");
	assert_int_equal(n->n, 6);
	assert_memory_equal(n->u.s, "x''''y", 6);
	assert_string_equal(get(g.root[0], "b")->u.s, "one two\nthree");
	/* tags as libfyaml resolves them; "!" and !!str make strings */
	n = get(g.root[0], "c");
	assert_true(n->str_tag);
	assert_false(n->plain);
	assert_string_equal(n->tag, "tag:yaml.org,2002:str");
	assert_true(get(g.root[0], "d")->str_tag);
	n = get(g.root[0], "e");
	assert_false(n->str_tag);
	assert_true(n->plain);
	assert_string_equal(n->tag, "tag:yaml.org,2002:int");
	kt_arena_release(&g.a);
	/* not UTF-8 (or a NUL): refused before libfyaml, which loops forever on this one */
	read1(&g, "a: 1\n%p\xff\n");
	assert_int_equal(g.rc, KT_E_PARSE);
	assert_int_equal(g.p[0].code, KT_YP_NOT_UTF8);
	assert_int_equal(g.p[0].line, 2);
	assert_int_equal(g.p[0].col, 3);
	assert_int_equal((unsigned char)g.p[0].text[0], 0xff);
	kt_arena_release(&g.a);
	/* not YAML: libfyaml's message, with a position */
	read1(&g, "a: [1, 2\n");
	assert_int_equal(g.rc, KT_E_PARSE);
	assert_int_equal(g.p[0].code, KT_YP_SYNTAX);
	assert_true(g.p[0].line >= 1);
	assert_true(strlen(g.text[0]) > 0);
	kt_arena_release(&g.a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_node_is_marked),
		cmocka_unit_test(anchors_are_shared_not_copied),
		cmocka_unit_test(duplicates_at_any_depth),
		cmocka_unit_test(depth_is_bounded_aliases_included),
		cmocka_unit_test(alias_expansion_is_bounded),
		cmocka_unit_test(documents_and_scalars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
