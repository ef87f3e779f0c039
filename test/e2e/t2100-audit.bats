#!/usr/bin/env bats
# kubetenant audit: what already runs in tenant namespaces that today's rules
# would deny, from a `kubectl get -A -o json` dump (fixtures/policy/cluster.json,
# made by make-dump.sh from real `kubectl create --dry-run=client -o json`),
# and the drift of the platform objects from what render produces (a live
# dump made from render's own output by fixtures/policy/live.jq).
# cluster.json holds a few kinds only, so the tests of judging pass --no-drift.
bats_require_minimum_version 1.5.0

KT_BIN=${KT_BIN:-$BATS_TEST_DIRNAME/../../build/kubetenant}

setup() {
	cd "$BATS_TEST_DIRNAME/fixtures/policy"
	T=$BATS_TEST_TMPDIR
}

@test "a live cluster dump: every denied object, then counts per tenant and per rule" {
	run --separate-stderr "$KT_BIN" audit --no-drift -f tenants.yaml cluster.json
	[ "$status" -eq 1 ]
	[[ "$output" == *"cluster.json:104: team-a Service/debug: services.node-port: spec.type: service type NodePort"* ]]
	[[ "$output" == *"team-a Ingress/shop: hostnames.unauthorized: spec.rules[0].host: ingress host 'shop.example.com'"* ]]
	[[ "$output" == *"team-b Deployment/api: pod-security.runAsNonRoot: spec.template.spec:"* ]]
	[[ "$output" == *"team-a Pod/web-7d4b9c8f6-bbbbb: placement.foreign-node: spec.nodeName: pod runs on node 'ip-10-0-2-22' of node pool 'b-pool' but tenant 'team-a' may only use 'a-pool'"* ]]
	[[ "$output" == *"team-a Pod/legacy: placement.missing-pool-selector: spec.nodeSelector:"* ]]
	[[ "$output" == *"team-a Pod/legacy: placement.foreign-node: spec.nodeName: pod runs on node 'ip-10-0-0-10' of no node pool"* ]]
	[[ "$output" == *"14 objects, 11 in tenant namespaces judged, 5 would be denied"* ]]
	grep -qE '^  team-a +4/10$' <<<"$output"
	grep -qE '^  team-b +1/1$' <<<"$output"
	grep -qE '^  placement.foreign-node +2$' <<<"$output"
	grep -qE '^  services.node-port +1$' <<<"$output"
}

@test "what the platform and the controllers wrote is not reported" {
	run "$KT_BIN" audit --no-drift -f tenants.yaml cluster.json
	# the compliant pod, the tenant's own Namespace, the managed RoleBinding,
	# the controller-written Endpoints and EndpointSlice, kube-system
	[[ "$output" != *"web-7d4b9c8f6-aaaaa"* ]]
	[[ "$output" != *"Namespace/team-a"* ]]
	[[ "$output" != *"RoleBinding/tenant-access"* ]]
	[[ "$output" != *"Endpoints/"* ]]
	[[ "$output" != *"EndpointSlice/"* ]]
	[[ "$output" != *"kube-system"* ]]
	[[ "$output" != *"Deployment/web"* ]]
}

@test "--format json: the same findings and counts for machines" {
	run --separate-stderr "$KT_BIN" audit --no-drift -f tenants.yaml --format json cluster.json
	[ "$status" -eq 1 ]
	[ "$(jq -r .summary.objects <<<"$output")" = 14 ]
	[ "$(jq -r .summary.judged <<<"$output")" = 11 ]
	[ "$(jq -r .summary.denied <<<"$output")" = 5 ]
	[ "$(jq -r .summary.skipped <<<"$output")" = 3 ]
	[ "$(jq -r '.tenants["team-a"].denied' <<<"$output")" = 4 ]
	[ "$(jq -r '.tenants["team-b"].judged' <<<"$output")" = 1 ]
	[ "$(jq -r '.rules["placement.foreign-node"]' <<<"$output")" = 2 ]
	[ "$(jq -r '.objects[] | select(.name == "debug") | .denials[0].rule' <<<"$output")" = services.node-port ]
	[ "$(jq -r '.objects[] | select(.name == "debug") | .line' <<<"$output")" = 104 ]
}

