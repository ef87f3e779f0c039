/*
 * t_jview.c: the read-only JSON view: what it refuses (the grammar, and
 * each strictness jansson has that simdjson underneath lacks: \u0000,
 * duplicate keys, integers beyond int64), what it reads, and the JSON
 * pointers it writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kt/jview.h"

#define DEPTH 64
#define VALUES 1000

static enum kt_rc parse(struct kt_jview *v, const char *s, size_t len, struct kt_err *err)
{
	return kt_jview_parse(v, s, len, DEPTH, VALUES, err);
}

static void refused(void **state)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		/* the grammar (simdjson says what, not where) */
		{ "[1:2]", "invalid structure" },
		{ "[\"a\":2]", "invalid structure" },
		{ "{\"a\" \"b\"}", "invalid structure" },
		{ "{\"a\":1 \"b\":2}", "invalid structure" },
		{ "[1,]", "invalid structure" },
		{ "[,1]", "invalid structure" },
		{ "{\"a\":1,}", "invalid structure" },
		{ "{\"a\"}", "invalid structure" },
		{ "{\"a\":}", "invalid structure" },
		{ "[1 2]", "invalid structure" },
		{ "[tru]", "invalid literal" },
		{ "[nul]", "invalid literal" },
		{ "[true1]", "invalid literal" },
		{ "[01]", "invalid number" },
		{ "[-]", "invalid number" },
		{ "[1.]", "invalid number" },
		{ "[1.e5]", "invalid number" },
		{ "[1e]", "invalid number" },
		{ "[1e+]", "invalid number" },
		{ "[--1]", "invalid number" },
		{ "[+1]", "invalid structure" },
		{ "[.5]", "invalid structure" },
		{ "[\"a\tb\"]", "control character in string" },
		{ "[\"\x1f\"]", "control character in string" },
		{ "{} {}", "trailing data" },
		{ "{}x", "trailing data" },
		{ "{}]", "invalid" },
		{ "[}", "invalid" },
		{ "", "unexpected end of input" },
		{ "   ", "unexpected end of input" },
		{ "[", "invalid structure" },
		{ "\"a\"", "an object or an array was expected" },
		{ "1 ", "an object or an array was expected" },
		{ "\xef\xbb\xbf{}", "invalid structure" },
		/* strings */
		{ "[\"\xc3\"]", "invalid UTF-8" },
		{ "[\"\xc0\xaf\"]", "invalid UTF-8" },
		{ "[\"\xed\xa0\x80\"]", "invalid UTF-8" },
		{ "[\"\xf4\x90\x80\x80\"]", "invalid UTF-8" },
		{ "[\"\\u0000\"]", "\\u0000 in string" },
		{ "{\"a\\u0000\":1}", "\\u0000 in an object key" },
		{ "[\"\\ud800\"]", "lone surrogate" },
		{ "[\"\\udc00\"]", "lone surrogate" },
		{ "[\"\\ud800\\u0041\"]", "lone surrogate" },
		{ "[\"\\ud800\\n\"]", "lone surrogate" },
		{ "[\"\\x41\"]", "invalid escape in string" },
		{ "[\"\\u12G4\"]", "invalid escape in string" },
		/* simdjson unescapes \u0000 to a NUL byte: refused in values and keys, at depth */
		{ "[\"a\\u0000\"]", "\\u0000 in string" },
		{ "{\"x\":[{\"y\":\"\\u0000b\"}]}", "\\u0000 in string" },
		{ "{\"x\":[{\"\\u0000\":1}]}", "\\u0000 in an object key" },
		{ "{\"x\":{\"k\\u0000\":1}}", "\\u0000 in an object key" },
		/* lone surrogates both ways, in values and keys */
		{ "[\"\\udc00\\udc00\"]", "lone surrogate" },
		{ "[\"\\ud800\\ud800\"]", "lone surrogate" },
		{ "[\"x\\udbffy\"]", "lone surrogate" },
		{ "[\"\\udfff\"]", "lone surrogate" },
		{ "{\"\\ud800\":1}", "lone surrogate" },
		{ "{\"a\":{\"\\udc00\":1}}", "lone surrogate" },
		/* duplicate keys, at every level, compared unescaped */
		{ "{\"a\":1,\"a\":2}", "duplicate key" },
		{ "{\"a\":1,\"\\u0061\":2}", "duplicate key" },
		{ "{\"\\/\":1,\"/\":2}", "duplicate key" },
		{ "{\"\\u00e9\":1,\"\xc3\xa9\":2}", "duplicate key" },
		{ "{\"x\":[{\"k\":{\"b\":1,\"b\":null}}]}", "duplicate key" },
		{ "{\"x\":[{\"k\":{\"b\":1,\"\\u0062\":null}}]}", "duplicate key" },
		{ "[{},{\"a\":{\"\\u00e9\\/\":1,\"\xc3\xa9/\":2}}]", "duplicate key" },
		{ "{\"a\":{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}}", "duplicate key" },
		{ "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10,"
		  "\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"\\u0066\":15}",
		  "duplicate key" },
		/* numbers jansson cannot hold */
		{ "[9223372036854775808]", "integer out of range" }, /* 2^63: simdjson's uint64 */
		{ "{\"a\":{\"b\":[18446744073709551615]}}", "integer out of range" }, /* 2^64 - 1 */
		{ "[18446744073709551616]", "out of range" },
		{ "[123456789012345678901234567890]", "out of range" },
		{ "[-9223372036854775809]", "out of range" },
		{ "[1e400]", "out of range" },
		{ "[-1e400]", "out of range" },
	};
	struct kt_jview v = KT_JVIEW_INIT;
	struct kt_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		if (parse(&v, bad[i].text, strlen(bad[i].text), &err) != KT_E_PARSE)
			fail_msg("accepted: %s", bad[i].text);
		if (!strstr(err.msg, bad[i].why))
			fail_msg("%s: %s, not %s", bad[i].text, err.msg, bad[i].why);
		assert_false(kt_jv_ok(kt_jview_root(&v)));
	}
	/* a NUL byte anywhere, named */
	assert_int_equal(parse(&v, "{}\0{", 4, &err), KT_E_PARSE);
	assert_non_null(strstr(err.msg, "NUL byte"));
	assert_int_equal(parse(&v, "[\"a\0b\"]", 7, &err), KT_E_PARSE);
	assert_non_null(strstr(err.msg, "NUL byte"));
	/* jansson reads this one as [1] */
	assert_int_equal(parse(&v, "[1\0]", 4, &err), KT_E_PARSE);
	assert_non_null(strstr(err.msg, "NUL byte"));
	kt_jview_release(&v);
}

