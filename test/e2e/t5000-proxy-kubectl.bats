#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# t5000: real kubectl through kubetenant proxy, with a real OIDC provider
# (oidc-provider, client-credentials grant, RS256 JWT access tokens) as the
# issuer and a recording fake API server as the upstream.

load proxy_lib

setup_file() { proxy_env_up; }
teardown_file() { proxy_env_down; }

@test "proxy: kubectl get pods lists through the proxy with the issuer's token" {
	run kc get pods -n team-a
	[ "$status" -eq 0 ]
	[[ "$output" == *"web-1"*"Running"* ]]
	[[ "$output" == *"web-2"* ]]
}

@test "proxy: the upstream sees the impersonated identity and the proxy's own token" {
	run kc get pod web-1 -n team-a -o name
	[ "$status" -eq 0 ]
	[ "$output" = "pod/web-1" ]
	run last_headers
	[[ "$output" == *"Impersonate-User: oidc:kubectl-ci"* ]]
	[[ "$output" == *"Impersonate-Group: oidc:team-a-devs"* ]]
	[[ "$output" == *"Impersonate-Group: oidc:auditors"* ]]
	[[ "$output" == *"Impersonate-Group: system:authenticated"* ]]
	[[ "$output" == *"Authorization: Bearer proxy-sa-token-1"* ]]
	[[ "$output" == *"X-Forwarded-For: 127.0.0.1"* ]]
	# the user's own token never reaches the API server
	[[ "$output" != *"$TOKEN"* ]]
	[ "$(echo "$output" | grep -ci '^authorization:')" -eq 1 ]
}

@test "proxy: path and query are forwarded exactly as received" {
	run curl -s --cacert "$PROXY_DIR/ca.crt" -H "Authorization: Bearer $TOKEN" \
		"https://127.0.0.1:$PROXY_PORT/api/v1/namespaces/team-a/pods?labelSelector=app%3Dweb&limit=5"
	[ "$status" -eq 0 ]
	[ "$(tail -n 1 "$REC" | jq -r .url)" = "/api/v1/namespaces/team-a/pods?labelSelector=app%3Dweb&limit=5" ]
}

# Start kubectl in the background and wait (up to 20 s) until its output has
# every given string while it is still running: the upstream holds these
# streams open for 30 s, so this only passes if the proxy relays bytes as
# they arrive instead of collecting the response.
stream_shows() { # outfile strings... (kubectl args in $STREAM_ARGS)
	local out=$1 i s ok
	shift
	kubectl --server "https://127.0.0.1:$PROXY_PORT" --certificate-authority "$PROXY_DIR/ca.crt" \
		--token "$TOKEN" "${STREAM_ARGS[@]}" >"$out" 2>&1 &
	local pid=$!
	for i in $(seq 1 200); do
		ok=1
		for s in "$@"; do grep -q -- "$s" "$out" || ok=0; done
		[ "$ok" = 1 ] && break
		sleep 0.1
	done
	local alive=no
	if kill -0 "$pid" 2>/dev/null; then alive=yes; fi
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	cat "$out"
	echo "all seen: $ok, kubectl still streaming: $alive"
	[ "$ok" = 1 ] && [ "$alive" = yes ]
}

@test "proxy: kubectl get --watch streams events while the API server holds the stream open" {
	# one event at once, one a second later, then the response stays open
	STREAM_ARGS=(get pods -n team-a --watch-only -o name)
	stream_shows "$BATS_TEST_TMPDIR/watch" pod/web-watch-1 pod/web-watch-2
}

@test "proxy: kubectl logs -f streams lines as they are written" {
	STREAM_ARGS=(logs -f web-1 -n team-a)
	stream_shows "$BATS_TEST_TMPDIR/logs" "log line 1" "log line 3"
	# 60 lines at 2 per second: most of them cannot have been sent yet
	! grep -q "log line 50" "$BATS_TEST_TMPDIR/logs"
}

@test "proxy: a client hanging up ends the API server's stream too" {
	kubectl --server "https://127.0.0.1:$PROXY_PORT" --certificate-authority "$PROXY_DIR/ca.crt" \
		--token "$TOKEN" logs -f web-2 -n team-a >"$BATS_TEST_TMPDIR/l" 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do grep -q "log line 1" "$BATS_TEST_TMPDIR/l" && break; sleep 0.1; done
	kill "$pid"
	wait "$pid" || true
	# the upstream notes when its response stream closes: within ~1 s of the hang-up
	for _ in $(seq 1 50); do grep -q '"closed":"/api/v1/namespaces/team-a/pods/web-2/log' "$REC" && break; sleep 0.1; done
	grep -q '"closed":"/api/v1/namespaces/team-a/pods/web-2/log' "$REC"
}

