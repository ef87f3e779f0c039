/*
 * strvec.c: the lists of names and values a Pod Security message quotes
 * (slow path: only built when a check is violated and worded).  An
 * allocation failure is sticky in the evaluation (e->nomem), so the
 * checks never test each call.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

void kt_strvec_addn(struct pss_eval *e, struct strvec *s, const char *str, size_t len)
{
	char *copy;

	if (e->nomem)
		return;
	if (s->n == s->alloc) {
		size_t na = s->alloc ? s->alloc * 2 : 4;
		char **nv = realloc(s->v, na * sizeof(*nv));

		if (!nv) {
			e->nomem = true;
			return;
		}
		s->v = nv;
		s->alloc = na;
	}
	copy = malloc(len + 1);
	if (!copy) {
		e->nomem = true;
		return;
	}
	memcpy(copy, str, len);
	copy[len] = '\0';
	s->v[s->n++] = copy;
}

void kt_strvec_add(struct pss_eval *e, struct strvec *s, const char *str)
{
	kt_strvec_addn(e, s, str, strlen(str));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort byte-wise and drop duplicates, as Go's sets.List() does. */
void kt_strvec_sort_unique(struct strvec *s)
{
	size_t i, j;

	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(*s->v), cmp_str);
	for (i = 1, j = 1; i < s->n; i++) {
		if (!strcmp(s->v[i], s->v[j - 1]))
			free(s->v[i]);
		else
			s->v[j++] = s->v[i];
	}
	s->n = j;
}

void kt_strvec_release(struct strvec *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
