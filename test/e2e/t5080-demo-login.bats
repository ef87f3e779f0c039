#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# t5080: scripts/demo-login.sh (make demo-login) starts the OIDC provider,
# the test API server and the proxy on 127.0.0.1, prints the two commands
# a member types, and stops them all on Ctrl-C.

REPO=$BATS_TEST_DIRNAME/../..
KT_BIN=${KT_BIN:-$REPO/build/kubetenant}

setup() {
	DEMO_DIR=$BATS_TEST_TMPDIR/demo
	OUT=$BATS_TEST_TMPDIR/out
}

teardown() {
	[ -n "${DEMO_PID:-}" ] && kill -TERM "$DEMO_PID" 2>/dev/null || true
	return 0
}

start_demo() { # env...: start it and wait (up to 60 s) for its commands
	# job control on: a background job of a plain shell ignores SIGINT, as
	# a script run from a terminal does not
	set -m
	env KT="$KT_BIN" "$@" "$REPO/scripts/demo-login.sh" >"$OUT" 2>&1 3>&- &
	DEMO_PID=$!
	set +m
	for _ in $(seq 1 600); do
		grep -q "Press Ctrl-C to stop" "$OUT" && return 0
		kill -0 "$DEMO_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$OUT"
	return 1
}

@test "demo-login: prints the member's two commands; the proxy answers, Ctrl-C stops it all" {
	start_demo DEMO_DIR="$DEMO_DIR"
	cat "$OUT"
	proxy=$(awk '$1 == "proxy" {print $2}' "$OUT")
	[[ "$proxy" == https://127.0.0.1:* ]]
	grep -qxF "  $KT_BIN kubeconfig -f $DEMO_DIR/tenants.yaml --tenant team-a --server $proxy --ca $DEMO_DIR/ca.crt --oidc-ca $DEMO_DIR/ca.crt > kubeconfig" "$OUT"
	grep -qxF "  KUBECONFIG=kubeconfig kubectl get pods" "$OUT"
	run curl -sf --cacert "$DEMO_DIR/ca.crt" "$proxy/readyz"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
	# a token from the demo's issuer gets through the proxy (tenant-scoped list included)
	issuer=$(awk '$1 == "OIDC" {print $3}' "$OUT")
	token=$(curl -sf --cacert "$DEMO_DIR/ca.crt" -u kubectl-ci:ci-secret \
		-d grant_type=client_credentials -d resource=urn:kubetenant:api "$issuer/token" | jq -r .access_token)
	run kubectl --server "$proxy" --certificate-authority "$DEMO_DIR/ca.crt" --token "$token" \
		get ns -o name
	[ "$status" -eq 0 ]
	[ "$output" = "namespace/team-a" ]
	# Ctrl-C: the script and its three servers end
	kill -INT "$DEMO_PID"
	for _ in $(seq 1 100); do kill -0 "$DEMO_PID" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$DEMO_PID" 2>/dev/null
	wait "$DEMO_PID" || true
	DEMO_PID=
	run curl -s --cacert "$DEMO_DIR/ca.crt" "$proxy/readyz"
	[ "$status" -ne 0 ]
	[ -z "$(pgrep -f "$DEMO_DIR/" || true)" ]
}

@test "demo-login: without DEMO_DIR its temporary directory goes when it stops" {
	start_demo TMPDIR="$BATS_TEST_TMPDIR"
	dir=$(awk '$1 == "files" {print $4}' "$OUT")
	[[ "$dir" == "$BATS_TEST_TMPDIR"/kubetenant-demo.* ]]
	[ -f "$dir/tenants.yaml" ]
	kill -TERM "$DEMO_PID"
	for _ in $(seq 1 100); do kill -0 "$DEMO_PID" 2>/dev/null || break; sleep 0.1; done
	DEMO_PID=
	[ ! -e "$dir" ]
}

@test "demo-login: a missing binary is said plainly" {
	run env KT=/nonexistent/kubetenant "$REPO/scripts/demo-login.sh"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no kubetenant binary at /nonexistent/kubetenant"* ]]
}
