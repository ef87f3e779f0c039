/*
 * t_proxy.c: the proxy's header filter, bearer parsing, verbs and options.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "kt/proxy.h"

static char *groups[] = { "oidc:devs", "oidc:ops" };
static struct kt_identity alice = { .user = "oidc:alice", .groups = groups, .n_groups = 2 };

/* Run the filter; returns the output as "line\n" text (static buffer). */
static const char *filter(const struct kt_hdr *in, size_t n, bool upgrade, enum kt_rc *rc,
			  const char **reason)
{
	static char text[8192];
	static const struct kt_jwt_claim extra[] = { { "scopes", "view" }, { "Team Name", "a" } };
	struct kt_proxy_ident ident = { .id = &alice,
					.extra = extra,
					.n_extra = 2,
					.client_ip = "192.0.2.7",
					.extra_client_ip = true };
	struct kt_buf out = KT_BUF_INIT;
	size_t count = 0, i;
	const char *s;

	*rc = kt_proxy_filter_headers(in, n, upgrade, &ident, &out, &count, reason);
	text[0] = 0;
	for (i = 0, s = out.buf; i < count; i++, s += strlen(s) + 1) {
		strncat(text, s, sizeof(text) - strlen(text) - 2);
		strcat(text, "\n");
	}
	kt_buf_release(&out);
	return text;
}

static void impersonation_headers_refuse_the_request(void **state)
{
	static const char *const names[] = { "Impersonate-User", "impersonate-group",
					     "IMPERSONATE-UID",  "Impersonate-Extra-Scopes",
					     "impersonate_user", "Impersonate-",
					     "iMpErSoNaTe-UsEr" };
	const char *reason;
	enum kt_rc rc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct kt_hdr in[] = { { "Accept", "application/json" }, { names[i], "x" } };

		assert_string_equal(filter(in, 2, false, &rc, &reason), "");
		assert_int_equal(rc, KT_E_AUTH);
		assert_string_equal(reason, "impersonation_header");
		/* the check-only form refuses too, before any identity exists */
		assert_int_equal(kt_proxy_filter_headers(in, 2, false, NULL, NULL, NULL, &reason),
				 KT_E_AUTH);
	}
}

/* With an identity the filter writes headers: without a buffer it refuses. */
static void identity_without_output_is_refused(void **state)
{
	struct kt_hdr in[] = { { "Accept", "application/json" } };
	struct kt_proxy_ident ident = { .id = &alice };
	struct kt_buf out = KT_BUF_INIT;
	size_t count = 0;
	const char *reason;

	(void)state;
	assert_int_equal(kt_proxy_filter_headers(in, 1, false, &ident, NULL, &count, &reason),
			 KT_E_INVALID);
	assert_int_equal(kt_proxy_filter_headers(in, 1, false, &ident, &out, NULL, &reason),
			 KT_E_INVALID);
	assert_int_equal(out.len, 0);
}

static void identity_headers_are_replaced(void **state)
{
	struct kt_hdr in[] = {
		{ "Accept", "application/json" },
		{ "Authorization", "Bearer secret" },
		{ "X-Remote-User", "system:admin" },
		{ "x-remote-group", "system:masters" },
		{ "X-Remote-Extra-Foo", "bar" },
		{ "X-Forwarded-For", "10.0.0.1" },
		{ "Forwarded", "for=10.0.0.1" },
		{ "Cookie", "a=b" },
		{ "Proxy-Authorization", "Basic x" },
		{ "Connection", "keep-alive, X-Hop" },
		{ "X-Hop", "1" },
		{ "Transfer-Encoding", "chunked" },
		{ "Host", "evil" },
		{ "User-Agent", "kubectl/v1.32" },
	};
	const char *reason, *out;
	enum kt_rc rc;

	(void)state;
	out = filter(in, sizeof(in) / sizeof(in[0]), false, &rc, &reason);
	assert_int_equal(rc, KT_OK);
	assert_string_equal(out, "Accept: application/json\n"
				 "User-Agent: kubectl/v1.32\n"
				 "Impersonate-User: oidc:alice\n"
				 "Impersonate-Group: oidc:devs\n"
				 "Impersonate-Group: oidc:ops\n"
				 "Impersonate-Group: system:authenticated\n"
				 "Impersonate-Extra-scopes: view\n"
				 "Impersonate-Extra-team%20name: a\n"
				 "Impersonate-Extra-remote-client-ip: 192.0.2.7\n"
				 "X-Forwarded-For: 192.0.2.7\n");
}

