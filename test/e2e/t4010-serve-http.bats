#!/usr/bin/env bats
# kubetenant serve: the HTTP contract of /validate and /mutate (bad input,
# limits, routing, keep-alive), /healthz, /readyz and /metrics.

load serve-lib

setup_file() { serve_certs; }
setup() {
	serve_certs
	serve_start
	# a tenant pod already on its pool and within Pod Security: allowed, no patch
	review uid-plain team-a '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"team-a"},"spec":{"nodeSelector":{"kubetenant.io/node-pool":"a-pool"},"tolerations":[{"key":"kubetenant.io/node-pool","operator":"Equal","value":"a-pool","effect":"NoSchedule"}],"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"c","image":"ghcr.io/acme/web:1.0","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}' \
		>"$BATS_TEST_TMPDIR/plain.json"
}
teardown() { serve_stop; }

@test "a review gets its own uid back, on both endpoints, and the query string is ignored" {
	run post_review "/validate?timeout=10s" "$BATS_TEST_TMPDIR/plain.json"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.apiVersion + " " + .kind' <<<"$output")" = "admission.k8s.io/v1 AdmissionReview" ]
	[ "$(jq -r .response.uid <<<"$output")" = uid-plain ]
	[ "$(jq -r .response.allowed <<<"$output")" = true ]
	[ "$(jq -r '.response.patch // "none"' <<<"$output")" = none ]
	run post_review "/mutate?timeout=3s" "$BATS_TEST_TMPDIR/plain.json" -w '\n%{http_code} %{content_type}'
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "200 application/json" ]
	[ "$(jq -r .response.uid <<<"${lines[0]}")" = uid-plain ]
	[ "$(jq -r '.response.patch // "none"' <<<"${lines[0]}")" = none ]
}

@test "malformed JSON is a 400 with a clear message" {
	printf '{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionRev' >"$BATS_TEST_TMPDIR/bad.json"
	run post_review /validate "$BATS_TEST_TMPDIR/bad.json" -w '\n%{http_code}'
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = 400 ]
	[[ "${lines[0]}" == "bad admission review: "* ]]
}

@test "a review of the wrong kind or apiVersion is a 400" {
	jq '.kind = "ConfigMap"' "$BATS_TEST_TMPDIR/plain.json" >"$BATS_TEST_TMPDIR/kind.json"
	run post_review /validate "$BATS_TEST_TMPDIR/kind.json" -w '\n%{http_code}'
	[ "${lines[1]}" = 400 ]
	[[ "${lines[0]}" == "bad admission review: "* ]]
	jq '.apiVersion = "admission.k8s.io/v1beta1"' "$BATS_TEST_TMPDIR/plain.json" >"$BATS_TEST_TMPDIR/v1b1.json"
	run post_review /mutate "$BATS_TEST_TMPDIR/v1b1.json" -w '\n%{http_code}'
	[ "${lines[1]}" = 400 ]
}

@test "a review without a uid is a 400" {
	jq 'del(.request.uid)' "$BATS_TEST_TMPDIR/plain.json" >"$BATS_TEST_TMPDIR/nouid.json"
	run post_review /validate "$BATS_TEST_TMPDIR/nouid.json" -w '\n%{http_code}'
	[ "${lines[1]}" = 400 ]
	[[ "${lines[0]}" == *uid* ]]
}

@test "a body that is not JSON content is a 415" {
	run https -d 'x=1' "https://127.0.0.1:$PORT/validate" -w '\n%{http_code}'
	[ "${lines[1]}" = 415 ]
	[[ "${lines[0]}" == *"application/json"* ]]
	run https -H 'Content-Type: application/json; charset=utf-8' \
		--data-binary @"$BATS_TEST_TMPDIR/plain.json" "https://127.0.0.1:$PORT/validate" -o /dev/null -w '%{http_code}'
	[ "$output" = 200 ]
}

@test "wrong methods get 405 with Allow, unknown paths 404" {
	run https -i "https://127.0.0.1:$PORT/validate"
	[[ "$output" == "HTTP/1.1 405"* ]]
	[[ "$output" == *$'Allow: POST\r'* ]]
	run https -X PUT -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/mutate"
	[ "$output" = 405 ]
	run https -o /dev/null -w '%{http_code}' -X POST "https://127.0.0.1:$PORT/healthz"
	[ "$output" = 405 ]
	for p in / /validate/x /mutatex /metrics /etc/passwd; do
		run https -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT$p"
		[ "$output" = 404 ]
	done
}

