#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# t5070: `proxy -f`: real kubectl lists and watches namespaces, nodes and
# classes through the proxy and sees only its tenants' (a member of team-a
# and, through a read-only group, of shop); the fake API server
# (fixtures/upstream.js) refuses these lists to anyone impersonated, as
# RBAC does to a member, and each of its watches adds an object of a third
# tenant that must never reach kubectl.

load proxy_lib

member_token() { # groups json
	mint "$(jq -cn --arg iss "$ISSUER" --argjson g "$1" '{claims: {iss: $iss, aud: "kubernetes",
		sub: "alice", exp: "+600", iat: "-5", groups: $g}}')"
}

setup_file() {
	proxy_env_up
	cp "$BATS_TEST_DIRNAME/../fixtures/scope-tenants.yaml" "$PROXY_DIR/tenants.yaml"
	stop_proxy
	start_proxy -f "$PROXY_DIR/tenants.yaml"
	export MEMBER=$(member_token '["team-a-devs", "shop-readers"]')
	export NOBODY=$(member_token '["someone-else"]')
	export TOKEN=$MEMBER
}
teardown_file() { proxy_env_down; }

names() { # kubectl args...: the names it prints, sorted, on one line
	kc get "$@" -o name | sed 's|.*/||' | sort | tr '\n' ' '
}

# The last request upstream for a path: its headers as "Name: value" lines.
headers_of() {
	grep -F "\"url\":\"$1" "$REC" | tail -n 1 | jq -r '.headers[] | "\(.[0]): \(.[1])"'
}

@test "scope: kubectl get ns shows exactly the member's two namespaces" {
	run kc get ns
	[ "$status" -eq 0 ]
	echo "$output"
	[[ "$output" == *"NAME"*"STATUS"* ]]
	[ "$(echo "$output" | awk 'NR > 1 {print $1}' | sort | tr '\n' ' ')" = "shop team-a " ]
	[ "$(names ns)" = "shop team-a " ]
	# the JSON form too
	run kc get ns -o json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c '[.items[].metadata.name]')" = '["team-a","shop"]' ]
}

@test "scope: the list goes upstream as the proxy itself, query kept, JSON asked" {
	run kc get ns -l env=prod --chunk-size 7
	[ "$status" -eq 0 ]
	run grep -F '"url":"/api/v1/namespaces?' "$REC"
	[[ "$(tail -n 1 <<<"$output" | jq -r .url)" == "/api/v1/namespaces?labelSelector=env%3Dprod&limit=7" ]]
	run headers_of "/api/v1/namespaces?labelSelector"
	echo "$output"
	[[ "$output" == *"Authorization: Bearer proxy-sa-token-1"* ]]
	[[ "$output" == *"Accept: application/json;as=Table;v=v1;g=meta.k8s.io,"* ]]
	[[ "$output" != *"Impersonate-"* ]]
	[[ "$output" != *"$TOKEN"* ]]
	[[ "$output" != *"Accept-Encoding"* ]]
}

@test "scope: label and field selectors still apply" {
	[ "$(names ns -l env=prod)" = "team-a " ]
	[ "$(names ns -l env=dev)" = "shop " ]
	[ "$(names ns --field-selector metadata.name=shop)" = "shop " ]
	[ "$(names ns --field-selector metadata.name=team-b)" = "" ]
	[ "$(names ns --field-selector metadata.name!=shop)" = "team-a " ]
}

@test "scope: get ns of another tenant, and of its own, stays with RBAC (forbidden)" {
	run kc get ns team-b
	[ "$status" -ne 0 ]
	[[ "$output" == *'namespaces "team-b" is forbidden: User "oidc:alice"'* ]]
	run headers_of "/api/v1/namespaces/team-b"
	[[ "$output" == *"Impersonate-User: oidc:alice"* ]]
	[[ "$output" == *"Impersonate-Group: oidc:shop-readers"* ]]
	# writes are forwarded as the member too
	run curl -s --cacert "$PROXY_DIR/ca.crt" -H "Authorization: Bearer $TOKEN" \
		-X DELETE "https://127.0.0.1:$PROXY_PORT/api/v1/namespaces"
	run headers_of "/api/v1/namespaces\""
	[[ "$(grep -F '"url":"/api/v1/namespaces"' "$REC" | tail -n 1 | jq -r .method)" = DELETE ]]
	[[ "$output" == *"Impersonate-User: oidc:alice"* ]]
}

@test "scope: a user in no tenant gets an empty list, not Forbidden" {
	TOKEN=$NOBODY run kc get ns
	[ "$status" -eq 0 ]
	[[ "$output" == "No resources found"* ]]
	TOKEN=$NOBODY run kc get storageclasses -o json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq '.items | length')" -eq 0 ]
}

# kubectl --watch for 3 s: the fixture's stream sends a third tenant's
# object, then a change to the first object, then a BOOKMARK.
watch_for() { # kubectl args...
	local out=$BATS_TEST_TMPDIR/watch
	kc get "$@" --watch >"$out" 2>&1 &
	local pid=$!
	sleep 3
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	cat "$out"
}

