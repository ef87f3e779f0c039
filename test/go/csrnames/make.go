package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"os"
	"path/filepath"
)

// makeCSRs writes requests the way cert-manager's controller makes them
// from a Certificate (x509.CreateCertificateRequest with the key usages as
// extra extensions), one per key type, so the test knows that real
// requests are accepted, not only the crafted ones.
func makeCSRs(dir string) error {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	// keyUsage digitalSignature, keyEncipherment (critical); extKeyUsage serverAuth
	ku, _ := asn1.Marshal(asn1.BitString{Bytes: []byte{0xa0}, BitLength: 3})
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 1}})
	for name, key := range map[string]crypto.Signer{"rsa": rsaKey, "ecdsa": ecKey, "ed25519": edKey} {
		tmpl := &x509.CertificateRequest{
			Subject:  pkix.Name{CommonName: "app.example.org", Organization: []string{"Acme"}},
			DNSNames: []string{"app.example.org", "www.app.example.org"},
			ExtraExtensions: []pkix.Extension{
				{Id: asn1.ObjectIdentifier{2, 5, 29, 15}, Critical: true, Value: ku},
				{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Value: eku},
			},
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
		if err != nil {
			return err
		}
		out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
		if err := os.WriteFile(filepath.Join(dir, "ok-go-"+name+".pem"), out, 0o644); err != nil {
			return err
		}
	}
	return nil
}
