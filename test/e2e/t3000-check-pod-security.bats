#!/usr/bin/env bats
# kubetenant check --pod-security: judging Pod and workload manifests offline.
bats_require_minimum_version 1.5.0

setup() {
	KT_BIN=${KT_BIN:-$BATS_TEST_DIRNAME/../../build/kubetenant}
	KT_SHARED=${KT_SHARED:-$BATS_TEST_DIRNAME/../../../shared}
	FIX=$KT_SHARED/conformance/pod-security/testdata
	T=$BATS_TEST_TMPDIR
	cat >"$T/good.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: good
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile:
      type: RuntimeDefault
  containers:
  - name: app
    image: nginx
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop: [ALL]
EOF
	cat >"$T/workloads.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx
        securityContext:
          privileged: true
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          hostNetwork: true
          containers:
          - name: job
            image: busybox
EOF
}

@test "a compliant pod passes: exit 0, no output, summary on stderr" {
	run --separate-stderr "$KT_BIN" check --pod-security restricted "$T/good.yaml"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$stderr" == *"1 objects: 1 pass, 0 violate, 0 skipped"* ]]
}

@test "workload pod templates are judged, with file:line and upstream wording" {
	run --separate-stderr "$KT_BIN" check --pod-security baseline "$T/workloads.yaml"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "$T/workloads.yaml:8: Deployment/web: baseline:latest: privileged (container \"web\" must not set securityContext.privileged=true)" ]
	[ "${lines[1]}" = "$T/workloads.yaml:21: CronJob/nightly: baseline:latest: host namespaces (hostNetwork=true)" ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "$stderr" == *"3 objects: 0 pass, 2 violate, 1 skipped"* ]]
}

@test "a pinned version changes the verdict (runAsUser=0 is checked from v1.23)" {
	sed 's/runAsNonRoot: true/runAsNonRoot: true\n    runAsUser: 0/' "$T/good.yaml" >"$T/root.yaml"
	run "$KT_BIN" check --pod-security restricted:v1.22 "$T/root.yaml"
	[ "$status" -eq 0 ]
	run "$KT_BIN" check --pod-security restricted:v1.23 "$T/root.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"restricted:v1.23: runAsUser=0 (pod must not set runAsUser=0)"* ]]
}

@test "json output reports every object, skipped kinds included" {
	run --separate-stderr "$KT_BIN" check --pod-security restricted --format json "$T/workloads.yaml" "$T/good.yaml"
	[ "$status" -eq 1 ]
	[ "$(jq -r .mode <<<"$output")" = pod-security ]
	[ "$(jq -r .policy <<<"$output")" = restricted:latest ]
	[ "$(jq -c .summary <<<"$output")" = '{"objects":4,"pass":1,"violate":2,"skipped":1,"errors":0}' ]
	[ "$(jq -r '.objects[0].status' <<<"$output")" = skipped ]
	[ "$(jq -r '.objects[1] | "\(.kind)/\(.name) \(.line) \(.podSpecPath)"' <<<"$output")" = "Deployment/web 8 spec.template.spec" ]
	[ "$(jq -r '[.objects[1].violations[].check] | join(",")' <<<"$output")" = \
	  "privileged,allowPrivilegeEscalation,capabilities_restricted,runAsNonRoot,seccompProfile_restricted" ]
	[ "$(jq -r '.objects[2].podSpecPath' <<<"$output")" = "spec.jobTemplate.spec.template.spec" ]
	[ "$(jq -r '.objects[3].status' <<<"$output")" = pass ]
	[ "$(jq '.objects[3].violations | length' <<<"$output")" -eq 0 ]
}

