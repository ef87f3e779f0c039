/*
 * yaml.c: the tenants file through the one YAML reader (lib/yaml), with
 * this file's words for what it finds and YAML 1.2 core-schema meaning for
 * plain scalars.
 */
#include <stdio.h>
#include <string.h>
#include "kt/yaml.h"
#include "internal.h"

struct reading {
	struct kt_diag_sink *sink;
	struct kt_ynode *root;
	bool stopped; /* nesting too deep, or a second document: no tree */
};

static const char yaml_tag[] = "tag:yaml.org,2002:";

/* At most max bytes of s for a message, control bytes (and, if high, non-ASCII) as '?'. */
static void shown(char *out, const char *s, size_t n, size_t max, bool high)
{
	size_t i;

	if (n > max)
		n = max;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = c < 0x20 || c == 0x7f || (high && c > 0x7f) ? '?' : (char)c;
	}
	out[n] = '\0';
}

/* The tag, if any, must be one the core schema knows; "!" and !!str make a string. */
static enum kt_rc opened(void *ctx, const struct kt_ynode *n)
{
	struct reading *rd = ctx;
	const char *s;
	char text[64];
	size_t sl;

	if (!n->tag || (n->str_tag && n->kind == KT_Y_SCALAR))
		return KT_OK;
	if (n->str_tag) {
		kt_diag_add(rd->sink, n->line, n->col, "%s",
			    "a mapping or list cannot be tagged '!!str'");
		return KT_OK;
	}
	s = n->tag + sizeof(yaml_tag) - 1;
	sl = n->tag_len - (sizeof(yaml_tag) - 1);
	if (n->tag_len > sizeof(yaml_tag) - 1 && !memcmp(n->tag, yaml_tag, sizeof(yaml_tag) - 1) &&
	    ((sl == 3 && (!memcmp(s, "map", 3) || !memcmp(s, "seq", 3) || !memcmp(s, "int", 3))) ||
	     (sl == 4 && (!memcmp(s, "bool", 4) || !memcmp(s, "null", 4))) ||
	     (sl == 5 && !memcmp(s, "float", 5))))
		return KT_OK;
	shown(text, n->tag, n->tag_len, 48, true);
	kt_diag_add(rd->sink, n->line, n->col, "unsupported tag '%s'", text);
	return KT_OK;
}

static enum kt_rc problem(void *ctx, const struct kt_yproblem *p)
{
	struct reading *rd = ctx;
	char text[72];

	switch (p->code) {
	case KT_YP_NOT_UTF8:
		kt_diag_add(rd->sink, p->line, p->col,
			    "the tenants file is not UTF-8 text (byte 0x%02x)",
			    (unsigned char)p->text[0]);
		break;
	case KT_YP_SYNTAX:
		if (p->text)
			kt_diag_add(rd->sink, p->line, p->col, "invalid YAML: %s", p->text);
		else
			kt_diag_add(rd->sink, p->line, p->col, "invalid YAML");
		break;
	case KT_YP_DEPTH:
		kt_diag_add(rd->sink, p->line, p->col, "nesting deeper than %d levels",
			    KT_Y_MAX_DEPTH);
		rd->stopped = true;
		break;
	case KT_YP_WEIGHT:
		kt_diag_add(rd->sink, p->root ? p->root->line : p->line,
			    p->root ? p->root->col : p->col,
			    "the file expands to more than %u nodes through aliases",
			    KT_Y_MAX_WEIGHT);
		break;
	case KT_YP_SCALAR_LEN:
		kt_diag_add(rd->sink, p->line, p->col, "scalar longer than %u bytes",
			    KT_Y_MAX_SCALAR);
		break;
	case KT_YP_DUP_KEY:
		shown(text, p->text, p->len, 64, false);
		kt_diag_add(rd->sink, p->line, p->col,
			    "duplicate key '%s%s' (first defined at line %d)", text,
			    p->len > 64 ? "..." : "", p->first_line);
		break;
	case KT_YP_NO_ANCHOR:
	case KT_YP_ALIAS_CYCLE:
		shown(text, p->text, p->len, 64, true);
		kt_diag_add(rd->sink, p->line, p->col,
			    p->code == KT_YP_ALIAS_CYCLE
				    ? "alias '*%s' refers to a node that contains it"
				    : "alias '*%s' has no anchor before it",
			    text);
		break;
	case KT_YP_SECOND_DOC:
		kt_diag_add(rd->sink, p->line, p->col, "%s",
			    "a tenants file holds one YAML document; this is a second one");
		rd->stopped = true;
		break;
	}
	return KT_OK;
}

static enum kt_rc document(void *ctx, struct kt_ynode *root, int index)
{
	struct reading *rd = ctx;

	(void)index;
	rd->root = root;
	return KT_OK;
}

enum kt_rc kt_config_yaml(const char *text, size_t len, struct kt_arena *a,
			  struct kt_diag_sink *sink, struct kt_ynode **root)
{
	struct reading rd = { .sink = sink };
	const struct kt_yaml_reader r = {
		.max_depth = KT_Y_MAX_DEPTH,
		.max_scalar = KT_Y_MAX_SCALAR,
		.max_weight = KT_Y_MAX_WEIGHT,
		.ctx = &rd,
		.opened = opened,
		.problem = problem,
		.document = document,
	};
	enum kt_rc rc = kt_yaml_read(&r, text, len, a);

	*root = rc == KT_E_NOMEM || rc == KT_E_PARSE || rd.stopped ? NULL : rd.root;
	return rc;
}

/* ------------------------------------------------ plain scalar resolution */

bool kt_y_is_null(const struct kt_ynode *n)
{
	return n && n->kind == KT_Y_SCALAR && n->plain &&
	       (!n->n || kt_ynode_is(n, "~") || kt_ynode_is(n, "null") || kt_ynode_is(n, "Null") ||
		kt_ynode_is(n, "NULL"));
}

bool kt_y_is_bool(const struct kt_ynode *n, bool *val)
{
	if (!n || n->kind != KT_Y_SCALAR || !n->plain)
		return false;
	if (kt_ynode_is(n, "true") || kt_ynode_is(n, "True") || kt_ynode_is(n, "TRUE")) {
		*val = true;
		return true;
	}
	if (kt_ynode_is(n, "false") || kt_ynode_is(n, "False") || kt_ynode_is(n, "FALSE")) {
		*val = false;
		return true;
	}
	return false;
}