@test "stdin and directories of dumps" {
	run --separate-stderr "$KT_BIN" audit --no-drift -f tenants.yaml - <cluster.json
	[ "$status" -eq 1 ]
	[[ "$output" == *"-:104: team-a Service/debug: services.node-port"* ]]
	mkdir -p "$T/dumps"
	jq '{apiVersion: "v1", kind: "List", items: [.items[] | select(.kind == "Service")]}' cluster.json >"$T/dumps/services.json"
	jq '{apiVersion: "v1", kind: "List", items: [.items[] | select(.kind == "Ingress")]}' cluster.json >"$T/dumps/ingresses.json"
	run --separate-stderr "$KT_BIN" audit --no-drift -f tenants.yaml "$T/dumps"
	[ "$status" -eq 1 ]
	[[ "$output" == *"4 objects, 4 in tenant namespaces judged, 2 would be denied"* ]]
}

@test "without Nodes in the dump, where pods run is not judged" {
	jq '{apiVersion: "v1", kind: "List", items: [.items[] | select(.kind == "Pod")]}' cluster.json >"$T/pods.json"
	run --separate-stderr "$KT_BIN" audit --no-drift -f tenants.yaml "$T/pods.json"
	[ "$status" -eq 1 ]
	[[ "$output" != *"placement.foreign-node"* ]]
	[[ "$output" == *"3 objects, 3 in tenant namespaces judged, 1 would be denied"* ]]
}

@test "a clean cluster exits 0" {
	jq '{apiVersion: "v1", kind: "List", items: [.items[] | select(.metadata.name == "web" or .kind == "Node")]}' cluster.json >"$T/clean.json"
	run --separate-stderr "$KT_BIN" audit --no-drift -f tenants.yaml "$T/clean.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *"would be denied"* ]]
	[[ "$output" == *", 0 would be denied"* ]]
}

@test "an unreadable or broken dump exits 3, usage errors exit 2" {
	run "$KT_BIN" audit -f tenants.yaml "$T/nothing.json"
	[ "$status" -eq 3 ]
	printf '{"apiVersion": "v1", "kind": "List", "items": [' >"$T/broken.json"
	run "$KT_BIN" audit -f tenants.yaml "$T/broken.json"
	[ "$status" -eq 3 ]
	run "$KT_BIN" audit cluster.json
	[ "$status" -eq 2 ]
	run "$KT_BIN" audit -f tenants.yaml
	[ "$status" -eq 2 ]
	run "$KT_BIN" audit -f tenants.yaml --format yaml cluster.json
	[ "$status" -eq 2 ]
	run "$KT_BIN" audit --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"kubectl get <kinds> -A -o json"* ]]
}

@test "what render emits for the tenants passes audit, and a tenant could not create it" {
	cat >"$T/tenants.yaml" <<'Y'
global: {tenantHostPrefix: tenants.example.org, clusterName: c}
nodePools: {p: {instances: {instanceTypes: [t3a.large]}, costCode: x}}
tenants:
  team-a:
    nodePool: p
    quota: {pods: "10"}
    limits: {default: {cpu: 500m}}
    manifestRepo: {url: "https://git.example.org/a.git", branch: main, path: ./deploy}
Y
	"$KT_BIN" render -f "$T/tenants.yaml" --network calico-crd >"$T/rendered.yaml"
	run --separate-stderr "$KT_BIN" audit -f "$T/tenants.yaml" --network calico-crd "$T/rendered.yaml"
	[ "$status" -eq 0 ]
	grep -qE '^  team-a +0/[1-9]' <<<"$output"
	# the same objects from a tenant's repository are the platform's, not the tenant's
	run --separate-stderr "$KT_BIN" check -f "$T/tenants.yaml" --tenant team-a "$T/rendered.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"NetworkPolicy/restrict-other-tenants: managed.reserved-label:"* ]]
	[[ "$output" == *"NetworkPolicy/restrict-other-tenants: managed.reserved-name:"* ]]
	[[ "$output" == *"NetworkPolicy/restrict-other-tenants: warning: network.calico-order:"* ]]
	[[ "$output" == *"Kustomization/tenant-manifests: managed.reserved-name:"* ]]
}

# A live dump of the platform: render's objects as the API server returns them
# (live.jq), for tenants.yaml with the given profile flags.
live_dump() {
	"$KT_BIN" render -f tenants.yaml "$@" --format json | jq -f live.jq >"$T/live.json"
}

# Rewrite the live dump with a jq filter.
tamper() {
	jq "$1" "$T/live.json" >"$T/tampered.json"
}

