#!/usr/bin/env bats
# t5050: `kubetenant login` for real: kubectl runs the plugin from the
# kubeconfig `kubetenant kubeconfig` writes, the plugin logs in at the real
# oidc-provider (fixtures/issuer.js; consent.js plays the member at the
# browser), and kubetenant proxy impersonates the member towards the fake
# API server, which records what it receives.

bats_require_minimum_version 1.5.0
load proxy_lib

setup_file() {
	# issuer knobs (fixtures/issuer.js): ID tokens live 20 s, so a cached one
	# is refreshed 10 s after it was issued (the plugin's margin)
	export KT_ISSUER_ID_TOKEN_TTL=20
	export KT_ISSUER_TAMPER=$BATS_FILE_TMPDIR/tamper.json
	export KT_ISSUER_DEVICE_CODE_TTL=$BATS_FILE_TMPDIR/device-ttl
	proxy_env_up
	stop_proxy
	start_proxy --audience kubectl --username-claim email
	write_tenants kubectl
	export KC=$BATS_FILE_TMPDIR/kubeconfig
	"$KT_BIN" kubeconfig -f "$TENANTS" --tenant team-a --server "https://127.0.0.1:$PROXY_PORT" \
		--ca "$PROXY_DIR/ca.crt" --oidc-ca "$PROXY_DIR/ca.crt" >"$KC"
	# kubectl finds the plugin as `kubetenant` on PATH, as on a member's laptop
	mkdir -p "$BATS_FILE_TMPDIR/bin"
	ln -sf "$KT_BIN" "$BATS_FILE_TMPDIR/bin/kubetenant"
	# the member's browser: consent.js, counting each time it is opened
	cat >"$BATS_FILE_TMPDIR/bin/browser" <<-EOF
	#!/bin/sh
	echo "\$1" >>"\$BROWSER_RUNS"
	NODE_EXTRA_CA_CERTS=$PROXY_DIR/ca.crt exec node $FIXTURES/consent.js "\$1" "\${LOGIN_AS:-alice@example.org}" \${DENY:+deny} >>"\$BROWSER_LOG" 2>&1
	EOF
	chmod +x "$BATS_FILE_TMPDIR/bin/browser"
}

teardown_file() { proxy_env_down; }

setup() {
	export PATH=$BATS_FILE_TMPDIR/bin:$PATH
	export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache
	export BROWSER=$BATS_FILE_TMPDIR/bin/browser
	export BROWSER_RUNS=$BATS_TEST_TMPDIR/browser-runs BROWSER_LOG=$BATS_TEST_TMPDIR/browser.log
	: >"$BROWSER_RUNS"
	rm -f "$KT_ISSUER_TAMPER" "$KT_ISSUER_DEVICE_CODE_TTL"
	unset DISPLAY WAYLAND_DISPLAY
}

