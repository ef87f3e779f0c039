#!/usr/bin/env bats
# kubetenant check -j N: files judged by N threads give the very report of
# one thread: stdout, stderr and the exit status, byte for byte.
bats_require_minimum_version 1.5.0

KT_BIN=${KT_BIN:-$BATS_TEST_DIRNAME/../../build/kubetenant}

setup() {
	cd "$BATS_TEST_DIRNAME/fixtures/policy"
	T=$BATS_TEST_TMPDIR
	m=$T/m
	mkdir -p "$m/sub"
	# a large file first, so that later files are done before it with -j4
	for i in $(seq -w 0 199); do
		printf 'apiVersion: v1\nkind: Service\nmetadata: {name: s%s}\nspec:\n  type: NodePort\n  ports: [{port: 80}]\n---\n' "$i"
		printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%s}\ndata: {a: "1"}\n---\n' "$i"
	done >"$m/a-big.yaml"
	for i in 1 2 3 4 5 6; do
		cp good/web.yaml "$m/b$i-web.yaml"
		cp good/cronjob.yaml "$m/sub/c$i-cronjob.yaml"
		cp bad/escapes.yaml "$m/d$i-escapes.yaml"
		cp bad/pod.yaml "$m/sub/e$i-pod.yaml"
	done
	cp good/list.json "$m/f-list.json"
	cp bad/kinds.yaml "$m/g-kinds.yaml"
	cp bad/dup-keys.yaml.broken "$m/h-dup.yaml"
	printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: x\n' >"$m/i-syntax.yaml"
	# read, but refused when judged: an error between the findings
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nul}\ndata: {x: "a\\0b"}\n' >"$m/j-nul.yaml"
	cp bad/escapes.yaml "$m/k-escapes.yaml"
	# annotation values whose message names the characters allowed, in every
	# file of one directory: threads write these messages at the same time
	mkdir "$m/ann"
	for i in $(seq -w 0 19); do
		cat >"$m/ann/i$i.yaml" <<Y
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web-$i
  annotations:
    nginx.ingress.kubernetes.io/auth-cache-duration: "200 30m!"
    nginx.ingress.kubernetes.io/auth-cache-key: "\$remote_user%"
spec:
  ingressClassName: nginx
  rules:
  - host: web-$i.app.example.org
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
Y
	done
}

# check with -j1 and -j4 on the same input: the same bytes out, the same status
same() {
	"$KT_BIN" check -j1 "$@" "$m" "$T/missing.yaml" - "$m/b1-web.yaml" - \
		<bad/escapes.yaml >"$T/out1" 2>"$T/err1" && s1=0 || s1=$?
	"$KT_BIN" check -j4 "$@" "$m" "$T/missing.yaml" - "$m/b1-web.yaml" - \
		<bad/escapes.yaml >"$T/out4" 2>"$T/err4" && s4=0 || s4=$?
	cmp "$T/out1" "$T/out4"
	cmp "$T/err1" "$T/err4"
	[ "$s1" -eq "$s4" ]
}

@test "-j4 --tenant: the report of -j1, byte for byte, findings, errors and all" {
	same -f tenants.yaml --tenant team-a
	[ "$s1" -eq 3 ]
	# each file's lines together, in the order of the files, whatever finished first
	cat >"$T/order" <<E
$m/a-big.yaml 200
$m/ann/i00.yaml 2
$m/ann/i01.yaml 2
$m/ann/i02.yaml 2
$m/ann/i03.yaml 2
$m/ann/i04.yaml 2
$m/ann/i05.yaml 2
$m/ann/i06.yaml 2
$m/ann/i07.yaml 2
$m/ann/i08.yaml 2
$m/ann/i09.yaml 2
$m/ann/i10.yaml 2
$m/ann/i11.yaml 2
$m/ann/i12.yaml 2
$m/ann/i13.yaml 2
$m/ann/i14.yaml 2
$m/ann/i15.yaml 2
$m/ann/i16.yaml 2
$m/ann/i17.yaml 2
$m/ann/i18.yaml 2
$m/ann/i19.yaml 2
$m/d1-escapes.yaml 3
$m/d2-escapes.yaml 3
$m/d3-escapes.yaml 3
$m/d4-escapes.yaml 3
$m/d5-escapes.yaml 3
$m/d6-escapes.yaml 3
$m/g-kinds.yaml 4
$m/k-escapes.yaml 3
$m/sub/e1-pod.yaml 4
$m/sub/e2-pod.yaml 4
$m/sub/e3-pod.yaml 4
$m/sub/e4-pod.yaml 4
$m/sub/e5-pod.yaml 4
$m/sub/e6-pod.yaml 4
- 3
E
	grep -o '^[^:]*' "$T/out1" | uniq -c | awk '{ print $2, $1 }' | diff "$T/order" -
	[[ "$(head -n 1 "$T/out1")" == "$m/a-big.yaml:1: Service/s000: services.node-port:"* ]]
	grep -q "^$m/sub/e6-pod.yaml:1: Pod/debug: request.namespace-mismatch:" "$T/out1"
	cat >"$T/err-want" <<E
kubetenant: error: $m/h-dup.yaml:7:3: duplicate key 'a'
kubetenant: error: $m/i-syntax.yaml:4:1: missing comma in flow mapping
kubetenant: error: $T/missing.yaml: cannot open '$T/missing.yaml': No such file or directory
kubetenant: error: $m/j-nul.yaml:1: string contains a NUL byte
E
	grep '^kubetenant: error:' "$T/err1" | diff "$T/err-want" -
	[[ "$(tail -n 1 "$T/err1")" == "kubetenant: check tenant 'team-a': 483 objects: 228 pass, 254 violate, 0 skipped; 4 unreadable inputs" ]]
}

@test "-j4 --tenant --format json --show-mutations: the report of -j1" {
	same -f tenants.yaml --tenant team-a --format json --show-mutations
	[ "$s1" -eq 3 ]
	[ "$(jq '.objects | length' "$T/out1")" -eq 482 ]
	[ "$(jq -r '.errors[-1].message' "$T/out1")" = "string contains a NUL byte" ]
}

@test "-j4 --pod-security, text and JSON: the report of -j1" {
	same --pod-security restricted
	[ "$s1" -eq 3 ]
	grep -q "^$m/sub/e1-pod.yaml:1: Pod/debug: restricted:latest: " "$T/out1"
	same --pod-security baseline:v1.30 --format json
	[ "$s1" -eq 3 ]
	[ "$(jq -r '.summary.violate' "$T/out1")" -gt 0 ]
}

@test "-j: the default is one a CPU; more threads than files is fine" {
	"$KT_BIN" check -j1 -f tenants.yaml --tenant team-a "$m" >"$T/out1" 2>&1 || true
	"$KT_BIN" check -f tenants.yaml --tenant team-a "$m" >"$T/out0" 2>&1 || true
	"$KT_BIN" check --jobs 256 -f tenants.yaml --tenant team-a "$m" >"$T/out9" 2>&1 || true
	cmp "$T/out1" "$T/out0"
	cmp "$T/out1" "$T/out9"
}

@test "-j out of 1..256, or not a number: a usage error, exit 2" {
	for n in 0 257 -1 x 4x '' 99999999999999999999; do
		run --separate-stderr "$KT_BIN" check -j "$n" --pod-security baseline good
		[ "$status" -eq 2 ]
		[[ "$stderr" == "kubetenant: error: -j: '$n' is not a number of threads from 1 to 256"* ]]
	done
}