static void accepted(void **state)
{
	static const char *const good[] = {
		"{}",
		"[]",
		" \t\r\n{ } \n",
		"[[],{},[[]]]",
		"[0,-0,1.5,-1.5e-3,1E+2,2e9]",
		"[9223372036854775807,-9223372036854775808,1e-400]",
		"[true,false,null]",
		"[\"\\ud83d\\ude00\",\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"]",
		"{\"a\":{\"a\":{\"a\":1}}}",
		"[\"\x7f\xf4\x8f\xbf\xbf\"]",
		"{\"A\":1,\"a\":2,\"a \":3,\"\":4}",
		/* keys alike in their first and last bytes and length, not duplicates */
		"{\"abc\":1,\"adc\":2,\"a\":3,\"aa\":4,\"\":5,\"a\\u0001\":6}",
	};
	struct kt_jview v = KT_JVIEW_INIT;
	struct kt_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (parse(&v, good[i], strlen(good[i]), &err))
			fail_msg("refused: %s: %s", good[i], err.msg);
	kt_jview_release(&v);
}

/* Nesting and the number of values are bounded before any value is read. */
static void limits(void **state)
{
	struct kt_jview v = KT_JVIEW_INIT;
	struct kt_err err;
	char deep[2 * DEPTH + 3], many[16 * VALUES];
	size_t n = 0;

	(void)state;
	memset(deep, '[', DEPTH);
	memset(deep + DEPTH, ']', DEPTH);
	assert_int_equal(parse(&v, deep, 2 * DEPTH, &err), KT_OK);
	memset(deep, '[', DEPTH + 1);
	memset(deep + DEPTH + 1, ']', DEPTH + 1);
	assert_int_equal(parse(&v, deep, 2 * DEPTH + 2, &err), KT_E_PARSE);
	assert_non_null(strstr(err.msg, "nesting too deep (more than 64 levels)"));

	/* the root and VALUES - 1 elements: the limit exactly */
	many[n++] = '[';
	for (int i = 0; i < VALUES - 1; i++)
		n += (size_t)sprintf(many + n, "%s1", i ? "," : "");
	many[n++] = ']';
	assert_int_equal(parse(&v, many, n, &err), KT_OK);
	assert_int_equal(kt_jv_size(kt_jview_root(&v)), VALUES - 1);
	memcpy(many + n - 1, ",1]", 3);
	assert_int_equal(parse(&v, many, n + 2, &err), KT_E_PARSE);
	assert_non_null(strstr(err.msg, "more than 1000 values"));
	/* keys are not values: an object of 999 members is within the limit */
	n = 0;
	many[n++] = '{';
	for (int i = 0; i < VALUES - 1; i++)
		n += (size_t)sprintf(many + n, "%s\"%d\":0", i ? "," : "", i);
	many[n++] = '}';
	assert_int_equal(parse(&v, many, n, &err), KT_OK);
	assert_int_equal(kt_jv_size(kt_jview_root(&v)), VALUES - 1);
	assert_int_equal(kt_jv_type(kt_jv_get(kt_jview_root(&v), "998")), KT_J_NUMBER);
	/* objects of more than 64 keys are checked by sorting: a duplicate there, escaped */
	n = 0;
	many[n++] = '{';
	for (int i = 0; i < 100; i++)
		n += (size_t)sprintf(many + n, "%s\"k%d\":0", i ? "," : "", i);
	n += (size_t)sprintf(many + n, ",\"\\u006b50\":1}");
	assert_int_equal(parse(&v, many, n, &err), KT_E_PARSE);
	assert_non_null(strstr(err.msg, "duplicate key"));
	many[n - 5] = '9'; /* "k59" then */
	assert_int_equal(parse(&v, many, n, &err), KT_E_PARSE);
	many[n - 6] = '6'; /* "k69" */
	assert_int_equal(parse(&v, many, n, &err), KT_E_PARSE);
	many[n - 6] = 'x'; /* "kx9": new */
	assert_int_equal(parse(&v, many, n, &err), KT_OK);
	assert_int_equal(kt_jv_size(kt_jview_root(&v)), 101);
	kt_jview_release(&v);
}

