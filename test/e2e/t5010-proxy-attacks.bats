#!/usr/bin/env bats
# t5010: the attack suite of issue 6.  Every case must be refused with 401 or
# 403 AND must not reach the API server: the fake upstream records every
# request it receives, and the record must not grow.

load proxy_lib

setup_file() { proxy_env_up; }
teardown_file() { proxy_env_down; }

# A token signed with the issuer's own key; $1 is jq applied to good claims.
signed() {
	local claims
	claims=$(jq -cn --arg iss "$ISSUER" '{iss: $iss, aud: "kubernetes", sub: "alice",
		exp: "+600", iat: "-5", groups: ["team-a-devs"]}' | jq -c "${1:-.}")
	mint "$(jq -cn --argjson c "$claims" '{claims: $c}' | jq -c ". + ${2:-{\}}")"
}

# Send a request through the proxy; sets $code and checks nothing was forwarded.
attempt() { # curl args...
	local before
	before=$(records)
	code=$(curl -s -o "$BATS_TEST_TMPDIR/body" -D "$BATS_TEST_TMPDIR/head" -w '%{http_code}' \
		--cacert "$PROXY_DIR/ca.crt" "$@" \
		"https://127.0.0.1:$PROXY_PORT/api/v1/namespaces/team-a/pods")
	[ "$(records)" -eq "$before" ] || {
		echo "forwarded to the upstream:"
		tail -n 1 "$REC"
		return 1
	}
}

bearer() { attempt -H "Authorization: Bearer $1"; }

# The proxy's last audit line gives this refusal reason (it is written as the
# response completes, so allow it a moment).
reason_is() {
	local i
	for i in $(seq 1 20); do
		tail -n 1 "$PROXY_DIR/proxy.log" | jq -e --arg r "$1" '.reason == $r' >/dev/null && return 0
		sleep 0.05
	done
	tail -n 1 "$PROXY_DIR/proxy.log"
	return 1
}

@test "attack: the good token is accepted (control case)" {
	before=$(records)
	run curl -s -o /dev/null -w '%{http_code}' --cacert "$PROXY_DIR/ca.crt" \
		-H "Authorization: Bearer $(signed)" \
		"https://127.0.0.1:$PROXY_PORT/api/v1/namespaces/team-a/pods"
	[ "$output" = 200 ]
	[ "$(records)" -eq $((before + 1)) ]
}

@test "attack: no token -> 401 with WWW-Authenticate: Bearer" {
	attempt
	[ "$code" = 401 ]
	reason_is no_token
	grep -qi '^WWW-Authenticate: Bearer' "$BATS_TEST_TMPDIR/head"
	jq -e '.kind == "Status" and .code == 401' "$BATS_TEST_TMPDIR/body"
}

@test "attack: basic auth -> 401" {
	attempt -u admin:admin
	[ "$code" = 401 ]
	reason_is basic_auth
	grep -qi '^WWW-Authenticate: Bearer' "$BATS_TEST_TMPDIR/head"
}

@test "attack: two Authorization headers -> 401" {
	attempt -H "Authorization: Bearer $TOKEN" -H "Authorization: Bearer $TOKEN"
	[ "$code" = 401 ]
}

@test "attack: expired token -> 401" {
	bearer "$(signed '.exp = "-1"')"
	[ "$code" = 401 ]
	reason_is expired
}

@test "attack: not-yet-valid token (nbf in the future) -> 401" {
	bearer "$(signed '.nbf = "+300"')"
	[ "$code" = 401 ]
	reason_is not_yet_valid
}

@test "attack: wrong issuer -> 401" {
	bearer "$(signed '.iss = "https://evil.example.org"')"
	[ "$code" = 401 ]
	reason_is issuer
}

@test "attack: wrong audience -> 401" {
	bearer "$(signed '.aud = ["other-app"]')"
	[ "$code" = 401 ]
	reason_is audience
}

@test "attack: alg none -> 401" {
	bearer "$(signed . '{"none": true, "header": {"alg": "none", "typ": "JWT"}}')"
	[ "$code" = 401 ]
	bearer "$(signed . '{"header": {"alg": "none", "kid": "k1"}}')"
	[ "$code" = 401 ]
}

@test "attack: HS256 signed with the RSA public key as secret -> 401" {
	bearer "$(signed . '{"hmacWithPublicKey": true, "header": {"alg": "HS256", "kid": "k1"}}')"
	[ "$code" = 401 ]
	reason_is algorithm
}

@test "attack: unknown kid (a key the issuer never published) -> 401" {
	tok=$(node "$FIXTURES/mint.js" "$PROXY_DIR/other.jwk" "$(jq -cn --arg iss "$ISSUER" \
		'{claims: {iss: $iss, aud: "kubernetes", sub: "alice", exp: "+600"}}')")
	bearer "$tok"
	[ "$code" = 401 ]
	grep -q '"reason":"unknown_kid"' "$PROXY_DIR/proxy.log"
}

@test "attack: tampered payload -> 401" {
	bearer "$(signed . '{"tamper": "payload"}')"
	[ "$code" = 401 ]
	reason_is signature
}

@test "attack: tampered signature -> 401" {
	bearer "$(signed . '{"tamper": "signature"}')"
	[ "$code" = 401 ]
	reason_is signature
}

@test "attack: oversized token -> 401" {
	bearer "$(signed . '{"pad": 20000}')"
	[ "$code" = 401 ]
	reason_is too_large
}

@test "attack: a token part cjose cannot decode -> 401, and the proxy lives on" {
	bearer "eyJhbGciOiJSUzI1NiJ9X.e30.AAAA"
	[ "$code" = 401 ]
	reason_is malformed
	kill -0 "$(cat "$PROXY_DIR/proxy.pid")"
}

