#!/usr/bin/env bats
# t4080: the webhook under hostile load.  Any pod the network lets through
# can POST to it, and with failurePolicy Fail a webhook killed for memory
# refuses every tenant's writes: memory is budgeted before a body is read,
# slow bodies are cut at a deadline, and a large review's memory goes back
# to the system.  scripts/hostile-load.sh is the full-size version.

load serve-lib

setup() {
	serve_certs
	review uid-plain default '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}' \
		>"$BATS_TEST_TMPDIR/plain.json"
	head -c $((3 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$BATS_TEST_TMPDIR/3m.json"
	SLOW=()
}
teardown() {
	local p
	for p in "${SLOW[@]}"; do kill "$p" 2>/dev/null || true; done
	serve_stop || true
}

# A 3 MiB upload at 16 KiB/s in the background (no Expect: the body comes at once).
slow_upload() {
	curl -sS --cacert "$CERTS/ca.pem" -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/json' -H 'Expect:' \
		--limit-rate 16k --max-time 20 --data-binary @"$BATS_TEST_TMPDIR/3m.json" \
		"https://127.0.0.1:$PORT/validate" >"$BATS_TEST_TMPDIR/slow.$1" 2>&1 &
	SLOW+=($!)
}

# A review of the plain Pod carrying N empty objects: 256 bytes each to decode.
padded() {
	jq -c --argjson n "$1" '.request.object.spec.overhead = [range($n) | {}]' \
		"$BATS_TEST_TMPDIR/plain.json"
}

@test "a body that does not fit the memory budget is a 503 with Retry-After, before it is read" {
	serve_start --memory-budget 8 --threads 1
	# bodies over 64 KiB may fill 6 of the 8 MiB: one 3 MiB upload in flight...
	slow_upload 1
	wait_for '[ "$(metric kubetenant_memory_budget_used_bytes)" -gt 3000000 ]'
	# ...leaves no room for another, refused from its headers: curl waits for
	# "100 Continue" before sending a body this large, and never gets it
	run post_review /validate "$BATS_TEST_TMPDIR/3m.json" \
		-D "$BATS_TEST_TMPDIR/headers" -w '\n%{http_code} %{size_upload}'
	echo "$output"
	[[ "${lines[0]}" == *"memory budget"* ]]
	set -- ${lines[1]}
	[ "$1" = 503 ]
	[ "$2" = 0 ]
	grep -qi '^Retry-After: 1' "$BATS_TEST_TMPDIR/headers"
	[ "$(metric 'kubetenant_memory_budget_exceeded_total{stage="body"}')" -ge 1 ]
	# small reviews still fit, and health answers
	run post_review /validate "$BATS_TEST_TMPDIR/plain.json" -o /dev/null -w '%{http_code}'
	[ "$output" = 200 ]
	run https -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/healthz"
	[ "$output" = 200 ]
}

@test "a review whose decode does not fit the budget is a 503; with room it is judged" {
	# 30k empty objects: 100 KB of text, up to 7.7 MB decoded
	padded 30000 >"$BATS_TEST_TMPDIR/wide.json"
	serve_start --memory-budget 8
	run post_review /validate "$BATS_TEST_TMPDIR/wide.json" -w '\n%{http_code}'
	[ "${lines[1]}" = 503 ]
	[[ "${lines[0]}" == *"memory budget"* ]]
	[ "$(metric 'kubetenant_memory_budget_exceeded_total{stage="decode"}')" = 1 ]
	[ "$(metric kubetenant_memory_budget_used_bytes)" = 0 ]
	serve_stop
	serve_start --memory-budget 16
	run post_review /validate "$BATS_TEST_TMPDIR/wide.json" -o /dev/null -w '%{http_code}'
	[ "$output" = 200 ]
	# more values than any real object: refused on the text, never decoded
	padded 140000 >"$BATS_TEST_TMPDIR/huge.json"
	run post_review /validate "$BATS_TEST_TMPDIR/huge.json" -w '\n%{http_code}'
	[ "${lines[1]}" = 400 ]
	[[ "${lines[0]}" == *"more than 131072 JSON values"* ]]
}

@test "a slow upload is cut at the deadline, health and reviews answer meanwhile" {
	serve_start --timeout 2 --threads 1
	slow_upload 1
	slow_upload 2
	wait_for '[ "$(metric kubetenant_memory_budget_used_bytes)" -gt 6000000 ]'
	local t0=$SECONDS code
	for _ in 1 2 3; do
		run https -o /dev/null -w '%{http_code} %{time_total}' --max-time 1 \
			"https://127.0.0.1:$PORT/healthz"
		[ "${output%% *}" = 200 ]
		run post_review /validate "$BATS_TEST_TMPDIR/plain.json" --max-time 1 \
			-o /dev/null -w '%{http_code}'
		[ "$output" = 200 ]
		sleep 0.5
	done
	# 3 MiB at 16 KiB/s takes 3 minutes: the server hangs up after about 2 s
	wait "${SLOW[0]}" "${SLOW[1]}" || true
	echo "cut after $((SECONDS - t0)) s"
	[ $((SECONDS - t0)) -lt 10 ]
	for code in 1 2; do
		[ "$(cat "$BATS_TEST_TMPDIR/slow.$code")" != 200 ]
	done
	[ "$(metric kubetenant_http_body_timeouts_total)" = 2 ]
	[ "$(metric kubetenant_memory_budget_used_bytes)" = 0 ]
}

@test "the memory of a large review goes back to the system" {
	grep -qa __asan_init "$KT_BIN" && skip "AddressSanitizer keeps freed memory in quarantine"
	padded 120000 >"$BATS_TEST_TMPDIR/wide.json"
	serve_start --threads 1
	post_review /validate "$BATS_TEST_TMPDIR/plain.json" -o /dev/null
	local rss0 rss1 hwm
	rss0=$(rss_kb "$SERVE_PID")
	run post_review /validate "$BATS_TEST_TMPDIR/wide.json" -o /dev/null -w '%{http_code}'
	[ "$output" = 200 ]
	rss1=$(rss_kb "$SERVE_PID") hwm=$(rss_kb "$SERVE_PID" VmHWM)
	echo "RSS ${rss0} KiB, peak ${hwm} KiB, after ${rss1} KiB"
	# its JSON view takes about 6 MB (a jansson tree of it took 28); all but 2 MB is given back
	[ $((hwm - rss0)) -gt $((4 * 1024)) ]
	[ $((rss1 - rss0)) -lt $((2 * 1024)) ]
}

@test "serve refuses a memory budget under 8 MiB" {
	run "$KT_BIN" serve -f "$SERVE_FIXTURES/tenants.yaml" --tls-cert "$CERTS/server.pem" \
		--tls-key "$CERTS/server.key" --memory-budget 4
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid value '4' for '--memory-budget' (MiB, at least 8)"* ]]
}