static void upgrade_keeps_upgrade_headers(void **state)
{
	struct kt_hdr in[] = {
		{ "Connection", "Upgrade" },
		{ "Upgrade", "websocket" },
		{ "Sec-WebSocket-Key", "abc" },
		{ "Sec-WebSocket-Protocol", "v5.channel.k8s.io" },
	};
	const char *reason, *out;
	enum kt_rc rc;

	(void)state;
	out = filter(in, 4, true, &rc, &reason);
	assert_int_equal(rc, KT_OK);
	assert_non_null(strstr(out, "Sec-WebSocket-Key: abc\nSec-WebSocket-Protocol: "
				    "v5.channel.k8s.io\nUpgrade: websocket\nConnection: Upgrade\n"
				    "Impersonate-User: oidc:alice\n"));
	/* a second credential hidden in the WebSocket subprotocols never goes upstream */
	{
		struct kt_hdr ws[] = {
			{ "Connection", "Upgrade" },
			{ "Upgrade", "websocket" },
			{ "Sec-WebSocket-Protocol",
			  "v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.c2VjcmV0 ,"
			  "v4.channel.k8s.io" },
		};
		struct kt_hdr only[] = {
			{ "Upgrade", "websocket" },
			{ "Sec-WebSocket-Protocol", "Base64url.Bearer.Authorization.K8s.Io.eA" },
		};

		out = filter(ws, 3, true, &rc, &reason);
		assert_int_equal(rc, KT_OK);
		assert_non_null(strstr(out, "Sec-WebSocket-Protocol: v5.channel.k8s.io, "
					    "v4.channel.k8s.io\n"));
		assert_null(strstr(out, "c2VjcmV0"));
		out = filter(only, 2, true, &rc, &reason);
		assert_int_equal(rc, KT_OK);
		assert_null(strstr(out, "Sec-WebSocket-Protocol"));
		assert_null(strstr(out, "eA"));
	}
	/* an upgrade without an Upgrade header is malformed */
	out = filter(in, 1, true, &rc, &reason);
	assert_int_equal(rc, KT_E_PARSE);
}

static void malformed_headers_are_refused(void **state)
{
	struct kt_hdr bad_name[] = { { "X Bad", "1" } };
	struct kt_hdr crlf[] = { { "X-Ok", "a\r\nImpersonate-User: x" } };
	struct kt_hdr many[KT_PROXY_MAX_HEADERS + 1];
	const char *reason;
	enum kt_rc rc;
	size_t i;

	(void)state;
	filter(bad_name, 1, false, &rc, &reason);
	assert_int_equal(rc, KT_E_PARSE);
	assert_string_equal(reason, "bad_header");
	filter(crlf, 1, false, &rc, &reason);
	assert_int_equal(rc, KT_E_PARSE);
	{
		/* found by fuzz_headers: an impersonation attempt is reported as one (403) */
		struct kt_hdr both[] = { { "X\xd0"
					   "Bad",
					   "1" },
					 { "Impersonate-User", "x" } };

		filter(both, 2, false, &rc, &reason);
		assert_int_equal(rc, KT_E_AUTH);
	}
	for (i = 0; i < KT_PROXY_MAX_HEADERS + 1; i++)
		many[i] = (struct kt_hdr){ "X-A", "1" };
	filter(many, KT_PROXY_MAX_HEADERS + 1, false, &rc, &reason);
	assert_int_equal(rc, KT_E_PARSE);
}