@test "attack: duplicate claims -> 401" {
	raw=$(jq -cn --arg iss "$ISSUER" '{iss: $iss, aud: "kubernetes", exp: 9999999999}' |
		sed 's/}$/,"sub":"alice","sub":"system:admin"}/')
	bearer "$(mint "$(jq -cn --arg r "$raw" '{rawPayload: $r}')")"
	[ "$code" = 401 ]
	grep -q '"reason":"duplicate_key"' "$PROXY_DIR/proxy.log"
}

@test "attack: group system:masters in the token -> 401" {
	bearer "$(signed '.groups = ["team-a-devs", "system:masters"]')"
	[ "$code" = 401 ]
	reason_is groups
}

@test "attack: username system:admin -> 401" {
	bearer "$(signed '.sub = "system:admin"')"
	[ "$code" = 401 ]
	reason_is username
}

@test "attack: a real issuer token for a client named system:masters -> 401" {
	tok=$(issuer_token system%3Amasters)
	[ -n "$tok" ] && [ "$tok" != null ]
	bearer "$tok"
	[ "$code" = 401 ]
	reason_is username
}

@test "attack: Impersonate-* headers in any case -> 403, even with a valid token" {
	local h
	for h in "Impersonate-User: system:admin" "impersonate-group: system:masters" \
		"IMPERSONATE-UID: 0" "Impersonate-Extra-Scopes: all" "iMpErSoNaTe-UsEr: x" \
		"Impersonate_User: system:admin"; do
		attempt -H "Authorization: Bearer $TOKEN" -H "$h"
		echo "$h -> $code"
		[ "$code" = 403 ]
	done
	# and without any token at all
	attempt -H "Impersonate-User: system:admin"
	[ "$code" = 403 ]
}

@test "attack: kubectl --as / --as-group are refused with 403" {
	before=$(records)
	run kc get pods -n team-a --as system:admin
	[ "$status" -ne 0 ]
	[[ "$output" == *"Forbidden"* || "$output" == *"forbidden"* ]]
	run kc get pods -n team-a --as alice --as-group system:masters
	[ "$status" -ne 0 ]
	[ "$(records)" -eq "$before" ]
}

@test "attack: X-Remote-* and forwarding headers are stripped, not forwarded" {
	run curl -s -o /dev/null -w '%{http_code}' --cacert "$PROXY_DIR/ca.crt" \
		-H "Authorization: Bearer $TOKEN" -H "X-Remote-User: system:admin" \
		-H "X-Remote-Group: system:masters" -H "X-Forwarded-For: 10.0.0.1" \
		-H "Cookie: session=1" -H "Connection: X-Sneaky" -H "X-Sneaky: 1" \
		"https://127.0.0.1:$PROXY_PORT/api/v1/namespaces/team-a/pods"
	[ "$output" = 200 ]
	run last_headers
	[[ "$output" != *"X-Remote"* ]]
	[[ "$output" != *"10.0.0.1"* ]]
	[[ "$output" != *"Cookie"* ]]
	[[ "$output" != *"X-Sneaky"* ]]
	[[ "$output" == *"Impersonate-User: oidc:kubectl-ci"* ]]
}

@test "attack: absolute-form request targets and spaces are refused, not forwarded" {
	before=$(records)
	run curl -s -o /dev/null -w '%{http_code}' --cacert "$PROXY_DIR/ca.crt" \
		-H "Authorization: Bearer $TOKEN" --request-target "https://evil.example.org/api" \
		"https://127.0.0.1:$PROXY_PORT/"
	[ "$output" = 400 ]
	run curl -s -o /dev/null -w '%{http_code}' --cacert "$PROXY_DIR/ca.crt" \
		-H "Authorization: Bearer $TOKEN" --request-target "/api/v1/namespaces/a b/pods" \
		"https://127.0.0.1:$PROXY_PORT/"
	[ "$output" = 400 ]
	[ "$(records)" -eq "$before" ]
}

@test "attack: a bearer token hidden in Sec-WebSocket-Protocol never reaches the API server" {
	curl -s -o /dev/null --max-time 3 --http1.1 --cacert "$PROXY_DIR/ca.crt" \
		-H "Authorization: Bearer $TOKEN" -H "Connection: Upgrade" -H "Upgrade: websocket" \
		-H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" \
		-H "Sec-WebSocket-Protocol: v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.c3RvbGVu" \
		"https://127.0.0.1:$PROXY_PORT/api/v1/namespaces/team-a/pods/web-1/exec?command=true" || true
	tail -n 1 "$REC" | jq -e '.url | test("/exec")'
	run last_headers
	[[ "$output" == *"Sec-WebSocket-Protocol: v5.channel.k8s.io"* ]]
	[[ "$output" != *"c3RvbGVu"* ]]
	[[ "$output" != *"authorization.k8s.io"* ]]
}

@test "attack: upgrades other than WebSocket and SPDY are refused, not forwarded" {
	attempt -H "Authorization: Bearer $TOKEN" -H "Connection: Upgrade" -H "Upgrade: h2c"
	[ "$code" = 400 ]
	reason_is bad_upgrade
}

@test "attack: refusals are counted by reason in /metrics" {
	run curl -sf "http://127.0.0.1:$METRICS_PORT/metrics"
	[[ "$output" == *'auth_failures_total{reason="expired"}'* ]]
	[[ "$output" == *'auth_failures_total{reason="impersonation_header"}'* ]]
	[[ "$output" == *'auth_failures_total{reason="algorithm"}'* ]]
	[[ "$output" == *'auth_failures_total{reason="basic_auth"}'* ]]
}
