/*
 * json_arena.c: see kt/json.h.
 *
 * Decoding a 3.6 KB review makes about 670 jansson allocations (every
 * value, key and hash table), and freeing the tree visits each again: with
 * malloc that is a fifth of a whole /mutate.  Inside a scope this thread's
 * jansson allocations are carved from one block and free() of them costs
 * nothing; the scope's end takes the block back at once.
 *
 * The allocator is jansson's for the whole process (json_set_alloc_funcs),
 * so it must stay correct everywhere: outside a scope, and for whatever
 * does not fit, it is plain malloc, and any pointer outside this thread's
 * block goes to free().  Under AddressSanitizer the block is poisoned
 * except for live allocations, each followed by a poisoned red zone, so a
 * tree used after its scope or an overrun inside one is still reported.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kt/json.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KT_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define KT_ASAN 1
#endif
#ifdef KT_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#define HEADER 16u  /* the size, so that free() can poison exactly it */
#define REDZONE 16u /* after each allocation */
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#define HEADER 0u
#define REDZONE 0u
#endif

/* Enough for a review of about 25 KB; larger ones spill over to malloc. */
#define ARENA_BYTES (256u << 10)
#define ALIGN 16u

struct arena {
	unsigned char *base; /* ARENA_BYTES, or NULL before the first scope */
	size_t used;
	unsigned depth; /* scopes open; the block is reset when the last one ends */
};

static _Thread_local struct arena arena;
static pthread_key_t key;
static bool installed;

static bool inside(const void *p)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)arena.base;

	return arena.base && a >= b && a - b < ARENA_BYTES;
}

static void *arena_malloc(size_t n)
{
	size_t need = (HEADER + n + REDZONE + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	unsigned char *p;

	if (!arena.depth || n > ARENA_BYTES || need > ARENA_BYTES - arena.used)
		return malloc(n);
	p = arena.base + arena.used;
	arena.used += need;
	UNPOISON(p, HEADER + n);
	if (HEADER)
		memcpy(p, &n, sizeof(n));
	return p + HEADER;
}

/* Freed inside the block: the bytes come back when the scope ends. */
static void arena_free(void *p)
{
	size_t n;

	if (!inside(p)) {
		free(p);
	} else if (HEADER) {
		memcpy(&n, (unsigned char *)p - HEADER, sizeof(n));
		POISON(p, n);
	}
}

/* A thread that ends gives its block back. */
static void thread_end(void *base)
{
	if (arena.base == base)
		arena.base = NULL;
	free(base);
}

/* Before main(), so no thread is inside jansson when its allocator changes. */
__attribute__((constructor)) static void install(void)
{
	installed = pthread_key_create(&key, thread_end) == 0;
	if (installed)
		json_set_alloc_funcs(arena_malloc, arena_free);
}

void kt_json_arena_begin(void)
{
	if (!installed)
		return;
	if (!arena.base) {
		arena.base = malloc(ARENA_BYTES);
		if (!arena.base || pthread_setspecific(key, arena.base)) {
			free(arena.base);
			arena.base = NULL;
			return; /* no block: jansson keeps using malloc */
		}
		POISON(arena.base, ARENA_BYTES);
	}
	arena.depth++;
}

void kt_json_arena_end(void)
{
	if (!arena.depth || --arena.depth)
		return;
	POISON(arena.base, arena.used);
	arena.used = 0;
}
