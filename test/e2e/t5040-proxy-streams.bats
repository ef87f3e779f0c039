#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# t5040: kubectl's streaming subresources through kubetenant proxy on every
# transport kubectl 1.32 speaks: exec over SPDY/3.1 (remotecommand v4) and
# port-forward over SPDY/3.1, straight or inside a WebSocket.  The test
# upstream speaks real SPDY/3.1 after the 101 (fixtures/k8s-streams.js, the
# npm package spdy-transport), so these pass only if every byte of kubectl's
# compressed headers and frames crosses the tunnel intact in both directions.

load proxy_lib

setup_file() { proxy_env_up; }
teardown_file() { proxy_env_down; }

teardown() {
	kill "${KPID:-}" "${FEEDER:-}" 2>/dev/null || true
	if [ -n "${PF_PID:-}" ]; then
		kill "$PF_PID" 2>/dev/null || true
		wait "$PF_PID" 2>/dev/null || true
	fi
}

kc_spdy() { # kubectl exec forced onto SPDY/3.1
	KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false kc "$@"
}

# The last upgrade request the upstream recorded for a path ending in $1.
upgrade_record() {
	grep "\"url\":\"/api/v1/namespaces/team-a/pods/web-1/$1" "$REC" | tail -n 1
}

# Identity on the upgrade request: the user's, impersonated by the proxy's token.
assert_impersonated() { # record json
	echo "$1" | jq -e '.headers | map(select(.[0] == "Impersonate-User" and .[1] == "oidc:kubectl-ci")) | length == 1'
	echo "$1" | jq -e '.headers | map(select(.[0] == "Impersonate-Group")) | map(.[1]) | sort ==
		["oidc:auditors", "oidc:team-a-devs", "system:authenticated"]'
	echo "$1" | jq -e '.headers | map(select(.[0] | ascii_downcase == "authorization")) | map(.[1]) ==
		["Bearer proxy-sa-token-1"]'
	[[ "$1" != *"$TOKEN"* ]]
}

# Wait (up to 10 s) until the proxy has written its audit line for a closed
# tunnel on this path with status 101, beyond the first $2 such lines.
wait_tunnel_audit() { # path-suffix count-before
	local n
	for _ in $(seq 1 100); do
		n=$(grep -c "\"path\":\"/api/v1/namespaces/team-a/pods/web-1/$1\",\"status\":101" "$PROXY_DIR/proxy.log" || true)
		[ "$n" -gt "$2" ] && return 0
		sleep 0.1
	done
	echo "no new 101 audit line for $1 (still $n)" >&2
	return 1
}

tunnel_audits() { grep -c "\"path\":\"/api/v1/namespaces/team-a/pods/web-1/$1\",\"status\":101" "$PROXY_DIR/proxy.log" || true; }

@test "proxy streams: kubectl exec over SPDY/3.1 gets stdout, stderr and status from real SPDY streams" {
	before=$(tunnel_audits exec)
	run --separate-stderr kc_spdy exec web-1 -n team-a -- echo hi there
	[ "$status" -eq 0 ]
	[ "$output" = "hello from spdy exec: echo hi there" ]
	[ "$stderr" = "a line on spdy stderr" ]
	rec=$(upgrade_record "exec?command=echo&command=hi&command=there")
	echo "$rec" | jq -e '.method == "POST"'
	echo "$rec" | jq -e '.headers | map(select(.[0] == "Upgrade" and .[1] == "SPDY/3.1")) | length == 1'
	echo "$rec" | jq -e '.headers | map(select(.[0] == "X-Stream-Protocol-Version" and .[1] == "v4.channel.k8s.io")) | length == 1'
	assert_impersonated "$rec"
	wait_tunnel_audit exec "$before"
}

@test "proxy streams: the exit code travels back on the SPDY error stream" {
	run kc_spdy exec web-1 -n team-a -- exit 3
	[ "$status" -eq 3 ]
	[[ "$output" == *"command terminated with exit code 3"* ]]
}

