/*
 * arena.h: allocations that all end together, freed in one call.  The YAML
 * tree and what the tenants-file loader builds from it live in one.
 */
#ifndef KT_ARENA_H
#define KT_ARENA_H

#include <stddef.h>

struct kt_arena_chunk;
struct kt_arena {
	struct kt_arena_chunk *head;
	size_t used, size;
};

void *kt_arena_alloc(struct kt_arena *a, size_t n); /* 16-aligned, NULL on failure */
char *kt_arena_strndup(struct kt_arena *a, const char *s, size_t n);
void kt_arena_release(struct kt_arena *a);

#endif
