#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# t5060: the dashboard (proxy --ui) in a real browser: Debian's chromium
# driven by puppeteer-core (test/ui), the real oidc-provider with a public
# PKCE client (fixtures/ui-issuer.js) and a fake API server holding three
# tenants (fixtures/ui-cluster.js).  Screenshots go to $BATS_FILE_TMPDIR/ui
# (or $KT_UI_SHOTS when set).

load proxy_lib

UI_DIR=$BATS_TEST_DIRNAME/../ui

ui_ready() {
	command -v "${CHROMIUM:-/usr/bin/chromium}" >/dev/null || return 1
	[ -d "$UI_DIR/node_modules/puppeteer-core" ] ||
		(cd "$UI_DIR" && npm ci --no-audit --no-fund >/dev/null 2>&1)
}

setup_file() {
	fixtures_ready
	ui_ready || skip "chromium or puppeteer-core missing (scripts/install-deps.sh)"
	proxy_dir_up
	export ISSUER_REC=$PROXY_DIR/issuer.jsonl CLUSTER_REC=$PROXY_DIR/cluster.jsonl
	: >"$ISSUER_REC"
	: >"$CLUSTER_REC"
	export PROXY_PORT=$(free_port) METRICS_PORT=$(free_port)
	export PROXY=https://127.0.0.1:$PROXY_PORT
	serve_fixture issuer ui-issuer.js /.well-known/openid-configuration "$PROXY_DIR/sign.jwk" \
		"$PROXY" "$ISSUER_REC"
	export ISSUER_PORT=$FIXTURE_PORT ISSUER=https://127.0.0.1:$FIXTURE_PORT
	serve_fixture upstream ui-cluster.js /version "$CLUSTER_REC"
	export UPSTREAM_PORT=$FIXTURE_PORT
	start_proxy --ui
}

teardown_file() { proxy_env_down; }

ui_get() { # path [curl args]: headers and body
	curl -sS -D - --cacert "$PROXY_DIR/ca.crt" "$@"
}

@test "ui: the files are served without a token, with a strict CSP and no framing" {
	local before=$(wc -l <"$CLUSTER_REC")
	run ui_get "$PROXY/ui/"
	[ "$status" -eq 0 ]
	[[ "$output" == "HTTP/1.1 200"* ]]
	[[ "$output" == *$'\r\nContent-Security-Policy: default-src \'self\'; script-src \'self\'; style-src \'self\'; '* ]]
	[[ "$output" == *"connect-src 'self' $ISSUER;"* ]]
	[[ "$output" == *"frame-ancestors 'none'"* ]]
	[[ "$output" != *"unsafe-"* ]]
	[[ "$output" == *$'\r\nX-Frame-Options: DENY\r\n'* ]]
	[[ "$output" == *$'\r\nX-Content-Type-Options: nosniff\r\n'* ]]
	[[ "$output" == *$'\r\nReferrer-Policy: no-referrer\r\n'* ]]
	[[ "$output" == *'<script src="app.js" defer></script>'* ]]
	# no inline script or style in the page: the CSP would block them
	[ "$(grep -c '<script>' <<<"$output")" -eq 0 ]
	[ "$(grep -c '<style' <<<"$output")" -eq 0 ]
	[ "$(grep -c 'style=' <<<"$output")" -eq 0 ]
	run ui_get "$PROXY/ui/config.json" -o /dev/null
	[[ "$output" == *"X-Frame-Options: DENY"* ]]
	run curl -sS --cacert "$PROXY_DIR/ca.crt" "$PROXY/ui/config.json"
	[ "$(jq -r .issuer <<<"$output")" = "$ISSUER" ]
	[ "$(jq -r .clientId <<<"$output")" = "kubetenant-dashboard" ]
	# nothing reached the API server for these
	[ "$(wc -l <"$CLUSTER_REC")" -eq "$before" ]
}