@test "stdin, directories and List kinds" {
	mkdir -p "$T/dir/sub" "$T/dir/.hidden"
	cp "$T/good.yaml" "$T/dir/a.yaml"
	cp "$T/workloads.yaml" "$T/dir/sub/b.yml"
	echo 'not: [valid' >"$T/dir/.hidden/x.yaml"
	echo 'ignored' >"$T/dir/notes.txt"
	run --separate-stderr "$KT_BIN" check --pod-security baseline "$T/dir"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"4 objects: 1 pass, 2 violate, 1 skipped"* ]]
	[[ "${lines[0]}" == "$T/dir/sub/b.yml:8: Deployment/web:"* ]]

	run --separate-stderr "$KT_BIN" check --pod-security baseline - <"$T/workloads.yaml"
	[ "$status" -eq 1 ]
	[[ "${lines[0]}" == "-:8: Deployment/web: "* ]]

	printf 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n  spec:\n    hostPID: true\n    containers: [{name: c}]\n' >"$T/list.yaml"
	run --separate-stderr "$KT_BIN" check --pod-security baseline "$T/list.yaml"
	[ "$status" -eq 1 ]
	[ "$output" = "$T/list.yaml:4: Pod/p: baseline:latest: host namespaces (hostPID=true)" ]

	# a List in a List is expanded, not skipped as a kind without a pod
	printf 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: p}\n    spec:\n      hostPID: true\n      containers: [{name: c}]\n' >"$T/nested.yaml"
	run --separate-stderr "$KT_BIN" check --pod-security baseline "$T/nested.yaml"
	[ "$status" -eq 1 ]
	[ "$output" = "$T/nested.yaml:4: Pod/p: baseline:latest: host namespaces (hostPID=true)" ]
}

@test "JSON manifests and the official fixtures" {
	"$KT_BIN" check --pod-security restricted:v1.37 "$FIX/restricted/v1.37/pass" 2>/dev/null
	run "$KT_BIN" check --pod-security restricted:v1.37 "$FIX/restricted/v1.37/fail/allowprivilegeescalation0.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *'allowPrivilegeEscalation != false (container "container1" must set securityContext.allowPrivilegeEscalation=false)'* ]]
	echo '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"},"spec":{"hostIPC":true,"containers":[]}}' >"$T/p.json"
	run --separate-stderr "$KT_BIN" check --pod-security baseline "$T/p.json"
	[ "$status" -eq 1 ]
	[ "$output" = "$T/p.json:1: Pod/j: baseline:latest: host namespaces (hostIPC=true)" ]
}

@test "privileged level passes everything" {
	run "$KT_BIN" check --pod-security privileged "$T/workloads.yaml"
	[ "$status" -eq 0 ]
}

@test "unparsable input exits 3 and names the place" {
	printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nmetadata: {name: b}\n' >"$T/dup.yaml"
	run --separate-stderr "$KT_BIN" check --pod-security baseline "$T/good.yaml" "$T/dup.yaml"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"$T/dup.yaml:4:1: duplicate key 'metadata'"* ]]
	[[ "$stderr" == *"1 objects: 1 pass"*"1 unreadable input"* ]]

	run --separate-stderr "$KT_BIN" check --pod-security baseline "$T/missing.yaml"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"cannot open"* ]]

	run --separate-stderr "$KT_BIN" check --pod-security baseline --format json "$T/dup.yaml"
	[ "$status" -eq 3 ]
	[ "$(jq -r '.errors[0].where' <<<"$output")" = "$T/dup.yaml:4:1" ]
}

@test "a workload without a pod template is a finding, not a pass" {
	printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: empty}\nspec: {}\n' >"$T/empty.yaml"
	run "$KT_BIN" check --pod-security baseline "$T/empty.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Deployment/empty: baseline:latest: invalid workload (Deployment has no object at 'spec.template.spec')"* ]]
}

@test "control characters in names cannot forge output lines" {
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x\\nfake.yaml:1: Pod/y: ok"},"spec":{"hostPID":true}}' >"$T/evil.json"
	run --separate-stderr "$KT_BIN" check --pod-security baseline "$T/evil.json"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'Pod/x\x0afake.yaml:1: Pod/y: ok:'* ]]
}

@test "bad usage exits 2" {
	run "$KT_BIN" check --pod-security strict "$T/good.yaml"
	[ "$status" -eq 2 ]
	run "$KT_BIN" check --pod-security restricted:1.30 "$T/good.yaml"
	[ "$status" -eq 2 ]
	run "$KT_BIN" check --pod-security baseline --format yaml "$T/good.yaml"
	[ "$status" -eq 2 ]
	run "$KT_BIN" check --pod-security baseline
	[ "$status" -eq 2 ]
	run "$KT_BIN" check "$T/good.yaml"
	[ "$status" -eq 2 ]
	run "$KT_BIN" check --bogus
	[ "$status" -eq 2 ]
	run "$KT_BIN" check --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--pod-security LEVEL[:VERSION]"* ]]
}