static void bearer_parsing(void **state)
{
	const char *tok = NULL, *reason = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(kt_proxy_bearer("Bearer abc.def.ghi", &tok, &len, &reason), KT_OK);
	assert_int_equal(len, 11);
	assert_memory_equal(tok, "abc.def.ghi", 11);
	assert_int_equal(kt_proxy_bearer("bearer   x", &tok, &len, &reason), KT_OK);
	assert_int_equal(len, 1);
	assert_int_equal(kt_proxy_bearer(NULL, &tok, &len, &reason), KT_E_AUTH);
	assert_string_equal(reason, "no_token");
	assert_int_equal(kt_proxy_bearer("Basic YWRtaW46YWRtaW4=", &tok, &len, &reason), KT_E_AUTH);
	assert_string_equal(reason, "basic_auth");
	assert_int_equal(kt_proxy_bearer("Bearer ", &tok, &len, &reason), KT_E_AUTH);
	assert_string_equal(reason, "no_token");
	assert_int_equal(kt_proxy_bearer("Bearer a b", &tok, &len, &reason), KT_E_AUTH);
	assert_string_equal(reason, "bad_authorization");
	assert_int_equal(kt_proxy_bearer("Negotiate x", &tok, &len, &reason), KT_E_AUTH);
	assert_string_equal(reason, "bad_authorization");
}

static void response_headers(void **state)
{
	(void)state;
	assert_true(kt_proxy_drop_response_header("Transfer-Encoding", false));
	assert_true(kt_proxy_drop_response_header("content-length", true));
	assert_true(kt_proxy_drop_response_header("Connection", false));
	assert_false(kt_proxy_drop_response_header("Connection", true));
	assert_false(kt_proxy_drop_response_header("Upgrade", true));
	assert_false(kt_proxy_drop_response_header("Content-Type", false));
	assert_false(kt_proxy_drop_response_header("Audit-Id", false));
}

static void verbs(void **state)
{
	(void)state;
	assert_string_equal(kt_proxy_verb("GET", "/api/v1/namespaces/a/pods", NULL), "list");
	assert_string_equal(kt_proxy_verb("GET", "/api/v1/namespaces/a/pods/p", NULL), "get");
	assert_string_equal(kt_proxy_verb("GET", "/api/v1/namespaces/a/pods", "?watch=true"),
			    "watch");
	assert_string_equal(kt_proxy_verb("GET", "/api/v1/watch/namespaces/a/pods", NULL), "watch");
	assert_string_equal(kt_proxy_verb("GET", "/api/v1/namespaces", NULL), "list");
	assert_string_equal(kt_proxy_verb("GET", "/api/v1/namespaces/a", NULL), "get");
	assert_string_equal(kt_proxy_verb("GET", "/apis/apps/v1/namespaces/a/deployments", NULL),
			    "list");
	assert_string_equal(kt_proxy_verb("GET", "/version", "?watch=true"), "get");
	assert_string_equal(kt_proxy_verb("POST", "/api/v1/namespaces/a/pods", NULL), "create");
	assert_string_equal(kt_proxy_verb("DELETE", "/api/v1/namespaces/a/pods", NULL),
			    "deletecollection");
	assert_string_equal(kt_proxy_verb("DELETE", "/api/v1/namespaces/a/pods/p", NULL), "delete");
	assert_string_equal(kt_proxy_verb("PATCH", "/api/v1/namespaces/a/pods/p", NULL), "patch");
	assert_string_equal(kt_proxy_verb("OPTIONS", "/", NULL), "unknown");
}