@test "proxy streams: kubectl exec -i over SPDY/3.1 carries stdin, also past one flow-control window" {
	run bash -c "printf 'from stdin\nline two\n' | KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false \
		kubectl --server https://127.0.0.1:$PROXY_PORT --certificate-authority $PROXY_DIR/ca.crt \
		--token $TOKEN exec -i web-1 -n team-a -- cat"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'from stdin\nline two')" ]
	upgrade_record "exec?command=cat" | jq -e '.url | contains("stdin=true")'
	# 96 KiB: more than SPDY's default 64 KiB window, split over many frames
	head -c 73728 /dev/urandom | base64 -w 0 >"$BATS_TEST_TMPDIR/in"
	KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false kc exec -i web-1 -n team-a -- cat \
		<"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "proxy streams: 16 MB each way through exec -i, in seconds (the tunnel is not a trickle)" {
	# libmicrohttpd's own upgrade relay moved about 250 kB/s: this took two minutes
	head -c 16000000 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	timeout 30 env KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false kubectl --server "https://127.0.0.1:$PROXY_PORT" \
		--certificate-authority "$PROXY_DIR/ca.crt" --token "$TOKEN" exec -i web-1 -n team-a -- cat \
		<"$BATS_TEST_TMPDIR/big" >"$BATS_TEST_TMPDIR/big.out"
	cmp "$BATS_TEST_TMPDIR/big" "$BATS_TEST_TMPDIR/big.out"
	grep '"path":"/api/v1/namespaces/team-a/pods/web-1/exec","status":101' "$PROXY_DIR/proxy.log" |
		tail -n 1 | jq -e '.bytes >= 16000000'
}

@test "proxy streams: a tunnel opens as soon as the API server has answered" {
	# The set-up thread resumes the client's connection; nothing else is going
	# on, so unless it wakes the event loop the 101 waits for the loop's next
	# one-second tick (half a second on average): eight tunnels in a row then
	# take about four seconds more than they need.  Each tunnel is a new node
	# process, so node's own start-up, timed first, is taken off: on a loaded
	# machine it alone can take seconds.
	local t0 t1 t2
	t0=$(date +%s%N)
	for i in 1 2 3 4 5 6 7 8; do
		node -e 0
	done
	t1=$(date +%s%N)
	for i in 1 2 3 4 5 6 7 8; do
		node "$FIXTURES/raw-upgrade.js" "$PROXY_PORT" "$PROXY_DIR/ca.crt" "$TOKEN" \
			"/api/v1/namespaces/team-a/pods/web-1/exec?command=sh&raw=true" "SPDY/3.1" "ping-$i" \
			>"$BATS_TEST_TMPDIR/tunnel"
		grep -q "spdy-hello.*ping-$i" "$BATS_TEST_TMPDIR/tunnel"
	done
	t2=$(date +%s%N)
	echo "eight node start-ups: $(((t1 - t0) / 1000000)) ms, eight tunnels: $(((t2 - t1) / 1000000)) ms"
	[ $(((t2 - t1 - (t1 - t0)) / 1000000)) -lt 2500 ]
}

# kubectl exec -i whose stdin stays open: an idle, live tunnel.  Sets KPID and FEEDER.
open_idle_exec() {
	mkfifo "$BATS_TEST_TMPDIR/stdin"
	sleep 30 >"$BATS_TEST_TMPDIR/stdin" &
	FEEDER=$!
	KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false kubectl --server "https://127.0.0.1:$PROXY_PORT" \
		--certificate-authority "$PROXY_DIR/ca.crt" --token "$TOKEN" exec -i web-1 -n team-a -- cat \
		<"$BATS_TEST_TMPDIR/stdin" >"$BATS_TEST_TMPDIR/exec.out" 2>&1 &
	KPID=$!
	tunnels_open_is 1
}

tunnels_open_is() { # n: wait up to 10 s for the gauge
	for _ in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" | grep -qx "kubetenant_proxy_tunnels_open $1" && return 0
		sleep 0.1
	done
	curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" | grep tunnels_open
	return 1
}

@test "proxy streams: a client that vanishes from an open tunnel closes it" {
	local before
	before=$(tunnel_audits exec)
	open_idle_exec
	kill -KILL "$KPID"
	tunnels_open_is 0
	kill "$FEEDER" 2>/dev/null || true
	[ "$(tunnel_audits exec)" -gt "$before" ]
}

@test "proxy streams: SIGTERM ends an open exec tunnel after the grace period; the proxy exits 0" {
	local before pid rc t0 t1
	stop_proxy
	start_proxy --shutdown-grace 1
	before=$(tunnel_audits exec)
	open_idle_exec
	pid=$(cat "$PROXY_DIR/proxy.pid")
	t0=$(date +%s%N)
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	t1=$(date +%s%N)
	kill "$FEEDER" 2>/dev/null || true
	rm -f "$PROXY_DIR/proxy.pid"
	echo "exit $rc after $(((t1 - t0) / 1000000)) ms"
	[ "$rc" -eq 0 ]
	# the 1 s grace, then the pump's next look at the stop flag: well within 6 s
	[ $(((t1 - t0) / 1000000)) -lt 6000 ]
	[ "$(tunnel_audits exec)" -gt "$before" ]
	! grep -qE '^(==[0-9]+==ERROR|.*runtime error:)' "$PROXY_DIR/proxy.log"
	start_proxy
}
