#!/usr/bin/env bats
# t5020: running the proxy: usage, config file, credentials, extras, key
# rotation, TLS reload, readiness and graceful shutdown.

load proxy_lib

setup_file() { proxy_env_up; }
teardown_file() { proxy_env_down; }

get_pods() { # token -> HTTP code
	curl -s -o /dev/null -w '%{http_code}' --cacert "$PROXY_DIR/ca.crt" \
		-H "Authorization: Bearer $1" "https://127.0.0.1:$PROXY_PORT/api/v1/namespaces/team-a/pods"
}

good_claims() {
	jq -cn --arg iss "$ISSUER" '{iss: $iss, aud: "kubernetes", sub: "alice", exp: "+600"}' | jq -c "${1:-.}"
}

@test "proxy usage: --help, unknown option, missing and conflicting options" {
	run "$KT_BIN" proxy --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--issuer-url URL"* ]]
	run "$KT_BIN" proxy --bogus
	[ "$status" -eq 2 ]
	run "$KT_BIN" proxy --audience x --upstream https://a --tls-cert c --tls-key k --token-file t
	[ "$status" -eq 2 ]
	[[ "$output" == *"'--issuer-url' is required"* ]]
	run "$KT_BIN" proxy --issuer-url https://i --audience x --upstream https://a --tls-cert c \
		--tls-key k --token-file t --client-cert c --client-key k
	[ "$status" -eq 2 ]
	[[ "$output" == *"not both"* ]]
	run "$KT_BIN" proxy --issuer-url https://i --audience x --upstream https://a --tls-cert c \
		--tls-key k --token-file t --allowed-alg HS256
	[ "$status" -eq 2 ]
	[[ "$output" == *"algorithm 'HS256' is not allowed"* ]]
	run "$KT_BIN" proxy --issuer-url http://i --audience x --upstream https://a --tls-cert c \
		--tls-key k --token-file t
	[ "$status" -eq 2 ]
	run "$KT_BIN" proxy --issuer-url https://i --audience x --upstream https://a --tls-cert c \
		--tls-key k --token-file t --groups-prefix system:
	[ "$status" -eq 2 ]
	run "$KT_BIN" proxy --issuer-url https://i --audience x --upstream https://a --tls-cert c \
		--tls-key k --token-file t --threads 257
	[ "$status" -eq 2 ]
	[[ "$output" == *"'--threads' must be at most 256"* ]]
	run "$KT_BIN" proxy --issuer-url https://i --audience x --upstream https://a --tls-cert c \
		--tls-key k --token-file t --threads two
	[ "$status" -eq 2 ]
	[[ "$output" == *"option 'threads' wants a number, not 'two'"* ]]
	run "$KT_BIN" help proxy
	[ "$status" -eq 0 ]
}

@test "proxy usage: unreadable files and busy ports fail at start with a clear message" {
	run "$KT_BIN" proxy --issuer-url "$ISSUER" --audience kubernetes --upstream https://127.0.0.1:1 \
		--token-file "$PROXY_DIR/sa.token" --tls-cert /nonexistent.crt --tls-key /nonexistent.key \
		--listen 127.0.0.1:0 --metrics-listen none
	[ "$status" -eq 3 ]
	[[ "$output" == *"/nonexistent.crt"* ]]
	run "$KT_BIN" proxy --issuer-url "$ISSUER" --audience kubernetes --upstream https://127.0.0.1:1 \
		--token-file "$PROXY_DIR/sa.token" --tls-cert "$PROXY_DIR/proxy.crt" \
		--tls-key "$PROXY_DIR/proxy.key" --listen "127.0.0.1:$PROXY_PORT" --metrics-listen none
	[ "$status" -eq 3 ]
	[[ "$output" == *"cannot listen on '127.0.0.1:$PROXY_PORT'"* ]]
}

@test "proxy: the service-account token file is re-read when it rotates" {
	kc get pods -n team-a -o name >/dev/null
	last_headers | grep -q "Authorization: Bearer proxy-sa-token-1"
	echo "proxy-sa-token-2" >"$PROXY_DIR/sa.token.new"
	mv "$PROXY_DIR/sa.token.new" "$PROXY_DIR/sa.token" # atomic, like the kubelet's swap
	sleep 1.1
	kc get pods -n team-a -o name >/dev/null
	run last_headers
	[[ "$output" == *"Authorization: Bearer proxy-sa-token-2"* ]]
}