runs() { wc -l <"$BROWSER_RUNS"; }
cache_file() { ls "$XDG_CACHE_HOME"/kubetenant/*.json; }
k() { kubectl --kubeconfig "$KC" "$@"; }
login() { "$KT_BIN" login --issuer-url "$ISSUER" --client-id kubectl --oidc-ca "$PROXY_DIR/ca.crt" "$@"; }

@test "login: usage errors" {
	run "$KT_BIN" login --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--issuer-url URL"* ]]
	run "$KT_BIN" login --client-id kubectl
	[ "$status" -eq 2 ]
	run "$KT_BIN" login --issuer-url http://127.0.0.1:1 --client-id kubectl
	[ "$status" -eq 2 ]
	[[ "$output" == *"https://"* ]]
	run login --scope 'a b'
	[ "$status" -eq 2 ]
	run login --timeout 0
	[ "$status" -eq 2 ]
	KUBERNETES_EXEC_INFO='{"apiVersion":"client.authentication.k8s.io/v2"}' run login
	[ "$status" -eq 2 ]
}

@test "login: kubectl logs in through the browser; the proxy impersonates the member" {
	run --separate-stderr k get pods -o name
	[ "$status" -eq 0 ]
	[[ "$output" == *"pod/web-1"* ]]
	[ "$(runs)" -eq 1 ]
	# PKCE S256, state and nonce were sent; the redirect was to the loopback
	grep -q 'code_challenge_method=S256' "$BROWSER_RUNS"
	grep -q '&state=[A-Za-z0-9_-]\{32\}&nonce=[A-Za-z0-9_-]\{32\}&' "$BROWSER_RUNS"
	grep -q 'redirect_uri=http%3A%2F%2F127.0.0.1%3A[0-9]*%2Fcallback' "$BROWSER_RUNS"
	run last_headers
	[[ "$output" == *"Impersonate-User: oidc:alice@example.org"* ]]
	[[ "$output" == *"Impersonate-Group: oidc:team.devs"* ]]
	[[ "$output" == *"Impersonate-Group: oidc:team-b.devs"* ]]
	# the cache: one file, 0600 in a 0700 directory, with both tokens
	f=$(cache_file)
	[ "$(stat -c %a "$f")" = 600 ]
	[ "$(stat -c %a "$XDG_CACHE_HOME/kubetenant")" = 700 ]
	jq -e '.id_token and .refresh_token' "$f"
	# no token on stderr, kubectl's or the browser's page
	for t in $(jq -r '.id_token, .refresh_token' "$f"); do
		! grep -qF "$t" "$BROWSER_LOG"
		[[ "$stderr" != *"$t"* ]]
	done
	# the second kubectl uses the cache: no browser, same file
	before=$(cat "$f")
	run k get pods -o name
	[ "$status" -eq 0 ]
	[ "$(runs)" -eq 1 ]
	[ "$(cat "$f")" = "$before" ]
}

@test "login: an expired ID token is refreshed silently" {
	run k get pods -o name
	[ "$status" -eq 0 ]
	f=$(cache_file)
	old=$(jq -r .id_token "$f")
	sleep 11 # within 10 s of its expiry: refreshed, not used
	BROWSER=false run --separate-stderr k get pods -o name
	[ "$status" -eq 0 ]
	[ "$(runs)" -eq 1 ]
	[ "$(jq -r .id_token "$f")" != "$old" ]
	[ -z "$stderr" ]
	run last_headers
	[[ "$output" == *"Impersonate-User: oidc:alice@example.org"* ]]
}

@test "login: a revoked refresh token: --no-login says so, kubectl logs in again" {
	run k get pods -o name
	[ "$status" -eq 0 ]
	f=$(cache_file)
	curl -sf --cacert "$PROXY_DIR/ca.crt" -d client_id=kubectl \
		--data-urlencode "token=$(jq -r .refresh_token "$f")" "$ISSUER/token/revocation"
	sleep 11
	run login --no-login
	[ "$status" -eq 9 ]
	[[ "$output" == *"invalid_grant"* ]]
	[ "$(runs)" -eq 1 ]
	run --separate-stderr k get pods -o name
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"refused the saved session"* ]]
	[ "$(runs)" -eq 2 ]
}

@test "login: the device grant, chosen when no browser can run" {
	unset BROWSER
	k get pods -o name >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for _ in $(seq 1 100); do grep -q "enter the code" "$BATS_TEST_TMPDIR/err" && break; sleep 0.1; done
	read -r url code < <(sed -n 's/^To log in, open \(.*\) and enter the code \(.*\)$/\1 \2/p' \
		"$BATS_TEST_TMPDIR/err")
	[ "$url" = "$ISSUER/device" ]
	# the member, on another machine, types the code
	NODE_EXTRA_CA_CERTS=$PROXY_DIR/ca.crt node "$FIXTURES/consent.js" "$url?user_code=$code" \
		bob@example.org 2>>"$BROWSER_LOG"
	wait "$pid"
	grep -q "pod/web-1" "$BATS_TEST_TMPDIR/out"
	run last_headers
	[[ "$output" == *"Impersonate-User: oidc:bob@example.org"* ]]
	[[ "$output" == *"Impersonate-Group: oidc:team-b.devs"* ]]
	[ "$(stat -c %a "$(cache_file)")" = 600 ]
}

@test "login: --device with a browser opens the verification page; an expired code is exit 6" {
	run --separate-stderr login --device
	[ "$status" -eq 0 ]
	[ "$(runs)" -eq 1 ]
	grep -q "/device?user_code=" "$BROWSER_RUNS"
	echo "$output" | jq -e '.kind == "ExecCredential" and (.status.token | length > 100)'
	echo 2 >"$KT_ISSUER_DEVICE_CODE_TTL"
	BROWSER=false run login --device --user other
	[ "$status" -eq 6 ]
	[[ "$output" == *"device code expired"* ]]
}

@test "login: two kubectl on an empty cache: one login, both succeed" {
	k get pods -o name >"$BATS_TEST_TMPDIR/o1" 2>&1 &
	p1=$!
	k get pods -o name >"$BATS_TEST_TMPDIR/o2" 2>&1 &
	p2=$!
	wait "$p1"
	wait "$p2"
	grep -q "pod/web-1" "$BATS_TEST_TMPDIR/o1"
	grep -q "pod/web-1" "$BATS_TEST_TMPDIR/o2"
	[ "$(runs)" -eq 1 ]
}

@test "login: a tampered cache file is refused and replaced" {
	run k get pods -o name
	[ "$status" -eq 0 ]
	f=$(cache_file)
	# the same signature over a payload that names someone else
	IFS=. read -r h p s < <(jq -r .id_token "$f")
	p2=$(echo "$p" | base64 -d 2>/dev/null | jq -c '.email = "root@example.org"' | base64 -w0 | tr '+/' '-_' | tr -d =)
	# (its refresh token still works: a file someone altered is not used at all)
	jq --arg t "$h.$p2.$s" '.id_token = $t' "$f" >"$f.new"
	mv "$f.new" "$f"
	chmod 600 "$f"
	run k get pods -o name
	[ "$status" -eq 0 ]
	[ "$(runs)" -eq 2 ]
	[[ "$(jq -r .id_token "$f")" != "$h.$p2.$s" ]]
	run last_headers
	[[ "$output" == *"Impersonate-User: oidc:alice@example.org"* ]]
	# a cache file others may read is not trusted either
	chmod 644 "$f"
	run k get pods -o name
	[ "$status" -eq 0 ]
	[ "$(runs)" -eq 3 ]
	[ "$(stat -c %a "$f")" = 600 ]
}

@test "login: an ID token for another audience or issuer is refused before caching" {
	echo '{"aud": "someone-else"}' >"$KT_ISSUER_TAMPER"
	run login
	[ "$status" -eq 7 ]
	[[ "$output" == *"audience"* || "$output" == *"aud"* ]]
	[ ! -e "$XDG_CACHE_HOME/kubetenant"/*.json ]
	echo "{\"iss\": \"https://evil.example\"}" >"$KT_ISSUER_TAMPER"
	run k get pods -o name
	[ "$status" -ne 0 ]
	[[ "$output" == *"issuer"* ]]
	[ ! -e "$XDG_CACHE_HOME/kubetenant"/*.json ]
	# a token that does not carry this login's nonce is a replayed one
	echo '{"nonce": "replayed"}' >"$KT_ISSUER_TAMPER"
	run login
	[ "$status" -eq 7 ]
	[[ "$output" == *"nonce"* ]]
	[ ! -e "$XDG_CACHE_HOME/kubetenant"/*.json ]
	# an issuer whose discovery names another issuer is refused before any login
	n=$(runs)
	run "$KT_BIN" login --issuer-url "https://localhost:$ISSUER_PORT" --client-id kubectl \
		--oidc-ca "$PROXY_DIR/ca.crt"
	[ "$status" -eq 4 ]
	[[ "$output" == *"names issuer"* ]]
	[ "$(runs)" -eq "$n" ]
}

@test "login: clock skew, consent denied, issuer unreachable: exit status and what to do" {
	echo "{\"iat\": $(( $(date +%s) + 3600 ))}" >"$KT_ISSUER_TAMPER"
	run login
	[ "$status" -eq 8 ]
	[[ "$output" == *"clock"* ]]
	rm "$KT_ISSUER_TAMPER"
	DENY=1 run login
	[ "$status" -eq 5 ]
	[[ "$output" == *"denied"* ]]
	run "$KT_BIN" login --issuer-url https://127.0.0.1:1 --client-id kubectl
	[ "$status" -eq 4 ]
	[[ "$output" == *"cannot reach"* ]]
	run login --no-browser --timeout 1
	[ "$status" -eq 6 ]
	[[ "$output" == *"open this page"* ]]
}

@test "login: a redirect with another state is refused, and the login goes on" {
	login --no-browser --timeout 60 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for _ in $(seq 1 100); do grep -q "^  https://" "$BATS_TEST_TMPDIR/err" && break; sleep 0.1; done
	url=$(sed -n 's/^  \(https:.*\)$/\1/p' "$BATS_TEST_TMPDIR/err")
	port=$(echo "$url" | sed -n 's/.*redirect_uri=http%3A%2F%2F127.0.0.1%3A\([0-9]*\)%2F.*/\1/p')
	# a page that found the port injects its own code
	run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/callback?code=evil&state=guess"
	[ "$output" = 400 ]
	run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/other"
	[ "$output" = 404 ]
	"$BROWSER" "$url"
	wait "$pid"
	jq -e '.status.token | length > 100' "$BATS_TEST_TMPDIR/out"
	[ "$(runs)" -eq 1 ]
}

