#!/usr/bin/env bats
# kubetenant audit: what already runs in tenant namespaces that today's rules
# would deny, from a `kubectl get -A -o json` dump (fixtures/policy/cluster.json,
# made by make-dump.sh from real `kubectl create --dry-run=client -o json`).
bats_require_minimum_version 1.5.0

KT_BIN=${KT_BIN:-$BATS_TEST_DIRNAME/../../build/kubetenant}

setup() {
	cd "$BATS_TEST_DIRNAME/fixtures/policy"
	T=$BATS_TEST_TMPDIR
}

@test "a live cluster dump: every denied object, then counts per tenant and per rule" {
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml cluster.json
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
	run "$KT_BIN" audit -f tenants.yaml cluster.json
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
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml --format json cluster.json
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
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml - <cluster.json
	[ "$status" -eq 1 ]
	[[ "$output" == *"-:104: team-a Service/debug: services.node-port"* ]]
	mkdir -p "$T/dumps"
	jq '{apiVersion: "v1", kind: "List", items: [.items[] | select(.kind == "Service")]}' cluster.json >"$T/dumps/services.json"
	jq '{apiVersion: "v1", kind: "List", items: [.items[] | select(.kind == "Ingress")]}' cluster.json >"$T/dumps/ingresses.json"
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml "$T/dumps"
	[ "$status" -eq 1 ]
	[[ "$output" == *"4 objects, 4 in tenant namespaces judged, 2 would be denied"* ]]
}

@test "without Nodes in the dump, where pods run is not judged" {
	jq '{apiVersion: "v1", kind: "List", items: [.items[] | select(.kind == "Pod")]}' cluster.json >"$T/pods.json"
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml "$T/pods.json"
	[ "$status" -eq 1 ]
	[[ "$output" != *"placement.foreign-node"* ]]
	[[ "$output" == *"3 objects, 3 in tenant namespaces judged, 1 would be denied"* ]]
}

@test "a clean cluster exits 0" {
	jq '{apiVersion: "v1", kind: "List", items: [.items[] | select(.metadata.name == "web" or .kind == "Node")]}' cluster.json >"$T/clean.json"
	run --separate-stderr "$KT_BIN" audit -f tenants.yaml "$T/clean.json"
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
	run --separate-stderr "$KT_BIN" audit -f "$T/tenants.yaml" "$T/rendered.yaml"
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