@test "proxy: an unknown kid refreshes the key set (rate limited) and the new key works" {
	tok=$(node "$FIXTURES/mint.js" "$PROXY_DIR/other.jwk" "$(jq -cn --argjson c "$(good_claims)" '{claims: $c}')")
	# the issuer rotates: it now publishes k1 and k2
	kill "$(cat "$PROXY_DIR/issuer.pid")"
	sleep 0.3
	node "$FIXTURES/issuer.js" "$ISSUER_PORT" "$PROXY_DIR/issuer.crt" "$PROXY_DIR/issuer.key" \
		"$PROXY_DIR/sign.jwk,$PROXY_DIR/other.jwk" >>"$PROXY_DIR/issuer.log" 2>&1 &
	echo $! >"$PROXY_DIR/issuer.pid"
	wait_https "$ISSUER/jwks"
	# the proxy fetched its keys at start; a refresh is allowed 10 s after that
	started=$(stat -c %Y "$PROXY_DIR/proxy.log")
	while [ $(($(date +%s) - started)) -lt 11 ]; do sleep 0.5; done
	run get_pods "$tok"
	[ "$output" = 200 ]
	tail -n 1 "$REC" | jq -e '.headers | map(select(.[0] == "Impersonate-User" and .[1] == "oidc:alice")) | length == 1'
	# a second made-up kid right after does not cause another fetch
	before=$(curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | grep 'jwks_refresh_total{result="ok"}')
	tok3=$(node "$FIXTURES/mint.js" "$PROXY_DIR/other.jwk" "$(jq -cn --argjson c "$(good_claims)" \
		'{claims: $c, header: {alg: "RS256", kid: "made-up"}}')")
	run get_pods "$tok3"
	[ "$output" = 401 ]
	after=$(curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | grep 'jwks_refresh_total{result="ok"}')
	[ "$before" = "$after" ]
}