@test "login: --logout removes the session" {
	run login
	[ "$status" -eq 0 ]
	[ -e "$(cache_file)" ]
	run login --logout
	[ "$status" -eq 0 ]
	run cache_file
	[ "$status" -ne 0 ]
}

@test "login: discovery is read once, and a key set it cannot fetch stops the login" {
	local d=$BATS_TEST_TMPDIR port
	port=$(free_port)
	jq -n --arg iss "https://127.0.0.1:$port" '{issuer: $iss, jwks_uri: "\($iss)/keys",
		authorization_endpoint: "\($iss)/auth", token_endpoint: "\($iss)/token"}' >"$d/disc.json"
	node "$FIXTURES/static.js" "$port" "$PROXY_DIR/upstream.crt" "$PROXY_DIR/upstream.key" \
		/.well-known/openid-configuration "$d/disc.json" "$d/req.log" &
	echo $! >"$d/pid"
	wait_https "https://127.0.0.1:$port/healthz" "$(cat "$d/pid")"
	run "$KT_BIN" login --issuer-url "https://127.0.0.1:$port" --client-id kubectl \
		--oidc-ca "$PROXY_DIR/ca.crt"
	kill "$(cat "$d/pid")"
	[ "$status" -eq 4 ]
	[[ "$output" == *"'https://127.0.0.1:$port/keys' answered HTTP status 404"* ]]
	[ "$(grep -c '"url":"/.well-known/openid-configuration"' "$d/req.log")" -eq 1 ]
	[ "$(runs)" -eq 0 ]
}
