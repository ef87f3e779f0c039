#!/usr/bin/env bats
# t5030: `kubetenant kubeconfig`, and the kubeconfig it prints used for real:
# kubectl runs the exec plugin (a stand-in for kubelogin that hands out a
# token from the test issuer), then talks to kubetenant proxy with it.

load proxy_lib

setup_file() {
	proxy_env_up
	export TENANTS=$PROXY_DIR/tenants.yaml
	cat >"$TENANTS" <<-EOF
	global:
	  tenantHostPrefix: tenants.example.org
	  clusterName: test-cluster
	  oidc:
	    issuerURL: $ISSUER
	    clientID: kubernetes
	    usernameClaim: email
	    proxyHostname: kube.example.org
	nodePools:
	  pool:
	    instances:
	      instanceTypes: ["t3a.large"]
	    costCode: org1
	tenants:
	  team-a:
	    nodePool: pool
	    operatorEdGroup: team.devs
	EOF
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
	run "$KT_BIN" kubeconfig -f "$TENANTS" --tenant team-a
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
		>"$BATS_TEST_TMPDIR/kc"
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