@test "a body over 3 MiB is a 413, answered before it is uploaded" {
	head -c $((3 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$BATS_TEST_TMPDIR/big.json"
	run post_review /validate "$BATS_TEST_TMPDIR/big.json" -w '\n%{http_code} %{size_upload}'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"larger than 3 MiB"* ]]
	set -- ${lines[1]}
	[ "$1" = 413 ]
	[ "$2" -lt 1048576 ]
	# without a Content-Length (chunked), the cap still holds
	run post_review /validate "$BATS_TEST_TMPDIR/big.json" -H 'Transfer-Encoding: chunked' \
		-o /dev/null -w '%{http_code}'
	[ "$output" = 413 ]
	# exactly 3 MiB is read (and judged: not JSON)
	head -c $((3 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$BATS_TEST_TMPDIR/max.json"
	run post_review /validate "$BATS_TEST_TMPDIR/max.json" -o /dev/null -w '%{http_code}'
	[ "$output" = 400 ]
	# and the server is fine afterwards
	run post_review /validate "$BATS_TEST_TMPDIR/plain.json" -o /dev/null -w '%{http_code}'
	[ "$output" = 200 ]
}

@test "keep-alive: consecutive requests share one TLS connection" {
	run post_review /validate "$BATS_TEST_TMPDIR/plain.json" -o /dev/null -w '%{num_connects} ' \
		--next --cacert "$CERTS/ca.pem" -H 'Content-Type: application/json' \
		--data-binary @"$BATS_TEST_TMPDIR/plain.json" "https://127.0.0.1:$PORT/mutate" \
		-o /dev/null -w '%{num_connects} %{http_code}'
	[ "$output" = "1 0 200" ]
}

@test "healthz and readyz answer on both listeners, metrics only on the metrics one" {
	run https "https://127.0.0.1:$PORT/healthz"
	[ "$output" = ok ]
	run https "https://127.0.0.1:$PORT/readyz" -w '%{http_code}'
	[ "$output" = $'ready: tenants file generation 1\n200' ]
	run curl -sS "http://127.0.0.1:$MPORT/healthz" -w '%{http_code}'
	[ "$output" = $'ok\n200' ]
	run curl -sS "http://127.0.0.1:$MPORT/readyz" -o /dev/null -w '%{http_code}'
	[ "$output" = 200 ]
	run curl -sS "http://127.0.0.1:$MPORT/metrics" -o /dev/null -w '%{http_code} %{content_type}'
	[ "$output" = "200 text/plain; version=0.0.4; charset=utf-8" ]
}

@test "metrics counters move with requests" {
	local series='kubetenant_webhook_requests_total{endpoint="validate",kind="Pod",operation="CREATE",verdict="allowed"}'
	[ "$(metric "$series")" = 0 ]
	for i in 1 2 3; do post_review /validate "$BATS_TEST_TMPDIR/plain.json" -o /dev/null; done
	printf 'nope' >"$BATS_TEST_TMPDIR/bad.json"
	post_review /mutate "$BATS_TEST_TMPDIR/bad.json" -o /dev/null
	[ "$(metric "$series")" = 3 ]
	[ "$(metric 'kubetenant_webhook_requests_total{endpoint="mutate",kind="none",operation="other",verdict="invalid"}')" = 1 ]
	[ "$(metric 'kubetenant_webhook_request_duration_seconds_count{endpoint="validate"}')" = 3 ]
	[ "$(metric 'kubetenant_http_responses_total{code="400"}')" = 1 ]
	[ "$(metric kubetenant_config_generation)" = 1 ]
	[ "$(metric kubetenant_webhook_in_flight_requests)" = 0 ]
	rss=$(metric process_resident_memory_bytes)
	[ "$rss" -gt 1000000 ]
	# an attacker-chosen kind does not make a new series
	jq '.request.kind.kind = "Evil\"Kind"' "$BATS_TEST_TMPDIR/plain.json" >"$BATS_TEST_TMPDIR/evil.json"
	post_review /validate "$BATS_TEST_TMPDIR/evil.json" -o /dev/null
	run curl -sS "http://127.0.0.1:$MPORT/metrics"
	[[ "$output" != *Evil* ]]
}

@test "one JSON log line per decision, without the object" {
	jq '.request.object.spec.containers[0].env = [{"name": "TOKEN", "value": "s3cr3t-value"}]' \
		"$BATS_TEST_TMPDIR/plain.json" >"$BATS_TEST_TMPDIR/env.json"
	post_review /validate "$BATS_TEST_TMPDIR/env.json" -o /dev/null
	post_review /mutate "$BATS_TEST_TMPDIR/env.json" -o /dev/null
	logq '[.[] | select(.msg == "admission")] | length == 2'
	logq '[.[] | select(.msg == "admission")] | all(.uid == "uid-plain" and .kind == "Pod"
		and .namespace == "team-a" and .name == "web" and .operation == "CREATE"
		and .user == "alice@example.org" and .verdict == "allowed" and .tenant == "team-a"
		and (.rules | type == "array") and (.micros | type == "number"))'
	logq '[.[] | select(.msg == "admission") | .endpoint] == ["validate", "mutate"]'
	run grep -c s3cr3t "$SERVE_LOG"
	[ "$output" = 0 ]
}