static const char review[] =
	"{\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u-1\","
	"\"object\":{\"metadata\":{\"name\":\"p\",\"labels\":{\"a/b\":\"x\",\"t~n\":\"y\"}},"
	"\"spec\":{\"containers\":[{\"name\":\"c0\",\"image\":\"nginx\"},"
	"{\"name\":\"c1\",\"image\":\"caf\\u00e9\",\"ports\":[{\"containerPort\":80}]}],"
	"\"hostNetwork\":false,\"priority\":-5,\"ratio\":0.25,\"x\":null,"
	"\"\\u006eame\":\"escaped key\"}}}}";

static void reading(void **state)
{
	struct kt_jview v = KT_JVIEW_INIT;
	struct kt_err err;
	struct kt_jv root, spec, cs, e;
	const char *names[2];
	long long ll;
	double d;
	size_t len, n;

	(void)state;
	assert_int_equal(parse(&v, review, strlen(review), &err), KT_OK);
	root = kt_jview_root(&v);
	assert_int_equal(kt_jv_type(root), KT_J_OBJECT);
	assert_int_equal(kt_jv_size(root), 2);
	assert_string_equal(kt_jv_str(kt_jv_get(root, "kind")), "AdmissionReview");
	spec = kt_jv_get(kt_jv_get(kt_jv_get(root, "request"), "object"), "spec");
	cs = kt_jv_get(spec, "containers");
	assert_int_equal(kt_jv_type(cs), KT_J_ARRAY);
	assert_int_equal(kt_jv_size(cs), 2);
	n = 0;
	for (e = kt_jv_first(cs); kt_jv_ok(e); e = kt_jv_next(e))
		names[n++] = kt_jv_str(kt_jv_get(e, "name"));
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "c0");
	assert_string_equal(names[1], "c1");
	assert_string_equal(kt_jv_strn(kt_jv_get(kt_jv_at(cs, 1), "image"), &len), "caf\xc3\xa9");
	assert_int_equal(len, 5);
	assert_true(kt_jv_streq(kt_jv_get(kt_jv_at(cs, 1), "image"), "caf\xc3\xa9"));
	assert_false(kt_jv_streq(kt_jv_get(kt_jv_at(cs, 1), "image"), "caf\\u"));
	assert_false(kt_jv_ok(kt_jv_at(cs, 2)));
	/* a key written with escapes is found by its plain name */
	assert_string_equal(kt_jv_str(kt_jv_get(spec, "name")), "escaped key");
	/* typed scalars */
	assert_true(kt_jv_is(kt_jv_get(spec, "hostNetwork"), KT_J_FALSE));
	assert_false(kt_jv_true(kt_jv_get(spec, "hostNetwork")));
	assert_true(kt_jv_int(kt_jv_get(spec, "priority"), &ll));
	assert_int_equal(ll, -5);
	assert_false(kt_jv_int(kt_jv_get(spec, "ratio"), &ll));
	assert_true(kt_jv_real(kt_jv_get(spec, "ratio"), &d));
	assert_true(d == 0.25);
	assert_false(kt_jv_int(kt_jv_get(spec, "hostNetwork"), &ll));
	assert_true(kt_jv_absent(kt_jv_get(spec, "x")));
	assert_true(kt_jv_ok(kt_jv_get(spec, "x")));
	/* absent chains stay absent, never crash */
	e = kt_jv_get(kt_jv_at(kt_jv_get(spec, "nope"), 3), "name");
	assert_false(kt_jv_ok(e));
	assert_null(kt_jv_str(e));
	assert_int_equal(kt_jv_size(e), 0);
	assert_false(kt_jv_ok(kt_jv_first(e)));
	assert_false(kt_jv_ok(kt_jv_get(cs, "name"))); /* a member of an array */
	assert_false(kt_jv_ok(kt_jv_at(spec, 0)));     /* an element of an object */
	/* member iteration gives keys in order, unescaped */
	n = 0;
	for (e = kt_jv_first(spec); kt_jv_ok(e); e = kt_jv_next(e))
		n++;
	assert_int_equal(n, kt_jv_size(spec));
	e = kt_jv_get(spec, "name");
	assert_string_equal(kt_jv_key(e, &len), "name");
	assert_int_equal(len, 4);
	assert_null(kt_jv_key(kt_jv_at(cs, 0), NULL));
	kt_jview_release(&v);
}

