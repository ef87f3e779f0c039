/*
 * doc.c: the storage of one parsed document (struct yaml_doc), which the
 * reader (yaml.c) fills and the loader (load.c) consumes.  Kept apart so
 * the reader never calls back into the loader.
 */
#include <stdlib.h>
#include "internal.h"

enum kt_rc kt_yaml_doc_item_line(struct yaml_doc *d, int line)
{
	if (d->n_item_lines == d->alloc_item_lines) {
		size_t na = d->alloc_item_lines ? d->alloc_item_lines * 2 : 16;
		int *nl = realloc(d->item_lines, na * sizeof(*nl));

		if (!nl)
			return KT_E_NOMEM;
		d->item_lines = nl;
		d->alloc_item_lines = na;
	}
	d->item_lines[d->n_item_lines++] = line;
	return KT_OK;
}

void kt_yaml_doc_reset(struct yaml_doc *d)
{
	json_decref(d->root);
	d->root = NULL;
	d->line = 0;
	d->n_item_lines = 0;
}