@test "drift: a live dump of exactly what render emits is clean, in every profile" {
	for profile in "" "--network calico-crd --enforcement gatekeeper --karpenter v1alpha5" \
		"--network calico" "--network admin --group-prefix idp:"; do
		# shellcheck disable=SC2086
		live_dump $profile
		# shellcheck disable=SC2086
		run --separate-stderr "$KT_BIN" audit -f tenants.yaml $profile "$T/live.json"
		echo "$profile: $output"
		[ "$status" -eq 0 ]
		[[ "$output" =~ platform\ objects\ rendered:\ 0\ missing,\ 0\ changed\ \(0\ fields\),\ 0\ unexpected ]]
		[[ "$output" != *drift.* ]]
	done
}

# issue 12, defect 10: this gave "0 would be denied", exit 0
@test "drift regression: a tenant Namespace relabelled privileged" {
	live_dump
	tamper '(.items[] | select(.kind == "Namespace" and .metadata.name == "team-b")
		| .metadata.labels["pod-security.kubernetes.io/enforce"]) = "privileged"'
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml "$T/tampered.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"tampered.json:"*": Namespace/team-b: drift.changed: metadata.labels[pod-security.kubernetes.io/enforce]: rendered \"restricted\", live \"privileged\""* ]]
	[[ "$output" == *"0 missing, 1 changed (1 fields), 0 unexpected"* ]]
}

# issue 12, defect 10: this gave "0 would be denied", exit 0
@test "drift regression: tenant-access rebound to cluster-admin for system:authenticated" {
	live_dump
	tamper '(.items[] | select(.kind == "RoleBinding" and .metadata.name == "tenant-access"
			and .metadata.namespace == "team-a"))
		|= (.roleRef.name = "cluster-admin"
			| .subjects = [{kind: "Group", apiGroup: "rbac.authorization.k8s.io",
				name: "system:authenticated"}])'
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml "$T/tampered.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *": team-a RoleBinding/tenant-access: drift.changed: subjects[0].name: rendered \"oidc:team-a.devs\", live \"system:authenticated\""* ]]
	[[ "$output" == *": team-a RoleBinding/tenant-access: drift.changed: roleRef.name: rendered \"platform-tenant\", live \"cluster-admin\""* ]]
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml --format json "$T/tampered.json"
	[ "$status" -eq 1 ]
	[ "$(jq -c '[.drift[] | select(.path == "roleRef.name") | .drift, .namespace, .kind, .name, .rendered, .live]' <<<"$output")" = \
		'["changed","team-a","RoleBinding","tenant-access","platform-tenant","cluster-admin"]' ]
	[ "$(jq -r .summary.drift.changed <<<"$output")" = 1 ]
	[ "$(jq -r .summary.drift.fields <<<"$output")" = 2 ]
	[ "$(jq -r '.drift[0].file' <<<"$output")" = "$T/tampered.json" ]
	[ "$(jq -r '.drift[0].line' <<<"$output")" -gt 1 ]
}

@test "drift: an extra subject in a rendered RoleBinding" {
	live_dump
	tamper '(.items[] | select(.kind == "RoleBinding" and .metadata.name == "tenant-access"
			and .metadata.namespace == "team-c") | .subjects) += [{kind: "User",
			apiGroup: "rbac.authorization.k8s.io", name: "mallory@example.org"}]'
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml "$T/tampered.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *": team-c RoleBinding/tenant-access: drift.changed: subjects: rendered [{\"kind\":\"Group\",\"name\":\"oidc:team-c.devs\",\"apiGroup\":\"rbac.authorization.k8s.io\"}], live [{\"kind\":\"Group\",\"name\":\"oidc:team-c.devs\",\"apiGroup\":\"rbac.authorization.k8s.io\"},{\"kind\":\"User\",\"apiGroup\":\"rbac.authorization.k8s.io\",\"name\":\"mallory@example.org\"}]"* ]]
}

@test "drift: a missing object names the tenants file, a changed spec value its dump line" {
	live_dump
	tamper 'del(.items[] | select(.kind == "NetworkPolicy" and .metadata.namespace == "team-b"))
		| (.items[] | select(.kind == "Deployment") | .spec.replicas) = 5'
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml "$T/tampered.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *$'\n'"tenants.yaml: team-b NetworkPolicy/tenant-isolation: drift.missing: rendered, not in the dump"* ]]
	[[ "$output" == *": kubetenant-system Deployment/kubetenant-webhook: drift.changed: spec.replicas: rendered 2, live 5"* ]]
	[[ "$output" == *"1 missing, 1 changed (1 fields), 0 unexpected"* ]]
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml --format json "$T/tampered.json"
	[ "$(jq -c '.drift[] | select(.drift == "missing") | [.file, .line, .apiVersion, .kind, .namespace, .name]' <<<"$output")" = \
		'["tenants.yaml",0,"networking.k8s.io/v1","NetworkPolicy","team-b","tenant-isolation"]' ]
}

