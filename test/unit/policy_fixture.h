/*
 * policy_fixture.h: the tenants file the policy case tests, the fuzzer and
 * the benchmark share, parsed once with the real loader (so the tests also
 * hold the config contract: what the loader fills is what the engine reads).
 */
#ifndef KT_TEST_POLICY_FIXTURE_H
#define KT_TEST_POLICY_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include "kt/config.h"
#include "kt/policy.h"

static const char kt_policy_fixture_yaml[] =
	"global:\n"
	"  tenantHostPrefix: tenants.example.org\n"
	"  clusterName: test-cluster\n"
	"  labelDomain: kubetenant.io\n"
	"  platformNamespaces: [ingress-nginx, monitoring]\n"
	"  defaultPriorityClasses: [cluster-default]\n"
	"  platformIdentities:\n"
	"    users: [admin@example.org]\n"
	"    groups: [platform-admins]\n"
	"nodePools:\n"
	"  a-pool:\n"
	"    instances: {instanceTypes: [t3a.large]}\n"
	"    costCode: org1\n"
	"  b-pool:\n"
	"    instances: {instanceTypes: [t3a.large], capacityTypes: [spot]}\n"
	"    costCode: org2\n"
	"tenants:\n"
	"  team-a:\n"
	"    nodePool: a-pool\n"
	"    operatorEdGroup: team-a.devs\n"
	"    domains: [app.example.org, \"*.app.example.org\", exact.example.net]\n"
	"    podSecurity: baseline\n"
	"    priorityClasses: [tenant-high]\n"
	"    runtimeClasses: [gvisor]\n"
	"    schedulerNames: [team-a-scheduler]\n"
	"  team-b:\n"
	"    nodePool: b-pool\n"
	"    operatorEdGroup: team-b.devs\n"
	"    domains: [b.example.com]\n"
	"    podSecurity: restricted\n"
	"    allowServiceTypes: [LoadBalancer]\n"
	"    allowDaemonSets: true\n"
	"  team-c:\n"
	"    nodePool: a-pool\n"
	"    operatorEdGroup: team-c.devs\n"
	"    domains: [c.example.com, \"*.c.example.com\"]\n"
	"    podSecurity: privileged\n"
	"    allowServiceTypes: [NodePort]\n"
	"    imageRegistries: [ghcr.io/acme, \"registry.example.org:5000\", docker.io/library]\n"
	"    ingressClasses: [nginx]\n"
	"    certIssuers: [ClusterIssuer/letsencrypt, Issuer/internal]\n";

/* The fixture config, parsed once; exits on failure (tests only). */
static struct kt_config *kt_policy_fixture(void)
{
	static struct kt_config *cfg;
	struct kt_diags diags = { 0 };
	struct kt_err err = { 0 };

	if (cfg)
		return cfg;
	if (kt_config_parse(kt_policy_fixture_yaml, sizeof(kt_policy_fixture_yaml) - 1, "fixture",
			    &cfg, &diags, &err)) {
		size_t i;

		fprintf(stderr, "fixture: %s\n", err.msg);
		for (i = 0; i < diags.n; i++)
			fprintf(stderr, "fixture:%d:%d: %s\n", diags.v[i].line, diags.v[i].col,
				diags.v[i].msg);
		exit(70);
	}
	return cfg;
}

#endif