@test "scope: kubectl get ns --watch never shows a third tenant's namespace" {
	run watch_for ns
	echo "$output"
	[[ "$output" == *"NAME"*"STATUS"* ]]
	# the list, then the MODIFIED event of team-a: the events do pass
	[ "$(grep -c '^team-a ' <<<"$output")" -eq 2 ]
	[ "$(grep -c '^shop ' <<<"$output")" -eq 1 ]
	[[ "$output" != *team-c* ]]
	[[ "$output" != *team-b* ]]
	[[ "$output" != *kube-system* ]]
	# the watch also went upstream as the proxy
	run headers_of "/api/v1/namespaces?"
	[[ "$(grep -F '"url":"/api/v1/namespaces?' "$REC" | tail -n 1 | jq -r .url)" == *watch=true* ]]
	[[ "$output" != *"Impersonate-"* ]]
}

@test "scope: a watch in JSON is filtered event by event too" {
	run watch_for ns -o json --output-watch-events
	echo "$output"
	[ "$(jq -rs '[.[] | "\(.type) \(.object.metadata.name)"] | join(",")' <<<"$output")" = \
		"ADDED team-a,ADDED shop,MODIFIED team-a" ]
	[[ "$output" != *team-c* ]]
}

@test "scope: BOOKMARK events pass, as the API server sends them" {
	run curl -s -N --max-time 2 --cacert "$PROXY_DIR/ca.crt" -H "Authorization: Bearer $TOKEN" \
		"https://127.0.0.1:$PROXY_PORT/api/v1/namespaces?watch=1&allowWatchBookmarks=true&resourceVersion=20"
	echo "$output"
	[ "$(jq -rs '[.[] | "\(.type) \(.object.metadata.name // .object.metadata.resourceVersion)"] | join(",")' <<<"$output")" = \
		"MODIFIED team-a,BOOKMARK 23" ]
}

@test "scope: nodes of the tenants' pools only, listed and watched" {
	[ "$(names nodes)" = "node-a1 node-shop1 " ]
	[ "$(names nodes -l kubetenant.io/node-pool=pool-b)" = "" ]
	run watch_for nodes
	echo "$output"
	[ "$(grep -c '^node-a1 ' <<<"$output")" -eq 2 ]
	[[ "$output" != *node-c1* ]]
	[[ "$output" != *node-b1* ]]
	[[ "$output" != *node-system* ]]
	run kc get node node-b1
	[ "$status" -ne 0 ]
	[[ "$output" == *forbidden* ]]
}

@test "scope: classes the tenants may use only" {
	[ "$(names priorityclasses)" = "standard team-a-high " ]
	[ "$(names runtimeclasses)" = "gvisor " ]
	# team-a names nginx-a; shop names none, so it gets the cluster's default
	[ "$(names ingressclasses)" = "nginx-a public " ]
	# the tenants file names no storage class: the default only
	[ "$(names storageclasses)" = "gp3 " ]
	run watch_for ingressclasses
	echo "$output"
	[[ "$output" == *nginx-a* ]]
	[[ "$output" != *nginx-c* ]]
	[[ "$output" != *nginx-b* ]]
	run watch_for priorityclasses
	[[ "$output" != *team-c-high* ]]
	[[ "$output" != *team-b-high* ]]
}

@test "scope: a client asking for protobuf gets filtered JSON" {
	run curl -s --cacert "$PROXY_DIR/ca.crt" -H "Authorization: Bearer $TOKEN" \
		-H 'Accept: application/vnd.kubernetes.protobuf' -H 'Accept-Encoding: gzip' \
		"https://127.0.0.1:$PROXY_PORT/api/v1/namespaces"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c '[.items[].metadata.name]')" = '["team-a","shop"]' ]
	run headers_of "/api/v1/namespaces\""
	[[ "$output" == *"Accept: application/json"* ]]
	[[ "$output" != *"protobuf"* ]]
}

@test "scope: the tenants file is reloaded when it changes" {
	sed -i 's/    operatorEdGroup: team-b-devs/    operatorEdGroup: team-b-devs\n    readOnlyGroups: [shop-readers]/' \
		"$PROXY_DIR/tenants.yaml"
	for _ in $(seq 1 50); do
		[ "$(names ns)" = "shop team-a team-b " ] && break
		sleep 0.2
	done
	[ "$(names ns)" = "shop team-a team-b " ]
	# an invalid file is refused and the last good one keeps serving
	echo "tenants: [" >>"$PROXY_DIR/tenants.yaml"
	sleep 3
	[ "$(names ns)" = "shop team-a team-b " ]
	grep -q "tenants file rejected" "$PROXY_DIR/proxy.log"
	cp "$BATS_TEST_DIRNAME/../fixtures/scope-tenants.yaml" "$PROXY_DIR/tenants.yaml"
	for _ in $(seq 1 50); do
		[ "$(names ns)" = "shop team-a " ] && break
		sleep 0.2
	done
	[ "$(names ns)" = "shop team-a " ]
}

@test "scope: an invalid tenants file stops the proxy at start with its line" {
	printf 'global: {clusterName: x}\ntenants: {a: {nodePool: nope}}\n' >"$BATS_TEST_TMPDIR/bad.yaml"
	run "$KT_BIN" proxy --issuer-url "$ISSUER" --audience kubernetes --oidc-ca "$PROXY_DIR/ca.crt" \
		--upstream "https://127.0.0.1:$UPSTREAM_PORT" --token-file "$PROXY_DIR/sa.token" \
		--tls-cert "$PROXY_DIR/proxy.crt" --tls-key "$PROXY_DIR/proxy.key" \
		-f "$BATS_TEST_TMPDIR/bad.yaml" --check-config
	[ "$status" -eq 3 ]
	[[ "$output" == *"bad.yaml:1:"* ]]
}
