/*
 * yaml.h: the one YAML reader.  libfyaml's event stream -> a tree of
 * kt_ynode, every node with its line and column, for the tenants file,
 * manifests and the proxy's --config alike.
 *
 * The reader owns what is about YAML: marks, anchors and aliases, budgets on
 * depth and on alias expansion, duplicate keys, tags as written, and the
 * text of scalars.  What a scalar means (null, a bool, a number) and which
 * tags are allowed belong to the caller, who also words every message: a
 * problem comes back as a code and a position.
 */
#ifndef KT_YAML_H
#define KT_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include "kt/arena.h"
#include "kt/err.h"

enum { KT_Y_SCALAR = 1, KT_Y_MAP, KT_Y_SEQ };

struct kt_ynode;
struct kt_ypair {
	struct kt_ynode *key, *value;
	bool dup; /* a repeated key: reported once, then ignored */
};

struct kt_ynode {
	unsigned char kind;
	bool plain;      /* plain style and not tagged a string: its text may resolve */
	bool quoted;     /* scalar: single- or double-quoted, or a block scalar */
	bool str_tag;    /* explicit "!" or !!str: always a string */
	bool complete;   /* false while its own content is still being read */
	int line, col;   /* 1-based */
	int height;      /* levels of collections below and including it, aliases followed */
	size_t n;        /* scalar: bytes; map: pairs; seq: items */
	size_t weight;   /* nodes reachable from here, aliases followed (saturating) */
	const char *tag; /* as resolved by libfyaml ("tag:yaml.org,2002:int", "!Ref"), or NULL */
	size_t tag_len;
	union {
		const char *s; /* NUL-terminated; may also hold NULs within n */
		struct kt_ypair *pairs;
		struct kt_ynode **items;
	} u;
};

/* What went wrong, for the caller to word. */
enum kt_yproblem_code {
	KT_YP_NOT_UTF8 = 1, /* text: the first byte that is not UTF-8, or a NUL */
	KT_YP_SYNTAX,       /* libfyaml's error: text is its message (may be NULL) */
	KT_YP_DEPTH,        /* nesting deeper than max_depth, aliases followed; reading stops */
	KT_YP_WEIGHT,       /* more than max_weight nodes in a document, aliases followed */
	KT_YP_SCALAR_LEN,   /* a scalar longer than max_scalar: it reads as "" */
	KT_YP_DUP_KEY,      /* text: the key; first_line: where it was first defined */
	KT_YP_NO_ANCHOR,    /* text: the alias name; an empty scalar stands in */
	KT_YP_ALIAS_CYCLE,  /* text: the alias name, whose anchor is still open */
	KT_YP_SECOND_DOC,   /* a second document where one is wanted; reading stops */
};

struct kt_yproblem {
	enum kt_yproblem_code code;
	int line, col; /* 1-based */
	const char *text;
	size_t len;
	int first_line;
	const struct kt_ynode *root; /* the document's root, once it has opened */
};

struct kt_yaml_reader {
	unsigned max_depth; /* 0: 64 */
	size_t max_scalar;  /* bytes; 0: no limit */
	size_t max_weight;  /* nodes per document, aliases followed; 0: 4Mi */
	bool json;          /* the text is JSON */
	bool stream;        /* many documents (each to document()); else at most one */
	bool keys_by_value; /* the caller finds repeated keys once it has resolved them
			      * (by YAML 1.1, on and 'on' are two keys; "<<" merges) */
	void *ctx;
	/* Each node as it opens, marked and tagged (a scalar's text comes after):
	 * anything but KT_OK stops reading. */
	enum kt_rc (*opened)(void *ctx, const struct kt_ynode *n);
	/* Each problem: anything but KT_OK stops reading and is returned. */
	enum kt_rc (*problem)(void *ctx, const struct kt_yproblem *p);
	/* Each complete document (root NULL when empty), stream or not. */
	enum kt_rc (*document)(void *ctx, struct kt_ynode *root, int index);
};

/*
 * Read text (len bytes, NUL-terminated at len) into trees allocated in a.
 * Returns KT_OK; what a callback returned; KT_E_PARSE (not YAML: problems
 * told); KT_E_INVALID (YAML, but problems were told, and the documents were
 * still handed over unless reading stopped); or KT_E_NOMEM.
 */
enum kt_rc kt_yaml_read(const struct kt_yaml_reader *r, const char *text, size_t len,
			struct kt_arena *a);

/* Is a scalar's text s (n bytes) exactly word? */
bool kt_ynode_is(const struct kt_ynode *n, const char *word);

#endif
