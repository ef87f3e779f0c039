/*
 * t_login.c: lib/login's pieces that need no issuer: the cache's file
 * rules, PKCE, and the answers' error mapping.  The flows themselves run
 * against a real issuer in test/e2e/t5050-login.bats.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "kt/login.h"
#include "../../lib/login/internal.h"

static char dir[] = "/tmp/t_login.XXXXXX";

static void cache_path_is_per_issuer_client_user(void **state)
{
	struct kt_login_opts o = { .issuer = "https://a",
				   .client_id = "kubectl",
				   .cache_dir = dir };
	char p1[4096], p2[4096], p3[4096];

	(void)state;
	assert_true(kt_login_cache_path(&o, p1, sizeof(p1)));
	o.user = "second";
	assert_true(kt_login_cache_path(&o, p2, sizeof(p2)));
	o.user = NULL;
	o.client_id = "kubectl2";
	assert_true(kt_login_cache_path(&o, p3, sizeof(p3)));
	assert_string_not_equal(p1, p2);
	assert_string_not_equal(p1, p3);
	assert_int_equal(strncmp(p1, dir, strlen(dir)), 0);
	/* XDG says a relative XDG_CACHE_HOME is ignored: ~/.cache then */
	o.cache_dir = NULL;
	setenv("XDG_CACHE_HOME", "relative", 1);
	setenv("HOME", "/home/m", 1);
	assert_true(kt_login_cache_path(&o, p1, sizeof(p1)));
	assert_int_equal(strncmp(p1, "/home/m/.cache/kubetenant/", 26), 0);
	unsetenv("HOME");
	assert_false(kt_login_cache_path(&o, p1, sizeof(p1)));
	/* too small a buffer is a refusal, not a truncated path */
	o.cache_dir = dir;
	assert_false(kt_login_cache_path(&o, p1, 10));
}

static void cache_write_then_read_0600(void **state)
{
	struct kt_login_cached c;
	char path[4096];
	struct stat st;
	int lock;

	(void)state;
	snprintf(path, sizeof(path), "%s/sub/s.json", dir);
	lock = kt_login_cache_lock(path, NULL);
	assert_true(lock >= 0);
	assert_int_equal(stat(path, &st) == 0, 0); /* nothing yet */
	assert_int_equal(kt_login_cache_write(path, "idt", "rt", NULL), KT_LOGIN_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/sub/s.json", dir);
	kt_login_cache_read(path, &c);
	assert_string_equal(c.id_token, "idt");
	assert_string_equal(c.refresh_token, "rt");
	kt_login_cached_release(&c);
	/* readable by others: not trusted */
	chmod(path, 0644);
	kt_login_cache_read(path, &c);
	assert_null(c.id_token);
	assert_null(c.refresh_token);
	close(lock);
}

static void cache_refuses_symlinks_and_garbage(void **state)
{
	struct kt_login_cached c;
	char path[4096], target[4096];
	FILE *f;

	(void)state;
	snprintf(target, sizeof(target), "%s/target.json", dir);
	snprintf(path, sizeof(path), "%s/link.json", dir);
	assert_int_equal(kt_login_cache_write(target, "idt", NULL, NULL), KT_LOGIN_OK);
	assert_int_equal(symlink(target, path), 0);
	kt_login_cache_read(path, &c);
	assert_null(c.id_token);
	snprintf(path, sizeof(path), "%s/dup.json", dir);
	f = fopen(path, "w");
	fputs("{\"id_token\":\"a\",\"id_token\":\"b\"}", f);
	fclose(f);
	chmod(path, 0600);
	kt_login_cache_read(path, &c);
	assert_null(c.id_token);
}

static void pkce_s256_matches_rfc7636(void **state)
{
	/* RFC 7636 appendix B */
	char *c = kt_login_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	char *r1 = kt_login_random(32), *r2 = kt_login_random(32);

	(void)state;
	assert_string_equal(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	assert_int_equal(strlen(r1), 43);
	assert_string_not_equal(r1, r2);
	assert_null(strpbrk(r1, "+/="));
	free(c);
	free(r1);
	free(r2);
}

static void token_errors_map_to_failures(void **state)
{
	static const struct {
		const char *json;
		enum kt_login_fail f;
		bool pending;
	} t[] = {
		{ "{\"error\":\"invalid_grant\"}", KT_LOGIN_REVOKED, false },
		{ "{\"error\":\"access_denied\"}", KT_LOGIN_DENIED, false },
		{ "{\"error\":\"expired_token\"}", KT_LOGIN_EXPIRED, false },
		{ "{\"error\":\"authorization_pending\"}", KT_LOGIN_OK, true },
		{ "{\"error\":\"slow_down\"}", KT_LOGIN_OK, true },
		{ "{\"error\":\"server_error\"}", KT_LOGIN_UNREACHABLE, false },
		{ "{\"access_token\":\"x\"}", KT_LOGIN_UNREACHABLE, false },
		{ "{\"id_token\":\"x\",\"id_token\":\"y\"}", KT_LOGIN_UNREACHABLE, false },
		{ "{\"id_token\":\"x\"}", KT_LOGIN_OK, false },
	};
	struct kt_login_answer a;
	struct kt_err err = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(kt_login_parse_token(t[i].json, strlen(t[i].json), &a, &err),
				 t[i].f);
		assert_int_equal(a.pending, t[i].pending);
		kt_login_answer_release(&a);
	}
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(cache_path_is_per_issuer_client_user),
		cmocka_unit_test(cache_write_then_read_0600),
		cmocka_unit_test(cache_refuses_symlinks_and_garbage),
		cmocka_unit_test(pkce_s256_matches_rfc7636),
		cmocka_unit_test(token_errors_map_to_failures),
	};
	char rm[64];
	int rc;

	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
	if (system(rm) == -1)
		rc = 1;
	return rc;
}
