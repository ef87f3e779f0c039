#!/usr/bin/env bash
# bench/render.sh: `kubetenant render` on generated tenants files of 1,000
# and 10,000 tenants (100 node pools), wall time and peak RSS, the growth
# from 1,000 to 10,000 (linear is 10x), against two baselines measured in
# the same run: `kubetenant validate` of the same file (the loader alone:
# what render adds on top of reading the file) and `cat` of the same
# output bytes (the floor for writing them).  Targets for 10,000 tenants:
# under 1 s and 256 MB.  Figures only; nothing is asserted.
set -eu
KT=${KT:-build/kubetenant}
BUILD=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x /usr/bin/time ] || { echo "bench/render.sh: /usr/bin/time missing (package 'time')" >&2; exit 1; }

gen() { # tenants pools > file
	awk -v nt="$1" -v np="$2" 'BEGIN {
		print "global:"
		print "  tenantHostPrefix: tenants.example.org"
		print "  clusterName: bench-cluster"
		print "  clusterDNS: 10.1.0.10"
		print "  labelDomain: platform.example.org"
		print "  platformNamespaces: [ingress-nginx, monitoring]"
		print "nodePools:"
		for (p = 0; p < np; p++) {
			printf "  pool-%05d:\n    instances:\n", p
			print "      capacityTypes: [on-demand, spot]"
			print "      instanceTypes: [t3a.large, m6i.xlarge]"
			print "      emptyTtl: 600"
			print "      ttl: 604800"
			printf "    costCode: cc-%d\n", p % 7
		}
		print "tenants:"
		for (t = 0; t < nt; t++) {
			printf "  tenant-%05d:\n    nodePool: pool-%05d\n", t, t % np
			printf "    operatorEdGroup: team-%d.devs\n", t
			printf "    domains: [app-%d.example.org]\n", t
			if (t % 2) print "    quota: { requests.cpu: \"4\", pods: \"50\" }"
		}
	}'
}

# label, command...: prints "label: wall s, peak RSS MB" and stores both
measure() {
	local label=$1
	shift
	/usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >"$tmp/stdout" 2>/dev/null || {
		echo "$label: failed (exit $?)"; return 1; }
	read -r wall rss <"$tmp/time"
	awk -v l="$label" -v w="$wall" -v r="$rss" 'BEGIN { printf "  %-44s %6.2f s %8.1f MB\n", l, w, r / 1024 }'
}

declare -A W R
for n in 1000 10000; do
	gen "$n" 100 >"$tmp/t$n.yaml"
	echo "$n tenants, 100 node pools ($(wc -c <"$tmp/t$n.yaml") bytes of tenants file):"
	if measure "validate (loader only, baseline)" "$KT" validate -f "$tmp/t$n.yaml"; then :; fi
	measure "render (webhook, kubernetes, v1)" "$KT" render -f "$tmp/t$n.yaml"
	W[$n]=$wall R[$n]=$rss
	cp "$tmp/stdout" "$tmp/out$n.yaml"
	echo "  ($(grep -c '^---$' "$tmp/out$n.yaml") objects, $(wc -c <"$tmp/out$n.yaml") bytes)"
	measure "render --enforcement gatekeeper" "$KT" render -f "$tmp/t$n.yaml" --enforcement gatekeeper
	measure "cat of the same output (baseline)" cat "$tmp/out$n.yaml"
done
awk -v w1="${W[1000]}" -v w10="${W[10000]}" -v r1="${R[1000]}" -v r10="${R[10000]}" 'BEGIN {
	# /usr/bin/time has 10 ms resolution: floor the small run at that
	printf "growth 1,000 -> 10,000 tenants: time x%.1f, peak RSS x%.1f (linear: x10)\n",
		w10 / (w1 < 0.01 ? 0.01 : w1), r10 / r1
	printf "targets for 10,000 tenants (< 1 s, < 256 MB): %s\n",
		(w10 < 1 && r10 < 262144) ? "met" : "NOT met"
}'
if [ -x "$BUILD/bench/bench_render" ]; then
	"$BUILD/bench/bench_render" 10000 100
fi