static void pointers(void **state)
{
	struct kt_jview v = KT_JVIEW_INIT;
	struct kt_err err;
	struct kt_jv root, obj, port;
	char buf[128];
	bool cut;

	(void)state;
	assert_int_equal(parse(&v, review, strlen(review), &err), KT_OK);
	root = kt_jview_root(&v);
	obj = kt_jv_get(kt_jv_get(root, "request"), "object");
	assert_string_equal(kt_jv_pointer(root, buf, sizeof(buf), &cut), "");
	port = kt_jv_get(kt_jv_at(kt_jv_get(kt_jv_at(kt_jv_get(kt_jv_get(obj, "spec"), "containers"),
						     1),
					    "ports"),
				  0),
			 "containerPort");
	assert_string_equal(kt_jv_pointer(port, buf, sizeof(buf), &cut),
			    "/request/object/spec/containers/1/ports/0/containerPort");
	assert_false(cut);
	/* RFC 6901: '~' is ~0, '/' is ~1 */
	assert_string_equal(kt_jv_pointer(kt_jv_get(kt_jv_get(kt_jv_get(obj, "metadata"), "labels"),
						    "a/b"),
					  buf, sizeof(buf), NULL),
			    "/request/object/metadata/labels/a~1b");
	assert_string_equal(kt_jv_pointer(kt_jv_get(kt_jv_get(kt_jv_get(obj, "metadata"), "labels"),
						    "t~n"),
					  buf, sizeof(buf), NULL),
			    "/request/object/metadata/labels/t~0n");
	/* the unescaped key, not the text */
	assert_string_equal(kt_jv_pointer(kt_jv_get(kt_jv_get(obj, "spec"), "name"), buf,
					  sizeof(buf), NULL),
			    "/request/object/spec/name");
	/* too small: a prefix, and said so */
	kt_jv_pointer(port, buf, 12, &cut);
	assert_true(cut);
	assert_true(strlen(buf) < 12);
	kt_jview_release(&v);
}

