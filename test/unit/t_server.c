/*
 * t_server.c: server/ (libktserver.a) without sockets: routing, listen
 * addresses, log escaping, metrics formatting, the probes' answers, the
 * histogram, the config swap and the handlers called with a fake request
 * (h2o's loopback idea).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>
#include "http.h"
#include "kt/json.h"
#include "log.h"
#include "core.h"
#include "webhook/webhook.h"

static const char tenants_yaml[] = "global:\n"
				   "  tenantHostPrefix: tenants.example.org\n"
				   "  clusterName: test-cluster\n"
				   "nodePools:\n"
				   "  a-pool:\n"
				   "    instances:\n"
				   "      instanceTypes: [t3a.large]\n"
				   "    costCode: org1\n"
				   "tenants:\n"
				   "  team-a:\n"
				   "    nodePool: a-pool\n";

static struct kt_config *load_config(void)
{
	struct kt_config *cfg = NULL;

	assert_int_equal(kt_config_parse(tenants_yaml, strlen(tenants_yaml), "t.yaml", &cfg, NULL,
					 NULL),
			 KT_OK);
	return cfg;
}

/* ---- routing and addresses ---- */

static int dummy_on_request(struct kt_handler *h, const struct kt_http_req *req,
			    struct kt_http_resp *resp)
{
	(void)h;
	(void)req;
	(void)resp;
	return 0;
}

static void route_ignores_query_and_needs_exact_path(void **state)
{
	struct kt_handler a = { "/validate", dummy_on_request, NULL };
	struct kt_handler b = { "/mutate", dummy_on_request, NULL };
	struct kt_handler *hs[] = { &a, &b };

	(void)state;
	assert_ptr_equal(kt_http_route(hs, 2, "/validate"), &a);
	assert_ptr_equal(kt_http_route(hs, 2, "/mutate?timeout=10s"), &b);
	assert_ptr_equal(kt_http_route(hs, 2, "/validate#x"), &a);
	assert_null(kt_http_route(hs, 2, "/validate/"));
	assert_null(kt_http_route(hs, 2, "/validat"));
	assert_null(kt_http_route(hs, 2, "/validatex?a"));
	assert_null(kt_http_route(hs, 2, ""));
	assert_null(kt_http_route(hs, 2, "/"));
	assert_null(kt_http_route(hs, 0, "/mutate"));
}

static void listen_addresses(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	struct kt_err err = { 0 };
	unsigned len;
	static const char *const bad[] = {
		"nonsense:port", "1.2.3.4:70000",   "1.2.3.4:", ":-1", "::1:80",      "[::1]",
		"[::1]:x",       "host.example:80", "",         ":",   "1.2.3.4:+80", "[::1]:80x"
	};
	size_t i;

	(void)state;
	assert_int_equal(kt_http_parse_listen(":8443", &ss, &len, NULL), KT_OK);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr));
	assert_int_equal(ntohs(v6->sin6_port), 8443);
	assert_int_equal(kt_http_parse_listen("127.0.0.1:9090", &ss, &len, NULL), KT_OK);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohl(v4->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(ntohs(v4->sin_port), 9090);
	assert_int_equal(len, sizeof(*v4));
	assert_int_equal(kt_http_parse_listen("[::1]:443", &ss, &len, NULL), KT_OK);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_true(IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr));
	assert_int_equal(kt_http_parse_listen("8443", &ss, &len, NULL), KT_OK);
	assert_int_equal(ntohs(v6->sin6_port), 8443);
	assert_int_equal(kt_http_parse_listen("localhost:0", &ss, &len, NULL), KT_OK);
	assert_int_equal(ss.ss_family, AF_INET);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(kt_http_parse_listen(bad[i], &ss, &len, &err), KT_E_INVALID);
		assert_non_null(strstr(err.msg, "listen address"));
	}
}

/* ---- thread counts ---- */

static void cpu_quota_text(void **state)
{
	(void)state;
	assert_int_equal(kt_http_cpu_quota("max 100000\n"), 0);
	assert_int_equal(kt_http_cpu_quota("100000 100000\n"), 1);
	assert_int_equal(kt_http_cpu_quota("150000 100000\n"), 2); /* 1.5 CPUs: rounded up */
	assert_int_equal(kt_http_cpu_quota("50000 100000"), 1);
	assert_int_equal(kt_http_cpu_quota("400000 100000"), 4);
	assert_int_equal(kt_http_cpu_quota("0 100000"), 0);
	assert_int_equal(kt_http_cpu_quota("100000 0"), 0);
	assert_int_equal(kt_http_cpu_quota("100000"), 0);
	assert_int_equal(kt_http_cpu_quota("100000 100000 7"), 0);
	assert_int_equal(kt_http_cpu_quota("-1 100000"), 0);
	assert_int_equal(kt_http_cpu_quota("100000 -1"), 0);
	assert_int_equal(kt_http_cpu_quota("18446744073709551615 1"), UINT_MAX);
	assert_int_equal(kt_http_cpu_quota("99999999999999999999 1"), 0); /* out of range */
	assert_int_equal(kt_http_cpu_quota(""), 0);
	assert_int_equal(kt_http_cpu_quota(NULL), 0);
	assert_int_equal(kt_http_cpus(1), 1);
	assert_true(kt_http_cpus(256) >= 1);
}

/* ---- log ---- */

