# Sourced by bench/serve.sh, scripts/soak.sh, scripts/build-image.sh and the
# bats helper test/e2e/serve-lib.bash: a kubetenant webhook on random ports.
#   serve_run LOG TENANTS CERT KEY [serve args...] sets KT_PID, KT_PORT, KT_MPORT
#   serve_launch TMPDIR N [serve args...]          the same with throw-away
#                                                  certificates and N generated tenants
# The binary is $KT (default build/kubetenant); rss_kb and cpu_ticks come
# from scripts/proc-lib.sh.
. "$(dirname "${BASH_SOURCE[0]}")/proc-lib.sh"
serve_run() {
	local log=$1 tenants=$2 cert=$3 key=$4 i
	shift 4
	# empty first: the background redirection may open LOG after the first grep
	: >"$log"
	# fd 3 closed: bats waits for every holder of its fd 3 before it reports
	"${KT:-build/kubetenant}" serve -f "$tenants" --tls-cert "$cert" --tls-key "$key" \
		--listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 "$@" 2>"$log" 3>&- &
	KT_PID=$!
	for i in $(seq 200); do
		grep -q '"msg":"listening"' "$log" && break
		kill -0 "$KT_PID" 2>/dev/null || break
		sleep 0.05
	done
	# explicit failures: callers may run this with errexit off (`|| ...`)
	KT_PORT=$(jq -r 'select(.msg == "listening") | .port' "$log") &&
		KT_MPORT=$(jq -r 'select(.msg == "listening") | .metrics_port' "$log") &&
		[ -n "$KT_PORT" ] || { cat "$log" >&2; return 1; }
}

serve_launch() {
	local tmp=$1 n=$2
	shift 2
	[ -f "$tmp/certs/server.pem" ] || scripts/gen-test-certs.sh "$tmp/certs" >/dev/null
	scripts/gen-tenants.sh "$n" >"$tmp/tenants.yaml"
	serve_run "$tmp/serve.log" "$tmp/tenants.yaml" "$tmp/certs/server.pem" \
		"$tmp/certs/server.key" "$@"
}
