#!/usr/bin/env bash
# demo-login.sh (make demo-login): the proxy on a laptop, no cluster needed.
#
# Starts on 127.0.0.1, each on a free port (or DEMO_ISSUER_PORT,
# DEMO_API_PORT, DEMO_PROXY_PORT):
#   - a real OpenID Connect provider (the npm package oidc-provider,
#     test/e2e/fixtures/issuer.js),
#   - a test API server (test/e2e/fixtures/upstream.js: pods in team-a,
#     namespaces, nodes and classes of three tenants),
#   - kubetenant proxy between them, with the demo's tenants file (-f),
# writes their certificates, keys, the proxy's token and the tenants file
# under a temporary directory (DEMO_DIR to choose it), prints the two
# commands a member of team-a types, and runs until Ctrl-C, which stops the
# three and removes the directory (unless DEMO_DIR was given).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
kt=${KT:-$repo/build/kubetenant}
case $kt in /*) ;; *) kt=$PWD/$kt ;; esac
fixtures=$repo/test/e2e/fixtures
pids=()

die() { echo "demo-login: $*" >&2; exit 1; }

[ -x "$kt" ] || die "no kubetenant binary at $kt (run make first)"
for c in node openssl curl; do
	command -v "$c" >/dev/null || die "'$c' is needed (scripts/install-deps.sh installs it)"
done
if [ ! -d "$fixtures/node_modules/oidc-provider" ]; then
	echo "demo-login: installing the test fixtures' npm packages (npm ci)" >&2
	(cd "$fixtures" && npm ci --no-audit --no-fund >/dev/null) || die "npm ci failed in $fixtures"
fi

if [ -n "${DEMO_DIR:-}" ]; then
	dir=$DEMO_DIR
	mkdir -p "$dir"
	keep=1
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/kubetenant-demo.XXXXXX")
	keep=0
fi

stop() {
	local p
	trap - INT TERM EXIT
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	[ "$keep" = 1 ] || rm -rf "$dir"
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

free_port() {
	node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_ready() { # url pid name
	local i
	for i in $(seq 1 300); do
		curl -sf --cacert "$dir/ca.crt" -o /dev/null "$1" && return 0
		kill -0 "$2" 2>/dev/null || { cat "$dir/$3.log" >&2; die "$3 exited"; }
		sleep 0.1
	done
	die "$3 did not answer $1 in 30 s (log: $dir/$3.log)"
}

# a private CA, and a certificate for 127.0.0.1 for each server
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
	-subj /CN=kubetenant-demo-ca -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$dir/san.ext"
for n in issuer upstream proxy; do
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$n" \
		-keyout "$dir/$n.key" -out "$dir/$n.csr" 2>/dev/null
	openssl x509 -req -in "$dir/$n.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
		-CAcreateserial -days 7 -extfile "$dir/san.ext" -out "$dir/$n.crt" 2>/dev/null
done
node "$fixtures/mint.js" --genkey demo >"$dir/signing.jwk"
echo "demo-proxy-token" >"$dir/proxy.token"
: >"$dir/upstream.jsonl"

issuer_port=${DEMO_ISSUER_PORT:-$(free_port)}
api_port=${DEMO_API_PORT:-$(free_port)}
proxy_port=${DEMO_PROXY_PORT:-$(free_port)}
metrics_port=${DEMO_METRICS_PORT:-$(free_port)}
issuer=https://127.0.0.1:$issuer_port
proxy=https://127.0.0.1:$proxy_port

cat >"$dir/tenants.yaml" <<EOF
# The demo's tenants: the issuer's test client is in group team-a-devs.
global:
  tenantHostPrefix: apps.demo.example
  clusterName: demo
  oidc:
    issuerURL: $issuer
    clientID: kubectl
nodePools:
  general:
    instances: { instanceTypes: [t3a.large] }
    costCode: demo
tenants:
  team-a:
    nodePool: general
    operatorEdGroup: team-a-devs
  shop:
    nodePool: general
    operatorEdGroup: shop-devs
EOF

node "$fixtures/issuer.js" "$issuer_port" "$dir/issuer.crt" "$dir/issuer.key" \
	"$dir/signing.jwk" >"$dir/issuer.log" 2>&1 3>&- &
pids+=($!)
wait_ready "$issuer/.well-known/openid-configuration" $! issuer
node "$fixtures/upstream.js" "$api_port" "$dir/upstream.crt" "$dir/upstream.key" \
	"$dir/upstream.jsonl" >"$dir/upstream.log" 2>&1 3>&- &
pids+=($!)
wait_ready "https://127.0.0.1:$api_port/version" $! upstream
# outside a pod: the API server's CA and the proxy's own token are files here
"$kt" proxy -f "$dir/tenants.yaml" --issuer-url "$issuer" --audience kubectl --audience kubernetes \
	--oidc-ca "$dir/ca.crt" --upstream "https://127.0.0.1:$api_port" \
	--upstream-ca "$dir/ca.crt" --token-file "$dir/proxy.token" \
	--tls-cert "$dir/proxy.crt" --tls-key "$dir/proxy.key" \
	--listen "127.0.0.1:$proxy_port" --metrics-listen "127.0.0.1:$metrics_port" \
	>"$dir/proxy.log" 2>&1 3>&- &
pids+=($!)
wait_ready "$proxy/readyz" $! proxy

name=kubetenant
[ "$(command -v kubetenant 2>/dev/null)" = "$kt" ] || name=$kt
cat <<EOF
kubetenant demo running:
  OIDC issuer      $issuer
  test API server  https://127.0.0.1:$api_port
  proxy            $proxy
  files and logs   $dir

A member of team-a types:

  $name kubeconfig -f $dir/tenants.yaml --tenant team-a --server $proxy --ca $dir/ca.crt --oidc-ca $dir/ca.crt > kubeconfig
  KUBECONFIG=kubeconfig kubectl get pods

Press Ctrl-C to stop.
EOF

# until Ctrl-C, or until one of the three dies
wait -n "${pids[@]}" || true
echo "demo-login: a server exited; the ends of their logs:" >&2
tail -n 5 "$dir"/issuer.log "$dir"/upstream.log "$dir"/proxy.log >&2 || true
exit 1