/* One value of a log line, cut at max, as the line is written: from the list on. */
static void log_value(struct kt_buf *b, const char *s, size_t max)
{
	struct kt_buf line = KT_BUF_INIT;
	struct kt_log_line *l = kt_log_begin(KT_LOG_INFO, "m");
	const char *list;

	kt_log_add(kt_log_list(l, "k"), s, max);
	assert_int_equal(kt_log_format(l, &line), KT_OK);
	list = strstr(line.buf, "\"msg\":\"m\",\"k\":[");
	assert_non_null(list);
	kt_buf_reset(b);
	assert_int_equal(kt_buf_adds(b, "{"), KT_OK);
	assert_int_equal(kt_buf_adds(b, list + strlen("\"msg\":\"m\",")), KT_OK);
	kt_buf_release(&line);
}

/*
 * The line jansson writes for the fields log_line() writes: a tree of
 * kt_json_text() values dumped compactly, the way every line was written
 * before.  The writer must give these bytes exactly, for any string.
 */
static void jansson_line(struct kt_buf *out, const char *ts, const char *s, size_t max)
{
	json_t *o = json_object(), *list = json_array(), *empty = json_array();
	size_t n = strlen(s);

	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "level", json_string("error"));
	json_object_set_new(o, "msg", kt_json_text(s, n, 512));
	json_object_set_new(o, "s", kt_json_text(s, n, 512));
	json_object_set_new(o, "none", json_null());
	json_array_append_new(list, kt_json_text(s, n, max));
	json_array_append_new(list, kt_json_text("", 0, max));
	json_array_append_new(list, kt_json_text(s, n, max));
	json_object_set_new(o, "list", list);
	json_object_set_new(o, "min", json_integer(LLONG_MIN));
	json_object_set_new(o, "empty", empty);
	json_object_set_new(o, "max", json_integer(LLONG_MAX));
	json_object_set_new(o, "zero", json_integer(0));
	kt_buf_reset(out);
	assert_int_equal(kt_json_dump(o, out), KT_OK);
	assert_int_equal(kt_buf_addch(out, '\n'), KT_OK);
	json_decref(o);
}

static void log_line(struct kt_buf *out, const char *s, size_t max)
{
	struct kt_log_line *l = kt_log_begin(KT_LOG_ERROR, s), *list;

	kt_log_str(l, "s", s);
	kt_log_str(l, "none", NULL);
	list = kt_log_list(l, "list");
	kt_log_add(list, s, max);
	kt_log_add(list, "", max);
	kt_log_add(list, s, max);
	kt_log_num(l, "min", LLONG_MIN);
	kt_log_list(l, "empty");
	kt_log_num(l, "max", LLONG_MAX);
	kt_log_num(l, "zero", 0);
	kt_buf_reset(out);
	assert_int_equal(kt_log_format(l, out), KT_OK);
}

/* Hostile values give jansson's bytes: escapes, U+FFFD for invalid UTF-8, cuts. */
static void log_lines_are_janssons(void **state)
{
	static const char *const hostile[] = {
		"",
		"plain",
		"\"quoted\" \\back\\slash/",
		"\x01\x02\x08\x09\x0a\x0b\x0c\x0d\x1b\x1f\x7f end",
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8 \xef\xbb\xbf",
		"\x80\xbf \xc0\xaf \xc1\xbf \xe0\x80\xaf \xed\xa0\x80 \xed\xbf\xbf \xf4\x90\x80\x80",
		"\xf5\xf8\xfe\xff \xc3 \xe2\x82 \xf0\x9f\x98 trailing\xc3",
		"{\"ts\":\"forged\",\"level\":\"error\"}\n{\"msg\":\"second line\"}",
		"ab\xc3\xa9",
	};
	struct kt_buf want = KT_BUF_INIT, got = KT_BUF_INIT, big = KT_BUF_INIT;
	size_t i, max;
	char ts[32];

	(void)state;
	/* long values: cut at 512 or at max, in and between sequences */
	for (i = 0; i < 300; i++)
		assert_int_equal(kt_buf_adds(&big, i % 3 ? "\xe2\x82\xac" : "\"\x01"), KT_OK);
	for (i = 0; i <= sizeof(hostile) / sizeof(hostile[0]); i++) {
		const char *s = i < sizeof(hostile) / sizeof(hostile[0]) ? hostile[i] : big.buf;

		for (max = 1; max <= 600; max += max < 8 ? 1 : 97) {
			log_line(&got, s, max);
			/* the same time stamp on both sides */
			assert_int_equal(strncmp(got.buf, "{\"ts\":\"", 7), 0);
			memcpy(ts, got.buf + 7, 27);
			ts[27] = '\0';
			jansson_line(&want, ts, s, max);
			assert_string_equal(got.buf, want.buf);
			assert_int_equal(got.len, want.len);
		}
	}
	kt_buf_release(&want);
	kt_buf_release(&got);
	kt_buf_release(&big);
}

