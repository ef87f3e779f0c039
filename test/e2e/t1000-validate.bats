#!/usr/bin/env bats
# kubetenant validate: the bad-case catalogue (exact messages and positions),
# the good files, the JSON report, --strict, and the schema.

bats_require_minimum_version 1.5.0

KT_BIN=${KT_BIN:-$BATS_TEST_DIRNAME/../../build/kubetenant}
ROOT=$BATS_TEST_DIRNAME/../..
BAD=test/cases/config/bad

setup() {
	cd "$ROOT"
}

# Runs validate on one bad case and compares stderr with its "# expect:" lines.
check_bad() {
	local f=$BAD/$1.yaml expected
	[ -f "$f" ]
	expected=$(sed -n 's/^# expect: //p' "$f" | sed "s|^|$f:|")
	[ -n "$expected" ]
	run --separate-stderr "$KT_BIN" validate -f "$f"
	if [ "$status" -ne 2 ] || [ -n "$output" ] || [ "$stderr" != "$expected" ]; then
		echo "status: $status (want 2)"
		echo "stdout: $output"
		diff <(echo "$expected") <(echo "$stderr") || true
		return 1
	fi
}

@test "every bad case has its own test below" {
	local f n
	for f in "$BAD"/*.yaml; do
		n=$(basename "$f" .yaml)
		grep -q "^@test \"bad $n\"" "$BATS_TEST_FILENAME" || { echo "no test for $n"; return 1; }
	done
	[ "$(ls "$BAD"/*.yaml | wc -l)" -ge 35 ]
}

@test "bad 01-unknown-top-key" { check_bad 01-unknown-top-key; }
@test "bad 02-unknown-global-key" { check_bad 02-unknown-global-key; }
@test "bad 03-unknown-tenant-key" { check_bad 03-unknown-tenant-key; }
@test "bad 04-ttl-not-integer" { check_bad 04-ttl-not-integer; }
@test "bad 05-domains-not-a-list" { check_bad 05-domains-not-a-list; }
@test "bad 06-daemonsets-not-boolean" { check_bad 06-daemonsets-not-boolean; }
@test "bad 07-tenant-name-not-label" { check_bad 07-tenant-name-not-label; }
@test "bad 08-pool-name-not-label" { check_bad 08-pool-name-not-label; }
@test "bad 09-undefined-node-pool" { check_bad 09-undefined-node-pool; }
@test "bad 10-platform-namespace-tenant" { check_bad 10-platform-namespace-tenant; }
@test "bad 11-kube-namespace" { check_bad 11-kube-namespace; }
@test "bad 12-default-namespace" { check_bad 12-default-namespace; }
@test "bad 13-kubetenant-system" { check_bad 13-kubetenant-system; }
@test "bad 14-domain-uppercase" { check_bad 14-domain-uppercase; }
@test "bad 15-domain-wildcard-inside" { check_bad 15-domain-wildcard-inside; }
@test "bad 16-domain-ip-literal" { check_bad 16-domain-ip-literal; }
@test "bad 17-domain-trailing-dot" { check_bad 17-domain-trailing-dot; }
@test "bad 18-domain-label-too-long" { check_bad 18-domain-label-too-long; }
@test "bad 19-domain-granted-twice" { check_bad 19-domain-granted-twice; }
@test "bad 20-domain-under-other-tenant" { check_bad 20-domain-under-other-tenant; }
@test "bad 21-wildcard-covers-other-tenant" { check_bad 21-wildcard-covers-other-tenant; }
@test "bad 22-domain-under-tenant-host" { check_bad 22-domain-under-tenant-host; }
@test "bad 23-domain-covers-tenant-prefix" { check_bad 23-domain-covers-tenant-prefix; }
@test "bad 24-bad-quantity" { check_bad 24-bad-quantity; }
@test "bad 25-unknown-quota-resource" { check_bad 25-unknown-quota-resource; }
@test "bad 26-fractional-pod-count" { check_bad 26-fractional-pod-count; }
@test "bad 27-limits-out-of-order" { check_bad 27-limits-out-of-order; }
@test "bad 28-ttl-out-of-range" { check_bad 28-ttl-out-of-range; }
@test "bad 29-pod-security-invalid" { check_bad 29-pod-security-invalid; }
@test "bad 30-capacity-type-typo" { check_bad 30-capacity-type-typo; }
@test "bad 31-service-type-case" { check_bad 31-service-type-case; }
@test "bad 32-allow-from-unknown" { check_bad 32-allow-from-unknown; }
@test "bad 33-allow-from-self" { check_bad 33-allow-from-self; }
@test "bad 34-repo-url-http" { check_bad 34-repo-url-http; }
@test "bad 35-duplicate-list-entry" { check_bad 35-duplicate-list-entry; }
@test "bad 36-missing-required-keys" { check_bad 36-missing-required-keys; }
@test "bad 37-system-group" { check_bad 37-system-group; }
@test "bad 38-duplicate-tenant" { check_bad 38-duplicate-tenant; }
@test "bad 39-yaml-syntax" { check_bad 39-yaml-syntax; }
@test "bad 40-empty-file" { check_bad 40-empty-file; }
@test "bad 41-not-a-mapping" { check_bad 41-not-a-mapping; }
@test "bad 42-second-document" { check_bad 42-second-document; }
@test "bad 43-negative-quantity" { check_bad 43-negative-quantity; }
@test "bad 44-tenant-claims-proxy-host" { check_bad 44-tenant-claims-proxy-host; }
@test "bad 45-undefined-alias" { check_bad 45-undefined-alias; }
@test "bad 46-cluster-dns-not-ip" { check_bad 46-cluster-dns-not-ip; }
@test "bad 47-priority-class-reserved" { check_bad 47-priority-class-reserved; }
@test "bad 48-repo-path-escapes" { check_bad 48-repo-path-escapes; }
@test "bad 49-wildcard-host-prefix" { check_bad 49-wildcard-host-prefix; }
@test "bad 50-instance-types-empty" { check_bad 50-instance-types-empty; }
@test "bad 51-merge-key" { check_bad 51-merge-key; }
@test "bad 52-oidc-without-client" { check_bad 52-oidc-without-client; }
@test "bad 53-domain-is-tenant-host" { check_bad 53-domain-is-tenant-host; }
@test "bad 70-oidc-ca-private-key" { check_bad 70-oidc-ca-private-key; }
@test "bad 71-oidc-ca-bad-base64" { check_bad 71-oidc-ca-bad-base64; }
@test "bad 72-oidc-exposure-unknown" { check_bad 72-oidc-exposure-unknown; }
@test "bad 73-oidc-exposure-needs-host" { check_bad 73-oidc-exposure-needs-host; }
@test "bad 74-oidc-cert-issuer" { check_bad 74-oidc-cert-issuer; }
@test "bad 75-oidc-same-client-ids" { check_bad 75-oidc-same-client-ids; }

@test "the blog's values file is accepted verbatim" {
	# the fixture is the seed's last YAML block, byte for byte
	if [ -f "${KT_SHARED:-../shared}/seed/making-kubernetes-multi-tenant.md" ]; then
		diff <(awk '/^## Putting it All Together/{p=1} p && /^```yaml/{y=1; next} y && /^```/{exit} y' \
			"${KT_SHARED:-../shared}/seed/making-kubernetes-multi-tenant.md") \
			test/fixtures/blog-values.yaml
	fi
	run --separate-stderr "$KT_BIN" validate -f test/fixtures/blog-values.yaml
	[ "$status" -eq 0 ]
	[ "$output" = "test/fixtures/blog-values.yaml: 2 node pools, 2 tenants, 1 warning" ]
	[[ "$stderr" == *"warning: global.platformNamespaces is empty"* ]]
}

@test "examples/platform.yaml is valid" {
	run --separate-stderr "$KT_BIN" validate -f examples/platform.yaml
	[ "$status" -eq 0 ]
	[ "$output" = "examples/platform.yaml: 2 node pools, 2 tenants" ]
	[ -z "$stderr" ]
}

@test "a file using every key is valid" {
	run --separate-stderr "$KT_BIN" validate -f test/fixtures/full.yaml
	[ "$status" -eq 0 ]
	[ "$output" = "test/fixtures/full.yaml: 2 node pools, 2 tenants" ]
}

@test "stdin is read with -f -" {
	run --separate-stderr "$KT_BIN" validate -f - < examples/platform.yaml
	[ "$status" -eq 0 ]
	[ "$output" = "<stdin>: 2 node pools, 2 tenants" ]
	run --separate-stderr "$KT_BIN" validate -f - < "$BAD/09-undefined-node-pool.yaml"
	[ "$status" -eq 2 ]
	[ "$stderr" = "<stdin>:12:15: node pool 'app' is not defined; did you mean 'apps'?" ]
}

@test "--format json reports problems for machines" {
	run --separate-stderr "$KT_BIN" validate --format json -f "$BAD/36-missing-required-keys.yaml"
	[ "$status" -eq 2 ]
	[ -z "$stderr" ]
	[ "$(jq -r .valid <<<"$output")" = false ]
	[ "$(jq '.problems | length' <<<"$output")" -eq 5 ]
	[ "$(jq -r '.problems[2] | "\(.file):\(.line):\(.column): \(.message)"' <<<"$output")" = \
		"$BAD/36-missing-required-keys.yaml:9:3: missing required key 'nodePools.apps.costCode'" ]
	[ "$(jq -r '[.problems[].severity] | unique | join(",")' <<<"$output")" = error ]
}

@test "--format json on a valid file" {
	run --separate-stderr "$KT_BIN" validate -f examples/platform.yaml --format json
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(jq -c '[.valid, .nodePools, .tenants, .problems]' <<<"$output")" = '[true,2,2,[]]' ]
}

@test "--format json on an unreadable file exits 3" {
	run --separate-stderr "$KT_BIN" validate --format json -f /nonexistent.yaml
	[ "$status" -eq 3 ]
	[ "$(jq -r '.problems[0].message' <<<"$output")" = "cannot open '/nonexistent.yaml': No such file or directory" ]
}

@test "--strict fails on warnings, plain validate only reports them" {
	local f=$BATS_TEST_TMPDIR/warn.yaml
	cat >"$f" <<-'YAML'
	global: {tenantHostPrefix: tenants.example.org, clusterName: demo}
	nodePools:
	  apps: {instances: {instanceTypes: [t3a.large]}, costCode: org1}
	  spare: {instances: {instanceTypes: [t3a.large]}, costCode: org1}
	tenants:
	  team-a: {nodePool: apps}
	YAML
	run --separate-stderr "$KT_BIN" validate -f "$f"
	[ "$status" -eq 0 ]
	[ "$output" = "$f: 2 node pools, 1 tenant, 3 warnings" ]
	[ "$stderr" = "$f:1:1: warning: global.platformNamespaces is empty: the network policy of every tenant admits only the tenant itself, so the ingress controller and monitoring cannot reach any tenant; list their namespaces (docs/network.md)
$f:4:3: warning: node pool 'spare' is not used by any tenant
$f:6:3: warning: tenant 'team-a' has no 'operatorEdGroup': nobody can read its namespace" ]
	run --separate-stderr "$KT_BIN" validate --strict -f "$f"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$(wc -l <<<"$stderr")" -eq 3 ]
	run --separate-stderr "$KT_BIN" validate --strict --format json -f "$f"
	[ "$status" -eq 1 ]
	[ "$(jq -r '[.valid, (.problems | length), .problems[0].severity] | join(" ")' <<<"$output")" = "true 3 warning" ]
	run "$KT_BIN" validate --strict -f examples/platform.yaml
	[ "$status" -eq 0 ]
}

@test "--strict: the blog's values, with no platformNamespaces, let no ingress controller in" {
	run --separate-stderr "$KT_BIN" validate --strict -f test/fixtures/blog-values.yaml
	[ "$status" -eq 1 ]
	[ "$stderr" = "test/fixtures/blog-values.yaml:1:1: warning: global.platformNamespaces is empty: the network policy of every tenant admits only the tenant itself, so the ingress controller and monitoring cannot reach any tenant; list their namespaces (docs/network.md)" ]
}

@test "an unreadable file exits 3, a missing -f exits 2" {
	run --separate-stderr "$KT_BIN" validate -f /nonexistent.yaml
	[ "$status" -eq 3 ]
	[ "$stderr" = "kubetenant: error: cannot open '/nonexistent.yaml': No such file or directory" ]
	run --separate-stderr "$KT_BIN" validate
	[ "$status" -eq 2 ]
	[[ "$stderr" == "kubetenant: error: no tenants file given (use -f FILE)"* ]]
	run --separate-stderr "$KT_BIN" validate -f examples/platform.yaml --format yaml
	[ "$status" -eq 2 ]
	[[ "$stderr" == "kubetenant: error: unknown format 'yaml' (expected 'text' or 'json')"* ]]
}

@test "a file over 64 MiB is an input error" {
	local f=$BATS_TEST_TMPDIR/huge.yaml
	truncate -s 67108865 "$f"
	run --separate-stderr "$KT_BIN" validate -f "$f"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"is larger than 64 MiB"* ]]
}

@test "every problem is reported, not just the first" {
	local f=$BATS_TEST_TMPDIR/many.yaml
	{
		echo 'global: {tenantHostPrefix: tenants.example.org, clusterName: demo}'
		echo 'tenants:'
		for i in $(seq 1 30); do echo "  t$i: {nodePool: p$i}"; done
	} >"$f"
	run --separate-stderr "$KT_BIN" validate -f "$f"
	[ "$status" -eq 2 ]
	[ "$(wc -l <<<"$stderr")" -eq 30 ]
	[ "$(sed -n 30p <<<"$stderr")" = "$f:32:19: node pool 'p30' is not defined in 'nodePools'" ]
}

@test "a manifestRepo without Flux's controllers as platform identities is a warning" {
	f="$BATS_TEST_TMPDIR/flux.yaml"
	cat >"$f" <<-YAML
	global:
	  tenantHostPrefix: tenants.example.org
	  clusterName: demo
	  platformNamespaces: [ingress-nginx]
	  platformIdentities: {serviceAccounts: ["ops:deployer"]}
	nodePools:
	  apps: {instances: {instanceTypes: [t3a.large]}, costCode: org1}
	tenants:
	  team-a: {nodePool: apps, operatorEdGroup: devs, manifestRepo: {url: "https://git.example.org/a.git"}}
	YAML
	run --separate-stderr "$KT_BIN" validate --strict -f "$f"
	[ "$status" -eq 1 ]
	[ "$(wc -l <<<"$stderr")" -eq 2 ]
	[[ "$stderr" == "$f:9:3: warning: tenant 'team-a' uses manifestRepo but 'flux-system:kustomize-controller' is not in global.platformIdentities.serviceAccounts"* ]]
	# the defaults list them
	sed -i '/platformIdentities/d' "$f"
	run --separate-stderr "$KT_BIN" validate --strict -f "$f"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "schema prints valid JSON Schema covering every key" {
	run --separate-stderr "$KT_BIN" schema
	[ "$status" -eq 0 ]
	[ "$(jq -r '."$schema"' <<<"$output")" = "https://json-schema.org/draft/2020-12/schema" ]
	[ "$(jq -r '.properties.global.properties | keys | join(",")' <<<"$output")" = \
		"clusterDNS,clusterHostname,clusterName,defaultPriorityClasses,groupPrefix,image,labelDomain,oidc,platformIdentities,platformNamespaces,podSecurity,tenantHostPrefix" ]
	[ "$(jq -r '.properties.tenants.additionalProperties.properties | keys | length' <<<"$output")" -eq 17 ]
	# every property carries a description
	[ "$(jq '[.. | objects | select(has("properties")) | .properties[] | select(has("description") | not)] | length' <<<"$output")" -eq 0 ]
}

@test "the schema accepts the example files (JSON Schema validator)" {
	local py
	for py in python3 /usr/bin/python3; do
		"$py" -c 'import jsonschema, yaml' 2>/dev/null && break
		py=
	done
	[ -n "$py" ] || skip "no python3 with jsonschema and yaml (Debian: python3-jsonschema python3-yaml)"
	"$KT_BIN" schema >"$BATS_TEST_TMPDIR/schema.json"
	run "$py" - "$BATS_TEST_TMPDIR/schema.json" examples/platform.yaml test/fixtures/blog-values.yaml \
		test/fixtures/full.yaml "$BAD/01-unknown-top-key.yaml" \
		test/cases/render/identity/tenants.yaml "$BAD/72-oidc-exposure-unknown.yaml" <<-'PY'
	import json, sys, yaml, jsonschema
	schema = json.load(open(sys.argv[1]))
	jsonschema.Draft202012Validator.check_schema(schema)
	v = jsonschema.Draft202012Validator(schema)
	for f in sys.argv[2:]:
	    errors = list(v.iter_errors(yaml.safe_load(open(f))))
	    print(f, "invalid" if errors else "valid")
	PY
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "examples/platform.yaml valid" ]
	[ "${lines[1]}" = "test/fixtures/blog-values.yaml valid" ]
	[ "${lines[2]}" = "test/fixtures/full.yaml valid" ]
	[ "${lines[3]}" = "$BAD/01-unknown-top-key.yaml invalid" ]
	[ "${lines[4]}" = "test/cases/render/identity/tenants.yaml valid" ]
	[ "${lines[5]}" = "$BAD/72-oidc-exposure-unknown.yaml invalid" ]
}

@test "help validate and help schema print usage on stdout" {
	run --separate-stderr "$KT_BIN" help validate
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: kubetenant validate -f FILE"* ]]
	run --separate-stderr "$KT_BIN" schema --help
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "usage: kubetenant schema" ]
	run --separate-stderr "$KT_BIN" schema extra
	[ "$status" -eq 2 ]
}
