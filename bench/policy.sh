#!/usr/bin/env bash
# The policy engine: decisions per second for a 3.6 KB Pod CREATE review
# (bench/bench_policy.c: decoding with jansson alone as the baseline, deciding
# a decoded review alone, and both end to end), then
# `check --tenant` throughput on 10,000 generated manifests, against
# `check --pod-security privileged` on the same files (loading the YAML and
# locating pods: what check costs before any tenancy rule runs).  KT names
# another binary, e.g. one built from an older commit, to compare.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
KT=${KT:-$BUILD/kubetenant}
"$BUILD/bench/bench_policy" "${BENCH_SECONDS:-1}"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp test/e2e/fixtures/policy/tenants.yaml "$dir/tenants.yaml"
mkdir "$dir/manifests"
# 100 files of 100 objects: Deployments, Services, Ingresses and ConfigMaps
for f in $(seq -w 0 99); do
	for i in $(seq -w 0 24); do
		n=app-$f-$i
		cat <<Y
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $n
  labels: {app: $n}
spec:
  replicas: 2
  selector: {matchLabels: {app: $n}}
  template:
    metadata: {labels: {app: $n}}
    spec:
      containers:
      - name: web
        image: ghcr.io/acme/$n:1.0.$i
        ports: [{containerPort: 8080}]
        resources: {requests: {cpu: 100m, memory: 128Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: $n}
spec:
  selector: {app: $n}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: $n}
spec:
  tls: [{hosts: [$n.app.example.org], secretName: $n-tls}]
  rules:
  - host: $n.app.example.org
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: $n, port: {number: 80}}}}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: $n}
data: {LOG_LEVEL: info, FEATURE: "on"}
---
Y
	done >"$dir/manifests/m$f.yaml"
done

# best of three, in objects per second
run() {
	local best=0 t0 t1 rate
	for _ in 1 2 3; do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || [ $? -eq 1 ]
		t1=$(date +%s%N)
		rate=$((10000 * 1000000000 / (t1 - t0 + 1)))
		[ "$rate" -gt "$best" ] && best=$rate
	done
	echo "$best"
}
# the default (one thread a CPU), then -j1 (one after the other; an older
# build, which has no -j, runs its only way twice)
j1=$("$KT" check --help | grep -q -- --jobs && echo -j1 || true)
base=$(run "$KT" check --pod-security privileged "$dir/manifests")
tenant=$(run "$KT" check -f "$dir/tenants.yaml" --tenant team-a "$dir/manifests")
base1=$(run "$KT" check $j1 --pod-security privileged "$dir/manifests")
tenant1=$(run "$KT" check $j1 -f "$dir/tenants.yaml" --tenant team-a "$dir/manifests")
objs=$("$KT" check -f "$dir/tenants.yaml" --tenant team-a "$dir/manifests" 2>&1 >/dev/null | sed -n 's/.*: \([0-9]*\) objects:.*/\1/p')
printf '%-52s %12s\n' "check: 10,000 manifests in 100 files" "($objs objects judged, $(nproc) CPUs)"
printf '%-52s %12s objects/s  -j1: %s\n' "baseline: check --pod-security privileged" "$base" "$base1"
printf '%-52s %12s objects/s  -j1: %s  %s\n' "check -f tenants.yaml --tenant team-a" "$tenant" \
	"$tenant1" "$(awk -v a="$tenant" -v b="$base" 'BEGIN { printf "%.2fx baseline", a / b }')"
# issue #15 asks both at 3x its "today" (a figure of another machine and
# day): compare these against an older build's, run back to back
printf '%-52s %s\n' "issue #15, check objects/s (target: 3x before)" \
	"--pod-security $base (-j1 $base1), --tenant $tenant (-j1 $tenant1)"
