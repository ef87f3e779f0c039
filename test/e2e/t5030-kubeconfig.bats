#!/usr/bin/env bats
# t5030: `kubetenant kubeconfig`, and the kubeconfig it prints used for real:
# kubectl runs the exec plugin (a stand-in for kubelogin that hands out a
# token from the test issuer), then talks to kubetenant proxy with it.
# `kubetenant login` behind the default kubeconfig is t5050's.

load proxy_lib

setup_file() {
	proxy_env_up
	write_tenants kubernetes
}

teardown_file() { proxy_env_down; }

@test "kubeconfig: --help, missing tenant, unknown option" {
	run "$KT_BIN" kubeconfig --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--tenant NAME"* ]]
	run "$KT_BIN" kubeconfig -f "$TENANTS"
	[ "$status" -eq 2 ]
	[[ "$output" == *"which tenant?"* ]]
	run "$KT_BIN" kubeconfig -f "$TENANTS" --tenant team-a --bogus
	[ "$status" -eq 2 ]
	run "$KT_BIN" kubeconfig -f "$TENANTS" --tenant team-a --server http://plain
	[ "$status" -eq 2 ]
}

@test "kubeconfig: names the proxy, the tenant's namespace and the kubelogin plugin" {
	run "$KT_BIN" kubeconfig -f "$TENANTS" --tenant team-a --kubelogin
	[ "$status" -eq 0 ]
	echo "$output" >"$BATS_TEST_TMPDIR/kc"
	# (stdout only: kubectl notes on stderr that this machine has no kubelogin)
	output=$(kubectl config view --kubeconfig "$BATS_TEST_TMPDIR/kc" -o json 2>/dev/null)
	echo "$output" | jq -e '.clusters[0].cluster.server == "https://kube.example.org"'
	echo "$output" | jq -e '.["current-context"] == "team-a@test-cluster"'
	echo "$output" | jq -e '.contexts[0].context.namespace == "team-a"'
	echo "$output" | jq -e --arg iss "$ISSUER" '.users[0].user.exec.args ==
		["oidc-login", "get-token", "--oidc-issuer-url=\($iss)", "--oidc-client-id=kubernetes",
		 "--oidc-extra-scope=email", "--oidc-extra-scope=groups"]'
	echo "$output" | jq -e '.users[0].user.exec.command == "kubectl"'
}

@test "kubeconfig: unknown tenant, or no oidc section, is a usage error" {
	run "$KT_BIN" kubeconfig -f "$TENANTS" --tenant nobody
	[ "$status" -eq 2 ]
	[[ "$output" == *"tenant 'nobody' is not defined"* ]]
	sed '/oidc:/,/proxyHostname/d' "$TENANTS" >"$BATS_TEST_TMPDIR/no-oidc.yaml"
	run "$KT_BIN" kubeconfig -f "$BATS_TEST_TMPDIR/no-oidc.yaml" --tenant team-a
	[ "$status" -eq 2 ]
	[[ "$output" == *"global.oidc"* ]]
	run "$KT_BIN" kubeconfig -f /nonexistent.yaml --tenant team-a
	[ "$status" -eq 3 ]
}

@test "kubeconfig: kubectl logs in through the exec plugin and reaches the proxy" {
	# a stand-in for kubelogin: records its arguments, prints an ExecCredential
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	tok=$(mint "$(jq -cn --arg iss "$ISSUER" '{claims: {iss: $iss, aud: "kubernetes", sub: "1",
		email: "alice@example.org", email_verified: true, groups: ["team.devs"], exp: "+600"}}')")
	cat >"$BATS_TEST_TMPDIR/bin/kubectl-oidc_login" <<-EOF
	#!/bin/sh
	echo "\$@" >"$BATS_TEST_TMPDIR/plugin-args"
	printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"%s"}}\n' "$tok"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/bin/kubectl-oidc_login"
	"$KT_BIN" kubeconfig -f "$TENANTS" --tenant team-a --server "https://127.0.0.1:$PROXY_PORT" \
		--kubelogin >"$BATS_TEST_TMPDIR/kc"
	stop_proxy
	start_proxy --username-claim email
	PATH=$BATS_TEST_TMPDIR/bin:$PATH run kubectl --kubeconfig "$BATS_TEST_TMPDIR/kc" \
		--certificate-authority "$PROXY_DIR/ca.crt" get pods -o name
	[ "$status" -eq 0 ]
	[[ "$output" == *"pod/web-1"* ]]
	grep -q -- "--oidc-issuer-url=$ISSUER --oidc-client-id=kubernetes" "$BATS_TEST_TMPDIR/plugin-args"
	# the context's namespace was used, and the proxy impersonated the email user
	tail -n 1 "$REC" | jq -e '.url | startswith("/api/v1/namespaces/team-a/pods")'
	run last_headers
	[[ "$output" == *"Impersonate-User: oidc:alice@example.org"* ]]
	[[ "$output" == *"Impersonate-Group: oidc:team.devs"* ]]
}

