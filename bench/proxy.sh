#!/usr/bin/env bash
# bench/proxy.sh: requests/s and latency of one API call, side by side:
#   direct   wrk -> upstream (nginx serving a pod list over HTTPS)
#   nginx    wrk -> nginx reverse proxy (TLS both sides, keepalive) -> upstream
#   kt       wrk -> kubetenant proxy (token verified once, then cached) -> upstream
# The "added p50" is each path's median latency minus the direct one.  Targets
# (issue 6): kubetenant >= 0.8x nginx's throughput, <= 100 us added p50.
# Two floors follow, the libraries the proxy is built on doing only their
# part: its listener answering /healthz (libmicrohttpd + GnuTLS, no
# upstream), and build/bench/bench_curl doing the upstream hop with the
# proxy's libcurl options and nothing else.  Their CPU per request, summed,
# is what kubetenant cannot go below however little its own code costs.
# Short runs on loopback; figures on a shared 2-core machine are noisy.
# BENCH_HOLD=1 starts everything, prints the ports and token, and waits (for
# profiling with perf or strace) instead of running wrk.
set -eu
cd "$(dirname "$0")/.."
KT=${KT:-build/kubetenant}
BUILD=${BUILD:-build}
DUR=${BENCH_DURATION:-5s}
CONNS=${BENCH_CONNECTIONS:-8}
for t in nginx wrk node openssl curl; do
	command -v "$t" >/dev/null || { echo "bench/proxy.sh: '$t' is missing; skipped"; exit 0; }
done
dir=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for f in "$dir"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
UP=$(port) ISS=$(port) NGX=$(port) KTP=$(port)

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=bench-ca \
	-keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
	-keyout "$dir/srv.key" -out "$dir/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$dir/ext"
openssl x509 -req -in "$dir/srv.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 1 \
	-extfile "$dir/ext" -out "$dir/srv.crt" 2>/dev/null

# the issuer is static files: discovery and the JWKS of a key made here
node test/e2e/fixtures/mint.js --genkey bench >"$dir/sign.jwk"
mkdir -p "$dir/www/.well-known"
printf '{"issuer":"https://127.0.0.1:%s","jwks_uri":"https://127.0.0.1:%s/jwks"}' "$ISS" "$ISS" \
	>"$dir/www/.well-known/openid-configuration"
node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));delete j.d;delete j.p;delete j.q;delete j.dp;delete j.dq;delete j.qi;console.log(JSON.stringify({keys:[j]}))' \
	"$dir/sign.jwk" >"$dir/www/jwks"
TOKEN=$(node test/e2e/fixtures/mint.js "$dir/sign.jwk" "{\"claims\":{\"iss\":\"https://127.0.0.1:$ISS\",\"aud\":\"kubernetes\",\"sub\":\"bench\",\"groups\":[\"team-a-devs\"],\"exp\":\"+3600\"}}")
echo bench-sa-token >"$dir/sa.token"
body='{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"10"},"items":[{"metadata":{"name":"web-1","namespace":"team-a"}}]}'

# Two nginx processes, one worker each: the API server stand-in (with the
# issuer's files), and the reverse proxy under test.  Kept apart so that
# nginx's hop to the upstream crosses processes as kubetenant's does: one
# worker playing both roles would answer itself without a wake-up.
user=
[ "$(id -u)" -eq 0 ] && user="user root;"
nginx_conf() { # name server-blocks
	cat >"$dir/$1.conf" <<EOF
$user
worker_processes 1;
daemon on;
pid $dir/$1.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp;
	fastcgi_temp_path $dir/tmp; uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
	ssl_certificate $dir/srv.crt;
	ssl_certificate_key $dir/srv.key;
	$2
}
EOF
	nginx -p "$dir" -c "$dir/$1.conf" -e "$dir/error.log"
}
mkdir -p "$dir/tmp"
nginx_conf api "server { listen 127.0.0.1:$UP ssl; keepalive_requests 100000;
		location / { default_type application/json; return 200 '$body'; } }
	server { listen 127.0.0.1:$ISS ssl; root $dir/www;
		location = /jwks { default_type application/json; } }"
nginx_conf rp "upstream api { server 127.0.0.1:$UP; keepalive 32; }
	server { listen 127.0.0.1:$NGX ssl; keepalive_requests 100000;
		location / { proxy_pass https://api; proxy_http_version 1.1;
			proxy_set_header Connection \"\"; proxy_set_header Authorization \"Bearer bench-sa-token\";
			proxy_ssl_verify on; proxy_ssl_trusted_certificate $dir/ca.crt; proxy_ssl_name 127.0.0.1;
			proxy_ssl_session_reuse on; proxy_buffering off; } }"
"$KT" proxy --issuer-url "https://127.0.0.1:$ISS" --audience kubernetes --oidc-ca "$dir/ca.crt" \
	--upstream "https://127.0.0.1:$UP" --upstream-ca "$dir/ca.crt" --token-file "$dir/sa.token" \
	--tls-cert "$dir/srv.crt" --tls-key "$dir/srv.key" --listen "127.0.0.1:$KTP" \
	--metrics-listen none 2>"$dir/proxy.log" &
pids+=($!)
for _ in $(seq 1 100); do
	curl -sf --cacert "$dir/ca.crt" -o /dev/null "https://127.0.0.1:$KTP/readyz" && break
	sleep 0.1
