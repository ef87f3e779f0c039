#!/usr/bin/env bats
# kubetenant serve: every verdict class over HTTPS, decided by the policy
# engine (the same cases it has in test/cases/policy, here through the wire).

load serve-lib

setup_file() { serve_certs; }
setup() {
	serve_certs
	serve_start
}
teardown() { serve_stop; }

# A pod that meets Pod Security "restricted" (the fixture's default).
pod() { # namespace [extra spec as JSON]
	jq -cn --arg ns "$1" --argjson extra "${2:-{\}}" '{
		apiVersion: "v1", kind: "Pod", metadata: {name: "web", namespace: $ns},
		spec: ({
			securityContext: {runAsNonRoot: true, seccompProfile: {type: "RuntimeDefault"}},
			containers: [{name: "web", image: "ghcr.io/acme/web:1.0",
				securityContext: {allowPrivilegeEscalation: false,
					capabilities: {drop: ["ALL"]}}}]
		} + $extra)}'
}
pool_spec='{"nodeSelector":{"kubetenant.io/node-pool":"a-pool"},"tolerations":[{"key":"kubetenant.io/node-pool","operator":"Equal","value":"a-pool","effect":"NoSchedule"}]}'

@test "mutated: a tenant pod gets its pool's selector and toleration as a base64 JSON patch" {
	review uid-m team-a "$(pod team-a)" >"$BATS_TEST_TMPDIR/r.json"
	run post_review /mutate "$BATS_TEST_TMPDIR/r.json" -w '\n%{http_code}'
	[ "${lines[1]}" = 200 ]
	local resp=${lines[0]}
	[ "$(jq -r .response.uid <<<"$resp")" = uid-m ]
	[ "$(jq -r .response.allowed <<<"$resp")" = true ]
	[ "$(jq -r .response.patchType <<<"$resp")" = JSONPatch ]
	jq -r .response.patch <<<"$resp" | base64 -d >"$BATS_TEST_TMPDIR/patch.json"
	run jq -c . "$BATS_TEST_TMPDIR/patch.json"
	[ "$output" = '[{"op":"add","path":"/spec/nodeSelector","value":{"kubetenant.io/node-pool":"a-pool"}},{"op":"add","path":"/spec/tolerations","value":[{"key":"kubetenant.io/node-pool","operator":"Equal","value":"a-pool","effect":"NoSchedule"}]}]' ]
	logq 'any(.msg == "admission" and .uid == "uid-m" and .verdict == "mutated"
		and .tenant == "team-a" and .endpoint == "mutate")'
	[ "$(metric 'kubetenant_webhook_requests_total{endpoint="mutate",kind="Pod",operation="CREATE",verdict="mutated"}')" = 1 ]
}

@test "allowed: the mutated pod passes /validate, and /validate never patches" {
	review uid-a team-a "$(pod team-a "$pool_spec")" >"$BATS_TEST_TMPDIR/r.json"
	run post_review /validate "$BATS_TEST_TMPDIR/r.json"
	[ "$(jq -r .response.uid <<<"$output")" = uid-a ]
	[ "$(jq -r .response.allowed <<<"$output")" = true ]
	[ "$(jq -r '.response.patch // "none"' <<<"$output")" = none ]
	# a pod that /mutate would patch gets no patch from /validate
	review uid-v team-a "$(pod team-a)" >"$BATS_TEST_TMPDIR/plain.json"
	run post_review /validate "$BATS_TEST_TMPDIR/plain.json"
	[ "$(jq -r .response.uid <<<"$output")" = uid-v ]
	[ "$(jq -r '.response.patch // "none"' <<<"$output")" = none ]
	logq 'any(.msg == "admission" and .uid == "uid-a" and .verdict == "allowed" and .rules == [])'
}

@test "denied: a pod selecting another tenant's pool gets 403 and the engine's message" {
	review uid-d team-a "$(pod team-a '{"nodeSelector":{"kubetenant.io/node-pool":"b-pool"}}')" \
		>"$BATS_TEST_TMPDIR/r.json"
	for ep in validate mutate; do
		run post_review "/$ep" "$BATS_TEST_TMPDIR/r.json" -w '\n%{http_code}'
		[ "${lines[1]}" = 200 ]
		[ "$(jq -r .response.uid <<<"${lines[0]}")" = uid-d ]
		[ "$(jq -r .response.allowed <<<"${lines[0]}")" = false ]
		[ "$(jq -r .response.status.code <<<"${lines[0]}")" = 403 ]
		[[ "$(jq -r .response.status.message <<<"${lines[0]}")" == *"pod selects node pool 'b-pool' but tenant 'team-a' may only use 'a-pool'"* ]]
		[ "$(jq -r '.response.patch // "none"' <<<"${lines[0]}")" = none ]
	done
	logq '[.[] | select(.msg == "admission" and .uid == "uid-d")] | length == 2 and
		all(.verdict == "denied" and .rules == ["placement.foreign-pool-selector"])'
	[ "$(metric 'kubetenant_webhook_requests_total{endpoint="validate",kind="Pod",operation="CREATE",verdict="denied"}')" = 1 ]
}