@test "kubeconfig: by default the user logs in with kubetenant login" {
	run "$KT_BIN" kubeconfig -f "$TENANTS" --tenant team-a --oidc-ca /etc/issuer-ca.pem
	[ "$status" -eq 0 ]
	echo "$output" >"$BATS_TEST_TMPDIR/kc"
	output=$(kubectl config view --kubeconfig "$BATS_TEST_TMPDIR/kc" -o json)
	echo "$output" | jq -e '.users[0].user.exec.command == "kubetenant"'
	echo "$output" | jq -e '.users[0].user.exec.apiVersion == "client.authentication.k8s.io/v1"'
	echo "$output" | jq -e --arg iss "$ISSUER" '.users[0].user.exec.args ==
		["login", "--issuer-url=\($iss)", "--client-id=kubernetes", "--scope=email",
		 "--scope=groups", "--oidc-ca=/etc/issuer-ca.pem"]'
	# no private CA given: kubectl trusts the system's, nothing is embedded
	echo "$output" | jq -e '.clusters[0].cluster | has("certificate-authority-data") | not'
}

@test "kubeconfig: --ca embeds the proxy's CA, and refuses what is not a certificate" {
	run "$KT_BIN" kubeconfig -f "$TENANTS" --tenant team-a --ca "$PROXY_DIR/ca.crt"
	[ "$status" -eq 0 ]
	echo "$output" >"$BATS_TEST_TMPDIR/kc"
	kubectl config view --kubeconfig "$BATS_TEST_TMPDIR/kc" --raw -o json |
		jq -r '.clusters[0].cluster["certificate-authority-data"]' | base64 -d |
		cmp - "$PROXY_DIR/ca.crt"
	run "$KT_BIN" kubeconfig -f "$TENANTS" --tenant team-a --ca "$PROXY_DIR/proxy.key"
	[ "$status" -eq 2 ]
	[[ "$output" == *"not a PEM certificate"* ]]
	run "$KT_BIN" kubeconfig -f "$TENANTS" --tenant team-a --ca /nonexistent.pem
	[ "$status" -eq 3 ]
}

@test "kubeconfig: --all writes one context per tenant of the member's groups" {
	run "$KT_BIN" kubeconfig -f "$TENANTS" --all --group team.devs --group auditors
	[ "$status" -eq 0 ]
	echo "$output" >"$BATS_TEST_TMPDIR/kc"
	output=$(kubectl config view --kubeconfig "$BATS_TEST_TMPDIR/kc" -o json)
	echo "$output" | jq -e '[.contexts[].name] == ["team-a@test-cluster", "team-b@test-cluster"]'
	echo "$output" | jq -e '[.contexts[].context.namespace] == ["team-a", "team-b"]'
	echo "$output" | jq -e '.["current-context"] == "team-a@test-cluster"'
	run "$KT_BIN" kubeconfig -f "$TENANTS" --all --group nobody
	[ "$status" -eq 2 ]
	[[ "$output" == *"no tenant"* ]]
	run "$KT_BIN" kubeconfig -f "$TENANTS" --all
	[ "$status" -eq 2 ]
	run "$KT_BIN" kubeconfig -f "$TENANTS" --all --group x --tenant team-a
	[ "$status" -eq 2 ]
}

