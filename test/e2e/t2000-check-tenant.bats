#!/usr/bin/env bats
# kubetenant check -f TENANTS --tenant NAME: a tenant's manifests judged
# offline with every rule of the admission webhook.  The manifests under
# fixtures/policy were made with `kubectl create --dry-run=client -o yaml`.
bats_require_minimum_version 1.5.0

KT_BIN=${KT_BIN:-$BATS_TEST_DIRNAME/../../build/kubetenant}
F=$BATS_TEST_DIRNAME/fixtures/policy

setup() {
	cd "$BATS_TEST_DIRNAME/fixtures/policy"
	T=$BATS_TEST_TMPDIR
}

@test "compliant kubectl-made manifests pass: exit 0, a summary on stderr" {
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a good
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$stderr" = "kubetenant: check tenant 'team-a': 8 objects: 8 pass, 0 violate, 0 skipped" ]
}

@test "every escape is a finding with file:line, kind/name, rule, path and message" {
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a bad/escapes.yaml
	[ "$status" -eq 1 ]
	expected="bad/escapes.yaml:2: Deployment/web: placement.foreign-toleration: spec.template.spec.tolerations[0]: pod template tolerates node pool 'b-pool' but tenant 'team-a' may only use 'a-pool'
bad/escapes.yaml:27: Service/debug: services.node-port: spec.type: service type NodePort opens a port on every node of the cluster; tenant 'team-a' may not use it: use type ClusterIP and an Ingress
bad/escapes.yaml:47: Ingress/shop: hostnames.unauthorized: spec.rules[0].host: ingress host 'shop.example.com' is not authorized for tenant 'team-a'; use a name under: team-a.tenants.example.org, *.team-a.tenants.example.org, *.app.example.org, app.example.org, exact.example.net"
	diff <(echo "$expected") <(echo "$output")
	[ "$stderr" = "kubetenant: check tenant 'team-a': 3 objects: 0 pass, 3 violate, 0 skipped" ]
}

@test "kinds admin lets a tenant write: ACME Order, TCPRoute, a cross-namespace Alert, an open RoleBinding" {
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a bad/kinds.yaml
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[0]}" == "bad/kinds.yaml:3: Order/shop-1: hostnames.acme-object: kind: ACME Orders are created by cert-manager"* ]]
	[[ "${lines[1]}" == "bad/kinds.yaml:16: TCPRoute/db: hostnames.route-without-hostnames: kind: a TCPRoute has no hostnames"* ]]
	[[ "${lines[2]}" == "bad/kinds.yaml:30: Alert/spy: flux.cross-namespace-ref: spec.eventSources[0].namespace: reference to namespace 'team-b'"* ]]
	[[ "${lines[3]}" == "bad/kinds.yaml:42: RoleBinding/open: rbac.foreign-subject: subjects[0]: Group 'system:authenticated' is not of tenant 'team-a'"* ]]
	[ "$stderr" = "kubetenant: check tenant 'team-a': 4 objects: 0 pass, 4 violate, 0 skipped" ]
}

@test "an object naming another namespace is a finding, judged for the tenant anyway" {
	run "$KT_BIN" check -f tenants.yaml --tenant team-a bad/pod.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad/pod.yaml:1: Pod/debug: request.namespace-mismatch: metadata.namespace: object names namespace 'team-b'"* ]]
	[[ "$output" == *"Pod/debug: placement.node-name: spec.nodeName:"* ]]
	[[ "$output" == *"Pod/debug: pod-security.privileged: spec: pod violates PodSecurity \"baseline:latest\""* ]]
	[[ "$output" == *"Pod/debug: pod-security.hostNamespaces:"* ]]
}

@test "the tenant's own level applies: team-b is restricted" {
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-b good/web.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"Deployment/web: pod-security.runAsNonRoot: spec.template.spec: pod template violates PodSecurity \"restricted:latest\""* ]]
	[[ "$output" == *"Ingress/web: hostnames.unauthorized: spec.rules[0].host: ingress host 'app.example.org' is not authorized for tenant 'team-b'"* ]]
}

