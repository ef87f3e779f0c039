/*
 * t_oidc.c: lib/oidc's refusals that need no issuer.  The fetches that
 * reach one run in test/e2e (t5000, t5020: the proxy; t5030, t5050: login
 * and kubeconfig --from-cluster, with the size cap and the status).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "kt/oidc.h"

/* A listening socket on 127.0.0.1 that nobody serves: *port is its port. */
static int listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void fetch_fails_closed_and_names_the_url(void **state)
{
	struct kt_buf b = KT_BUF_INIT;
	struct kt_err err = { 0 };
	char url[64];
	long status = -1;
	int port, fd = listener(&port);

	(void)state;
	/* plain http: refused before any connection, so a form's code never leaves */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/token", port);
	assert_int_equal(kt_oidc_fetch(url, NULL, "code=secret", 1024, &b, &status, &err), KT_E_IO);
	assert_int_equal(status, 0);
	assert_int_equal(b.len, 0);
	assert_non_null(strstr(err.msg, "cannot reach 'http://127.0.0.1:"));
	assert_int_equal(accept(fd, NULL, NULL), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	/* a port just freed: connection refused, and the message says where */
	close(fd);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/keys", port);
	status = -1;
	assert_int_equal(kt_oidc_fetch(url, NULL, NULL, 1024, &b, &status, &err), KT_E_IO);
	assert_int_equal(status, 0);
	assert_non_null(strstr(err.msg, "cannot reach 'https://127.0.0.1:"));
	assert_non_null(strstr(err.msg, "/keys': "));
	kt_buf_release(&b);
}

static void new_refuses_plain_issuer_and_has_no_endpoints_yet(void **state)
{
	struct kt_err err = { 0 };
	struct kt_oidc *o = NULL;
	const struct kt_oidc_endpoints *e;

	(void)state;
	assert_int_equal(kt_oidc_new("http://issuer", NULL, &o, &err), KT_E_INVALID);
	assert_null(o);
	assert_int_equal(kt_oidc_new("https://issuer", NULL, &o, &err), KT_OK);
	e = kt_oidc_endpoints(o);
	assert_null(e->authorization);
	assert_null(e->token);
	assert_null(e->device);
	assert_null(kt_oidc_keys(o));
	kt_oidc_free(o);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(fetch_fails_closed_and_names_the_url),
		cmocka_unit_test(new_refuses_plain_issuer_and_has_no_endpoints_yet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
