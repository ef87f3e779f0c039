/*
 * bench_render.c: the renderer alone (no YAML parsing), on a generated
 * model of N tenants and P node pools: objects/s, bytes and time for
 * kt_render() + kt_render_yaml() into memory.  bench/render.sh runs it next
 * to the whole command so the loader's share is visible.
 *
 *   bench_render [TENANTS [POOLS]]     default 10000 100
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kt/render.h"

static char *fmt(const char *f, size_t i)
{
	char buf[64];

	snprintf(buf, sizeof(buf), f, i);
	return strdup(buf);
}

struct count {
	struct kt_buf out;
	size_t objects;
};

static enum kt_rc on_object(void *ctx, json_t *obj, struct kt_err *err)
{
	struct count *c = ctx;

	c->objects++;
	return kt_render_yaml(obj, &c->out, err);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t nt = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	size_t np = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
	static char *cap[] = { "on-demand", "spot" }, *inst[] = { "t3a.large", "m6i.xlarge" };
	static char *plat[] = { "ingress-nginx", "monitoring" };
	static struct kt_kv quota[] = { { "limits.memory", "8Gi" },
					{ "pods", "50" },
					{ "requests.cpu", "4" } };
	struct kt_config cfg = { 0 };
	struct kt_render_opts opts = { .tenants_yaml = "global: {}\n", .tenants_yaml_len = 11 };
	struct count c = { .out = KT_BUF_INIT };
	struct kt_err err = { 0 };
	size_t i;
	double t0, t1;

	if (nt == 0 || np == 0)
		return 2;
	cfg.global.tenant_host_prefix = "tenants.example.org";
	cfg.global.cluster_name = "bench";
	cfg.global.cluster_dns = "10.1.0.10";
	cfg.global.label_domain = "platform.example.org";
	cfg.global.platform_namespaces = (struct kt_strv){ plat, 2 };
	cfg.pools = calloc(np, sizeof(*cfg.pools));
	cfg.tenants = calloc(nt, sizeof(*cfg.tenants));
	if (!cfg.pools || !cfg.tenants) {
		free(cfg.pools);
		free(cfg.tenants);
		return 70;
	}
	for (i = 0; i < np; i++)
		cfg.pools[i] = (struct kt_nodepool){ .name = fmt("pool-%05zu", i),
						     .capacity_types = { cap, 2 },
						     .instance_types = { inst, 2 },
						     .empty_ttl = 600,
						     .ttl = 604800,
						     .cost_code = fmt("cc-%zu", i % 7) };
	for (i = 0; i < nt; i++) {
		struct kt_tenant *t = &cfg.tenants[i];

		t->name = fmt("tenant-%05zu", i);
		t->pool = &cfg.pools[i % np];
		t->node_pool = t->pool->name;
		t->operator_group = fmt("team-%zu.devs", i);
		t->domains = (struct kt_strv){ calloc(1, sizeof(char *)), 1 };
		t->domains.v[0] = fmt("app-%zu.example.org", i);
		t->pod_security = (struct kt_pss_policy){ KT_PSS_RESTRICTED, KT_PSS_LATEST };
		if (i % 2)
			t->quota = (struct kt_kvv){ quota, 3 };
	}
	cfg.n_pools = np;
	cfg.n_tenants = nt;

	opts.enforcement = KT_ENF_GATEKEEPER;
	t0 = now();
	if (kt_render(&cfg, &opts, on_object, &c, &err)) {
		fprintf(stderr, "bench_render: %s\n", err.msg);
		return 70;
	}
	t1 = now();
	printf("render only (library, gatekeeper profile): %zu tenants, %zu pools: %zu objects, "
	       "%.1f MB in %.3f s (%.0f objects/s)\n",
	       nt, np, c.objects, c.out.len / 1e6, t1 - t0, c.objects / (t1 - t0));
	kt_buf_release(&c.out);
	for (i = 0; i < np; i++) {
		free(cfg.pools[i].name);
		free(cfg.pools[i].cost_code);
	}
	for (i = 0; i < nt; i++) {
		free(cfg.tenants[i].name);
		free(cfg.tenants[i].operator_group);
		free(cfg.tenants[i].domains.v[0]);
		free(cfg.tenants[i].domains.v);
	}
	free(cfg.pools);
	free(cfg.tenants);
	return 0;
}