@test "a pod is mutated like the webhook does, then validated: it passes" {
	# what `kubectl run web --image=... --dry-run=client -o yaml` writes (it needs a server)
	cat >"$T/pod.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels:
    run: web
  name: web
spec:
  containers:
  - image: ghcr.io/acme/web:1.0
    name: web
    ports:
    - containerPort: 8080
    resources: {}
  dnsPolicy: ClusterFirst
  restartPolicy: Always
status: {}
Y
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/pod.yaml"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a --show-mutations "$T/pod.yaml"
	[ "$status" -eq 0 ]
	expected="$T/pod.yaml:1: Pod/web: mutation: add /spec/nodeSelector {\"kubetenant.io/node-pool\":\"a-pool\"}
$T/pod.yaml:1: Pod/web: mutation: add /spec/tolerations [{\"key\":\"kubetenant.io/node-pool\",\"operator\":\"Equal\",\"value\":\"a-pool\",\"effect\":\"NoSchedule\"}]"
	diff <(echo "$expected") <(echo "$output")
}

@test "--format json: one report with every object, its denials, warnings and patch" {
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a --format json --show-mutations bad/escapes.yaml good/list.json
	[ "$status" -eq 1 ]
	[ "$(jq -r .mode <<<"$output")" = tenant ]
	[ "$(jq -r .summary.objects <<<"$output")" = 4 ]
	[ "$(jq -r .summary.violate <<<"$output")" = 3 ]
	[ "$(jq -r '.objects[] | select(.kind == "Service" and .name == "debug") | .denials[0].rule' <<<"$output")" = services.node-port ]
	[ "$(jq -r '.objects[] | select(.name == "api") | .status' <<<"$output")" = pass ]
	[ "$(jq -r '.objects[] | select(.name == "api") | .patch | length' <<<"$output")" = 0 ]
	[ "$(jq -r '.objects[0].line' <<<"$output")" = 2 ]
}

@test "stdin, multi-document input and a List" {
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a - <bad/escapes.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == "-:2: Deployment/web: placement.foreign-toleration:"* ]]
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a - <good/list.json
	[ "$status" -eq 0 ]
	[ "$stderr" = "kubetenant: check tenant 'team-a': 1 objects: 1 pass, 0 violate, 0 skipped" ]
}

@test "warnings are printed but do not fail the check" {
	cat >"$T/prefer.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      affinity:
        nodeAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 1
            preference: {matchExpressions: [{key: kubetenant.io/node-pool, operator: In, values: [b-pool]}]}
      containers: [{name: web, image: ghcr.io/acme/web:1.0}]
Y
	run "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/prefer.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Deployment/web: warning: placement.foreign-pool-preference:"* ]]
}

@test "hostile names cannot inject lines into the report" {
	printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: "x\\nfake.yaml:1: Pod/ok: fine"\nspec:\n  type: NodePort\n' >"$T/evil.yaml"
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/evil.yaml"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'Service/x\x0afake.yaml:1: Pod/ok: fine: services.node-port'* ]]
}

@test "duplicate keys are an error, not a silent choice: exit 3" {
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a bad/dup-keys.yaml.broken
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"dup-keys.yaml.broken:7"* ]]
}

@test "unreadable input exits 3" {
	run "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/missing.yaml"
	[ "$status" -eq 3 ]
}

@test "usage errors exit 2: unknown tenant, missing -f, mixed modes, bad tenants file" {
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-z good
	[ "$status" -eq 2 ]
	[ "$stderr" = "kubetenant: error: tenant 'team-z' is not in 'tenants.yaml'" ]
	run "$KT_BIN" check --tenant team-a good
	[ "$status" -eq 2 ]
	run "$KT_BIN" check -f tenants.yaml good
	[ "$status" -eq 2 ]
	run "$KT_BIN" check -f tenants.yaml --tenant team-a --pod-security baseline good
	[ "$status" -eq 2 ]
	run "$KT_BIN" check --pod-security baseline --show-mutations good
	[ "$status" -eq 2 ]
	run "$KT_BIN" check -f tenants.yaml --tenant team-a
	[ "$status" -eq 2 ]
	printf 'tenants:\n  team-a:\n    nodePool: nowhere\n' >"$T/bad-tenants.yaml"
	run "$KT_BIN" check -f "$T/bad-tenants.yaml" --tenant team-a good
	[ "$status" -eq 2 ]
}

@test "help describes the tenant mode" {
	run "$KT_BIN" check --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--tenant NAME"* ]]
	[[ "$output" == *"--show-mutations"* ]]
}

