#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "kt/buf.h"

static void add_and_detach(void **state)
{
	struct kt_buf b = KT_BUF_INIT;
	char *p;
	size_t len;

	(void)state;
	assert_string_equal(b.buf, "");
	assert_int_equal(kt_buf_adds(&b, "tenant"), KT_OK);
	assert_int_equal(kt_buf_addf(&b, "-%d", 42), KT_OK);
	assert_int_equal(kt_buf_addch(&b, '!'), KT_OK);
	assert_string_equal(b.buf, "tenant-42!");
	p = kt_buf_detach(&b, &len);
	assert_int_equal(len, 10);
	assert_string_equal(p, "tenant-42!");
	assert_ptr_equal(b.buf, kt_buf_empty);
	free(p);
}

static void cap_is_enforced_and_leaves_buffer_unchanged(void **state)
{
	struct kt_buf b = KT_BUF_INIT;

	(void)state;
	b.max = 8;
	assert_int_equal(kt_buf_adds(&b, "12345678"), KT_OK);
	assert_int_equal(kt_buf_adds(&b, "9"), KT_E_LIMIT);
	assert_int_equal(kt_buf_addf(&b, "%s", "x"), KT_E_LIMIT);
	assert_string_equal(b.buf, "12345678");
	assert_int_equal(b.len, 8);
	kt_buf_release(&b);
}

static void read_file_respects_limit(void **state)
{
	struct kt_buf b = KT_BUF_INIT;
	struct kt_err err = { 0 };
	char path[] = "/tmp/kt_buf_XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	assert_int_equal(kt_buf_read_file(&b, path, 10, &err), KT_OK);
	assert_string_equal(b.buf, "0123456789");
	kt_buf_release(&b);
	assert_int_equal(kt_buf_read_file(&b, path, 9, &err), KT_E_LIMIT);
	assert_non_null(strstr(err.msg, "larger than 9 bytes"));
	kt_buf_release(&b);
	unlink(path);
	assert_int_equal(kt_buf_read_file(&b, path, 9, &err), KT_E_IO);
	assert_non_null(strstr(err.msg, "cannot open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_and_detach),
		cmocka_unit_test(cap_is_enforced_and_leaves_buffer_unchanged),
		cmocka_unit_test(read_file_respects_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
