#!/usr/bin/env bash
# bench/serve.sh: kubetenant serve against nginx, on this machine, now.
#
# wrk sends a realistic ~3.5 KB Pod CREATE AdmissionReview to /validate and
# /mutate of a kubetenant serving a generated 1,000-tenant file over TLS,
# and the same POST to nginx (TLS, same certificate, same number of
# workers) answering a fixed body of the size kubetenant answers.  nginx
# does no work per request but TLS and HTTP: the ratio is what the policy
# engine and our adapter cost on top.  A GET /healthz on both sides (half as
# long) measures the transport alone: TLS, HTTP, the adapter.  The Go
# peer (bench/goweb, standard library only) is the floor of a webhook on
# the Go stack: it decodes the review into map[string]interface{}, makes
# three checks and answers with encoding/json; all three servers must
# first give the same verdicts and the same patch.  Targets (issue #15):
# >= 0.8x nginx and >= 3x Go throughput, p99 <= 2 ms at 16 connections,
# <= 25 us CPU per request, RSS <= 20 MB.
#
# Knobs: KT=path/to/kubetenant, BUILD (Go's cache and binary go there),
# BENCH_SECONDS (default 10), BENCH_CONNS (16), BENCH_THREADS (wrk's, 1).
set -eu
cd "$(dirname "$0")/.."
KT=${KT:-build/kubetenant}
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNS:-16}
threads=$(nproc)
wrk_threads=${BENCH_THREADS:-1}
build=${BUILD:-build}
for t in wrk nginx openssl jq go base64; do
	command -v "$t" >/dev/null || { echo "bench/serve.sh: '$t' is not installed" >&2; exit 1; }
done
tmp=$(mktemp -d)
KT_PID= nginx_pid= go_pid=
cleanup() {
	# a killed server's status is not a failure: go on to the next one
	[ -n "$KT_PID" ] && kill "$KT_PID" 2>/dev/null && wait "$KT_PID" 2>/dev/null || true
	[ -n "$go_pid" ] && kill "$go_pid" 2>/dev/null && wait "$go_pid" 2>/dev/null || true
	[ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

. scripts/serve-lib.sh
serve_launch "$tmp" 1000 --threads "$threads"
kt_port=$KT_PORT
idle_rss=$(rss_kb "$KT_PID")

# nginx answers the bytes kubetenant answers for /mutate
curl -sS --cacert "$tmp/certs/ca.pem" -H 'Content-Type: application/json' \
	--data-binary @bench/serve-review.json "https://127.0.0.1:$kt_port/mutate" >"$tmp/answer.json"
mkdir -p "$tmp/nginx/logs" "$tmp/nginx/tmp"
user_line=
[ "$(id -u)" -eq 0 ] && user_line="user $(id -un);"
for _ in 1 2 3 4 5; do
	nginx_port=$((20000 + RANDOM % 40000))
	cat >"$tmp/nginx/nginx.conf" <<CONF
$user_line
worker_processes $threads;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx/tmp/body;
	proxy_temp_path $tmp/nginx/tmp/proxy;
	fastcgi_temp_path $tmp/nginx/tmp/fastcgi;
	uwsgi_temp_path $tmp/nginx/tmp/uwsgi;
	scgi_temp_path $tmp/nginx/tmp/scgi;
	client_max_body_size 3m;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$nginx_port ssl;
		ssl_certificate $tmp/certs/server.pem;
		ssl_certificate_key $tmp/certs/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		location / {
			default_type application/json;
			return 200 '$(cat "$tmp/answer.json")';
		}
		location = /healthz {
			default_type text/plain;
			return 200 'ok\n';
		}
	}
}
CONF
	nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' 2>"$tmp/nginx/start.log" &
	nginx_pid=$!
	sleep 0.5
	if kill -0 "$nginx_pid" 2>/dev/null; then break; fi
	wait "$nginx_pid" 2>/dev/null || true
	nginx_pid=
done
[ -n "$nginx_pid" ] || { cat "$tmp/nginx/start.log" >&2; exit 1; }

# the Go peer, built off-line from the standard library alone
mkdir -p "$build/bench"
(cd bench/goweb && GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$PWD/../../$build/gocache" \
	go build -o "$PWD/../../$build/bench/goweb" .)
for _ in 1 2 3 4 5; do
	go_port=$((20000 + RANDOM % 40000))
	"$build/bench/goweb" -addr "127.0.0.1:$go_port" -cert "$tmp/certs/server.pem" \
		-key "$tmp/certs/server.key" -tenants 1000 2>"$tmp/goweb.log" &
	go_pid=$!
	sleep 0.5
	if kill -0 "$go_pid" 2>/dev/null; then break; fi
	wait "$go_pid" 2>/dev/null || true
	go_pid=
done
[ -n "$go_pid" ] || { cat "$tmp/goweb.log" >&2; exit 1; }

# the same verdicts and the same patch (decoded) from all three, first
answer() { # URL: the response member of the answer, the patch decoded
	curl -sS --cacert "$tmp/certs/ca.pem" -H 'Content-Type: application/json' \
		--data-binary @bench/serve-review.json "$1" |
		jq -cS '.response | {uid, allowed, patchType,
			patch: (if .patch then (.patch | @base64d | fromjson) else null end)}'
}
for ep in mutate validate; do
	want=$(answer "https://127.0.0.1:$kt_port/$ep")
	for url in "https://127.0.0.1:$go_port/$ep" "https://127.0.0.1:$nginx_port/$ep"; do
		[ "$url" = "https://127.0.0.1:$nginx_port/validate" ] && continue # one fixed answer
		got=$(answer "$url")
		[ "$got" = "$want" ] || {
			printf 'bench/serve.sh: %s answers\n  %s\nkubetenant answers\n  %s\n' \
				"$url" "$got" "$want" >&2
			exit 1
		}
	done