@test "extensions/v1beta1 workloads are judged as --pod-security reads them (one table)" {
	cat >"$T/ext.yaml" <<'Y'
apiVersion: extensions/v1beta1
kind: Deployment
metadata: {name: old}
spec:
  template:
    metadata: {labels: {app: old}}
    spec:
      hostNetwork: true
      containers: [{name: old, image: ghcr.io/acme/web:1.0}]
Y
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/ext.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == "$T/ext.yaml:1: Deployment/old: pod-security.hostNamespaces: spec.template.spec: pod template violates"* ]]
	run --separate-stderr "$KT_BIN" check --pod-security baseline "$T/ext.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == "$T/ext.yaml:1: Deployment/old: baseline:latest: host namespaces"* ]]
}

@test "ingress-nginx annotations: injection and other namespaces' secrets are findings, own secrets pass" {
	cat >"$T/ing.yaml" <<'Y'
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: evil
  annotations:
    nginx.ingress.kubernetes.io/auth-url: "http://auth.example.com/#;\n}\nserver { listen 81; }\n"
    nginx.ingress.kubernetes.io/auth-tls-secret: kube-system/ca
spec:
  ingressClassName: nginx
  rules: [{host: app.example.org, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: good
  annotations:
    nginx.ingress.kubernetes.io/auth-type: basic
    nginx.ingress.kubernetes.io/auth-secret: team-a/basic-auth
    nginx.ingress.kubernetes.io/auth-url: "https://$host/oauth2/auth"
spec:
  ingressClassName: nginx
  rules: [{host: app.example.org, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
Y
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/ing.yaml"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "$T/ing.yaml:1: Ingress/evil: ingress.annotation-injection: metadata.annotations[nginx.ingress.kubernetes.io/auth-url]: nginx.ingress.kubernetes.io/auth-url has '#' at offset 24"* ]]
	[[ "${lines[1]}" == "$T/ing.yaml:1: Ingress/evil: ingress.annotation-cross-namespace: metadata.annotations[nginx.ingress.kubernetes.io/auth-tls-secret]: nginx.ingress.kubernetes.io/auth-tls-secret names Secret 'kube-system/ca' of another namespace"* ]]
	[ "$stderr" = "kubetenant: check tenant 'team-a': 2 objects: 1 pass, 1 violate, 0 skipped" ]
}

@test "a List nested in a List is expanded and judged, never passed unjudged" {
	cat >"$T/nested.yaml" <<'Y'
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: List
  items:
  - apiVersion: v1
    kind: Service
    metadata: {name: debug}
    spec: {type: NodePort, ports: [{port: 80}]}
Y
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/nested.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == "$T/nested.yaml:4: Service/debug: services.node-port: spec.type:"* ]]
	[ "$stderr" = "kubetenant: check tenant 'team-a': 1 objects: 0 pass, 1 violate, 0 skipped" ]
	printf 'apiVersion: v1\nkind: List\nitems: {a: {apiVersion: v1, kind: Service, metadata: {name: x}, spec: {type: NodePort}}}\n' >"$T/bad-items.yaml"
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/bad-items.yaml"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"bad-items.yaml:1"*"document 1 is a List whose 'items' is not a sequence"* ]]
}

@test "wrong JSON types are request.malformed findings, never a silent pass" {
	cat >"$T/types.yaml" <<'Y'
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: web}
spec:
  secretName: web-tls
  dnsNames: shop.example.com
  issuerRef: {name: letsencrypt, kind: ClusterIssuer}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: ca}
spec:
  secretName: ca
  dnsNames: [app.example.org]
  isCA: "true"
  issuerRef: {name: letsencrypt, kind: ClusterIssuer}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec: {rules: x}
Y
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/types.yaml"
	[ "$status" -eq 1 ]
	expected="$T/types.yaml:1: Certificate/web: request.malformed: spec.dnsNames: spec.dnsNames must be a list, not a string
$T/types.yaml:9: Certificate/ca: request.malformed: spec.isCA: spec.isCA must be true or false, not a string
$T/types.yaml:18: Ingress/web: request.malformed: spec.rules: spec.rules must be a list, not a string"
	diff <(echo "$expected") <(echo "$output")
	[ "$stderr" = "kubetenant: check tenant 'team-a': 3 objects: 0 pass, 3 violate, 0 skipped" ]
}

@test "--enforcement webhook is the default: the same report" {
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a bad/escapes.yaml
	local plain=$output plain_err=$stderr
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a --enforcement webhook bad/escapes.yaml
	[ "$status" -eq 1 ]
	[ "$output" = "$plain" ]
	[ "$stderr" = "$plain_err" ]
}