@test "proxy: 200 open watches take no thread each, and a hang-up ends each one upstream" {
	local pid before during urls=() i
	pid=$(cat "$PROXY_DIR/proxy.pid")
	before=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
	for i in $(seq 1 200); do
		urls+=("https://127.0.0.1:$PROXY_PORT/api/v1/namespaces/team-a/pods?watch=true&n=$i")
	done
	curl -sN --parallel --parallel-max 200 --cacert "$PROXY_DIR/ca.crt" \
		-H "Authorization: Bearer $TOKEN" "${urls[@]}" >"$BATS_TEST_TMPDIR/w" 2>&1 &
	cpid=$!
	for _ in $(seq 1 150); do
		[ "$(grep -c web-watch-1 "$BATS_TEST_TMPDIR/w")" -ge 200 ] && break
		sleep 0.1
	done
	during=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
	# ordinary requests go on beside them
	[ "$(get_pods "$TOKEN")" = 200 ]
	kill "$cpid"
	wait "$cpid" || true
	echo "threads: $before before, $during with 200 watches open"
	[ "$(grep -c web-watch-1 "$BATS_TEST_TMPDIR/w")" -ge 200 ]
	[ "$during" -le $((before + 1)) ]
	# an idle watch notices its client is gone within the 1 s sweep
	for _ in $(seq 1 50); do
		[ "$(grep -c '"closed":"/api/v1/namespaces/team-a/pods?watch=true&n=' "$REC")" -ge 200 ] && break
		sleep 0.1
	done
	[ "$(grep -c '"closed":"/api/v1/namespaces/team-a/pods?watch=true&n=' "$REC")" -ge 200 ]
}

@test "proxy: unchanged TLS files are not reloaded" {
	local pid
	pid=$(cat "$PROXY_DIR/proxy.pid")
	# the files are looked at every second
	while [ "$(ps -o etimes= -p "$pid")" -lt 3 ]; do sleep 0.5; done
	! grep -q '"msg":"certificate reloaded"' "$PROXY_DIR/proxy.log"
}

@test "proxy: SIGHUP reloads the serving certificate; open watches keep running" {
	subject() {
		openssl s_client -connect "127.0.0.1:$PROXY_PORT" -CAfile "$PROXY_DIR/ca.crt" </dev/null 2>/dev/null |
			openssl x509 -noout -subject
	}
	[[ "$(subject)" == *"CN = proxy"* ]]
	timeout 30 kubectl --server "https://127.0.0.1:$PROXY_PORT" --certificate-authority "$PROXY_DIR/ca.crt" \
		--token "$TOKEN" get pods -n team-a --watch-only -o name >"$BATS_TEST_TMPDIR/watch" 2>&1 &
	wpid=$!
	for _ in $(seq 1 100); do grep -q web-watch-1 "$BATS_TEST_TMPDIR/watch" && break; sleep 0.1; done
	cp "$PROXY_DIR/proxy2.crt" "$PROXY_DIR/proxy.crt"
	cp "$PROXY_DIR/proxy2.key" "$PROXY_DIR/proxy.key"
	kill -HUP "$(cat "$PROXY_DIR/proxy.pid")"
	sleep 0.5
	[[ "$(subject)" == *"CN = proxy2"* ]]
	run kc get pods -n team-a -o name
	[ "$status" -eq 0 ]
	# the watch opened on the old certificate goes on: its second event arrives
	for _ in $(seq 1 100); do grep -q web-watch-2 "$BATS_TEST_TMPDIR/watch" && break; sleep 0.1; done
	kill "$wpid" 2>/dev/null || true
	grep -q web-watch-2 "$BATS_TEST_TMPDIR/watch"
	grep -q '"msg":"certificate reloaded"' "$PROXY_DIR/proxy.log"
	# a pair that does not match (a half-written renewal) keeps the current one
	cp "$PROXY_DIR/issuer.key" "$PROXY_DIR/proxy.key"
	kill -HUP "$(cat "$PROXY_DIR/proxy.pid")"
	sleep 0.5
	grep -q '"msg":"certificate rejected' "$PROXY_DIR/proxy.log"
	[[ "$(subject)" == *"CN = proxy2"* ]]
	run kc get pods -n team-a -o name
	[ "$status" -eq 0 ]
	cp "$PROXY_DIR/proxy2.key" "$PROXY_DIR/proxy.key"
}

@test "proxy: options from a config file; email usernames need email_verified" {
	stop_proxy
	cat >"$PROXY_DIR/proxy.yaml" <<-EOF
	issuer-url: $ISSUER
	audience: kubernetes
	oidc-ca: $PROXY_DIR/ca.crt
	upstream: https://127.0.0.1:$UPSTREAM_PORT
	upstream-ca: $PROXY_DIR/ca.crt
	token-file: $PROXY_DIR/sa.token
	tls-cert: $PROXY_DIR/proxy.crt
	tls-key: $PROXY_DIR/proxy.key
	listen: 127.0.0.1:$PROXY_PORT
	metrics-listen: 127.0.0.1:$METRICS_PORT
	username-claim: email
	username-prefix: ""
	groups-prefix: "idp:"
	required-claim: [hd=example.org]
	extra: ["scopes=view", "team name=a b"]
	extra-client-ip: true
	EOF
	"$KT_BIN" proxy --config "$PROXY_DIR/proxy.yaml" >>"$PROXY_DIR/proxy.log" 2>&1 &
	echo $! >"$PROXY_DIR/proxy.pid"
	wait_https "https://127.0.0.1:$PROXY_PORT/readyz"
	ok=$(mint "$(jq -cn --argjson c "$(good_claims '. + {email: "alice@example.org", email_verified: true, hd: "example.org", groups: ["devs"]}')" '{claims: $c}')")
	run get_pods "$ok"
	[ "$output" = 200 ]
	run last_headers
	[[ "$output" == *"Impersonate-User: alice@example.org"* ]]
	[[ "$output" == *"Impersonate-Group: idp:devs"* ]]
	[[ "$output" == *"Impersonate-Extra-scopes: view"* ]]
	[[ "$output" == *"Impersonate-Extra-team%20name: a b"* ]]
	[[ "$output" == *"Impersonate-Extra-remote-client-ip: 127.0.0.1"* ]]
	unverified=$(mint "$(jq -cn --argjson c "$(good_claims '. + {email: "alice@example.org", hd: "example.org"}')" '{claims: $c}')")
	run get_pods "$unverified"
	[ "$output" = 401 ]
	other_domain=$(mint "$(jq -cn --argjson c "$(good_claims '. + {email: "a@evil.org", email_verified: true, hd: "evil.org"}')" '{claims: $c}')")
	run get_pods "$other_domain"
	[ "$output" = 401 ]
	# a bad config file is a usage error that names the file
	printf 'issuer-url: [unclosed\n' >"$PROXY_DIR/bad.yaml"
	run "$KT_BIN" proxy --config "$PROXY_DIR/bad.yaml"
	[ "$status" -eq 3 ]
	[[ "$output" == *"bad.yaml"* ]]
	printf 'no-such-option: 1\n' >"$PROXY_DIR/bad.yaml"
	run "$KT_BIN" proxy --config "$PROXY_DIR/bad.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown option 'no-such-option'"* ]]
}