# What the ReplicaSet controller sends for a Deployment's pod in namespace
# $1, after the API server's own admission (defaults, ServiceAccount token
# volume, DefaultTolerationSeconds).
rs_pod_review() { # uid namespace
	jq -cn --arg uid "$1" --arg ns "$2" '{
		apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
		request: {
			uid: $uid,
			kind: {group: "", version: "v1", kind: "Pod"},
			resource: {group: "", version: "v1", resource: "pods"},
			requestKind: {group: "", version: "v1", kind: "Pod"},
			requestResource: {group: "", version: "v1", resource: "pods"},
			name: "", namespace: $ns, operation: "CREATE",
			userInfo: {username: "system:serviceaccount:kube-system:replicaset-controller",
				uid: "0b7a6d2e-9a61-4c39-8a1e-3f0f5e1f4a11",
				groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system",
					"system:authenticated"]},
			object: {apiVersion: "v1", kind: "Pod", metadata: {
				generateName: "web-7d9c5b8f4-", namespace: $ns,
				labels: {app: "web", "pod-template-hash": "7d9c5b8f4"},
				ownerReferences: [{apiVersion: "apps/v1", kind: "ReplicaSet",
					name: "web-7d9c5b8f4", uid: "5d2c1a0e-1111-4c39-8a1e-3f0f5e1f4a22",
					controller: true, blockOwnerDeletion: true}]},
			  spec: {
				volumes: [{name: "kube-api-access-x7k2p", projected: {defaultMode: 420, sources: [
					{serviceAccountToken: {expirationSeconds: 3607, path: "token"}},
					{configMap: {name: "kube-root-ca.crt", items: [{key: "ca.crt", path: "ca.crt"}]}},
					{downwardAPI: {items: [{path: "namespace", fieldRef: {apiVersion: "v1",
						fieldPath: "metadata.namespace"}}]}}]}}],
				containers: [{name: "web", image: "ghcr.io/acme/web:1.0", resources: {},
					volumeMounts: [{name: "kube-api-access-x7k2p", readOnly: true,
						mountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}],
					terminationMessagePath: "/dev/termination-log",
					terminationMessagePolicy: "File", imagePullPolicy: "IfNotPresent",
					securityContext: {allowPrivilegeEscalation: false,
						capabilities: {drop: ["ALL"]}}}],
				restartPolicy: "Always", terminationGracePeriodSeconds: 30,
				dnsPolicy: "ClusterFirst", serviceAccountName: "default",
				serviceAccount: "default",
				securityContext: {runAsNonRoot: true, seccompProfile: {type: "RuntimeDefault"}},
				schedulerName: "default-scheduler",
				tolerations: [
					{key: "node.kubernetes.io/not-ready", operator: "Exists",
						effect: "NoExecute", tolerationSeconds: 300},
					{key: "node.kubernetes.io/unreachable", operator: "Exists",
						effect: "NoExecute", tolerationSeconds: 300}],
				priority: 0, enableServiceLinks: true, preemptionPolicy: "PreemptLowerPriority"},
			  status: {}},
			oldObject: null, dryRun: false,
			options: {apiVersion: "meta.k8s.io/v1", kind: "CreateOptions"}
		}}'
}

