# Sourced by bench/serve.sh and scripts/soak.sh: a kubetenant webhook on a
# random port with throw-away certificates and a generated tenants file.
#   serve_launch TMPDIR TENANTS [serve args...]  sets KT_PID and KT_PORT
#   rss_kb PID [VmRSS|VmHWM]                     resident memory in KiB
serve_launch() {
	local tmp=$1 n=$2
	shift 2
	[ -f "$tmp/certs/server.pem" ] || scripts/gen-test-certs.sh "$tmp/certs" >/dev/null
	scripts/gen-tenants.sh "$n" >"$tmp/tenants.yaml"
	"${KT:-build/kubetenant}" serve -f "$tmp/tenants.yaml" --tls-cert "$tmp/certs/server.pem" \
		--tls-key "$tmp/certs/server.key" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
		"$@" 2>"$tmp/serve.log" &
	KT_PID=$!
	for _ in $(seq 100); do
		grep -q '"msg":"listening"' "$tmp/serve.log" && break
		sleep 0.1
	done
	KT_PORT=$(jq -r 'select(.msg == "listening") | .port' "$tmp/serve.log")
	KT_MPORT=$(jq -r 'select(.msg == "listening") | .metrics_port' "$tmp/serve.log")
	[ -n "$KT_PORT" ] || { cat "$tmp/serve.log" >&2; return 1; }
}

rss_kb() {
	awk -v k="${2:-VmRSS}:" '$1 == k { print $2 }' "/proc/$1/status"
}