@test "kubeconfig: --from-cluster reads kube-public/kubetenant-info anonymously" {
	local d=$BATS_TEST_TMPDIR port
	jq -n --arg iss "$ISSUER" --rawfile ca "$PROXY_DIR/ca.crt" '{kind: "ConfigMap", apiVersion: "v1",
		metadata: {name: "kubetenant-info", namespace: "kube-public"},
		data: {issuerURL: $iss, clientID: "kubectl", proxyURL: "https://kube.example.org",
		       "ca.crt": $ca, cluster: "prod"}}' >"$d/cm.json"
	port=$(free_port)
	node "$FIXTURES/static.js" "$port" "$PROXY_DIR/upstream.crt" "$PROXY_DIR/upstream.key" \
		/api/v1/namespaces/kube-public/configmaps/kubetenant-info "$d/cm.json" "$d/req.log" &
	echo $! >"$d/pid"
	wait_https "https://127.0.0.1:$port/healthz" "$(cat "$d/pid")" || true
	run "$KT_BIN" kubeconfig --from-cluster "https://127.0.0.1:$port" --ca "$PROXY_DIR/ca.crt" \
		--tenant team-a
	[ "$status" -eq 0 ]
	echo "$output" >"$d/kc"
	output=$(kubectl config view --kubeconfig "$d/kc" --raw -o json)
	echo "$output" | jq -e '.clusters[0].cluster.server == "https://kube.example.org"'
	echo "$output" | jq -e '.["current-context"] == "team-a@prod"'
	echo "$output" | jq -e --arg iss "$ISSUER" '.users[0].user.exec.args[0:3] ==
		["login", "--issuer-url=\($iss)", "--client-id=kubectl"]'
	echo "$output" | jq -r '.clusters[0].cluster["certificate-authority-data"]' | base64 -d |
		cmp - "$PROXY_DIR/ca.crt"
	# anonymous: no Authorization header reached the API server
	run grep -ci authorization "$d/req.log"
	[ "$output" = 0 ]
	[ "$(wc -l <"$d/req.log")" -ge 2 ]
	grep -q '"accept":"application/json"' "$d/req.log"
	# the server's certificate is verified: not with the system CAs
	run "$KT_BIN" kubeconfig --from-cluster "https://127.0.0.1:$port"
	[ "$status" -eq 3 ]
	[[ "$output" == *"cannot reach 'https://127.0.0.1:$port/api/v1/"* ]]
	# a cluster without the ConfigMap: the status, and what to check
	run "$KT_BIN" kubeconfig --from-cluster "https://127.0.0.1:$port/elsewhere" \
		--ca "$PROXY_DIR/ca.crt" --tenant team-a
	[ "$status" -eq 3 ]
	[[ "$output" == *"answered HTTP status 404: does the cluster run kubetenant"* ]]
	# an answer over 64 KiB is cut off, not read
	jq --arg pad "$(head -c 65536 /dev/zero | tr '\0' x)" '.data.pad = $pad' "$d/cm.json" >"$d/big.json"
	cp "$d/cm.json" "$d/small.json" && mv "$d/big.json" "$d/cm.json"
	run "$KT_BIN" kubeconfig --from-cluster "https://127.0.0.1:$port" --ca "$PROXY_DIR/ca.crt" \
		--tenant team-a
	[ "$status" -eq 3 ]
	[[ "$output" == *"kubetenant-info' is larger than 65536 bytes"* ]]
	mv "$d/small.json" "$d/cm.json"
	# a hostile ConfigMap cannot send the member's login over plain HTTP
	jq '.data.issuerURL = "http://evil.example"' "$d/cm.json" >"$d/cm2.json" && mv "$d/cm2.json" "$d/cm.json"
	run "$KT_BIN" kubeconfig --from-cluster "https://127.0.0.1:$port" --ca "$PROXY_DIR/ca.crt"
	[ "$status" -eq 2 ]
	[[ "$output" == *"https://"* ]]
	kill "$(cat "$d/pid")"
}
