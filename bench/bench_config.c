/*
 * bench_config.c: how long loading a tenants file takes, against the floor
 * set by libfyaml alone (reading the same text as events, doing nothing).
 *
 * The file is generated: N tenants in the blog's shape (node pool, group,
 * two domains) plus quota and limits on every tenth, over N/100 node pools.
 * Prints the median of 7 runs for 1,000 and 10,000 tenants; no assertions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libfyaml.h>
#include "kt/buf.h"
#include "kt/config.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void generate(struct kt_buf *b, int tenants)
{
	int pools = tenants / 100 ? tenants / 100 : 1, i;

	kt_buf_adds(b, "global:\n  tenantHostPrefix: tenants.example.org\n"
		       "  clusterName: bench\n  clusterDNS: 10.1.0.10\n"
		       "  platformNamespaces: [ingress-nginx, monitoring]\nnodePools:\n");
	for (i = 0; i < pools; i++)
		kt_buf_addf(b,
			    "  pool-%d:\n    instances:\n      capacityTypes: [on-demand, spot]\n"
			    "      instanceTypes: [t3a.large, m5.xlarge]\n      emptyTtl: 600\n"
			    "      ttl: 604800\n    costCode: org%d\n",
			    i, i);
	kt_buf_adds(b, "tenants:\n");
	for (i = 0; i < tenants; i++) {
		kt_buf_addf(b,
			    "  tenant-%d:\n    nodePool: pool-%d\n"
			    "    operatorEdGroup: team.devs.platform-access\n    domains:\n"
			    "      - app%d.example.com\n      - \"*.app%d.example.com\"\n",
			    i, i % pools, i, i);
		if (i % 10 == 0)
			kt_buf_adds(b, "    quota: {requests.cpu: \"4\", limits.memory: 8Gi}\n"
				       "    limits: {default: {cpu: 500m}, max: {cpu: \"2\"}}\n");
	}
}

static double floor_once(const struct kt_buf *b)
{
	struct fy_parse_cfg cfg = { .flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2 };
	struct fy_parser *p;
	struct fy_event *ev;
	double t0 = now_ms();

	p = fy_parser_create(&cfg);
	if (!p || fy_parser_set_string(p, b->buf, b->len))
		exit(70);
	while ((ev = fy_parser_parse(p)))
		fy_parser_event_free(p, ev);
	fy_parser_destroy(p);
	return now_ms() - t0;
}

static double load_once(const struct kt_buf *b)
{
	struct kt_config *cfg = NULL;
	struct kt_err err = { 0 };
	double t0 = now_ms(), t;

	if (kt_config_parse(b->buf, b->len, "bench.yaml", &cfg, NULL, &err)) {
		fprintf(stderr, "bench: %s\n", err.msg);
		exit(70);
	}
	t = now_ms() - t0;
	kt_config_free(cfg);
	return t;
}

int main(void)
{
	static const int sizes[] = { 1000, 10000 };
	size_t s;

	printf("%-9s %10s %16s %16s %8s\n", "tenants", "bytes", "libfyaml ms", "kt_config ms",
	       "ratio");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct kt_buf b = KT_BUF_INIT;
		double base[7], load[7];
		int i;

		generate(&b, sizes[s]);
		for (i = 0; i < 7; i++) {
			base[i] = floor_once(&b);
			load[i] = load_once(&b);
		}
		qsort(base, 7, sizeof(double), dcmp);
		qsort(load, 7, sizeof(double), dcmp);
		printf("%-9d %10zu %16.1f %16.1f %7.2fx\n", sizes[s], b.len, base[3], load[3],
		       load[3] / base[3]);
		kt_buf_release(&b);
	}
	return 0;
}