done
jq -e '.allowed and (.patch | length) == 2' <<<"$(answer "https://127.0.0.1:$kt_port/mutate")" \
	>/dev/null || { echo "bench/serve.sh: /mutate should allow with a patch" >&2; exit 1; }

hz=$(getconf CLK_TCK)

# run NAME URL SCRIPT PID...: wrk for $secs s (SCRIPT "-": plain GET); sets
# RPS_<NAME>, P99_<NAME> (ms), BAD_<NAME> (non-200 answers), CPU_<NAME> (server
# CPU microseconds per request)
run() {
	local name=$1 url=$2 script=() out t0 t1 n
	[ "$3" = - ] || script=(-s "$3")
	shift 3
	t0=$(cpu_ticks "$@")
	out=$(BODY=bench/serve-review.json wrk -t"$wrk_threads" -c"$conns" -d"${secs}s" --latency \
		"${script[@]}" "$url")
	t1=$(cpu_ticks "$@")
	printf '%s\n' "$out" >"$tmp/wrk-$name.txt"
	n=$(awk '/requests in/ { print $1 }' <<<"$out")
	eval "RPS_$name=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")"
	eval "P99_$name=$(awk '$1 == "99%" {
		v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000
		print v }' <<<"$out")"
	eval "BAD_$name=$(awk '/^non-200:/ { print $2 }' <<<"$out")"
	eval "CPU_$name=$(awk -v t=$((t1 - t0)) -v n="$n" -v hz="$hz" 'BEGIN { print t * 1e6 / hz / n }')"
}
# shellcheck disable=SC2046 # nginx: master and workers
run validate "https://127.0.0.1:$kt_port/validate" bench/serve.lua "$KT_PID"
run mutate "https://127.0.0.1:$kt_port/mutate" bench/serve.lua "$KT_PID"
run nginx "https://127.0.0.1:$nginx_port/validate" bench/serve.lua "$nginx_pid" $(pgrep -P "$nginx_pid")
run go_validate "https://127.0.0.1:$go_port/validate" bench/serve.lua "$go_pid"
run go_mutate "https://127.0.0.1:$go_port/mutate" bench/serve.lua "$go_pid"
# transport alone: a GET answered without the policy engine, both sides
full_secs=$secs
secs=$(( secs > 1 ? secs / 2 : 1 ))
run healthz "https://127.0.0.1:$kt_port/healthz" - "$KT_PID"
run nginx_get "https://127.0.0.1:$nginx_port/healthz" - "$nginx_pid" $(pgrep -P "$nginx_pid")
rss=$(rss_kb "$KT_PID")
hwm=$(rss_kb "$KT_PID" VmHWM)

verdict() { # condition text
	if awk "BEGIN { exit !($1) }"; then echo "met"; else echo "MISSED"; fi
}
echo "kubetenant serve vs nginx and a Go peer: ${full_secs}s each (GETs half), wrk -t$wrk_threads -c$conns, TLS, keep-alive,"
echo "$(wc -c <bench/serve-review.json)-byte Pod CREATE review, 1,000 tenants, $threads threads/workers"
printf '%-24s %11s %8s %9s %7s %12s %8s\n' "" "requests/s" "p99 ms" "vs nginx" "vs Go" \
	"CPU us/req" "non-200"
for n in validate mutate go_validate go_mutate nginx healthz nginx_get; do
	eval "r=\$RPS_$n p=\$P99_$n b=\$BAD_$n c=\$CPU_$n"
	base=$RPS_nginx vs_go=-
	case $n in
	nginx) label="nginx (fixed answer)" ;;
	go_*) label="Go peer /${n#go_}" ;;
	healthz) label="kubetenant GET /healthz" base=$RPS_nginx_get ;;
	nginx_get) label="nginx GET /healthz" base=$RPS_nginx_get ;;
	*)
		label="kubetenant /$n"
		eval "g=\$RPS_go_$n"
		vs_go=$(awk "BEGIN { printf \"%.2fx\", $r / $g }")
		;;
	esac
	printf '%-24s %11.0f %8.3f %8.2fx %7s %12.1f %8s\n' "$label" "$r" "$p" \
		"$(awk "BEGIN { print $r / $base }")" "$vs_go" "$c" "${b:--}"
done
printf 'kubetenant RSS: %.1f MB idle, %.1f MB after load (peak %.1f MB)\n' \
	"$(awk "BEGIN { print $idle_rss / 1024 }")" "$(awk "BEGIN { print $rss / 1024 }")" \
	"$(awk "BEGIN { print $hwm / 1024 }")"
echo "(CPU us/req is the server's own user+system time per request: it holds when other"
echo " jobs share the machine, where requests/s and p99 swing with their load)"
echo "targets: throughput >= 0.8x nginx: validate $(verdict "$RPS_validate >= 0.8 * $RPS_nginx"), mutate $(verdict "$RPS_mutate >= 0.8 * $RPS_nginx");" \
	">= 3x Go: validate $(verdict "$RPS_validate >= 3 * $RPS_go_validate"), mutate $(verdict "$RPS_mutate >= 3 * $RPS_go_mutate");" \
	"p99 <= 2 ms: validate $(verdict "$P99_validate <= 2"), mutate $(verdict "$P99_mutate <= 2");" \
	"CPU <= 25 us/req: validate $(verdict "$CPU_validate <= 25"), mutate $(verdict "$CPU_mutate <= 25");" \
	"RSS <= 20 MB: $(verdict "$hwm <= 20480")"