# Only tenant namespaces reach the webhook (every rendered webhook selects
# the tenant purpose label), so a namespace the loaded file does not know is
# a tenant onboarded before its tenants file: judging it as "no tenant" let
# its pods through with no pool and no policy.
@test "fail closed: a pod in a tenant-labelled namespace the file does not know is denied" {
	rs_pod_review uid-u team-new >"$BATS_TEST_TMPDIR/r.json"
	for ep in mutate validate; do
		run post_review "/$ep" "$BATS_TEST_TMPDIR/r.json" -w '\n%{http_code}'
		[ "${lines[1]}" = 200 ]
		[ "$(jq -r .response.uid <<<"${lines[0]}")" = uid-u ]
		[ "$(jq -r .response.allowed <<<"${lines[0]}")" = false ]
		[ "$(jq -r .response.status.code <<<"${lines[0]}")" = 403 ]
		[ "$(jq -r '.response.patch // "none"' <<<"${lines[0]}")" = none ]
		msg=$(jq -r .response.status.message <<<"${lines[0]}")
		[[ "$msg" == *"namespace 'team-new' is labelled as a tenant namespace"* ]]
		[[ "$msg" == *"(generation 1) has no tenant for it"* ]]
		[[ "$msg" == *"apply the kubetenant-tenants ConfigMap"* ]]
	done
	logq '[.[] | select(.msg == "admission" and .uid == "uid-u")] | length == 2 and
		all(.verdict == "denied" and .rules == ["tenant.unknown-namespace"] and
		    .namespace == "team-new" and .tenant == null)'
}

@test "fail closed: once the tenants file lists the namespace and is reloaded, the pod is mutated" {
	cp "$SERVE_FIXTURES/tenants.yaml" "$BATS_TEST_TMPDIR/tenants.yaml"
	serve_stop
	TENANTS=$BATS_TEST_TMPDIR/tenants.yaml serve_start --reload-interval 1
	rs_pod_review uid-o team-new >"$BATS_TEST_TMPDIR/r.json"
	run post_review /mutate "$BATS_TEST_TMPDIR/r.json"
	[ "$(jq -r .response.allowed <<<"$output")" = false ]
	printf '  team-new:\n    nodePool: a-pool\n    operatorEdGroup: team-new.devs\n' \
		>>"$BATS_TEST_TMPDIR/tenants.yaml"
	wait_for '[ "$(metric kubetenant_config_generation)" = 2 ]'
	run https "https://127.0.0.1:$PORT/readyz"
	[ "$output" = "ready: tenants file generation 2" ]
	run post_review /mutate "$BATS_TEST_TMPDIR/r.json"
	[ "$(jq -r .response.allowed <<<"$output")" = true ]
	[ "$(jq -r .response.patchType <<<"$output")" = JSONPatch ]
	logq 'any(.msg == "admission" and .uid == "uid-o" and .verdict == "mutated" and .tenant == "team-new")'
}

@test "fail closed: offboarding a namespace the file no longer knows still deletes and finalizes" {
	# the namespace controller deletes what is left in the namespace
	review uid-del team-gone "$(pod team-gone)" DELETE |
		jq -c '.request.userInfo = {username: "system:serviceaccount:kube-system:namespace-controller",
				groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system",
					"system:authenticated"]}
			| .request.name = "web" | .request.oldObject = .request.object
			| .request.object = null
			| .request.options = {apiVersion: "meta.k8s.io/v1", kind: "DeleteOptions",
				propagationPolicy: "Background"}' >"$BATS_TEST_TMPDIR/del.json"
	run post_review /validate "$BATS_TEST_TMPDIR/del.json"
	[ "$(jq -r .response.allowed <<<"$output")" = true ]
	# a controller removes its finalizer from an object already being deleted
	review uid-fin team-gone "$(pod team-gone)" UPDATE |
		jq -c '.request.userInfo = {username: "system:serviceaccount:kube-system:generic-garbage-collector",
				groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system",
					"system:authenticated"]}
			| .request.name = "web"
			| .request.oldObject = (.request.object | .metadata.deletionTimestamp =
				"2026-01-01T00:00:00Z" | .metadata.finalizers = ["example.com/cleanup"])
			| .request.object = (.request.oldObject | del(.metadata.finalizers))
			| .request.options = {apiVersion: "meta.k8s.io/v1", kind: "UpdateOptions"}' \
		>"$BATS_TEST_TMPDIR/fin.json"
	run post_review /validate "$BATS_TEST_TMPDIR/fin.json"
	[ "$(jq -r .response.allowed <<<"$output")" = true ]
	# but an update of a live object there is not
	review uid-upd team-gone "$(pod team-gone)" UPDATE |
		jq -c '.request.name = "web" | .request.oldObject = .request.object' >"$BATS_TEST_TMPDIR/upd.json"
	run post_review /validate "$BATS_TEST_TMPDIR/upd.json"
	[ "$(jq -r .response.allowed <<<"$output")" = false ]
	logq '[.[] | select(.msg == "admission" and .namespace == "team-gone")] | map(.verdict)
		== ["allowed", "allowed", "denied"]'
}
