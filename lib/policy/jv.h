/*
 * jv.h: the policy engine's private JSON tree (internal to lib/policy).
 *
 * Why not jansson's json_t: building a json_t tree costs a malloc per node
 * and a hash table per object, about 25 microseconds for a 3 KB Pod review,
 * five times the whole budget of a decision.  This tree is parsed in place
 * from a private copy of the bytes into one bump arena: strings are decoded
 * where they stand and NUL-terminated, nodes are 40 bytes, and releasing a
 * decision's memory is one call.  Everything is bounded: bytes, depth, nodes
 * and arena size.  Duplicate keys are rejected (the API server never sends
 * them; a parser that picked "the other one" would be a smuggling channel).
 */
#ifndef KT_POLICY_JV_H
#define KT_POLICY_JV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "kt/err.h"

enum kt_jv_type {
	KT_JV_NULL,
	KT_JV_FALSE,
	KT_JV_TRUE,
	KT_JV_NUMBER,
	KT_JV_STRING,
	KT_JV_ARRAY, /* KT_JV_ARRAY and KT_JV_OBJECT last: containers compare >= */
	KT_JV_OBJECT,
};

struct kt_jv {
	const char *key; /* member name, NUL-terminated, when inside an object */
	union {
		const char *s;   /* string (NUL-terminated) or number text (not terminated) */
		struct kt_jv *kids; /* first child of an array or object */
	} u;
	struct kt_jv *next; /* next sibling */
	uint32_t len;    /* bytes of a string or number, children of an array or object */
	uint32_t klen;
	uint8_t type;
};

_Static_assert(sizeof(struct kt_jv) % 8 == 0, "nodes keep the arena 8-aligned");

/* Hard limits of one arena (one decision). */
#define KT_JV_MAX_NODES (1u << 19)
#define KT_JV_MAX_ARENA (48u << 20)

struct kt_jv_chunk;
struct kt_jv_arena {
	char *p, *end;          /* free space of the current chunk */
	struct kt_jv_chunk *chunks; /* malloc'd chunks, newest first */
	size_t total;           /* bytes malloc'd so far */
	uint32_t nodes;
	bool failed;            /* a limit was hit, or malloc failed */
	bool oom;               /* malloc failed */
};

/* Start an arena on caller storage (may be NULL/0); release with kt_jv_arena_release. */
void kt_jv_arena_init(struct kt_jv_arena *a, void *stack, size_t size);
void kt_jv_arena_release(struct kt_jv_arena *a);
void *kt_jv_alloc(struct kt_jv_arena *a, size_t n); /* 8-aligned; NULL when over the limits */
char *kt_jv_strndup(struct kt_jv_arena *a, const char *s, size_t n);

/*
 * Parse len bytes of JSON (copied into the arena, so text may be freed
 * after).  Returns KT_OK and *out, KT_E_PARSE (err says where and why) or
 * KT_E_NOMEM when a limit is hit.
 */
enum kt_rc kt_jv_parse(struct kt_jv_arena *a, const char *text, size_t len, int max_depth,
		    struct kt_jv **out, struct kt_err *err);

/* Copy a jansson value into the arena (depth-limited); strings with NUL are rejected. */
enum kt_rc kt_jv_from_json(struct kt_jv_arena *a, json_t *j, int max_depth, struct kt_jv **out,
			struct kt_err *err);
/* A new jansson value (new reference), or NULL when out of memory. */
json_t *kt_jv_to_json(const struct kt_jv *v);

struct kt_jv *kt_jv_get(const struct kt_jv *obj, const char *key);
/* The string value of obj[key], or NULL when absent or not a string. */
const char *kt_jv_gets(const struct kt_jv *obj, const char *key);
static inline bool kt_jv_is(const struct kt_jv *v, enum kt_jv_type t)
{
	return v && v->type == t;
}

static inline const char *kt_jv_str(const struct kt_jv *v)
{
	return kt_jv_is(v, KT_JV_STRING) ? v->u.s : NULL;
}

/* Absent and JSON null are the same for Kubernetes (omitempty). */
static inline bool kt_jv_absent(const struct kt_jv *v)
{
	return !v || v->type == KT_JV_NULL;
}

bool kt_jv_streq(const struct kt_jv *v, const char *s);
bool kt_jv_true(const struct kt_jv *v);
/* An integral number that fits a long long. */
bool kt_jv_int(const struct kt_jv *v, long long *out);
bool kt_jv_double(const struct kt_jv *v, double *out);
/* Length of the valid UTF-8 sequence at p (first byte >= 0x80), or 0 when invalid. */
size_t kt_jv_utf8_len(const unsigned char *p, const unsigned char *end);
/* Deep equality; object members compared as sets. */
bool kt_jv_equal(const struct kt_jv *a, const struct kt_jv *b);

#define kt_jv_each(child, parent)                                                          \
	for (struct kt_jv *child = (parent) && (parent)->type >= KT_JV_ARRAY ? (parent)->u.kids \
									      : NULL;           \
	     child; child = child->next)

#endif
