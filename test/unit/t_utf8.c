/*
 * t_utf8.c: the shared UTF-8 decoder, on both sides of every boundary of
 * "valid": lengths, the smallest and largest code point of each length,
 * overlong forms, surrogates, beyond U+10FFFF, truncation, stray bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "kt/utf8.h"

static size_t decode(const char *s, size_t n, unsigned long *cp)
{
	return kt_utf8_decode((const unsigned char *)s, n, cp);
}

static void valid_sequences(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		unsigned long cp;
	} ok[] = {
		{ "\x00", 1, 0x0 },
		{ "\x1b", 1, 0x1b },
		{ "A", 1, 0x41 },
		{ "\x7f", 1, 0x7f },
		{ "\xc2\x80", 2, 0x80 },
		{ "\xc3\xa9", 2, 0xe9 },
		{ "\xdf\xbf", 2, 0x7ff },
		{ "\xe0\xa0\x80", 3, 0x800 },
		{ "\xed\x9f\xbf", 3, 0xd7ff },
		{ "\xee\x80\x80", 3, 0xe000 },
		{ "\xef\xbf\xbf", 3, 0xffff },
		{ "\xf0\x90\x80\x80", 4, 0x10000 },
		{ "\xf0\x9f\x98\x80", 4, 0x1f600 },
		{ "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
	};
	unsigned long cp;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cp = 0xdead;
		assert_int_equal(decode(ok[i].s, ok[i].len, &cp), ok[i].len);
		assert_int_equal(cp, ok[i].cp);
		/* trailing bytes are not part of the sequence */
		assert_int_equal(decode(ok[i].s, ok[i].len + 1, &cp), ok[i].len);
	}
}

static void invalid_sequences(void **state)
{
	static const char *const bad[] = {
		"\x80", /* a continuation byte first */
		"\xbf",
		"\xc0\x80",         /* overlong NUL */
		"\xc1\xbf",         /* overlong 0x7f */
		"\xe0\x9f\xbf",     /* overlong 0x7ff */
		"\xf0\x8f\xbf\xbf", /* overlong 0xffff */
		"\xed\xa0\x80",     /* U+D800, a surrogate */
		"\xed\xbf\xbf",     /* U+DFFF */
		"\xf4\x90\x80\x80", /* U+110000 */
		"\xf5\x80\x80\x80", /* no such lead byte */
		"\xff",
		"\xc3\x41", /* a continuation missing */
		"\xe2\x82\x41",
	};
	unsigned long cp;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (decode(bad[i], strlen(bad[i]), &cp))
			fail_msg("bad sequence %zu decoded", i);
	/* truncated by the end of the input */
	assert_int_equal(decode("\xc3\xa9", 1, &cp), 0);
	assert_int_equal(decode("\xe2\x82\xac", 2, &cp), 0);
	assert_int_equal(decode("\xf0\x9f\x98\x80", 3, &cp), 0);
	assert_int_equal(decode("\xe2\x82\xac", 3, &cp), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_sequences),
		cmocka_unit_test(invalid_sequences),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