@test "drift: an object with the platform's label that render does not produce" {
	live_dump
	tamper '.items += [{apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding",
		metadata: {name: "kubetenant-debug", uid: "9d1e7b0c-3c44-4a8e-9f0e-6f1f2a3b4c5d",
			resourceVersion: "51234", creationTimestamp: "2026-12-01T08:00:00Z",
			labels: {"app.kubernetes.io/managed-by": "kubetenant"}},
		subjects: [{kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "system:authenticated"}],
		roleRef: {kind: "ClusterRole", apiGroup: "rbac.authorization.k8s.io", name: "cluster-admin"}}]'
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml "$T/tampered.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"tampered.json:"*": ClusterRoleBinding/kubetenant-debug: drift.unexpected: labelled app.kubernetes.io/managed-by=kubetenant but not rendered"* ]]
	[[ "$output" == *"0 missing, 0 changed (0 fields), 1 unexpected"* ]]
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml --format json "$T/tampered.json"
	[ "$(jq -c '[.drift[] | .drift, .kind, .name]' <<<"$output")" = '["unexpected","ClusterRoleBinding","kubetenant-debug"]' ]
}

@test "drift: a label changed, removed or added; a webhook narrowed; the tenants file edited live" {
	live_dump
	tamper '(.items[] | select(.kind == "Namespace" and .metadata.name == "team-a") | .metadata.labels)
			|= (.["kubetenant.io/node-pool"] = "b-pool" | del(.["app.kubernetes.io/managed-by"])
				| .["kubetenant.io/exempt"] = "true")
		| (.items[] | select(.kind == "ValidatingWebhookConfiguration") | .webhooks[2].objectSelector)
			= {matchLabels: {"kubetenant.io/purpose": "nobody"}}
		| (.items[] | select(.kind == "ConfigMap" and .metadata.name == "kubetenant-tenants")
			| .data["tenants.yaml"]) |= sub("podSecurity: restricted"; "podSecurity: privileged")'
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml "$T/tampered.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *": Namespace/team-a: drift.changed: metadata.labels[app.kubernetes.io/managed-by]: rendered \"kubetenant\", live (not set)"* ]]
	[[ "$output" == *": Namespace/team-a: drift.changed: metadata.labels[kubetenant.io/node-pool]: rendered \"a-pool\", live \"b-pool\""* ]]
	[[ "$output" == *": Namespace/team-a: drift.changed: metadata.labels[kubetenant.io/exempt]: rendered (not set), live \"true\""* ]]
	[[ "$output" == *": ValidatingWebhookConfiguration/kubetenant: drift.changed: webhooks[2].objectSelector.matchLabels[kubetenant.io/purpose]: rendered \"platform-tenant\", live \"nobody\""* ]]
	# a long value is shown from a little before its first difference
	[[ "$output" == *": kubetenant-system ConfigMap/kubetenant-tenants: drift.changed: data[tenants.yaml]: rendered ...\""*"[b.example.com]\\n    podSecurity: restricted\\n"*"..., live ...\""*"[b.example.com]\\n    podSecurity: privileged\\n"* ]]
	[[ "$output" == *"0 missing, 3 changed (5 fields), 0 unexpected"* ]]
}

@test "drift: audit must be given render's profile; a partial dump needs --no-drift" {
	live_dump --network calico-crd
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml "$T/live.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"tenants.yaml: team-a NetworkPolicy/tenant-isolation: drift.missing: rendered, not in the dump"* ]]
	[[ "$output" == *": team-a NetworkPolicy/restrict-other-tenants: drift.unexpected:"* ]]
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml --network calico-crd "$T/live.json"
	[ "$status" -eq 0 ]
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml cluster.json
	[ "$status" -eq 1 ]
	[[ "$output" == *"tenants.yaml: ClusterRole/platform-tenant: drift.missing: rendered, not in the dump"* ]]
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml --network bogus "$T/live.json"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown network profile 'bogus'"* ]]
}

# A dump over the size limit is the input's fault (3), not an internal error
# (70): the size cap has its own error code, apart from running out of memory.
@test "a dump over 64 MiB is unreadable input (exit 3), not an internal error" {
	head -c $((64 * 1024 * 1024 + 1)) /dev/zero >"$T/big.json"
	run --separate-stderr "$KT_BIN" audit --no-drift -f tenants.yaml "$T/big.json"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"big.json' is larger than 67108864 bytes"* ]]
	rm -f "$T/big.json"
}