@test "proxy: kubectl exec runs through the WebSocket upgrade tunnel" {
	# stdout and stderr apart: kubectl writes each frame's bytes as they come
	run --separate-stderr kc exec web-1 -n team-a -- echo hi there
	[ "$status" -eq 0 ]
	[ "$output" = "hello from exec: echo hi there" ]
	[[ "$stderr" == *"a line on stderr"* ]]
	grep -q '"url":"/api/v1/namespaces/team-a/pods/web-1/exec?command=echo&command=hi&command=there' "$REC"
	# identity was attached to the upgrade request itself
	tail -n 1 "$REC" | jq -e '.headers | map(select(.[0] == "Impersonate-User" and .[1] == "oidc:kubectl-ci")) | length == 1'
	tail -n 1 "$REC" | jq -e '.headers | map(select(.[0] == "Upgrade" and .[1] == "websocket")) | length == 1'
}

@test "proxy: kubectl exec -i carries stdin both ways through the tunnel" {
	run bash -c "printf 'from stdin\n' | kubectl --server https://127.0.0.1:$PROXY_PORT \
		--certificate-authority $PROXY_DIR/ca.crt --token $TOKEN exec -i web-1 -n team-a -- cat"
	[ "$status" -eq 0 ]
	[ "$output" = "from stdin" ]
}

@test "proxy: an upgrade refused by the API server is relayed to kubectl" {
	run kc exec forbidden -n team-a -- ls
	[ "$status" -ne 0 ]
	[[ "$output" == *'pods "forbidden" is forbidden: exec denied by the test upstream'* ]]
}

@test "proxy: a refused upgrade's chunked answer is relayed whole" {
	run kc exec chunked-refusal -n team-a -- ls
	[ "$status" -ne 0 ]
	[[ "$output" == *'pods "chunked-refusal" is forbidden: a chunked answer, relayed whole'* ]]
}

@test "proxy: a SPDY/3.1 upgrade is tunnelled byte for byte" {
	run node "$FIXTURES/raw-upgrade.js" "$PROXY_PORT" "$PROXY_DIR/ca.crt" "$TOKEN" \
		"/api/v1/namespaces/team-a/pods/web-1/exec?command=sh&raw=true" "SPDY/3.1" "ping-through-tunnel"
	[ "$status" -eq 0 ]
	[[ "$output" == "HTTP/1.1 101 Switching Protocols"* ]]
	[[ "$output" == *"X-Stream-Protocol-Version: v4.channel.k8s.io"* ]]
	[[ "$output" == *"spdy-hello"*"ping-through-tunnel"* ]]
	tail -n 1 "$REC" | jq -e '.headers | map(select(.[0] == "Upgrade" and .[1] == "SPDY/3.1")) | length == 1'
}

@test "proxy: a slow API server holds up only its own requests, tunnels included" {
	# one request whose answer takes 3 s, one upgrade whose 101 takes 3 s...
	curl -sS --cacert "$PROXY_DIR/ca.crt" -H "Authorization: Bearer $TOKEN" \
		"https://127.0.0.1:$PROXY_PORT/slow?ms=3000" >"$BATS_TEST_TMPDIR/slow" 2>&1 &
	local slow=$!
	node "$FIXTURES/raw-upgrade.js" "$PROXY_PORT" "$PROXY_DIR/ca.crt" "$TOKEN" \
		"/api/v1/namespaces/team-a/pods/web-1/exec?command=sh&raw=true&delay=3000" "SPDY/3.1" \
		"late-ping" >"$BATS_TEST_TMPDIR/tunnel" 2>&1 &
	local tunnel=$!
	# both have reached the API server, which sits on them
	for _ in $(seq 1 50); do
		grep -q 'slow?ms=3000' "$REC" && grep -q 'delay=3000' "$REC" && break
		sleep 0.05
	done
	grep -q 'slow?ms=3000' "$REC" && grep -q 'delay=3000' "$REC"
	# ...and meanwhile the proxy answers everyone else at once (not after 3 s)
	run curl -sS -o /dev/null -w '%{http_code} %{time_total}' --cacert "$PROXY_DIR/ca.crt" \
		-H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$PROXY_PORT/api/v1/namespaces/team-a/pods"
	echo "$output"
	[ "${output%% *}" = 200 ]
	awk -v t="${output#* }" 'BEGIN { exit !(t < 1.5) }'
	wait "$slow"
	wait "$tunnel"
	grep -q '"slow":true' "$BATS_TEST_TMPDIR/slow"
	grep -q 'HTTP/1.1 101 Switching Protocols' "$BATS_TEST_TMPDIR/tunnel"
}

@test "proxy: request bodies are forwarded" {
	run bash -c "printf '{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"new-pod\"},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"busybox\"}]}}' |
		kubectl --server https://127.0.0.1:$PROXY_PORT --certificate-authority $PROXY_DIR/ca.crt \
		--token $TOKEN create -n team-a -f - -o name --validate=false"
	[ "$status" -eq 0 ]
	[ "$output" = "pod/new-pod" ]
	tail -n 1 "$REC" | jq -e '.body | fromjson | .metadata.name == "new-pod"'
}

@test "proxy: a large response passes through whole" {
	run bash -c "curl -s --cacert $PROXY_DIR/ca.crt -H 'Authorization: Bearer $TOKEN' \
		https://127.0.0.1:$PROXY_PORT/big?mb=16 | wc -c"
	[ "$status" -eq 0 ]
	[ "$output" -eq $((16 << 20)) ]
}