@test "proxy: client-certificate credentials are used for requests and tunnels" {
	stop_proxy
	start_proxy --token-file "" --client-cert "$PROXY_DIR/proxy2.crt" --client-key "$PROXY_DIR/proxy2.key"
	kc get pods -n team-a -o name >/dev/null
	tail -n 1 "$REC" | jq -e '.clientCN == "proxy2"'
	run last_headers
	[[ "$output" != *"Authorization"* ]]
	run kc exec web-1 -n team-a -- true
	[ "$status" -eq 0 ]
	tail -n 1 "$REC" | jq -e '.clientCN == "proxy2" and (.url | test("/exec"))'
}

@test "proxy: --threads N runs N event loops, and connections are dealt to all of them" {
	local pid i curls=()
	stop_proxy
	start_proxy --threads 3
	pid=$(cat "$PROXY_DIR/proxy.pid")
	[ "$(cat /proc/"$pid"/task/*/comm | grep -c '^kt-loop-')" -eq 3 ]
	# 30 clients at once, each on its own connection: every one is answered
	for i in $(seq 1 30); do
		curl -s -o /dev/null -w '%{http_code}\n' --cacert "$PROXY_DIR/ca.crt" \
			-H "Authorization: Bearer $TOKEN" \
			"https://127.0.0.1:$PROXY_PORT/api/v1/namespaces/team-a/pods" \
			>>"$BATS_TEST_TMPDIR/codes" &
		curls+=($!)
	done
	wait "${curls[@]}"
	[ "$(grep -c '^200$' "$BATS_TEST_TMPDIR/codes")" -eq 30 ]
	# dealt in turn: each loop took a third of the connections
	run curl -sf "http://127.0.0.1:$METRICS_PORT/metrics"
	for i in 0 1 2; do
		echo "$output" | grep -E "^kubetenant_proxy_loop_connections_total\{loop=\"$i\"\} (1[0-9]|[2-9][0-9])$"
	done
	run kc exec web-1 -n team-a -- true
	[ "$status" -eq 0 ]
	# by default, one loop per CPU it may use: pinned to one, it runs one
	stop_proxy
	(command -v taskset >/dev/null && taskset -c 0 bash -c "$(declare -f launch_proxy); launch_proxy") ||
		skip "taskset is missing"
	wait_https "https://127.0.0.1:$PROXY_PORT/readyz" "$(cat "$PROXY_DIR/proxy.pid")"
	pid=$(cat "$PROXY_DIR/proxy.pid")
	[ "$(cat /proc/"$pid"/task/*/comm | grep -c '^kt-loop-')" -eq 1 ]
	stop_proxy
	start_proxy
}

