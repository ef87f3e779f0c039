#!/usr/bin/env bash
# Print a valid tenants file with N tenants (default 1000) on N/50 node pools
# (at least one): the load for bench/serve.sh and scripts/soak.sh.  Tenants
# are named tenant-0001 ... and their namespaces are the same.
set -eu
n=${1:-1000}
pools=$(( n / 50 > 0 ? n / 50 : 1 ))
printf 'global:\n  tenantHostPrefix: tenants.example.org\n  clusterName: bench\n'
printf 'nodePools:\n'
for ((p = 1; p <= pools; p++)); do
	printf '  pool-%02d:\n    instances:\n' "$p"
	printf '      instanceTypes: [t3a.large, t3a.xlarge]\n      capacityTypes: [on-demand, spot]\n'
	printf '    costCode: cc%02d\n' "$p"
done
printf 'tenants:\n'
for ((t = 1; t <= n; t++)); do
	printf '  tenant-%04d:\n    nodePool: pool-%02d\n    operatorEdGroup: tenant-%04d.devs\n' \
		"$t" "$(( t % pools + 1 ))" "$t"
	printf '    imageRegistries: [ghcr.io/acme, registry.example.org:5000]\n'
done