@test "proxy: small answers on one kept-alive connection arrive whole and at once" {
	local url=https://127.0.0.1:$PROXY_PORT/api/v1/namespaces/team-a/pods/web-1 urls=() t0 t1
	for _ in $(seq 1 40); do urls+=("$url"); done
	t0=$(date +%s%N)
	run curl -s --cacert "$PROXY_DIR/ca.crt" -H "Authorization: Bearer $TOKEN" \
		-w '\n%{num_connects}\n' "${urls[@]}"
	t1=$(date +%s%N)
	[ "$status" -eq 0 ]
	# 40 whole pods, on the one connection opened for the first
	[ "$(echo "$output" | jq -s '[.[] | objects | select(.metadata.name == "web-1")] | length')" -eq 40 ]
	[ "$(echo "$output" | jq -s '[.[] | numbers] | add')" -eq 1 ]
	# an answer held back (a corked record never pushed) costs 200 ms each: 8 s in all
	echo "took $(((t1 - t0) / 1000000)) ms"
	[ $(((t1 - t0) / 1000000)) -lt 4000 ]
}

@test "proxy: an answer on a connection that closes after it arrives whole" {
	local url=https://127.0.0.1:$PROXY_PORT/api/v1/namespaces/team-a/pods/web-1 opt
	for opt in --http1.0 "-HConnection: close"; do
		run curl -s --cacert "$PROXY_DIR/ca.crt" -H "Authorization: Bearer $TOKEN" "$opt" "$url"
		[ "$status" -eq 0 ]
		echo "$output" | jq -e '.metadata.name == "web-1"'
	done
}

@test "proxy: one audit line per request, with the identity and never the token" {
	kc get pods -n team-a -o name >/dev/null
	run grep '"msg":"request"' "$PROXY_DIR/proxy.log"
	[ "$status" -eq 0 ]
	line=$(grep '"path":"/api/v1/namespaces/team-a/pods"' "$PROXY_DIR/proxy.log" | grep '"verb":"list"' | tail -n 1)
	echo "$line" | jq -e '.user == "oidc:kubectl-ci" and (.groups | index("oidc:team-a-devs")) and .status == 200 and .bytes > 0 and .micros >= 0'
	run grep -c -- "$TOKEN" "$PROXY_DIR/proxy.log"
	[ "$output" -eq 0 ]
	grep '"verb":"watch"' "$PROXY_DIR/proxy.log" | head -n 1 | jq -e '.status == 200'
	grep '"path":"/api/v1/namespaces/team-a/pods/web-1/exec"' "$PROXY_DIR/proxy.log" | head -n 1 | jq -e '.status == 101'
}

@test "proxy: /metrics counts requests, refusals, latency and tunnels" {
	curl -s --cacert "$PROXY_DIR/ca.crt" "https://127.0.0.1:$PROXY_PORT/api" >/dev/null
	run curl -sf "http://127.0.0.1:$METRICS_PORT/metrics"
	[ "$status" -eq 0 ]
	[[ "$output" == *'kubetenant_proxy_requests_total{code="200"}'* ]]
	[[ "$output" == *'kubetenant_proxy_auth_failures_total{reason="no_token"}'* ]]
	[[ "$output" == *'kubetenant_proxy_upstream_latency_seconds_bucket{le="+Inf"}'* ]]
	[[ "$output" == *'kubetenant_proxy_tunnels_total '[1-9]* ]]
	[[ "$output" == *'kubetenant_proxy_tunnels_open 0'* ]]
	[[ "$output" == *'kubetenant_proxy_jwks_keys 1'* ]]
}

@test "proxy: /healthz and /readyz answer on both listeners without a token" {
	run curl -sf --cacert "$PROXY_DIR/ca.crt" "https://127.0.0.1:$PROXY_PORT/readyz"
	[ "$status" -eq 0 ]
	run curl -sf "http://127.0.0.1:$METRICS_PORT/healthz"
	[ "$status" -eq 0 ]
	[ "$output" = "ok" ]
}

@test "proxy: the metrics listener answers as the webhook's does" {
	run curl -sS "http://127.0.0.1:$METRICS_PORT/metrics" -o /dev/null -w '%{http_code} %{content_type}'
	[ "$output" = "200 text/plain; version=0.0.4; charset=utf-8" ]
	run curl -sS "http://127.0.0.1:$METRICS_PORT/healthz" -w ' %{http_code} %{content_type}'
	[ "$output" = $'ok\n 200 text/plain; charset=utf-8' ]
	run curl -sS -X POST "http://127.0.0.1:$METRICS_PORT/healthz" -D - -o /dev/null
	[[ "$output" == "HTTP/1.1 405 "* ]]
	[[ "$output" == *$'\nAllow: GET, HEAD\r'* ]]
}

@test "proxy: probes keep their connection open" {
	run curl -sv --cacert "$PROXY_DIR/ca.crt" "https://127.0.0.1:$PROXY_PORT/healthz" \
		"https://127.0.0.1:$PROXY_PORT/readyz"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Re-using existing connection"* ]]
	[[ "$output" != *"Connection: close"* ]]
}
