#!/usr/bin/env bats
# kubetenant check on the names a tenant claims through cert-manager and
# external-dns.  A CertificateRequest is judged by the names the CA signs,
# read from spec.request as cert-manager's Go reads it; requests that
# readers read differently are refused (issue 13, with the crafted CSRs of
# test/cases/csr).  DNS records may live under "_name" labels.
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

@test "issue 13: SRV and TXT records under the tenant's names pass, and an empty commonName is no name" {
	cat >"$T/dns.yaml" <<'Y'
apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata:
  name: sip
  namespace: team-a
spec:
  endpoints:
  - dnsName: _sip._tcp.app.example.org
    recordTTL: 300
    recordType: SRV
    targets:
    - 10 60 5060 sip.app.example.org
  - dnsName: _dmarc.app.example.org
    recordType: TXT
    targets:
    - v=DMARC1; p=none
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: web
  namespace: team-a
spec:
  commonName: ""
  dnsNames:
  - app.example.org
  issuerRef:
    kind: ClusterIssuer
    name: letsencrypt
  secretName: web-tls
Y
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/dns.yaml"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$stderr" = "kubetenant: check tenant 'team-a': 2 objects: 2 pass, 0 violate, 0 skipped" ]
	# another tenant's name stays refused behind the "_" labels
	sed -i 's/_sip._tcp.app.example.org/_sip._tcp.b.example.com/' "$T/dns.yaml"
	run --separate-stderr "$KT_BIN" check -f tenants.yaml --tenant team-a "$T/dns.yaml"
	[ "$status" -eq 1 ]
	[ "$output" = "$T/dns.yaml:1: DNSEndpoint/sip: hostnames.unauthorized: spec.endpoints[0].dnsName: DNS record '_sip._tcp.' under the name 'b.example.com' is not authorized for tenant 'team-a'; use a name under: team-a.tenants.example.org, *.team-a.tenants.example.org, *.app.example.org, app.example.org, exact.example.net" ]
}