@test "proxy: out of file descriptors, it pauses accepting instead of spinning, then recovers" {
	local pid t0 t1 i
	stop_proxy
	(ulimit -n 64 && start_proxy --threads 1)
	pid=$(cat "$PROXY_DIR/proxy.pid")
	# 80 idle TLS clients for 4 s (-quiet alone ignores stdin's end and keeps
	# them until the idle timeout, two minutes): more than the descriptors left
	for i in $(seq 1 80); do
		(sleep 4 | openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$PROXY_PORT" >/dev/null 2>&1 &)
	done
	sleep 1
	t0=$(awk '{ print $14 + $15 }' /proc/"$pid"/stat)
	sleep 2
	t1=$(awk '{ print $14 + $15 }' /proc/"$pid"/stat)
	echo "CPU ticks in 2 s: $((t1 - t0))"
	[ $((t1 - t0)) -lt 60 ] # a spinning loop would use the whole 2 s (200)
	# said once an episode, not once a second (a client that gives up frees
	# a descriptor the next one takes: two episodes in 3 s at most)
	[ "$(grep -c '"msg":"cannot accept: out of file descriptors"' "$PROXY_DIR/proxy.log")" -le 2 ]
	# the clients leave; within a tick or two new connections are served again
	sleep 3
	for i in $(seq 1 30); do
		[ "$(get_pods "$TOKEN")" = 200 ] && break
		sleep 0.2
	done
	run get_pods "$TOKEN"
	[ "$output" = 200 ]
	stop_proxy
	start_proxy
}

@test "proxy: an unreachable API server is a 502; an oversized body a 413" {
	stop_proxy
	dead=$(free_port)
	start_proxy --upstream "https://127.0.0.1:$dead" --max-body 1000
	run get_pods "$TOKEN"
	[ "$output" = 502 ]
	run kc exec web-1 -n team-a -- true
	[ "$status" -ne 0 ]
	head -c 2000 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/big"
	run curl -s -o /dev/null -w '%{http_code}' --cacert "$PROXY_DIR/ca.crt" \
		-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
		--data-binary @"$BATS_TEST_TMPDIR/big" "https://127.0.0.1:$PROXY_PORT/api/v1/namespaces/team-a/pods"
	[ "$output" = 413 ]
	grep -q '"msg":"upstream error"' "$PROXY_DIR/proxy.log"
}

@test "proxy: not ready until the issuer's keys are loaded" {
	stop_proxy
	port=$(free_port)
	launch_proxy --issuer-url "https://127.0.0.1:$port"
	wait_https "https://127.0.0.1:$PROXY_PORT/healthz" "$(cat "$PROXY_DIR/proxy.pid")"
	run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/readyz"
	[ "$output" = 503 ]
	before=$(records)
	run get_pods "$TOKEN"
	[ "$output" = 401 ]
	[ "$(records)" -eq "$before" ]
	grep -q '"msg":"cannot load the issuer'"'"'s keys"' "$PROXY_DIR/proxy.log"
}

@test "proxy: discovery that names another issuer is not trusted" {
	stop_proxy
	# the same provider reached as https://localhost:PORT says it is https://127.0.0.1:PORT
	launch_proxy --issuer-url "https://localhost:$ISSUER_PORT"
	wait_https "https://127.0.0.1:$PROXY_PORT/healthz" "$(cat "$PROXY_DIR/proxy.pid")"
	for _ in $(seq 1 50); do grep -q "names issuer 'https://127.0.0.1:$ISSUER_PORT'" "$PROXY_DIR/proxy.log" && break; sleep 0.1; done
	grep -q "openid-configuration' names issuer 'https://127.0.0.1:$ISSUER_PORT', expected 'https://localhost:$ISSUER_PORT'" "$PROXY_DIR/proxy.log"
	run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/readyz"
	[ "$output" = 503 ]
}

@test "proxy: SIGTERM ends streams and exits 0" {
	stop_proxy
	start_proxy
	timeout 20 kubectl --server "https://127.0.0.1:$PROXY_PORT" --certificate-authority "$PROXY_DIR/ca.crt" \
		--token "$TOKEN" logs -f web-1 -n team-a >"$BATS_TEST_TMPDIR/logs" 2>&1 &
	kpid=$!
	sleep 1
	pid=$(cat "$PROXY_DIR/proxy.pid")
	start=$(date +%s)
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	[ "$rc" -eq 0 ]
	[ $(($(date +%s) - start)) -lt 10 ]
	wait "$kpid" || true
	grep -q "log line 1" "$BATS_TEST_TMPDIR/logs"
	grep -q '"msg":"shutting down"' "$PROXY_DIR/proxy.log"
	rm -f "$PROXY_DIR/proxy.pid"
}
