#!/usr/bin/env bats
# kubetenant check on cert-manager CertificateRequests: the names judged are
# the ones the CA signs, read from spec.request as cert-manager's Go reads
# it; requests that readers read differently are refused (issue 13).  The
# CSRs are the crafted ones of test/cases/csr.
bats_require_minimum_version 1.5.0

KT_BIN=${KT_BIN:-$BATS_TEST_DIRNAME/../../build/kubetenant}
CSR=$BATS_TEST_DIRNAME/../cases/csr

setup() {
	cd "$BATS_TEST_DIRNAME/fixtures/policy"
	T=$BATS_TEST_TMPDIR
}

# cr NAME CSR-FILE: a CertificateRequest as a tenant writes it, on stdout
cr() {
	cat <<Y
apiVersion: cert-manager.io/v1
kind: CertificateRequest
metadata:
  name: $1
  namespace: team-a
spec:
  request: $(base64 -w0 "$2")
  issuerRef:
    name: letsencrypt
    kind: ClusterIssuer
    group: cert-manager.io
  usages:
  - digital signature
  - key encipherment
Y
}

@test "a CertificateRequest for the tenant's own names passes" {
	for f in ok-simple ok-openssl-req ok-python-cryptography ok-wildcard; do
		cr web "$CSR/$f.pem" >"$T/$f.yaml"
		run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/$f.yaml"
		[ "$status" -eq 0 ]
		[ -z "$output" ]
	done
}

@test "issue 13: two extensionRequest attributes, the second naming another tenant, are refused" {
	cr two-attrs "$CSR/bad-two-extreq.pem" >"$T/r.yaml"
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/r.yaml"
	[ "$status" -eq 1 ]
	[ "$output" = "$T/r.yaml:1: CertificateRequest/two-attrs: hostnames.invalid-csr: spec.request: spec.request is refused: it has 2 extensionRequest attributes; readers differ (Go merges them, OpenSSL reads the first): send one" ]
}

@test "issue 13: a first PEM block labelled X509 CRL holding another tenant's CSR is refused" {
	cr crl "$CSR/bad-crl-label-first.pem" >"$T/r.yaml"
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/r.yaml"
	[ "$status" -eq 1 ]
	[ "$output" = "$T/r.yaml:1: CertificateRequest/crl: hostnames.invalid-csr: spec.request: spec.request is refused: the PEM block is labelled 'X509 CRL', not 'CERTIFICATE REQUEST'" ]
}

@test "issue 13: two subject alternative name extensions are refused, not read as no names" {
	cr two-sans "$CSR/bad-two-san-one-attr.pem" >"$T/r.yaml"
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/r.yaml"
	[ "$status" -eq 1 ]
	[ "$output" = "$T/r.yaml:1: CertificateRequest/two-sans: hostnames.invalid-csr: spec.request: spec.request is refused: it requests extension 2.5.29.17 more than once (two subject alternative name lists)" ]
}

@test "every crafted request the reader refuses is refused by check too" {
	local f n=0
	for f in "$CSR"/bad-*.pem; do
		[ -s "$f" ] || continue # an empty request is request.malformed
		cr "x$n" "$f" >>"$T/all.yaml"
		echo --- >>"$T/all.yaml"
		n=$((n + 1))
	done
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/all.yaml"
	[ "$status" -eq 1 ]
	[ "$stderr" = "kubetenant: check tenant 'team-a': $n objects: 0 pass, $n violate, 0 skipped" ]
	[ "$(grep -c ': hostnames.invalid-csr: ' <<<"$output")" -eq "$n" ]
}
