/*
 * internal.h: between the YAML builder (yaml.c), the document it fills
 * (doc.c) and the loader (load.c).
 */
#ifndef KT_MANIFEST_INTERNAL_H
#define KT_MANIFEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "kt/err.h"
#include "kt/manifest.h"

/* One parsed YAML document. */
struct yaml_doc {
	json_t *root;    /* the document's value; NULL for an empty document */
	int line;        /* 1-based line where the root starts */
	int index;       /* 0-based index in the stream */
	int *item_lines; /* 1-based lines of the root's "items" elements */
	size_t n_item_lines, alloc_item_lines;
};

/* Remember where the next element of the root's "items" starts. */
enum kt_rc kt_yaml_doc_item_line(struct yaml_doc *d, int line);
/* Drop the root (and the item lines); keeps the line storage for reuse. */
void kt_yaml_doc_reset(struct yaml_doc *d);

/*
 * Parse a YAML stream (or JSON, in json_mode) and call on_doc with each
 * document, borrowed: on_doc takes a reference to what it keeps.  Stops at
 * the first error (from libfyaml, a limit, or on_doc) and returns it.
 */
enum kt_rc kt_yaml_parse_stream(const char *name, const char *buf, size_t len, bool json_mode,
				enum kt_rc (*on_doc)(void *ctx, struct yaml_doc *doc), void *ctx,
				struct kt_err *err);

#endif