static void options_and_config_file(void **state)
{
	struct kt_proxy_opts o;
	struct kt_jwt_policy pol;
	struct kt_err err = { 0 };
	char path[] = "/tmp/kt_proxy_XXXXXX";
	static const char yaml[] = "issuer-url: https://dex.example.org\n"
				   "audience: kubernetes\n"
				   "upstream: https://10.0.0.1:6443\n"
				   "token-file: /var/run/token\n"
				   "tls-cert: c.pem\n"
				   "tls-key: k.pem\n"
				   "allowed-alg: [RS256, ES256]\n"
				   "required-claim: hd=example.org\n"
				   "extra-client-ip: true\n"
				   "tenants: /etc/kubetenant/tenants.yaml\n"
				   "username-prefix: \"\"\n";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, sizeof(yaml) - 1), (ssize_t)sizeof(yaml) - 1);
	close(fd);
	assert_int_equal(kt_proxy_opts_init(&o), KT_OK);
	assert_int_equal(kt_proxy_opts_check(&o, &err), KT_E_INVALID);
	assert_non_null(strstr(err.msg, "'--issuer-url' is required"));
	assert_int_equal(kt_proxy_opts_load(&o, path, &err), KT_OK);
	assert_int_equal(kt_proxy_opts_check(&o, &err), KT_OK);
	assert_int_equal(o.algs, KT_JWT_RS256 | KT_JWT_ES256);
	assert_int_equal(o.n_required, 1);
	assert_string_equal(o.required[0].name, "hd");
	assert_string_equal(o.required[0].value, "example.org");
	assert_true(o.extra_client_ip);
	assert_string_equal(o.tenants, "/etc/kubetenant/tenants.yaml");
	kt_proxy_opts_policy(&o, &pol);
	assert_string_equal(pol.username_prefix, "");
	assert_string_equal(pol.groups_prefix, "oidc:");
	assert_string_equal(pol.issuer, "https://dex.example.org");
	/* flags after the file: scalars replace, lists add */
	assert_int_equal(kt_proxy_opts_set(&o, "audience", "other", &err), KT_OK);
	assert_int_equal(kt_proxy_opts_set(&o, "audience", "kubernetes", &err), KT_OK);
	assert_string_equal(o.audience, "kubernetes");
	assert_int_equal(o.n_audiences, 1);
	assert_string_equal(o.audiences[0], "other");
	kt_proxy_opts_policy(&o, &pol);
	assert_int_equal(pol.n_audiences, 1);
	assert_string_equal(pol.audiences[0], "other");
	assert_int_equal(kt_proxy_opts_set(&o, "audience", "aud-2", &err), KT_OK);
	assert_int_equal(kt_proxy_opts_set(&o, "audience", "a\rb", &err), KT_E_INVALID);
	for (int i = 0; i < KT_PROXY_MAX_AUDIENCES - 2; i++) {
		char a[8];

		snprintf(a, sizeof(a), "a%d", i);
		assert_int_equal(kt_proxy_opts_set(&o, "audience", a, &err), KT_OK);
	}
	assert_int_equal(kt_proxy_opts_set(&o, "audience", "one-too-many", &err), KT_E_INVALID);
	assert_int_equal(kt_proxy_opts_set(&o, "audience", "", &err), KT_OK);
	assert_null(o.audience);
	assert_int_equal(o.n_audiences, 0);
	assert_int_equal(kt_proxy_opts_check(&o, &err), KT_E_INVALID);
	assert_int_equal(kt_proxy_opts_set(&o, "audience", "kubernetes", &err), KT_OK);
	/* the dashboard: on by flag, with a client ID that is a plain string */
	assert_false(o.ui);
	assert_string_equal(o.ui_client_id, "kubetenant-dashboard");
	assert_int_equal(kt_proxy_opts_set(&o, "ui", NULL, &err), KT_OK);
	assert_true(o.ui);
	assert_int_equal(kt_proxy_opts_set(&o, "ui-client-id", "x\ty", &err), KT_OK);
	assert_int_equal(kt_proxy_opts_check(&o, &err), KT_E_INVALID);
	assert_int_equal(kt_proxy_opts_set(&o, "ui-client-id", "dash", &err), KT_OK);
	assert_int_equal(kt_proxy_opts_check(&o, &err), KT_OK);
	assert_int_equal(kt_proxy_opts_set(&o, "required-claim", "a=b=c", &err), KT_OK);
	assert_string_equal(o.required[1].value, "b=c");
	assert_int_equal(kt_proxy_opts_set(&o, "required-claim", "novalue", &err), KT_E_INVALID);
	assert_int_equal(kt_proxy_opts_set(&o, "allowed-alg", "HS256", &err), KT_E_INVALID);
	assert_int_equal(kt_proxy_opts_set(&o, "allowed-alg", "none", &err), KT_E_INVALID);
	assert_int_equal(kt_proxy_opts_set(&o, "clock-skew", "-1", &err), KT_E_INVALID);
	assert_int_equal(kt_proxy_opts_set(&o, "bogus", "1", &err), KT_E_INVALID);
	assert_int_equal(kt_proxy_opts_set(&o, "extra", "k=v\r\nX: y", &err), KT_E_INVALID);
	assert_int_equal(kt_proxy_opts_set(&o, "client-cert", "c", &err), KT_OK);
	assert_int_equal(kt_proxy_opts_check(&o, &err), KT_E_INVALID); /* token and cert */
	assert_int_equal(kt_proxy_opts_set(&o, "token-file", "", &err), KT_OK);
	assert_null(o.token_file);
	assert_int_equal(kt_proxy_opts_check(&o, &err), KT_E_INVALID); /* cert without key */
	assert_int_equal(kt_proxy_opts_set(&o, "client-key", "k", &err), KT_OK);
	assert_int_equal(kt_proxy_opts_check(&o, &err), KT_OK);
	assert_int_equal(kt_proxy_opts_set(&o, "groups-prefix", "system:x", &err), KT_OK);
	assert_int_equal(kt_proxy_opts_check(&o, &err), KT_E_INVALID);
	kt_proxy_opts_release(&o);
	unlink(path);
}