static void log_values_are_safe(void **state)
{
	struct kt_buf b = KT_BUF_INIT;
	char long_s[600];
	struct kt_log_line *line;
	json_t *j;

	(void)state;
	/* jansson's escapes: short forms, \u00XX for other controls, DEL as it is */
	log_value(&b, "a\"b\\c\nd\te\x01\x7f", 512);
	assert_string_equal(b.buf, "{\"k\":[\"a\\\"b\\\\c\\nd\\te\\u0001\x7f\"]}\n");
	log_value(&b, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 512); /* valid UTF-8 */
	assert_string_equal(b.buf, "{\"k\":[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"]}\n");
	/* lone continuation, truncated sequence, overlong, surrogate: U+FFFD per byte */
	log_value(&b, "\x80x\xc3 \xc0\xaf \xed\xa0\x80", 512);
	assert_string_equal(b.buf, "{\"k\":[\"\xef\xbf\xbdx\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd "
				   "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"]}\n");
	memset(long_s, 'x', sizeof(long_s) - 1);
	long_s[sizeof(long_s) - 1] = '\0';
	log_value(&b, long_s, 10);
	assert_string_equal(b.buf, "{\"k\":[\"xxxxxxxxxx...\"]}\n");
	/* cut in the middle of a sequence: what is left of it is invalid, so replaced */
	log_value(&b, "ab\xc3\xa9", 3);
	assert_string_equal(b.buf, "{\"k\":[\"ab\xef\xbf\xbd...\"]}\n");
	/* a whole line: the fields in order, strings cut at 512 bytes, NULL as null */
	line = kt_log_begin(KT_LOG_WARN, "m\n");
	kt_log_str(line, "s", long_s);
	kt_log_str(line, "none", NULL);
	kt_log_num(line, "n", -42);
	kt_buf_reset(&b);
	assert_int_equal(kt_log_format(line, &b), KT_OK);
	assert_non_null(strstr(b.buf, "\",\"level\":\"warn\",\"msg\":\"m\\n\",\"s\":\"xxx"));
	assert_non_null(strstr(b.buf, "x...\",\"none\":null,\"n\":-42}\n"));
	assert_int_equal(strncmp(b.buf, "{\"ts\":\"", 7), 0);
	assert_ptr_equal(strchr(b.buf, '\n'), b.buf + b.len - 1);
	j = json_loadb(b.buf, b.len, 0, NULL);
	assert_non_null(j);
	assert_int_equal(strlen(json_string_value(json_object_get(j, "s"))), 512 + 3);
	assert_int_equal(strlen(json_string_value(json_object_get(j, "ts"))),
			 strlen("2026-01-02T03:04:05.123456Z"));
	json_decref(j);
	/* one line at a time per thread: a second begin gets nothing, and nothing breaks */
	line = kt_log_begin(KT_LOG_INFO, "outer");
	assert_null(kt_log_begin(KT_LOG_INFO, "inner"));
	kt_log_str(NULL, "k", "v");
	kt_log_num(NULL, "k", 1);
	kt_log_add(kt_log_list(NULL, "k"), "v", 1);
	kt_log_end(NULL);
	assert_int_equal(kt_log_format(NULL, &b), KT_E_NOMEM);
	kt_log_add(line, "not in a list", 10); /* ignored */
	kt_log_str(line, "k", "v");
	kt_buf_reset(&b);
	assert_int_equal(kt_log_format(line, &b), KT_OK);
	assert_non_null(strstr(b.buf, "\"msg\":\"outer\",\"k\":\"v\"}\n"));
	kt_buf_release(&b);
}

/* stderr's bytes since the last call: stderr is a temporary file while a test holds it */
static size_t stderr_grew(int fd, off_t *seen)
{
	off_t end = lseek(fd, 0, SEEK_END);
	size_t n = (size_t)(end - *seen);

	*seen = end;
	return n;
}

static void log_hold_batches_one_thread(void **state)
{
	char path[] = "/tmp/t_server_log_XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO), i;
	off_t seen = 0;
	size_t one;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	kt_log(KT_LOG_INFO, "plain", NULL); /* not held: written at once */
	one = stderr_grew(fd, &seen);
	assert_true(one > 0);
	kt_log_hold(true);
	kt_log(KT_LOG_INFO, "plain", NULL);
	kt_log(KT_LOG_INFO, "plain", NULL);
	assert_int_equal(stderr_grew(fd, &seen), 0);
	kt_log_flush();
	assert_int_equal(stderr_grew(fd, &seen), 2 * one);
	kt_log_flush(); /* nothing held: nothing written */
	assert_int_equal(stderr_grew(fd, &seen), 0);
	/* past 64 KiB the held lines go at once */
	for (i = 0; (size_t)i * one < (64u << 10) + one; i++)
		kt_log(KT_LOG_INFO, "plain", NULL);
	assert_true(stderr_grew(fd, &seen) >= (64u << 10));
	kt_log(KT_LOG_INFO, "plain", NULL);
	kt_log_hold(false); /* flushes what is held */
	assert_true(stderr_grew(fd, &seen) > 0);
	kt_log(KT_LOG_INFO, "plain", NULL);
	assert_int_equal(stderr_grew(fd, &seen), one);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
}

static void log_levels(void **state)
{
	enum kt_log_level l;

	(void)state;
	assert_int_equal(kt_log_parse_level("debug", &l), KT_OK);
	assert_int_equal(l, KT_LOG_DEBUG);
	assert_int_equal(kt_log_parse_level("warning", &l), KT_OK);
	assert_int_equal(l, KT_LOG_WARN);
	assert_int_equal(kt_log_parse_level("error", &l), KT_OK);
	assert_int_equal(l, KT_LOG_ERROR);
	assert_int_equal(kt_log_parse_level("loud", &l), KT_E_INVALID);
}

/* ---- metrics ---- */

