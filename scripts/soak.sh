#!/usr/bin/env bash
# scripts/soak.sh: long load on `kubetenant serve` (not part of make check).
#
# wrk drives /validate and /mutate at the same time (8 connections each,
# the ~3.5 KB Pod review of bench/), for SOAK_MINUTES minutes (default 10),
# against a 1,000-tenant file; every minute it prints the requests served,
# non-200 answers, socket errors and the server's RSS.  The tenants file is
# reloaded (SIGHUP with new content) every minute too, so reloads are soaked
# as well.  Exit status 1 when any request failed or RSS grew by more than
# 10% (+1 MB) between the first and the last minute.
set -eu
cd "$(dirname "$0")/.."
KT=${KT:-build/kubetenant}
minutes=${SOAK_MINUTES:-10}
slice=${SOAK_SLICE:-60} # seconds per report line; 60 except when testing the script
. scripts/serve-lib.sh
tmp=$(mktemp -d)
KT_PID=
trap '[ -n "$KT_PID" ] && kill "$KT_PID" 2>/dev/null; rm -rf "$tmp"' EXIT
serve_launch "$tmp" 1000
echo "soak: $minutes minute(s) against pid $KT_PID on port $KT_PORT"
printf '%6s %12s %10s %10s %10s\n' minute requests non-200 sockerr rss_MB
first_rss= fail=0
for ((m = 1; m <= minutes; m++)); do
	pids=()
	for ep in validate mutate; do
		BODY=bench/serve-review.json wrk -t1 -c8 -d"${slice}s" -s bench/serve.lua \
			"https://127.0.0.1:$KT_PORT/$ep" >"$tmp/wrk-$ep.txt" 2>&1 &
		pids+=($!)
	done
	# mid-minute: a tenants file with one more tenant, then back
	sleep $((slice / 2))
	scripts/gen-tenants.sh $((1000 + m % 2)) >"$tmp/tenants.new"
	mv "$tmp/tenants.new" "$tmp/tenants.yaml" # atomic, as a ConfigMap update
	kill -HUP "$KT_PID"
	wait "${pids[@]}"
	reqs=0 bad=0 errs=0
	for ep in validate mutate; do
		r=$(awk '/requests in/ { print $1 }' "$tmp/wrk-$ep.txt")
		b=$(awk '/^non-200:/ { print $2 }' "$tmp/wrk-$ep.txt")
		e=$(awk '/Socket errors/ { s = 0; for (i = 4; i <= NF; i += 2) s += $i; print s }' \
			"$tmp/wrk-$ep.txt")
		reqs=$((reqs + ${r:-0})) bad=$((bad + ${b:-0})) errs=$((errs + ${e:-0}))
	done
	rss=$(rss_kb "$KT_PID")
	[ -n "$first_rss" ] || first_rss=$rss
	printf '%6d %12d %10d %10d %10.1f\n' "$m" "$reqs" "$bad" "$errs" "$(awk "BEGIN { print $rss / 1024 }")"
	[ "$bad" -eq 0 ] && [ "$errs" -eq 0 ] || fail=1
done
if [ "$rss" -gt $((first_rss * 11 / 10 + 1024)) ]; then
	echo "soak: RSS grew from $((first_rss / 1024)) MB to $((rss / 1024)) MB" >&2
	fail=1
fi
reloads=$(curl -sS "http://127.0.0.1:$KT_MPORT/metrics" | awk '$1 == "kubetenant_config_reloads_total" { print $2 }')
echo "soak: tenants file reloaded $reloads time(s); $([ $fail -eq 0 ] && echo passed || echo FAILED)"
exit $fail