/* One view parses document after document; nothing of the last one is left. */
static void reuse(void **state)
{
	struct kt_jview v = KT_JVIEW_INIT;
	struct kt_err err;
	char big[4096];
	size_t n = 0;

	(void)state;
	assert_int_equal(parse(&v, "{\"a\":\"\\u0041\"}", 14, &err), KT_OK);
	assert_string_equal(kt_jv_str(kt_jv_get(kt_jview_root(&v), "a")), "A");
	big[n++] = '[';
	for (int i = 0; i < 300; i++)
		n += (size_t)sprintf(big + n, "%s\"s\\u00e9%d\"", i ? "," : "", i);
	big[n++] = ']';
	assert_int_equal(parse(&v, big, n, &err), KT_OK);
	/* every string read: the arena holds them all */
	for (struct kt_jv e = kt_jv_first(kt_jview_root(&v)); kt_jv_ok(e); e = kt_jv_next(e))
		assert_non_null(kt_jv_str(e));
	assert_string_equal(kt_jv_str(kt_jv_at(kt_jview_root(&v), 299)), "s\xc3\xa9"
									 "299");
	assert_int_equal(parse(&v, "[1,]", 4, &err), KT_E_PARSE);
	assert_false(kt_jv_ok(kt_jview_root(&v)));
	assert_int_equal(parse(&v, "{\"b\":true}", 10, &err), KT_OK);
	assert_false(kt_jv_ok(kt_jv_get(kt_jview_root(&v), "a")));
	assert_true(kt_jv_true(kt_jv_get(kt_jview_root(&v), "b")));
	kt_jview_release(&v);
}

/*
 * Strings are scanned 8 bytes at a time: a byte needing a look of its own
 * (control byte, bad or good UTF-8, escape) is found at every offset of a
 * run, in strings of every length near the word size, each text in a
 * buffer of its exact size so a read past it shows under ASan.
 */
static void word_scan(void **state)
{
	static const struct {
		const char *ins, *out; /* out NULL: refused */
	} cases[] = {
		{ "\x01", NULL },           { "\x1f", NULL },
		{ "\xff", NULL },           { "\xc3", NULL },
		{ "\xc3\xa9", "\xc3\xa9" }, { "\\n", "\n" },
		{ "\\\"", "\"" },           { "\\u2028", "\xe2\x80\xa8" },
		{ "\x7f", "\x7f" },
	};
	struct kt_jview v = KT_JVIEW_INIT;
	struct kt_err err;
	char want[64];

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (size_t len = 0; len < 20; len++)
			for (size_t at = 0; at <= len; at++) {
				size_t il = strlen(cases[c].ins), n = 0;
				char *t = malloc(len + il + 4);

				assert_non_null(t);
				t[n++] = '[', t[n++] = '"';
				memset(t + n, 'a', at), n += at;
				memcpy(t + n, cases[c].ins, il), n += il;
				memset(t + n, 'b', len - at), n += len - at;
				t[n++] = '"', t[n++] = ']';
				if (!cases[c].out) {
					assert_int_equal(parse(&v, t, n, &err), KT_E_PARSE);
				} else {
					assert_int_equal(parse(&v, t, n, &err), KT_OK);
					snprintf(want, sizeof(want), "%.*s%s%.*s", (int)at,
						 "aaaaaaaaaaaaaaaaaaaa", cases[c].out,
						 (int)(len - at), "bbbbbbbbbbbbbbbbbbbb");
					assert_string_equal(kt_jv_str(
								    kt_jv_at(kt_jview_root(&v), 0)),
							    want);
				}
				free(t);
			}
	kt_jview_release(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refused),   cmocka_unit_test(accepted), cmocka_unit_test(limits),
		cmocka_unit_test(reading),   cmocka_unit_test(pointers), cmocka_unit_test(reuse),
		cmocka_unit_test(word_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
