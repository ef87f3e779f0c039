#!/usr/bin/env bash
# bench/tunnel.sh: bytes per second through an exec tunnel, side by side:
#   direct   kubectl exec -i cat -> the test API server (SPDY/3.1 over TLS)
#   kt       kubectl exec -i cat -> kubetenant proxy -> the same server
# The test API server (test/e2e/fixtures/upstream.js, node and the npm
# package spdy-transport) echoes stdin back, so every byte crosses the tunnel
# once each way; the figure is each way's rate, including kubectl's start.
# Knobs: BENCH_MB (default 32), BENCH_ROUNDS (best of, default 3).
set -eu
cd "$(dirname "$0")/.."
for t in node npm kubectl openssl curl jq; do
	command -v "$t" >/dev/null || { echo "bench/tunnel.sh: '$t' is missing; skipped"; exit 0; }
done
mb=${BENCH_MB:-32}
rounds=${BENCH_ROUNDS:-3}
KT_BIN=$PWD/${KT:-build/kubetenant}
BATS_TEST_DIRNAME=$PWD/test/e2e
BATS_FILE_TMPDIR=$(mktemp -d)
# the proxy's end-to-end set-up: CA, issuer, test API server, proxy
. test/e2e/proxy_lib.bash
trap 'proxy_env_down >/dev/null 2>&1; rm -rf "$BATS_FILE_TMPDIR"' EXIT
proxy_env_up
head -c $((mb * 1000000)) /dev/urandom >"$PROXY_DIR/in"

# best of $rounds, in MB/s each way
rate() { # port
	local best=0 t0 t1 r
	for _ in $(seq "$rounds"); do
		t0=$(date +%s%N)
		KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false kubectl --server "https://127.0.0.1:$1" \
			--certificate-authority "$PROXY_DIR/ca.crt" --token "$TOKEN" \
			exec -i web-1 -n team-a -- cat <"$PROXY_DIR/in" >"$PROXY_DIR/out"
		t1=$(date +%s%N)
		cmp -s "$PROXY_DIR/in" "$PROXY_DIR/out" || { echo "bench/tunnel.sh: bytes differ"; exit 1; }
		r=$((mb * 1000000000 / (t1 - t0)))
		[ "$r" -gt "$best" ] && best=$r
	done
	echo "$best"
}
direct=$(rate "$UPSTREAM_PORT")
viakt=$(rate "$PROXY_PORT")
printf '%-44s %8s MB/s each way\n' "exec -i cat, $mb MB, straight to the server" "$direct"
printf '%-44s %8s MB/s each way  %s\n' "exec -i cat, $mb MB, through kubetenant proxy" "$viakt" \
	"$(awk -v a="$viakt" -v b="$direct" 'BEGIN { printf "%.2fx direct", a / b }')"
