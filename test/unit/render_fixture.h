/*
 * render_fixture.h: tenants files built by hand as struct kt_config, so the
 * renderer's unit tests do not depend on the loader.  fixture_blog() is
 * examples/platform.yaml; fixture_full() turns on every optional feature.
 */
#ifndef KT_RENDER_FIXTURE_H
#define KT_RENDER_FIXTURE_H

#include <string.h>
#include "kt/config.h"

/* clang-format off */
#define STRV(...) { .v = (char *[]){ __VA_ARGS__ }, .n = sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *) }
/* clang-format on */
/* clang-format off */
#define KV(k, v) { .key = k, .value = v }
/* clang-format on */

static struct kt_nodepool fixture_pools[] = {
	{ .name = "sample-team-apps",
	  .capacity_types = STRV("on-demand"),
	  .instance_types = STRV("t3a.large"),
	  .empty_ttl = -1,
	  .ttl = -1,
	  .cost_code = "org1" },
	{ .name = "sample-team-gitlab-jobs",
	  .capacity_types = STRV("on-demand", "spot"),
	  .instance_types = STRV("t3a.medium"),
	  .empty_ttl = 600,
	  .ttl = 604800,
	  .cost_code = "org1" },
};

static struct kt_tenant fixture_tenants[] = {
	{ .name = "nis-customer-portal",
	  .node_pool = "sample-team-apps",
	  .operator_group = "team.devs.platform-access",
	  .domains = STRV("*.sample-team.org.vt.edu", "sample-team.org.vt.edu"),
	  .pod_security = { KT_PSS_RESTRICTED, KT_PSS_LATEST } },
	{ .name = "sample-team-gitlab-ci",
	  .node_pool = "sample-team-gitlab-jobs",
	  .operator_group = "team.devs.platform-access",
	  .pod_security = { KT_PSS_RESTRICTED, KT_PSS_LATEST } },
};

static struct kt_config fixture_config = {
	.path = "examples/platform.yaml",
	.global = {
		.cluster_hostname = "cluster.hostname",
		.tenant_host_prefix = "tenants-example.platform.it.vt.edu",
		.cluster_name = "vt-common-platform-dvlp-cluster",
		.cluster_dns = "10.1.0.10",
		.label_domain = "platform.it.vt.edu",
		.group_prefix = "oidc:",
		.platform_namespaces = STRV("ingress-nginx", "monitoring"),
		.pod_security = { KT_PSS_RESTRICTED, KT_PSS_LATEST },
	},
	.pools = fixture_pools, .n_pools = 2,
	.tenants = fixture_tenants, .n_tenants = 2,
};

static struct kt_config *fixture_blog(void)
{
	fixture_tenants[0].pool = &fixture_pools[0];
	fixture_tenants[1].pool = &fixture_pools[1];
	return &fixture_config;
}

static struct kt_kv full_quota[] = { KV("limits.memory", "8Gi"), KV("pods", "50"),
				     KV("requests.cpu", "4") };
static struct kt_kv full_def[] = { KV("cpu", "500m"), KV("memory", "512Mi") };
static struct kt_kv full_req[] = { KV("cpu", "100m") };

static struct kt_tenant full_tenants[] = {
	{ .name = "alpha",
	  .node_pool = "sample-team-apps",
	  .operator_group = "alpha.devs",
	  .read_groups = STRV("auditors", "on"),
	  .domains = STRV("alpha.example.org"),
	  .pod_security = { KT_PSS_BASELINE, 30 },
	  .allow_service_types = STRV("LoadBalancer"),
	  .allow_from = STRV("beta"),
	  .quota = { full_quota, 3 },
	  .limits = { .def = { full_def, 2 }, .def_request = { full_req, 1 } },
	  .has_limits = true,
	  .repo = { .url = "https://git.example.org/alpha/app.git",
		    .branch = "prod",
		    .path = "./deploy",
		    .interval = "5m",
		    .secret_ref = "git-credentials" } },
	{ .name = "beta",
	  .node_pool = "sample-team-gitlab-jobs",
	  .pod_security = { KT_PSS_PRIVILEGED, KT_PSS_LATEST },
	  .allow_service_types = STRV("NodePort", "LoadBalancer"),
	  .repo = { .url = "https://git.example.org/beta.git" } },
};

static struct kt_config full_config;

static struct kt_config *fixture_full(void)
{
	full_config = *fixture_blog();
	full_config.global.group_prefix = "idp:";
	full_config.global.image = "registry.example.org/kubetenant:1.2.3";
	full_config.global.oidc.issuer_url = "https://dex.example.org";
	full_config.global.oidc.client_id = "kubernetes";
	full_config.global.oidc.username_claim = "email";
	full_config.global.oidc.groups_claim = "groups";
	full_config.global.oidc.hostname = "kube.example.org";
	full_tenants[0].pool = &fixture_pools[0];
	full_tenants[1].pool = &fixture_pools[1];
	full_config.tenants = full_tenants;
	full_config.n_tenants = 2;
	return &full_config;
}

#endif