static enum kt_rc load_text(struct kt_proxy_opts *o, const char *text, struct kt_err *err)
{
	char path[] = "/tmp/kt_proxy_XXXXXX";
	int fd = mkstemp(path);
	enum kt_rc rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	rc = kt_proxy_opts_load(o, path, err);
	unlink(path);
	return rc;
}

/* The config file is read by the one YAML reader: each refusal says where. */
static void config_file_problems_have_positions(void **state)
{
	struct kt_proxy_opts o;
	struct kt_err err = { 0 };

	(void)state;
	assert_int_equal(kt_proxy_opts_init(&o), KT_OK);
	/* a repeated key: which one would win is a guess, so neither does */
	assert_int_equal(load_text(&o, "audience: a\nlisten: :1\naudience: b\n", &err), KT_E_PARSE);
	assert_string_equal(err.msg, "duplicate key 'audience'");
	assert_non_null(strstr(err.where, ":3:1"));
	assert_int_equal(load_text(&o, "upstream: *u\n", &err), KT_E_PARSE);
	assert_string_equal(err.msg, "undefined alias '*u'");
	assert_int_equal(load_text(&o, "issuer-url: [x\n", &err), KT_E_PARSE);
	assert_non_null(strstr(err.msg, "invalid YAML"));
	/* libfyaml 0.7.12 never returns from this one (found by fuzz_yaml) */
	assert_int_equal(load_text(&o, "%p\xff\n", &err), KT_E_PARSE);
	assert_string_equal(err.msg, "byte 0xff is not UTF-8 text");
	assert_non_null(strstr(err.where, ":1:3"));
	assert_int_equal(load_text(&o, "- issuer-url\n", &err), KT_E_PARSE);
	assert_string_equal(err.msg, "not a YAML mapping of option names");
	assert_int_equal(load_text(&o, "a: 1\n---\nb: 2\n", &err), KT_E_PARSE);
	/* an alias is a value like any other, and a bad value names its line */
	assert_int_equal(load_text(&o, "audience: &a k8s\nextra: [x=1]\nthreads: nine\n", &err),
			 KT_E_INVALID);
	assert_non_null(strstr(err.where, ":3:1"));
	assert_string_equal(o.audience, "k8s");
	assert_int_equal(load_text(&o, "a: &a [x, y]\nrequired-claim: *a\n", &err), KT_E_INVALID);
	assert_string_equal(err.msg, "unknown option 'a'");
	assert_int_equal(load_text(&o, "audience: &a x\nissuer-url: *a\n", &err), KT_OK);
	assert_string_equal(o.issuer_url, "x");
	kt_proxy_opts_release(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(impersonation_headers_refuse_the_request),
		cmocka_unit_test(identity_without_output_is_refused),
		cmocka_unit_test(identity_headers_are_replaced),
		cmocka_unit_test(upgrade_keeps_upgrade_headers),
		cmocka_unit_test(malformed_headers_are_refused),
		cmocka_unit_test(bearer_parsing),
		cmocka_unit_test(response_headers),
		cmocka_unit_test(verbs),
		cmocka_unit_test(options_and_config_file),
		cmocka_unit_test(config_file_problems_have_positions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
