#!/usr/bin/env bats
# kubetenant serve: TLS versions, stalled clients, and certificate rotation
# (the way cert-manager and the kubelet do it: a symlink swap) while a
# client keeps its connection.

load serve-lib

setup_file() { serve_certs; }
setup() { serve_certs; }
teardown() { serve_stop; }

# A Secret volume as the kubelet lays it out: tls.crt -> ..data/tls.crt, ..data -> dir.
secret_dir() { # dir name
	mkdir -p "$1/$2"
	cp "$CERTS/$2.pem" "$1/$2/tls.crt"
	cp "$CERTS/$2.key" "$1/$2/tls.key"
}
swap_secret() { # dir name
	ln -sfn "$2" "$1/..data_tmp"
	mv -T "$1/..data_tmp" "$1/..data"
}
serial_of() { openssl x509 -noout -serial -in "$1" | cut -d= -f2 | tr 'A-F' 'a-f'; }
served_serial() {
	openssl s_client -connect "127.0.0.1:$PORT" </dev/null 2>/dev/null |
		openssl x509 -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'
}

@test "TLS 1.3 and 1.2 handshake, TLS 1.1 is refused" {
	serve_start
	run openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 -CAfile "$CERTS/ca.pem" </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"New, TLSv1.3"* ]]
	[[ "$output" == *"Verify return code: 0 (ok)"* ]]
	run openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -CAfile "$CERTS/ca.pem" </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"New, TLSv1.2, Cipher is ECDHE-"*"GCM"* ]]
	# the client would do TLS 1.1 (security level 0); the server must not
	run openssl s_client -connect "127.0.0.1:$PORT" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' </dev/null
	[ "$status" -ne 0 ]
	[[ "$output" == *"Cipher is (NONE)"* ]]
	# nor a TLS 1.2 suite without forward secrecy and AEAD
	run openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -cipher AES128-SHA </dev/null
	[ "$status" -ne 0 ]
}

@test "a stalled client is disconnected after the timeout" {
	serve_start --timeout 1
	# half a request, then silence: the server hangs up, s_client exits
	local start=$SECONDS
	run timeout 10 openssl s_client -quiet -connect "127.0.0.1:$PORT" \
		< <(printf 'POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"apiVersion"'; sleep 8)
	[ "$status" -ne 124 ]
	[ $((SECONDS - start)) -le 4 ]
	# a connection that never sends anything, too
	start=$SECONDS
	run timeout 10 openssl s_client -quiet -connect "127.0.0.1:$PORT" < <(sleep 8)
	[ "$status" -ne 124 ]
	[ $((SECONDS - start)) -le 4 ]
	# and the server still answers
	run https -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/healthz"
	[ "$output" = 200 ]
}

@test "certificate rotation: kept connections go on, new handshakes get the new certificate" {
	"$SCRIPTS/gen-test-certs.sh" "$CERTS" rotated
	local d=$BATS_TEST_TMPDIR/tls
	secret_dir "$d" server
	secret_dir "$d" rotated
	ln -s server "$d/..data"
	ln -s ..data/tls.crt "$d/tls.crt"
	ln -s ..data/tls.key "$d/tls.key"
	CERT=$d/tls.crt KEY=$d/tls.key serve_start --reload-interval 1
	[ "$(served_serial)" = "$(serial_of "$CERTS/server.pem")" ]
	# one curl, one connection, a request every 0.5 s across the rotation
	https --rate 2/s -o /dev/null -w '%{http_code} %{num_connects}\n' \
		"https://127.0.0.1:$PORT/healthz?n=[1-8]" >"$BATS_TEST_TMPDIR/keep.out" &
	local curl_pid=$!
	sleep 1
	swap_secret "$d" rotated
	wait_for '[ "$(served_serial)" = "$(serial_of "$CERTS/rotated.pem")" ]' 50
	wait "$curl_pid"
	cat "$BATS_TEST_TMPDIR/keep.out"
	[ "$(head -1 "$BATS_TEST_TMPDIR/keep.out")" = "200 1" ]
	[ "$(tail -n +2 "$BATS_TEST_TMPDIR/keep.out" | sort -u)" = "200 0" ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/keep.out")" -eq 8 ]
	[ "$(metric kubetenant_tls_reloads_total)" = 1 ]
	logq "any(.msg == \"certificate reloaded\" and .serial == \"$(serial_of "$CERTS/rotated.pem")\")"
}

@test "a broken certificate is rejected and the previous one keeps serving (SIGHUP)" {
	cp "$CERTS/server.pem" "$BATS_TEST_TMPDIR/tls.crt"
	cp "$CERTS/server.key" "$BATS_TEST_TMPDIR/tls.key"
	CERT=$BATS_TEST_TMPDIR/tls.crt KEY=$BATS_TEST_TMPDIR/tls.key serve_start --reload-interval 60
	# a new certificate without its key: does not match, rejected
	"$SCRIPTS/gen-test-certs.sh" "$CERTS" half
	cp "$CERTS/half.pem" "$BATS_TEST_TMPDIR/tls.crt"
	kill -HUP "$SERVE_PID"
	wait_for '[ "$(metric kubetenant_tls_reload_failures_total)" = 1 ]'
	[ "$(served_serial)" = "$(serial_of "$CERTS/server.pem")" ]
	logq 'any(.msg == "certificate rejected; the previous one keeps serving"
		and (.error | test("is not the key of certificate")))'
	# the key arrives: the pair is taken
	cp "$CERTS/half.key" "$BATS_TEST_TMPDIR/tls.key"
	kill -HUP "$SERVE_PID"
	wait_for '[ "$(served_serial)" = "$(serial_of "$CERTS/half.pem")" ]'
	[ "$(metric kubetenant_tls_reloads_total)" = 1 ]
	[ "$(metric kubetenant_tls_reload_failures_total)" = 1 ]
}

@test "connections past --max-connections wait until one closes" {
	serve_start --max-connections 2 --threads 1 --timeout 30
	openssl s_client -quiet -connect "127.0.0.1:$PORT" < <(sleep 20) >/dev/null 2>&1 3>&- &
	local c1=$!
	openssl s_client -quiet -connect "127.0.0.1:$PORT" < <(sleep 20) >/dev/null 2>&1 3>&- &
	local c2=$!
	sleep 1
	# not accepted (it waits in the listen backlog): curl gives up
	run https -m 2 -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/healthz"
	[ "$status" -eq 28 ]
	kill "$c1"
	wait "$c1" || true
	run https -m 5 -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/healthz"
	[ "$output" = 200 ]
	kill "$c2"
	wait "$c2" || true
}