static void metric_kinds_are_sorted(void **state)
{
	size_t i;

	(void)state;
	for (i = 1; strcmp(kt_metrics_kind_name(i), "other"); i++)
		assert_true(strcmp(kt_metrics_kind_name(i - 1), kt_metrics_kind_name(i)) < 0);
	assert_int_equal(i + 1, KT_METRICS_KIND_NONE);
	assert_string_equal(kt_metrics_kind_name(kt_metrics_kind("Pod")), "Pod");
	assert_string_equal(kt_metrics_kind_name(kt_metrics_kind("TLSRoute")), "TLSRoute");
	assert_string_equal(kt_metrics_kind_name(kt_metrics_kind("Binding")), "Binding");
	assert_string_equal(kt_metrics_kind_name(kt_metrics_kind("pod")), "other");
	assert_string_equal(kt_metrics_kind_name(kt_metrics_kind("Evil\"Kind")), "other");
	assert_string_equal(kt_metrics_kind_name(kt_metrics_kind(NULL)), "none");
	assert_string_equal(kt_metrics_kind_name(kt_metrics_kind("")), "none");
	assert_string_equal(kt_metrics_op_name(kt_metrics_op("DELETE")), "DELETE");
	assert_string_equal(kt_metrics_op_name(kt_metrics_op("delete")), "other");
	assert_string_equal(kt_metrics_op_name(kt_metrics_op(NULL)), "other");
}

static const char *line_of(const char *text, const char *prefix)
{
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, prefix, strlen(prefix)))
			return p;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return NULL;
}

static void metrics_format(void **state)
{
	struct kt_serve *s = malloc(sizeof(*s));
	struct kt_metrics *m = &s->metrics;
	struct kt_buf o = KT_BUF_INIT;

	(void)state;
	kt_serve_init(s, "t.yaml", "1.2.3");
	m->start_time = 1700000000.5;
	kt_metrics_request(m, KT_EP_VALIDATE, "Pod", "CREATE", KT_V_DENIED, 40);
	kt_metrics_request(m, KT_EP_VALIDATE, "Pod", "CREATE", KT_V_DENIED, 50);
	kt_metrics_request(m, KT_EP_VALIDATE, "Pod", "CREATE", KT_V_DENIED, 120);
	kt_metrics_request(m, KT_EP_MUTATE, "Widget", "PATCH", KT_V_MUTATED, 2000000);
	kt_metrics_http(m, 200);
	kt_metrics_http(m, 200);
	kt_metrics_http(m, 418);
	atomic_store(&m->config_generation, 3);
	atomic_store(&m->config_reload_failures, 1);
	assert_int_equal(kt_prom_render(&m->reg, &o), KT_OK);
	assert_non_null(line_of(o.buf, "# TYPE kubetenant_webhook_requests_total counter\n"));
	assert_non_null(line_of(o.buf,
				"kubetenant_webhook_requests_total{endpoint=\"validate\","
				"kind=\"Pod\",operation=\"CREATE\",verdict=\"denied\"} 3\n"));
	assert_non_null(line_of(o.buf,
				"kubetenant_webhook_requests_total{endpoint=\"mutate\","
				"kind=\"other\",operation=\"other\",verdict=\"mutated\"} 1\n"));
	/* only series that happened are listed */
	assert_null(line_of(o.buf, "kubetenant_webhook_requests_total{endpoint=\"validate\","
				   "kind=\"Pod\",operation=\"CREATE\",verdict=\"allowed\"}"));
	/* buckets are cumulative; 50 us falls in le=5e-05 (upper bound included) */
	assert_non_null(line_of(o.buf, "# TYPE kubetenant_webhook_request_duration_seconds "
				       "histogram\n"));
	assert_non_null(line_of(o.buf, "kubetenant_webhook_request_duration_seconds_bucket{"
				       "endpoint=\"validate\",le=\"5e-05\"} 2\n"));
	assert_non_null(line_of(o.buf, "kubetenant_webhook_request_duration_seconds_bucket{"
				       "endpoint=\"validate\",le=\"0.0001\"} 2\n"));
	assert_non_null(line_of(o.buf, "kubetenant_webhook_request_duration_seconds_bucket{"
				       "endpoint=\"validate\",le=\"0.00025\"} 3\n"));
	assert_non_null(line_of(o.buf, "kubetenant_webhook_request_duration_seconds_bucket{"
				       "endpoint=\"validate\",le=\"+Inf\"} 3\n"));
	assert_non_null(line_of(o.buf, "kubetenant_webhook_request_duration_seconds_sum{"
				       "endpoint=\"validate\"} 0.000210\n"));
	assert_non_null(line_of(o.buf, "kubetenant_webhook_request_duration_seconds_bucket{"
				       "endpoint=\"mutate\",le=\"1\"} 0\n"));
	assert_non_null(line_of(o.buf, "kubetenant_webhook_request_duration_seconds_bucket{"
				       "endpoint=\"mutate\",le=\"+Inf\"} 1\n"));
	assert_non_null(line_of(o.buf, "kubetenant_webhook_request_duration_seconds_count{"
				       "endpoint=\"mutate\"} 1\n"));
	assert_non_null(line_of(o.buf, "kubetenant_http_responses_total{code=\"200\"} 2\n"));
	assert_non_null(line_of(o.buf, "kubetenant_http_responses_total{code=\"other\"} 1\n"));
	assert_non_null(line_of(o.buf, "kubetenant_webhook_in_flight_requests 0\n"));
	assert_non_null(line_of(o.buf, "kubetenant_config_generation 3\n"));
	assert_non_null(line_of(o.buf, "kubetenant_config_reload_failures_total 1\n"));
	assert_non_null(line_of(o.buf, "kubetenant_tls_reloads_total 0\n"));
	assert_non_null(line_of(o.buf, "process_resident_memory_bytes "));
	assert_non_null(line_of(o.buf, "process_start_time_seconds 1700000000.5\n"));
	/* no --memory-budget: none of its families, not even their HELP */
	assert_null(strstr(o.buf, "kubetenant_memory_budget"));
	assert_non_null(line_of(o.buf, "kubetenant_build_info{version=\"1.2.3\"} 1\n"));
	assert_true(o.buf[o.len - 1] == '\n');
	assert_true(kt_metrics_rss() > 0);
	/* with a budget its gauges and both stages appear, 0 included */
	s->budget.max = 1000;
	atomic_store(&s->budget.used, 200);
	kt_buf_reset(&o);
	assert_int_equal(kt_prom_render(&m->reg, &o), KT_OK);
	assert_non_null(line_of(o.buf, "kubetenant_memory_budget_bytes 1000\n"));
	assert_non_null(line_of(o.buf, "kubetenant_memory_budget_used_bytes 200\n"));
	assert_non_null(
		line_of(o.buf, "kubetenant_memory_budget_exceeded_total{stage=\"decode\"} 0\n"));
	kt_buf_release(&o);
	kt_serve_release(s);
	free(s);
}

