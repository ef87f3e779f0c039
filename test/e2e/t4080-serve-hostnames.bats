#!/usr/bin/env bats
# kubetenant serve: names claimed through cert-manager and external-dns,
# over HTTPS.  The CertificateRequests that readers read differently (issue
# 13) are refused by /validate and /mutate alike (the crafted CSRs of
# test/cases/csr); DNS records may live under "_name" labels.

load serve-lib

CSR=$BATS_TEST_DIRNAME/../cases/csr

setup_file() { serve_certs; }
setup() {
	serve_certs
	TENANTS=$BATS_TEST_DIRNAME/fixtures/policy/tenants.yaml serve_start
}
teardown() { serve_stop; }

# cr_review UID CSR-FILE: the AdmissionReview the API server sends when a
# tenant creates a CertificateRequest (cert-manager's own mutating webhook
# has filled in the requester's identity by the time validation runs)
cr_review() {
	jq -cn --arg uid "$1" --arg req "$(base64 -w0 "$2")" '{
		apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
		request: {
			uid: $uid,
			kind: {group: "cert-manager.io", version: "v1", kind: "CertificateRequest"},
			resource: {group: "cert-manager.io", version: "v1", resource: "certificaterequests"},
			requestKind: {group: "cert-manager.io", version: "v1", kind: "CertificateRequest"},
			requestResource: {group: "cert-manager.io", version: "v1", resource: "certificaterequests"},
			name: "web-1", namespace: "team-a", operation: "CREATE",
			userInfo: {username: "alice@example.org", groups: ["oidc:team-a.devs", "system:authenticated"]},
			object: {
				apiVersion: "cert-manager.io/v1", kind: "CertificateRequest",
				metadata: {name: "web-1", namespace: "team-a",
					uid: "6f1f5a3c-2b1d-4f0e-9d55-2f3c1f0a9b7e",
					creationTimestamp: "2026-12-07T18:00:00Z"},
				spec: {
					request: $req,
					issuerRef: {name: "letsencrypt", kind: "ClusterIssuer", group: "cert-manager.io"},
					usages: ["digital signature", "key encipherment"],
					username: "alice@example.org",
					groups: ["oidc:team-a.devs", "system:authenticated"],
					uid: ""
				},
				status: {}
			},
			oldObject: null, dryRun: false,
			options: {apiVersion: "meta.k8s.io/v1", kind: "CreateOptions"}
		}}'
}

# verdict ENDPOINT UID CSR-FILE: "allowed" or the denial message
verdict() {
	cr_review "$2" "$3" >"$BATS_TEST_TMPDIR/$2.json"
	post_review "/$1" "$BATS_TEST_TMPDIR/$2.json" |
		jq -r --arg uid "$2" 'if .response.uid != $uid then "wrong uid"
			elif .response.allowed then "allowed"
			else "\(.response.status.code) \(.response.status.message)" end'
}

@test "a CertificateRequest for the tenant's own names is allowed" {
	for ep in validate mutate; do
		run verdict "$ep" "ok-$ep" "$CSR/ok-simple.pem"
		[ "$output" = allowed ]
	done
}

@test "issue 13: the three CSR bypasses are denied by /validate and /mutate" {
	local ep f
	for ep in validate mutate; do
		for f in bad-two-extreq bad-crl-label-first bad-two-san-one-attr; do
			run verdict "$ep" "$f-$ep" "$CSR/$f.pem"
			[[ "$output" == "403 "*"spec.request is refused: "* ]]
		done
	done
	run verdict validate v1 "$CSR/bad-two-extreq.pem"
	[[ "$output" == *"it has 2 extensionRequest attributes"* ]]
	run verdict validate v2 "$CSR/bad-crl-label-first.pem"
	[[ "$output" == *"the PEM block is labelled 'X509 CRL', not 'CERTIFICATE REQUEST'"* ]]
	run verdict validate v3 "$CSR/bad-two-san-one-attr.pem"
	[[ "$output" == *"requests extension 2.5.29.17 more than once"* ]]
	logq '[.[] | select(.msg == "admission" and (.uid | startswith("v")))] | length == 3 and
		all(.verdict == "denied" and .rules == ["hostnames.invalid-csr"])'
}

# object_review UID GROUP VERSION KIND RESOURCE OBJECT-JSON: a tenant's CREATE
object_review() {
	jq -cn --arg uid "$1" --arg g "$2" --arg v "$3" --arg k "$4" --arg r "$5" --argjson obj "$6" '{
		apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
		request: {
			uid: $uid,
			kind: {group: $g, version: $v, kind: $k},
			resource: {group: $g, version: $v, resource: $r},
			requestKind: {group: $g, version: $v, kind: $k},
			requestResource: {group: $g, version: $v, resource: $r},
			name: $obj.metadata.name, namespace: "team-a", operation: "CREATE",
			userInfo: {username: "alice@example.org", groups: ["oidc:team-a.devs", "system:authenticated"]},
			object: $obj, oldObject: null, dryRun: false,
			options: {apiVersion: "meta.k8s.io/v1", kind: "CreateOptions"}
		}}'
}

@test "issue 13: SRV records under the tenant's names and an empty commonName are allowed" {
	local dns cert ep
	dns='{"apiVersion":"externaldns.k8s.io/v1alpha1","kind":"DNSEndpoint",
		"metadata":{"name":"sip","namespace":"team-a","generation":1},
		"spec":{"endpoints":[{"dnsName":"_sip._tcp.app.example.org","recordType":"SRV",
			"recordTTL":300,"targets":["10 60 5060 sip.app.example.org"]}]}}'
	cert='{"apiVersion":"cert-manager.io/v1","kind":"Certificate",
		"metadata":{"name":"web","namespace":"team-a","generation":1},
		"spec":{"commonName":"","dnsNames":["app.example.org"],"secretName":"web-tls",
			"issuerRef":{"kind":"ClusterIssuer","name":"letsencrypt"}}}'
	object_review d1 externaldns.k8s.io v1alpha1 DNSEndpoint dnsendpoints "$dns" \
		>"$BATS_TEST_TMPDIR/dns.json"
	object_review c1 cert-manager.io v1 Certificate certificates "$cert" >"$BATS_TEST_TMPDIR/cert.json"
	for ep in validate mutate; do
		run post_review "/$ep" "$BATS_TEST_TMPDIR/dns.json"
		[ "$(jq -r .response.uid <<<"$output")" = d1 ]
		[ "$(jq -r .response.allowed <<<"$output")" = true ]
		run post_review "/$ep" "$BATS_TEST_TMPDIR/cert.json"
		[ "$(jq -r .response.uid <<<"$output")" = c1 ]
		[ "$(jq -r .response.allowed <<<"$output")" = true ]
	done
	# another tenant's name behind the "_" labels is still denied
	sed -i 's/_sip._tcp.app.example.org/_sip._tcp.b.example.com/' "$BATS_TEST_TMPDIR/dns.json"
	run post_review /validate "$BATS_TEST_TMPDIR/dns.json"
	[ "$(jq -r .response.allowed <<<"$output")" = false ]
	[[ "$(jq -r .response.status.message <<<"$output")" == *"DNS record '_sip._tcp.' under the name 'b.example.com' is not authorized"* ]]
}