@test "ui: types, ETag revalidation, redirects, unknown files and methods" {
	local before=$(wc -l <"$CLUSTER_REC")
	run ui_get "$PROXY/ui/app.js" -o /dev/null
	[[ "$output" == *$'Content-Type: text/javascript; charset=utf-8\r\n'* ]]
	etag=$(grep -i '^etag:' <<<"$output" | cut -d' ' -f2 | tr -d '\r')
	[ -n "$etag" ]
	[[ "$output" == *"Cache-Control: no-cache"* ]]
	run ui_get "$PROXY/ui/app.js" -o /dev/null -H "If-None-Match: $etag"
	[[ "$output" == "HTTP/1.1 304"* ]]
	run ui_get "$PROXY/ui/app.css" -o /dev/null
	[[ "$output" == *"Content-Type: text/css; charset=utf-8"* ]]
	run ui_get "$PROXY/ui/favicon.svg" -o /dev/null
	[[ "$output" == *"Content-Type: image/svg+xml"* ]]
	run ui_get "$PROXY/ui" -o /dev/null
	[[ "$output" == "HTTP/1.1 308"* ]]
	[[ "$output" == *$'Location: /ui/\r\n'* ]]
	run ui_get "$PROXY/ui/../api/v1/namespaces" -o /dev/null --path-as-is
	[[ "$output" == "HTTP/1.1 404"* ]]
	run ui_get "$PROXY/ui/secret" -o /dev/null
	[[ "$output" == "HTTP/1.1 404"* ]]
	run ui_get "$PROXY/ui/" -o /dev/null -X POST -d x=1
	[[ "$output" == "HTTP/1.1 405"* ]]
	# the API next to it still wants a token
	run ui_get "$PROXY/api/v1/namespaces" -o /dev/null
	[[ "$output" == "HTTP/1.1 401"* ]]
	[ "$(wc -l <"$CLUSTER_REC")" -eq "$before" ]
}

@test "ui: --ui accepts the dashboard's audience next to --audience, and no other" {
	claims() { # aud
		printf '{"header":{"alg":"RS256","kid":"k1","typ":"JWT"},"claims":{"iss":"%s","aud":"%s","sub":"alice","groups":["team-a-devs"],"exp":"+600","iat":"-5"}}' "$ISSUER" "$1"
	}
	for aud in kubernetes kubetenant-dashboard other; do
		tok=$(mint "$(claims "$aud")")
		code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$PROXY_DIR/ca.crt" \
			-H "Authorization: Bearer $tok" "$PROXY/api/v1/namespaces/team-a/pods")
		echo "$aud $code"
		case $aud in
		other) [ "$code" = 401 ] ;;
		*) [ "$code" = 200 ] ;;
		esac
	done
}

@test "ui: without --ui the proxy serves no dashboard (401 like any API path)" {
	"$KT_BIN" proxy --issuer-url "$ISSUER" --audience kubernetes --oidc-ca "$PROXY_DIR/ca.crt" \
		--upstream "https://127.0.0.1:$UPSTREAM_PORT" --upstream-ca "$PROXY_DIR/ca.crt" \
		--token-file "$PROXY_DIR/sa.token" --tls-cert "$PROXY_DIR/proxy.crt" \
		--tls-key "$PROXY_DIR/proxy.key" --listen "127.0.0.1:0" --check-config
	port=$(free_port)
	"$KT_BIN" proxy --issuer-url "$ISSUER" --audience kubernetes --oidc-ca "$PROXY_DIR/ca.crt" \
		--upstream "https://127.0.0.1:$UPSTREAM_PORT" --upstream-ca "$PROXY_DIR/ca.crt" \
		--token-file "$PROXY_DIR/sa.token" --tls-cert "$PROXY_DIR/proxy.crt" \
		--tls-key "$PROXY_DIR/proxy.key" --listen "127.0.0.1:$port" --metrics-listen off \
		>"$PROXY_DIR/plain.log" 2>&1 &
	pid=$!
	wait_https "https://127.0.0.1:$port/readyz" $pid
	run ui_get "https://127.0.0.1:$port/ui/" -o /dev/null
	kill $pid
	[[ "$output" == "HTTP/1.1 401"* ]]
}

@test "ui: in chromium: sign in, tenants, pod log, Git sync, quota, cost, sign out, no tenant" {
	export OUT=${KT_UI_SHOTS:-$BATS_FILE_TMPDIR/ui}
	mkdir -p "$OUT"
	run node "$UI_DIR/dashboard.test.js"
	echo "$output"
	echo "proxy log:"; tail -n 20 "$PROXY_DIR/proxy.log"
	[ "$status" -eq 0 ]
	for f in 0-signed-out 1-tenants 2-tenant 3-pod 4-git 5-allowed 6-cost 7-no-tenant; do
		[ -s "$OUT/$f.png" ]
	done
}