/* ---- the config swap ---- */

static void conf_slot_keeps_old_config_for_running_requests(void **state)
{
	struct kt_conf_slot slot;
	struct kt_conf_ref *r1, *r2, *r3;

	(void)state;
	kt_conf_slot_init(&slot);
	assert_null(kt_conf_acquire(&slot));
	assert_int_equal(kt_conf_slot_set(&slot, load_config()), 1);
	r1 = kt_conf_acquire(&slot);
	assert_non_null(r1);
	assert_int_equal(r1->generation, 1);
	assert_int_equal(atomic_load(&r1->refs), 2);
	assert_int_equal(kt_conf_slot_set(&slot, load_config()), 2);
	/* the request that started on generation 1 still holds it, alone */
	assert_int_equal(atomic_load(&r1->refs), 1);
	assert_non_null(r1->cfg->tenants);
	r2 = kt_conf_acquire(&slot);
	assert_int_equal(r2->generation, 2);
	kt_conf_release(r1); /* frees generation 1 (LeakSanitizer checks the rest) */
	r3 = kt_conf_acquire(&slot);
	assert_ptr_equal(r2, r3);
	kt_conf_release(r2);
	kt_conf_release(r3);
	kt_conf_slot_release(&slot);
}

/* ---- handlers, with a fake request ---- */

struct fake_req {
	struct kt_http_req req;
	const char *content_type;
};

static const char *fake_header(const struct kt_http_req *req, const char *name)
{
	const struct fake_req *f = (const void *)req;

	return !strcasecmp(name, "Content-Type") ? f->content_type : NULL;
}

static struct fake_req fake(const char *method, const char *path, const char *ct, const char *body)
{
	struct fake_req f = { .content_type = ct };

	f.req.method = method;
	f.req.path = path;
	f.req.body = body;
	f.req.body_len = strlen(body);
	f.req.header = fake_header;
	f.req.start_us = kt_http_now_us();
	strcpy(f.req.id, "0123456789abcdef");
	return f;
}

static int call(struct kt_handler *h, struct fake_req f, struct kt_http_resp *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->body.buf = kt_buf_empty;
	return h->on_request(h, &f.req, resp);
}

static const char review_default[] =
	"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
	"\"uid\":\"u-1\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
	"\"namespace\":\"default\",\"operation\":\"CREATE\",\"userInfo\":{\"username\":\"bob\"},"
	"\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
	"\"namespace\":\"default\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}}}";

static void webhook_transport_rules(void **state)
{
	struct kt_serve *s = malloc(sizeof(*s));
	struct kt_handler *h;
	struct kt_http_resp resp;

	(void)state;
	kt_log_min = KT_LOG_ERROR;
	kt_serve_init(s, "t.yaml", "test");
	h = kt_webhook_handler_new(s, "/validate", KT_POLICY_VALIDATE);
	/* no tenants file yet: fail closed */
	assert_int_equal(call(h, fake("POST", "/validate", "application/json", review_default),
			      &resp),
			 0);
	assert_int_equal(resp.status, 503);
	kt_buf_release(&resp.body);
	kt_serve_set_config(s, load_config());
	assert_int_equal(call(h, fake("GET", "/validate", NULL, ""), &resp), 0);
	assert_int_equal(resp.status, 405);
	assert_string_equal(resp.allow, "POST");
	assert_string_equal(resp.body.buf,
			    "method 'GET' is not allowed on '/validate'; use POST\n");
	kt_buf_release(&resp.body);
	assert_int_equal(call(h, fake("POST", "/validate", "text/plain", review_default), &resp),
			 0);
	assert_int_equal(resp.status, 415);
	kt_buf_release(&resp.body);
	assert_int_equal(call(h, fake("POST", "/validate", "application/jsonx", review_default),
			      &resp),
			 0);
	assert_int_equal(resp.status, 415);
	kt_buf_release(&resp.body);
	assert_int_equal(call(h, fake("POST", "/validate", NULL, review_default), &resp), 0);
	assert_int_equal(resp.status, 415);
	kt_buf_release(&resp.body);
	assert_int_equal(call(h, fake("POST", "/validate", "application/json", "{\"a\":"), &resp),
			 0);
	assert_int_equal(resp.status, 400);
	assert_non_null(strstr(resp.body.buf, "bad admission review: "));
	kt_buf_release(&resp.body);
	assert_int_equal(call(h,
			      fake("POST", "/validate", "Application/JSON; charset=utf-8",
				   review_default),
			      &resp),
			 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.content_type, "application/json");
	assert_non_null(strstr(resp.body.buf, "\"uid\":\"u-1\""));
	/* only tenant namespaces reach the webhook: one its file does not know is denied */
	assert_non_null(strstr(resp.body.buf, "\"allowed\":false"));
	assert_non_null(
		strstr(resp.body.buf, "namespace 'default' is labelled as a tenant namespace"));
	assert_non_null(strstr(resp.body.buf, "(generation 1)"));
	assert_null(strstr(resp.body.buf, "patch"));
	kt_buf_release(&resp.body);
	/* counted: 503 and 405/415x3/400 as errors and invalid, one denied */
	assert_int_equal(atomic_load(&s->metrics.requests[KT_EP_VALIDATE][kt_metrics_kind("Pod")]
							 [kt_metrics_op("CREATE")][KT_V_DENIED]),
			 1);
	assert_int_equal(atomic_load(&s->metrics.requests[KT_EP_VALIDATE][KT_METRICS_KIND_NONE]
							 [KT_METRICS_OPS - 1][KT_V_INVALID]),
			 5);
	assert_int_equal(atomic_load(&s->metrics.requests[KT_EP_VALIDATE][KT_METRICS_KIND_NONE]
							 [KT_METRICS_OPS - 1][KT_V_ERROR]),
			 1);
	h->on_dispose(h);
	kt_serve_release(s);
	free(s);
}

