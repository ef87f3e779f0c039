#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kt/json.h"

/*
 * Values of one scope come from the block in order and the next scope
 * starts again at its beginning.  malloc gives freed chunks back last in,
 * first out (and AddressSanitizer's not at all), so with malloc `c` would
 * not be `a`.
 */
static void a_scope_starts_where_the_last_one_started(void **state)
{
	json_t *a, *b, *c;

	(void)state;
	kt_json_arena_begin();
	a = json_string("first");
	b = json_string("second");
	assert_non_null(a);
	assert_non_null(b);
	json_decref(a);
	json_decref(b);
	kt_json_arena_end();

	kt_json_arena_begin();
	c = json_string("third");
	assert_ptr_equal(c, a);
	assert_string_equal(json_string_value(c), "third");
	json_decref(c);
	kt_json_arena_end();
}

/* Values from before a scope may be freed inside it, and survive its end. */
static void values_from_outside_are_left_alone(void **state)
{
	json_t *kept = json_pack("{s:s}", "tenant", "team-a"), *gone = json_string("x"), *in;

	(void)state;
	kt_json_arena_begin();
	json_decref(gone);
	in = json_string("inside");
	assert_ptr_not_equal(in, kept);
	json_decref(in);
	kt_json_arena_end();
	assert_string_equal(json_string_value(json_object_get(kept, "tenant")), "team-a");
	json_decref(kept);
}

/* Only the outermost end takes the block back. */
static void scopes_nest(void **state)
{
	json_t *outer, *inner, *after;

	(void)state;
	kt_json_arena_begin();
	outer = json_string("outer");
	kt_json_arena_begin();
	inner = json_string("inner");
	json_decref(inner);
	kt_json_arena_end();
	after = json_string("after");
	assert_ptr_not_equal(after, outer);
	assert_string_equal(json_string_value(outer), "outer");
	assert_string_equal(json_string_value(after), "after");
	json_decref(outer);
	json_decref(after);
	kt_json_arena_end();
}

/* What does not fit in the block comes from malloc, and all of it stays intact. */
static void a_full_block_spills_over_to_malloc(void **state)
{
	size_t big = 300u << 10, i, n = 20000;
	char *text = malloc(big);
	json_t *s, *list;
	json_int_t sum = 0;

	(void)state;
	assert_non_null(text);
	memset(text, 'k', big);
	kt_json_arena_begin();
	s = json_stringn(text, big);
	assert_non_null(s);
	assert_int_equal(json_string_length(s), big);
	assert_memory_equal(json_string_value(s), text, big);
	list = json_array();
	for (i = 0; i < n; i++)
		assert_int_equal(json_array_append_new(list, json_integer((json_int_t)i)), 0);
	for (i = 0; i < n; i++)
		sum += json_integer_value(json_array_get(list, i));
	assert_int_equal(sum, (json_int_t)(n * (n - 1) / 2));
	json_decref(list);
	json_decref(s);
	kt_json_arena_end();
	free(text);
}

/* Each thread has its own block: two scopes open at once do not share one. */
static pthread_barrier_t both_inside;

struct worker {
	const char *name;
	uintptr_t at; /* where its value was, 0 when it was not intact */
};

static void *in_thread(void *cls)
{
	struct worker *w = cls;
	json_t *v;

	kt_json_arena_begin();
	v = json_string(w->name);
	pthread_barrier_wait(&both_inside);
	if (v && !strcmp(json_string_value(v), w->name))
		w->at = (uintptr_t)v;
	pthread_barrier_wait(&both_inside);
	json_decref(v);
	kt_json_arena_end();
	return NULL;
}

static void threads_have_their_own_block(void **state)
{
	struct worker wa = { "team-a", 0 }, wb = { "team-b", 0 };
	pthread_t a, b;

	(void)state;
	assert_int_equal(pthread_barrier_init(&both_inside, NULL, 2), 0);
	assert_int_equal(pthread_create(&a, NULL, in_thread, &wa), 0);
	assert_int_equal(pthread_create(&b, NULL, in_thread, &wb), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_barrier_destroy(&both_inside);
	assert_true(wa.at && wb.at);
	assert_true(wa.at != wb.at);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_scope_starts_where_the_last_one_started),
		cmocka_unit_test(values_from_outside_are_left_alone),
		cmocka_unit_test(scopes_nest),
		cmocka_unit_test(a_full_block_spills_over_to_malloc),
		cmocka_unit_test(threads_have_their_own_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