done
curl -sf --cacert "$dir/ca.crt" -o /dev/null "https://127.0.0.1:$KTP/readyz" || { echo "bench/proxy.sh: the proxy did not start"; tail -n 5 "$dir/proxy.log"; exit 1; }
path=/api/v1/namespaces/team-a/pods
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/ca.crt" -H "Authorization: Bearer $TOKEN" \
	"https://127.0.0.1:$KTP$path")
[ "$code" = 200 ] || { echo "bench/proxy.sh: the proxy answered $code"; tail -n 5 "$dir/proxy.log"; exit 1; }

. scripts/proc-lib.sh
# "Requests/sec", the 50% latency (in microseconds) and the proxy's CPU
# microseconds per request (what holds when other jobs share the machine)
run() { # label port pid...
	local label=$1 port=$2 out rps p50 n t0 t1
	shift 2
	t0=$(cpu_ticks "$@")
	out=$(wrk -t1 -c"$CONNS" -d"$DUR" --latency -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$port$path")
	t1=$(cpu_ticks "$@")
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	n=$(echo "$out" | awk '/requests in/ {print $1}')
	p50=$(echo "$out" | awk '$1 == "50%" {v=$2; u=v; gsub(/[0-9.]/, "", u); gsub(/[a-z]/, "", v);
		m = (u == "us") ? 1 : (u == "ms") ? 1000 : 1000000; printf "%.0f", v * m}')
	echo "$label $rps $p50 $(awk -v t=$((t1 - t0)) -v n="$n" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.1f", t * 1e6 / hz / n }')"
}
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/ca.crt" "https://127.0.0.1:$NGX$path")
[ "$code" = 200 ] || { echo "bench/proxy.sh: nginx answered $code"; tail -n 5 "$dir/error.log"; exit 1; }
if [ -n "${BENCH_HOLD:-}" ]; then
	printf 'upstream=%s nginx=%s kubetenant=%s proxy_pid=%s\ntoken=%s\n' "$UP" "$NGX" "$KTP" \
		"${pids[0]}" "$TOKEN"
	sleep 3600 &
	pids+=($!)
	wait $!
	exit 0
fi
ngx_pids=$(cat "$dir/rp.pid"; pgrep -P "$(cat "$dir/rp.pid")")
# shellcheck disable=SC2046,SC2086 # nginx: master and worker
direct=$(run direct "$UP" $(cat "$dir/api.pid"))
# shellcheck disable=SC2086
viangx=$(run nginx "$NGX" $ngx_pids)
viakt=$(run kubetenant "$KTP" "${pids[0]}")
health=$(path=/healthz run "listener alone" "$KTP" "${pids[0]}")
curlfloor=
if [ -x "$BUILD/bench/bench_curl" ]; then
	curlfloor=$("$BUILD/bench/bench_curl" "https://127.0.0.1:$UP$path" "$dir/ca.crt" "$CONNS" "${DUR%s}")
fi
read -r _ d_rps d_p50 _ <<<"$direct"
read -r _ n_rps n_p50 n_cpu <<<"$viangx"
read -r _ k_rps k_p50 k_cpu <<<"$viakt"
printf '%-22s %12s %10s %12s %14s\n' path requests/s p50_us added_p50_us proxy_cpu_us/req
printf '%-22s %12s %10s %12s %14s\n' "direct (baseline)" "$d_rps" "$d_p50" 0 -
printf '%-22s %12s %10s %12s %14s\n' "nginx reverse proxy" "$n_rps" "$n_p50" $((n_p50 - d_p50)) "$n_cpu"
printf '%-22s %12s %10s %12s %14s\n' "kubetenant proxy" "$k_rps" "$k_p50" $((k_p50 - d_p50)) "$k_cpu"
read -r _ _ h_rps _ h_cpu <<<"$health"
printf '%-22s %12s %10s %12s %14s\n' "floor: listener alone" "$h_rps" - - "$h_cpu"
if [ -n "$curlfloor" ]; then
	read -r c_rps c_cpu <<<"$curlfloor"
	printf '%-22s %12s %10s %12s %14s\n' "floor: libcurl alone" "$c_rps" - - "$c_cpu"
	# a proxied round trip holds a listener round trip and an upstream one, less the
	# direct one counted twice: the least any proxy on these libraries adds (means)
	awk -v h="$h_cpu" -v c="$c_cpu" -v nc="$n_cpu" -v n="$CONNS" -v hr="$h_rps" -v cr="$c_rps" \
		-v dr="$d_rps" 'BEGIN {
		printf "libraries alone: %.1f us per request; nginx proxies one in %.1f us\n", h + c, nc
		printf "libraries alone add at least %.0f us to the mean round trip\n", \
			n * 1e6 / hr + n * 1e6 / cr - n * 1e6 / dr }'
else
	echo "floor: libcurl alone: build/bench/bench_curl not built (make bench builds it)"
fi
awk -v k="$k_rps" -v n="$n_rps" -v kp="$k_p50" -v dp="$d_p50" -v kc="$k_cpu" -v nc="$n_cpu" 'BEGIN {
	r = k / n; a = kp - dp;
	printf "kubetenant/nginx throughput: %.2fx (target >= 0.80: %s)\n", r, (r >= 0.8 ? "met" : "missed");
	printf "kubetenant added p50: %d us (target <= 100: %s)\n", a, (a <= 100 ? "met" : "missed");
	printf "CPU per proxied request: kubetenant %.1f us, nginx %.1f us (%.2fx)\n", kc, nc, kc / nc }'