/*
 * A small review is charged a bound on its decode instead of being
 * measured first: the limits still hold (the decode's own), the charge is
 * given back, and with a budget too small for the bound it is measured.
 */
static void webhook_small_reviews_keep_the_limits(void **state)
{
	static const size_t budgets[] = { 48u << 20, 64u << 10 };
	struct kt_serve *s = malloc(sizeof(*s));
	struct kt_handler *h;
	struct kt_http_resp resp;
	char deep[201];
	size_t i;

	(void)state;
	kt_log_min = KT_LOG_ERROR;
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	deep[200] = '\0';
	kt_serve_init(s, "t.yaml", "test");
	kt_serve_set_config(s, load_config());
	h = kt_webhook_handler_new(s, "/validate", KT_POLICY_VALIDATE);
	for (i = 0; i < sizeof(budgets) / sizeof(budgets[0]); i++) {
		s->budget.max = budgets[i];
		assert_int_equal(call(h, fake("POST", "/validate", "application/json", deep),
				      &resp),
				 0);
		assert_int_equal(resp.status, 400);
		assert_non_null(strstr(resp.body.buf, "nesting too deep (more than 64 levels)"));
		kt_buf_release(&resp.body);
		assert_int_equal(call(h,
				      fake("POST", "/validate", "application/json", review_default),
				      &resp),
				 0);
		assert_int_equal(resp.status, 200);
		kt_buf_release(&resp.body);
		assert_int_equal(atomic_load(&s->budget.used), 0);
	}
	/* measured: the review's 30 values fit where its bound would not */
	s->budget.max = 16u << 10;
	assert_int_equal(call(h, fake("POST", "/validate", "application/json", review_default),
			      &resp),
			 0);
	assert_int_equal(resp.status, 200);
	kt_buf_release(&resp.body);
	assert_int_equal(atomic_load(&s->budget.refused_work), 0);
	h->on_dispose(h);
	kt_serve_release(s);
	free(s);
}

/*
 * The file changes between serve's first read and its start: the first
 * poll must load the new bytes, not take them for the ones already loaded.
 */
static void reload_sees_a_file_swapped_after_the_first_read(void **state)
{
	char path[] = "/tmp/kt-reload-XXXXXX";
	struct kt_serve *s = malloc(sizeof(*s));
	struct kt_config *cfg = NULL;
	struct kt_conf_ref *c;
	FILE *f;
	int fd;

	(void)state;
	kt_log_min = KT_LOG_ERROR;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(tenants_yaml, f);
	fclose(f);
	assert_int_equal(kt_config_load(path, &cfg, NULL, NULL), KT_OK);
	f = fopen(path, "a");
	fputs("  team-b:\n    nodePool: a-pool\n", f);
	fclose(f);
	kt_serve_init(s, path, "test");
	kt_serve_set_config(s, cfg);
	assert_int_equal(kt_serve_reload(s, false), KT_OK);
	c = kt_conf_acquire(&s->conf);
	assert_int_equal(c->generation, 2);
	assert_int_equal(c->cfg->n_tenants, 2);
	kt_conf_release(c);
	/* and the next poll of the same bytes changes nothing */
	assert_int_equal(kt_serve_reload(s, true), KT_OK);
	assert_int_equal(atomic_load(&s->metrics.config_generation), 2);
	kt_serve_release(s);
	free(s);
	unlink(path);
}

/* The answer both servers give their probes (server/health.c). */
static void probes_answer_alike(void **state)
{
	const char *why;

	(void)state;
	/* liveness never depends on anything: not on a drain, not on a missing file */
	assert_int_equal(kt_health_probe("/healthz", true, "no file", &why), 200);
	assert_string_equal(why, "ok");
	assert_int_equal(kt_health_probe("/livez", true, "no file", &why), 200);
	assert_int_equal(kt_health_probe("/readyz", false, NULL, &why), 200);
	assert_string_equal(why, "ok");
	/* a drain comes first: the Service must stop sending work whatever else holds */
	assert_int_equal(kt_health_probe("/readyz", true, "no file", &why), 503);
	assert_string_equal(why, "shutting down");
	assert_int_equal(kt_health_probe("/readyz", false, "key set not loaded", &why), 503);
	assert_string_equal(why, "key set not loaded");
	assert_int_equal(kt_health_probe("/readyz/", false, NULL, &why), 0);
	assert_int_equal(kt_health_probe("/metrics", false, NULL, &why), 0);
}

