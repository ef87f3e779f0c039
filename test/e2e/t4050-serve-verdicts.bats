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

@test "untouched: a pod outside every tenant namespace is allowed without a patch" {
	review uid-n kube-system "$(pod kube-system '{"nodeSelector":{"kubetenant.io/node-pool":"b-pool"},"hostNetwork":true}')" \
		>"$BATS_TEST_TMPDIR/r.json"
	for ep in mutate validate; do
		run post_review "/$ep" "$BATS_TEST_TMPDIR/r.json"
		[ "$(jq -r .response.uid <<<"$output")" = uid-n ]
		[ "$(jq -r .response.allowed <<<"$output")" = true ]
		[ "$(jq -r '.response.patch // "none"' <<<"$output")" = none ]
	done
	logq '[.[] | select(.msg == "admission" and .uid == "uid-n")] | all(.tenant == null and .verdict == "allowed")'
}