@test "--enforcement gatekeeper: what Gatekeeper does not enforce is a warning that says so" {
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a --enforcement gatekeeper bad/escapes.yaml
	[ "$status" -eq 1 ]
	expected="bad/escapes.yaml:2: Deployment/web: warning: placement.foreign-toleration: spec.template.spec.tolerations[0]: not enforced by gatekeeper (it only assigns each Pod its pool's nodeSelector and toleration): pod template tolerates node pool 'b-pool' but tenant 'team-a' may only use 'a-pool'
bad/escapes.yaml:27: Service/debug: services.node-port: spec.type: service type NodePort opens a port on every node of the cluster; tenant 'team-a' may not use it: use type ClusterIP and an Ingress
bad/escapes.yaml:47: Ingress/shop: hostnames.unauthorized: spec.rules[0].host: ingress host 'shop.example.com' is not authorized for tenant 'team-a'; use a name under: team-a.tenants.example.org, *.team-a.tenants.example.org, *.app.example.org, app.example.org, exact.example.net"
	diff <(echo "$expected") <(echo "$output")
	[ "$stderr" = "kubetenant: check tenant 'team-a' under gatekeeper: 3 objects: 1 pass, 2 violate, 0 skipped" ]
}

@test "--enforcement gatekeeper: Pods get the pool Assign, Pod Security stays enforced, escapes do not" {
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a --enforcement gatekeeper --show-mutations bad/pod.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"Pod/debug: pod-security.privileged: spec: pod violates"* ]]
	[[ "$output" == *"Pod/debug: warning: placement.node-name: spec.nodeName: not enforced by gatekeeper ("* ]]
	[[ "$output" == *"Pod/debug: mutation: add /spec/nodeSelector {\"kubetenant.io/node-pool\":\"a-pool\"}"* ]]
	[[ "$output" == *"Pod/debug: mutation: add /spec/tolerations [{\"key\":\"kubetenant.io/node-pool\",\"operator\":\"Equal\",\"value\":\"a-pool\"}]"* ]]
	# under the webhook the escape itself is the denial
	run "$KT_BIN" check -f tenants.yaml --tenant team-a bad/pod.yaml
	[[ "$output" == *"Pod/debug: placement.node-name: spec.nodeName:"* ]]
}

@test "--enforcement gatekeeper: no Flux rules, no platform objects, no template Pod Security" {
	cat >"$T/flux.yaml" <<-'Y'
	apiVersion: kustomize.toolkit.fluxcd.io/v1
	kind: Kustomization
	metadata: {name: apps}
	spec: {interval: 5m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: apps}}
	---
	apiVersion: v1
	kind: ServiceAccount
	metadata: {name: tenant-flux}
	---
	apiVersion: apps/v1
	kind: Deployment
	metadata: {name: root}
	spec:
	  selector: {matchLabels: {app: root}}
	  template:
	    metadata: {labels: {app: root}}
	    spec: {containers: [{name: c, image: ghcr.io/acme/x:1, securityContext: {privileged: true}}]}
	Y
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/flux.yaml"
	[ "$status" -eq 1 ]
	[ "$stderr" = "kubetenant: check tenant 'team-a': 3 objects: 0 pass, 3 violate, 0 skipped" ]
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a --enforcement gatekeeper "$T/flux.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Kustomization/apps: warning: flux.service-account: spec.serviceAccountName: not enforced by gatekeeper (it has no Flux rules):"* ]]
	[[ "$output" == *"ServiceAccount/tenant-flux: warning: managed.reserved-name: metadata.name: not enforced by gatekeeper (it does not protect platform objects"* ]]
	[[ "$output" == *"Deployment/root: warning: pod-security.privileged: spec.template.spec: not enforced by gatekeeper (Pod Security admission only warns about pod templates"* ]]
	[ "$stderr" = "kubetenant: check tenant 'team-a' under gatekeeper: 3 objects: 3 pass, 0 violate, 0 skipped" ]
}

@test "--enforcement: an unknown profile, or without --tenant, is a usage error" {
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a --enforcement kyverno good
	[ "$status" -eq 2 ]
	[[ "$stderr" == "kubetenant: error: unknown enforcement 'kyverno' (expected 'webhook' or 'gatekeeper')"* ]]
	run "$KT_BIN" check --pod-security baseline --enforcement gatekeeper good
	[ "$status" -eq 2 ]
	run "$KT_BIN" check --help
	[[ "$output" == *"--enforcement PROFILE"* ]]
}