/* The one probe answer: status, content type, body and Allow, as both servers send it. */
static void health_answer_is_one_response(void **state)
{
	struct kt_http_resp resp = { .body = KT_BUF_INIT };

	(void)state;
	assert_int_equal(kt_health_answer("GET", "/metrics", false, NULL, NULL, &resp), 0);
	assert_int_equal(resp.status, 0); /* untouched: not a probe */
	assert_int_equal(kt_health_answer("HEAD", "/livez", true, "x", "ready", &resp), 200);
	assert_string_equal(resp.content_type, "text/plain; charset=utf-8");
	assert_string_equal(resp.body.buf, "ok\n");
	assert_int_equal(kt_health_answer("GET", "/readyz", false, NULL, "ready: gen 4", &resp),
			 200);
	assert_string_equal(resp.body.buf, "ready: gen 4\n");
	assert_int_equal(kt_health_answer("GET", "/readyz", false, "key set not loaded", NULL,
					  &resp),
			 503);
	assert_string_equal(resp.body.buf, "key set not loaded\n");
	assert_int_equal(kt_health_answer("POST", "/healthz", false, NULL, NULL, &resp), 405);
	assert_string_equal(resp.allow, "GET, HEAD");
	assert_string_equal(resp.body.buf, "method 'POST' is not allowed; use GET\n");
	kt_buf_release(&resp.body);
}

