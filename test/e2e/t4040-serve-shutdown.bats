#!/usr/bin/env bats
# kubetenant serve: graceful shutdown.  SIGTERM stops accepting at once,
# lets the requests in flight finish, closes idle keep-alive connections
# without waiting for them, and exits 0.

load serve-lib

setup_file() { serve_certs; }
setup() {
	serve_certs
	review uid-drain default '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}' \
		>"$BATS_TEST_TMPDIR/plain.json"
}
teardown() { serve_stop; }

@test "SIGTERM: the request in flight finishes, new connections are refused, exit 0" {
	serve_start --timeout 30
	local body half
	body=$(cat "$BATS_TEST_TMPDIR/plain.json")
	half=$((${#body} / 2))
	# a request whose body arrives in two halves, a second apart (chunked upload)
	{ printf '%s' "${body:0:$half}"; sleep 1.5; printf '%s' "${body:$half}"; } |
		https -X POST -T - -H 'Content-Type: application/json' -H 'Expect:' \
			"https://127.0.0.1:$PORT/validate" -o "$BATS_TEST_TMPDIR/drain.out" \
			-w '%{http_code}' >"$BATS_TEST_TMPDIR/drain.code" 2>&1 &
	local client=$!
	wait_for '[ "$(metric kubetenant_webhook_in_flight_requests)" = 1 ]' 10
	kill -TERM "$SERVE_PID"
	sleep 0.3
	# not accepting any more, while the request is still in flight
	kill -0 "$SERVE_PID"
	run curl -sS --cacert "$CERTS/ca.pem" "https://127.0.0.1:$PORT/healthz"
	[ "$status" -eq 7 ]
	wait "$client"
	[ "$(cat "$BATS_TEST_TMPDIR/drain.code")" = 200 ]
	[ "$(jq -r .response.uid "$BATS_TEST_TMPDIR/drain.out")" = uid-drain ]
	local rc=0
	serve_stop || rc=$?
	[ "$rc" -eq 0 ]
	logq 'any(.msg == "stopped" and .unfinished_requests == 0)'
	run curl -sS "http://127.0.0.1:$MPORT/healthz"
	[ "$status" -eq 7 ]
}

@test "SIGTERM closes idle keep-alive connections at once" {
	serve_start --timeout 60
	# an idle client: handshake, one request, then it just holds the connection
	local fifo=$BATS_TEST_TMPDIR/in
	mkfifo "$fifo"
	openssl s_client -quiet -connect "127.0.0.1:$PORT" <"$fifo" \
		>"$BATS_TEST_TMPDIR/idle.out" 2>/dev/null 3>&- &
	local client=$!
	exec 5>"$fifo"
	printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >&5
	wait_for 'grep -q "^ok" "$BATS_TEST_TMPDIR/idle.out"' 30
	local start=$SECONDS
	kill -TERM "$SERVE_PID"
	local rc=0
	serve_stop || rc=$?
	[ "$rc" -eq 0 ]
	# the server did not wait for the idle connection (timeout 60 s)
	[ $((SECONDS - start)) -le 3 ]
	# and the client saw its connection closed
	wait_for '! kill -0 "$client" 2>/dev/null' 30
	exec 5>&-
	wait "$client" || true
}

@test "SIGINT stops the server the same way" {
	serve_start
	kill -INT "$SERVE_PID"
	local rc=0
	serve_stop || rc=$?
	[ "$rc" -eq 0 ]
	logq 'any(.msg == "shutting down" and .signal == "SIGINT")'
}
