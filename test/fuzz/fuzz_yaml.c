/*
 * fuzz_yaml.c: bytes -> kt_yaml_read, the one YAML reader, in the mode the
 * first byte picks (one document or a stream, YAML or JSON, budgets small
 * enough that mutations hit them).  Must never crash, leak or hang; every
 * tree handed over must keep the reader's promises: complete, marked at
 * 1-based positions, no deeper than the depth budget with aliases
 * followed, and each scalar NUL-terminated at its length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kt/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	unsigned max_depth;
	bool stopped;
	int problems;
};

static void walk(const struct kt_ynode *n, unsigned depth, const struct seen *s)
{
	size_t i;

	if (!n->complete || n->line < 1 || n->col < 1 || !n->weight)
		abort();
	if (n->kind == KT_Y_SCALAR) {
		if (n->u.s[n->n] != '\0' || n->height)
			abort();
		return;
	}
	if (depth >= s->max_depth || n->height < 1 || (unsigned)n->height > s->max_depth - depth)
		abort();
	for (i = 0; i < n->n; i++) {
		if (n->kind == KT_Y_MAP) {
			walk(n->u.pairs[i].key, depth + 1, s);
			walk(n->u.pairs[i].value, depth + 1, s);
		} else {
			walk(n->u.items[i], depth + 1, s);
		}
	}
}

static enum kt_rc problem(void *ctx, const struct kt_yproblem *p)
{
	struct seen *s = ctx;

	if (p->line < 1 || p->col < 1 || (p->len && !p->text))
		abort();
	if (p->code == KT_YP_DEPTH || p->code == KT_YP_SECOND_DOC)
		s->stopped = true;
	s->problems++;
	return KT_OK;
}

static enum kt_rc document(void *ctx, struct kt_ynode *root, int index)
{
	struct seen *s = ctx;

	if (index < 0 || s->stopped)
		abort();
	/* a tree whose weight broke the budget is not walked: that is the point */
	if (root && root->weight <= 4096)
		walk(root, 0, s);
	return KT_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = { 0 };
	struct kt_yaml_reader r = { .ctx = &s, .problem = problem, .document = document };
	struct kt_arena a = { 0 };
	enum kt_rc rc;
	char *text;

	if (!size)
		return 0;
	r.stream = data[0] & 1;
	r.json = data[0] & 2;
	r.keys_by_value = data[0] & 4;
	r.max_depth = data[0] & 8 ? 6 : 0;
	r.max_weight = data[0] & 16 ? 512 : 0;
	r.max_scalar = data[0] & 32 ? 16 : 0;
	s.max_depth = r.max_depth ? r.max_depth : 64;
	/* the reader's callers hand it NUL-terminated text */
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	rc = kt_yaml_read(&r, text, size - 1, &a);
	if (rc == KT_OK && s.problems)
		abort(); /* a problem told is never an OK */
	if ((rc == KT_E_PARSE || rc == KT_E_INVALID) && !s.problems)
		abort(); /* a refusal always says why */
	kt_arena_release(&a);
	free(text);
	return 0;
}