/* One histogram type for both servers: cumulative buckets, le in seconds, +Inf. */
static void histogram_series(void **state)
{
	static const unsigned long bounds[] = { 500, 1000, 5000000 };
	struct kt_histogram h[2];
	struct kt_prom *r = calloc(1, sizeof(*r));
	struct kt_prom_family *f;
	struct kt_buf o = KT_BUF_INIT;

	(void)state;
	kt_histogram_init(&h[0], bounds, 3);
	kt_histogram_init(&h[1], bounds, 3);
	kt_histogram_observe(&h[0], 500); /* on a bound: that bucket (le is "less or equal") */
	kt_histogram_observe(&h[0], 501);
	kt_histogram_observe(&h[0], 9000000);
	f = kt_prom_add(r, KT_PROM_HISTOGRAM, "x_seconds", "X.");
	f->hist = h;
	assert_int_equal(kt_prom_render(r, &o), KT_OK);
	assert_string_equal(o.buf, "# HELP x_seconds X.\n"
				   "# TYPE x_seconds histogram\n"
				   "x_seconds_bucket{le=\"0.0005\"} 1\n"
				   "x_seconds_bucket{le=\"0.001\"} 2\n"
				   "x_seconds_bucket{le=\"5\"} 2\n"
				   "x_seconds_bucket{le=\"+Inf\"} 3\n"
				   "x_seconds_sum 9.001001\n"
				   "x_seconds_count 3\n");
	/* labelled: le goes last; an empty histogram is listed too, every bucket 0 */
	f->labels[0] = "endpoint";
	f->n = 2;
	f->names = (const char *const[]){ "mutate", "validate" };
	kt_buf_reset(&o);
	assert_int_equal(kt_prom_render(r, &o), KT_OK);
	assert_non_null(strstr(o.buf, "x_seconds_bucket{endpoint=\"mutate\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(o.buf, "x_seconds_sum{endpoint=\"mutate\"} 9.001001\n"));
	assert_non_null(strstr(o.buf, "x_seconds_count{endpoint=\"mutate\"} 3\n"));
	assert_non_null(strstr(o.buf, "x_seconds_bucket{endpoint=\"validate\",le=\"0.0005\"} 0\n"));
	assert_non_null(strstr(o.buf, "x_seconds_count{endpoint=\"validate\"} 0\n"));
	kt_buf_release(&o);
	free(r);
}

static bool hostile_label(void *ctx, size_t i, const char **l, char *scratch, size_t len)
{
	(void)ctx;
	(void)len;
	if (i == 2)
		return false;
	l[0] = i ? "a\"b\\c\nd" : "plain";
	l[1] = scratch;
	snprintf(scratch, len, "%zu", i);
	return true;
}

static double half(void *ctx, size_t i)
{
	(void)i;
	return *(double *)ctx;
}

/* The registry: every type, its HELP and TYPE once, labels escaped, zeros left out. */
static void registry_renders_each_type(void **state)
{
	struct kt_prom *r = calloc(1, sizeof(*r));
	atomic_ulong c = 7, g = 0, lc[4] = { 1, 2, 3, 0 };
	double d = 0.5;
	struct kt_prom_family *f;
	struct kt_buf o = KT_BUF_INIT;
	size_t i;

	(void)state;
	kt_prom_value(r, KT_PROM_COUNTER, "a_total", "A \\ with\nnewline.", &c);
	kt_prom_value(r, KT_PROM_GAUGE, "b", "B.", &g);
	kt_prom_func(r, KT_PROM_GAUGE, "c", "C.", half, &d);
	f = kt_prom_add(r, KT_PROM_COUNTER, "d_total", "D.");
	f->labels[0] = "who";
	f->labels[1] = "n";
	f->n = 4;
	f->v = lc;
	f->label = hostile_label;
	assert_int_equal(kt_prom_render(r, &o), KT_OK);
	assert_string_equal(o.buf, "# HELP a_total A \\\\ with\\nnewline.\n"
				   "# TYPE a_total counter\n"
				   "a_total 7\n"
				   "# HELP b B.\n"
				   "# TYPE b gauge\n"
				   "b 0\n"
				   "# HELP c C.\n"
				   "# TYPE c gauge\n"
				   "c 0.5\n"
				   "# HELP d_total D.\n"
				   "# TYPE d_total counter\n"
				   "d_total{who=\"plain\",n=\"0\"} 1\n"
				   "d_total{who=\"a\\\"b\\\\c\\nd\",n=\"1\"} 2\n");
	/* a function's NAN and a family with no series left leave no HELP behind */
	d = NAN;
	atomic_store(&lc[0], 0);
	atomic_store(&lc[1], 0);
	kt_buf_reset(&o);
	assert_int_equal(kt_prom_render(r, &o), KT_OK);
	assert_null(strstr(o.buf, "# HELP c "));
	assert_null(strstr(o.buf, "d_total"));
	/* a registry that overflowed says so rather than serve half the metrics */
	for (i = r->n; i < KT_PROM_FAMILIES; i++)
		assert_non_null(kt_prom_add(r, KT_PROM_GAUGE, "x", "X."));
	assert_null(kt_prom_add(r, KT_PROM_GAUGE, "y", "Y."));
	kt_buf_reset(&o);
	assert_int_equal(kt_prom_render(r, &o), KT_E_NOMEM);
	kt_buf_release(&o);
	free(r);
}

static void health_and_metrics_handlers(void **state)
{
	struct kt_serve *s = malloc(sizeof(*s));
	struct kt_handler *live, *ready, *metrics;
	struct kt_http_resp resp;

	(void)state;
	kt_log_min = KT_LOG_ERROR;
	kt_serve_init(s, "t.yaml", "test");
	live = kt_health_handler_new(s, "/healthz", false);
	ready = kt_health_handler_new(s, "/readyz", true);
	metrics = kt_metrics_handler_new(s);
	assert_int_equal(call(live, fake("GET", "/healthz", NULL, ""), &resp), 0);
	assert_int_equal(resp.status, 200);
	kt_buf_release(&resp.body);
	assert_int_equal(call(ready, fake("GET", "/readyz", NULL, ""), &resp), 0);
	assert_int_equal(resp.status, 503);
	kt_buf_release(&resp.body);
	kt_serve_set_config(s, load_config());
	assert_int_equal(call(ready, fake("HEAD", "/readyz", NULL, ""), &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.body.buf, "ready: tenants file generation 1\n");
	kt_buf_release(&resp.body);
	atomic_store(&s->draining, true);
	assert_int_equal(call(ready, fake("GET", "/readyz", NULL, ""), &resp), 0);
	assert_int_equal(resp.status, 503);
	kt_buf_release(&resp.body);
	assert_int_equal(call(live, fake("GET", "/healthz", NULL, ""), &resp), 0);
	assert_int_equal(resp.status, 200);
	kt_buf_release(&resp.body);
	assert_int_equal(call(live, fake("DELETE", "/healthz", NULL, ""), &resp), 0);
	assert_int_equal(resp.status, 405);
	kt_buf_release(&resp.body);
	assert_int_equal(call(metrics, fake("GET", "/metrics", NULL, ""), &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_non_null(line_of(resp.body.buf, "kubetenant_config_generation 1\n"));
	assert_non_null(line_of(resp.body.buf, "kubetenant_config_tenants 1\n"));
	assert_non_null(line_of(resp.body.buf, "kubetenant_build_info{version=\"test\"} 1\n"));
	kt_buf_release(&resp.body);
	live->on_dispose(live);
	ready->on_dispose(ready);
	metrics->on_dispose(metrics);
	kt_serve_release(s);
	free(s);
}

static void http_text_fills_response(void **state)
{
	struct kt_http_resp resp = { .body = KT_BUF_INIT };

	(void)state;
	assert_int_equal(kt_http_text(&resp, 404, "no handler for '%s'", "/x"), 0);
	assert_int_equal(resp.status, 404);
	assert_string_equal(resp.content_type, "text/plain; charset=utf-8");
	assert_string_equal(resp.body.buf, "no handler for '/x'\n");
	kt_buf_release(&resp.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(route_ignores_query_and_needs_exact_path),
		cmocka_unit_test(listen_addresses),
		cmocka_unit_test(cpu_quota_text),
		cmocka_unit_test(log_values_are_safe),
		cmocka_unit_test(log_lines_are_janssons),
		cmocka_unit_test(log_hold_batches_one_thread),
		cmocka_unit_test(log_levels),
		cmocka_unit_test(metric_kinds_are_sorted),
		cmocka_unit_test(metrics_format),
		cmocka_unit_test(conf_slot_keeps_old_config_for_running_requests),
		cmocka_unit_test(webhook_transport_rules),
		cmocka_unit_test(webhook_small_reviews_keep_the_limits),
		cmocka_unit_test(reload_sees_a_file_swapped_after_the_first_read),
		cmocka_unit_test(probes_answer_alike),
		cmocka_unit_test(health_answer_is_one_response),
		cmocka_unit_test(histogram_series),
		cmocka_unit_test(registry_renders_each_type),
		cmocka_unit_test(health_and_metrics_handlers),
		cmocka_unit_test(http_text_fills_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
