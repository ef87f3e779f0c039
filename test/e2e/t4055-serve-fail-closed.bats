#!/usr/bin/env bats
# kubetenant serve: what `check` must not pass silently is not passed by the
# webhook either: workloads of every API group that carries a pod, wrong JSON
# types in the fields the rules read, and ingress-nginx annotations that
# would inject configuration or reach another namespace.

load serve-lib

setup_file() { serve_certs; }
setup() {
	serve_certs
	TENANTS=$BATS_TEST_DIRNAME/fixtures/policy/tenants.yaml
	serve_start
}
teardown() { serve_stop; }

# gvr_review UID GROUP VERSION RESOURCE OBJECT-JSON: a CREATE by a tenant user in team-a.
gvr_review() {
	jq -cn --arg uid "$1" --arg g "$2" --arg v "$3" --arg r "$4" --argjson obj "$5" '{
		apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
		request: {
			uid: $uid,
			kind: {group: $g, version: $v, kind: $obj.kind},
			resource: {group: $g, version: $v, resource: $r},
			requestKind: {group: $g, version: $v, kind: $obj.kind},
			requestResource: {group: $g, version: $v, resource: $r},
			name: $obj.metadata.name, namespace: "team-a", operation: "CREATE",
			userInfo: {username: "alice@example.org",
				groups: ["oidc:team-a.devs", "system:authenticated"]},
			object: $obj, oldObject: null, dryRun: false,
			options: {apiVersion: "meta.k8s.io/v1", kind: "CreateOptions"}
		}}' >"$BATS_TEST_TMPDIR/r.json"
}

# verdict -> "allowed" or the denial's rules and message on stdout
verdict() {
	run post_review /validate "$BATS_TEST_TMPDIR/r.json"
	[ "$status" -eq 0 ]
	jq -r 'if .response.allowed then "allowed" else .response.status.message end' <<<"$output"
}

@test "an extensions/v1beta1 Deployment is judged like apps/v1" {
	gvr_review u-ext extensions v1beta1 deployments '{
		"apiVersion": "extensions/v1beta1", "kind": "Deployment",
		"metadata": {"name": "old", "namespace": "team-a"},
		"spec": {"template": {"metadata": {"labels": {"app": "old"}}, "spec": {
			"hostNetwork": true, "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
			"terminationGracePeriodSeconds": 30, "schedulerName": "default-scheduler",
			"securityContext": {},
			"containers": [{"name": "old", "image": "ghcr.io/acme/web:1.0",
				"terminationMessagePath": "/dev/termination-log",
				"terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}]}}}}'
	run verdict
	[[ "$output" == *"hostNetwork=true"* ]]
	logq 'any(.uid == "u-ext" and .verdict == "denied" and (.rules | index("pod-security.hostNamespaces")))'
}

ingress() { # annotations-json
	jq -cn --argjson ann "$1" '{
		apiVersion: "networking.k8s.io/v1", kind: "Ingress",
		metadata: {name: "web", namespace: "team-a", annotations: $ann},
		spec: {ingressClassName: "nginx", rules: [{host: "app.example.org", http: {paths: [
			{path: "/", pathType: "Prefix",
			 backend: {service: {name: "web", port: {number: 80}}}}]}}]}}'
}

@test "ingress-nginx: the IngressNightmare annotations are denied (CVE-2025-1097, -1098, -24514)" {
	gvr_review u-n1 networking.k8s.io v1 ingresses "$(ingress '{
		"nginx.ingress.kubernetes.io/auth-url": "http://x.example.com/#;\n}\n}\nserver {\n#",
		"nginx.ingress.kubernetes.io/auth-tls-match-cn": "CN=abc #(\n){}\n }}\nssl_engine foo;\n#",
		"nginx.ingress.kubernetes.io/mirror-target": "https://m.example.com$request_uri;\nload_module /tmp/x.so;\n#"}')"
	run verdict
	[[ "$output" == *"nginx.ingress.kubernetes.io/auth-url has '#'"* ]]
	logq 'any(.uid == "u-n1" and .verdict == "denied" and .rules == ["ingress.annotation-injection", "ingress.annotation-injection", "ingress.annotation-injection"])'
}

@test "ingress-nginx: another namespace's secret is denied, the tenant's own is allowed" {
	gvr_review u-n2 networking.k8s.io v1 ingresses "$(ingress '{
		"nginx.ingress.kubernetes.io/auth-type": "basic",
		"nginx.ingress.kubernetes.io/auth-secret": "team-b/basic-auth"}')"
	run verdict
	[[ "$output" == *"names Secret 'team-b/basic-auth' of another namespace"* ]]
	gvr_review u-n3 networking.k8s.io v1 ingresses "$(ingress '{
		"nginx.ingress.kubernetes.io/auth-type": "basic",
		"nginx.ingress.kubernetes.io/auth-secret": "team-a/basic-auth",
		"nginx.ingress.kubernetes.io/proxy-ssl-secret": "backend-ca",
		"nginx.ingress.kubernetes.io/auth-tls-secret": "team-a/ca",
		"nginx.ingress.kubernetes.io/auth-tls-match-cn": "CN=client\\.app\\.example\\.org"}')"
	run verdict
	[ "$output" = allowed ]
}

@test "wrong JSON types in fields the rules read are request.malformed, not a pass" {
	gvr_review u-t1 cert-manager.io v1 certificates '{
		"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": {"name": "web", "namespace": "team-a"},
		"spec": {"secretName": "web-tls", "dnsNames": "shop.example.com",
			"issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"}}}'
	run verdict
	[[ "$output" == *"[request.malformed] spec.dnsNames: spec.dnsNames must be a list, not a string"* ]]
	gvr_review u-t2 cert-manager.io v1 certificates '{
		"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": {"name": "ca", "namespace": "team-a"},
		"spec": {"secretName": "ca", "dnsNames": ["app.example.org"], "isCA": "true",
			"issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"}}}'
	run verdict
	[[ "$output" == *"spec.isCA must be true or false"* ]]
	gvr_review u-t3 networking.k8s.io v1 ingresses '{
		"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
		"metadata": {"name": "web", "namespace": "team-a"}, "spec": {"rules": "x"}}'
	run verdict
	[[ "$output" == *"spec.rules must be a list"* ]]
	logq '[.[] | select(.uid == "u-t1" or .uid == "u-t2" or .uid == "u-t3")] | length == 3 and
		all(.verdict == "denied" and .rules == ["request.malformed"])'
}
