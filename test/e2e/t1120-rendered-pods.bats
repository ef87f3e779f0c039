#!/usr/bin/env bats
# Rendered pods run: every Deployment `kubetenant render` emits (the webhook
# `serve`, the OIDC `proxy`) is started with its container's command and
# args exactly as rendered, on the files its volumes mount (the tenants
# ConfigMap, the cert-manager Secret, the projected service-account token
# and CA), and must pass its rendered readiness probe.
#
# How the pod is imitated (test/e2e/pod-lib.bash):
#  - files: each volume is laid out under a temporary root and only the
#    mount-path prefix of an argument is rewritten to that root;
#  - ports: the process runs in a network namespace of its own (unshare -rn,
#    an unprivileged user namespace), so the rendered ports (:8443, :9090)
#    are used unchanged, as in the pod, and cannot collide with other tests;
#  - the proxy trusts the system CAs (the render passes no --oidc-ca), so in
#    its mount namespace the test CA is bind-mounted over the system bundle,
#    and the issuer (the real oidc-provider of the proxy tests) runs in the
#    same network namespace at the tenants file's issuerURL.

load pod-lib

setup_file() {
	export KT_BIN=${KT_BIN:-$PWD/build/kubetenant}
	export ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export CASES=$ROOT/test/cases/render
}

setup() {
	unshare -rnm true 2>/dev/null ||
		skip "unprivileged user and network namespaces are not available (unshare -rnm)"
}

# Run "$@" as root of a new user, mount and network namespace with lo up.
in_pod_netns() {
	unshare -rnm bash -c 'ip link set lo up && exec "$@"' - "$@"
}

@test "rendered pods: the webhook Deployment starts as rendered and passes its readiness probe" {
	local root=$BATS_TEST_TMPDIR/webhook
	"$KT_BIN" render -f "$ROOT/examples/platform.yaml" --format json >"$BATS_TEST_TMPDIR/r.json"
	pod_layout "$BATS_TEST_TMPDIR/r.json" kubetenant-webhook "$root"
	# the argv is the rendered one: only paths moved under the root
	[ "$(sed "s|^$root||" "$root/argv" | tail -n +2 | paste -sd' ')" = \
		"$(jq -r '.items[] | select(.kind == "Deployment" and .metadata.name ==
			"kubetenant-webhook") | .spec.template.spec.containers[0].args | join(" ")' \
			"$BATS_TEST_TMPDIR/r.json")" ]
	[ "$(cat "$root/probe")" = "HTTPS 8443 /readyz" ]
	run in_pod_netns bash -c "source '$BATS_TEST_DIRNAME/pod-lib.bash' && pod_start_and_probe '$root'"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "ready: https://127.0.0.1:8443/readyz: ready: tenants file generation 1" ]
}

# The issuer, then the proxy, in one network namespace.
proxy_pod() { # root issuer-dir issuer-port
	local root=$1 dir=$2 port=$3 ipid rc
	mount --bind "$dir/trust.crt" /etc/ssl/certs/ca-certificates.crt || return 1
	node "$FIXTURES/issuer.js" "$port" "$dir/issuer.crt" "$dir/issuer.key" "$dir/sign.jwk" \
		>"$dir/issuer.log" 2>&1 &
	ipid=$!
	for _ in $(seq 1 300); do
		curl -sf -o /dev/null "https://127.0.0.1:$port/.well-known/openid-configuration" && break
		sleep 0.1
	done
	rc=0
	pod_start_and_probe "$root" || rc=$?
	kill "$ipid" 2>/dev/null
	wait "$ipid" 2>/dev/null
	return $rc
}

@test "rendered pods: the proxy Deployment starts as rendered and passes its readiness probe" {
	load proxy_lib
	fixtures_ready
	local root=$BATS_TEST_TMPDIR/proxy dir=$BATS_TEST_TMPDIR/issuer port=9443
	export PROXY_DIR=$dir
	mkdir -p "$dir"
	make_certs
	node "$FIXTURES/mint.js" --genkey k1 >"$dir/sign.jwk"
	# the tenants file of every optional feature, its issuer here
	sed "s|issuerURL: .*|issuerURL: https://127.0.0.1:$port|" "$CASES/full/tenants.yaml" \
		>"$BATS_TEST_TMPDIR/tenants.yaml"
	"$KT_BIN" render -f "$BATS_TEST_TMPDIR/tenants.yaml" --format json >"$BATS_TEST_TMPDIR/r.json"
	pod_layout "$BATS_TEST_TMPDIR/r.json" kubetenant-proxy "$root"
	[ "$(sed "s|^$root||" "$root/argv" | tail -n +2 | paste -sd' ')" = \
		"$(jq -r '.items[] | select(.kind == "Deployment" and .metadata.name ==
			"kubetenant-proxy") | .spec.template.spec.containers[0].args | join(" ")' \
			"$BATS_TEST_TMPDIR/r.json")" ]
	grep -qx -- "--issuer-url" "$root/argv"
	[ "$(cat "$root/probe")" = "HTTPS 8443 /readyz" ]
	cat /etc/ssl/certs/ca-certificates.crt "$dir/ca.crt" >"$dir/trust.crt"
	run in_pod_netns bash -c "source '$BATS_TEST_DIRNAME/pod-lib.bash' && FIXTURES='$FIXTURES' &&
		$(declare -f proxy_pod) && proxy_pod '$root' '$dir' $port"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "ready: https://127.0.0.1:8443/readyz: ok" ]
}

@test "rendered pods: every Deployment render emits is covered here" {
	"$KT_BIN" render -f "$CASES/full/tenants.yaml" --format json >"$BATS_TEST_TMPDIR/r.json"
	[ "$(pod_deployments "$BATS_TEST_TMPDIR/r.json" | sort | paste -sd' ')" = \
		"kubetenant-proxy kubetenant-webhook" ]
}
