/*
 * arena.c: chunks of 256 KiB handed out front to back; a large request gets
 * a chunk of its own so it does not waste the rest of the current one.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kt/arena.h"

struct kt_arena_chunk {
	struct kt_arena_chunk *next;
	max_align_t data[];
};

#define ARENA_CHUNK (256u << 10)

void *kt_arena_alloc(struct kt_arena *a, size_t n)
{
	struct kt_arena_chunk *c;
	size_t size;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!n)
		n = 16;
	if (a->head && a->size - a->used >= n) {
		p = (char *)a->head->data + a->used;
		a->used += n;
		return p;
	}
	/* a large request gets a chunk of its own, behind the current one */
	size = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
	if (size > SIZE_MAX - sizeof(*c))
		return NULL;
	c = malloc(sizeof(*c) + size);
	if (!c)
		return NULL;
	if (size != ARENA_CHUNK && a->head) {
		c->next = a->head->next;
		a->head->next = c;
		return c->data;
	}
	c->next = a->head;
	a->head = c;
	a->size = size;
	a->used = n;
	return c->data;
}

char *kt_arena_strndup(struct kt_arena *a, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		return NULL;
	p = kt_arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void kt_arena_release(struct kt_arena *a)
{
	struct kt_arena_chunk *c = a->head, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = a->size = 0;
}
