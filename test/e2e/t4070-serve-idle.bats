#!/usr/bin/env bats
# t4070: idle connections cost little.  The API server keeps connections to
# every webhook replica open; a webhook that spends a thread or a large
# buffer on each would fall over long before the cluster does.

load serve-lib

setup() { serve_certs; }
teardown() { [ -z "${IDLE_PID:-}" ] || kill "$IDLE_PID" 2>/dev/null || true; serve_stop || true; }

status_of() { # key (VmRSS in KiB, Threads)
	awk -v k="$1:" '$1 == k { print $2 }' "/proc/$SERVE_PID/status"
}

@test "1,000 idle TLS connections: no thread each, under 48 KiB each, requests still served" {
	command -v node >/dev/null || skip "node is not installed"
	serve_start --max-connections 1100 --timeout 60
	# warm up: the first requests allocate the per-thread state
	for _ in 1 2 3 4; do https -o /dev/null "https://127.0.0.1:$PORT/healthz"; done
	local rss0 threads0 rss1 threads1
	rss0=$(status_of VmRSS) threads0=$(status_of Threads)
	node "$BATS_TEST_DIRNAME/fixtures/idle-tls.js" "$PORT" "$CERTS/ca.pem" 1000 \
		>"$BATS_TEST_TMPDIR/idle.log" 2>&1 &
	IDLE_PID=$!
	wait_for 'grep -q "^ready 1000" "$BATS_TEST_TMPDIR/idle.log"' 600
	rss1=$(status_of VmRSS) threads1=$(status_of Threads)
	echo "RSS ${rss0} -> ${rss1} KiB, threads ${threads0} -> ${threads1}"
	[ "$threads1" -eq "$threads0" ]
	# AddressSanitizer's redzones and quarantine multiply every allocation:
	# only the plain build's memory figure means something
	grep -qa __asan_init "$KT_BIN" || [ $(( (rss1 - rss0) * 1024 / 1000 )) -le $((48 * 1024)) ]
	# the server answers beside them, and none of them was dropped
	run https -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/healthz"
	[ "$output" = 200 ]
	! grep -q '^closed\|^error' "$BATS_TEST_TMPDIR/idle.log"
}
