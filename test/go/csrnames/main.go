// csrnames reads each PEM file named on the command line the way
// cert-manager reads CertificateRequest.spec.request (the first PEM block,
// whatever its label, then crypto/x509) and prints the names a CA would
// sign, sorted, one per line, so a test can compare them with kubetenant's
// reading (build/test/t_csr --names prints the same format):
//
//	== FILE
//	cn:NAME | dns:NAME | email:ADDRESS | ip:ADDRESS | uri:URI
//	error: WHY            (cert-manager would refuse the request)
//
// csrnames -make DIR writes requests made as cert-manager makes them.
//
// Test-only: standard library, no network.
package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"sort"
)

func names(data []byte) ([]string, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("no PEM block")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, err
	}
	var out []string
	if csr.Subject.CommonName != "" {
		out = append(out, "cn:"+csr.Subject.CommonName)
	}
	for _, n := range csr.DNSNames {
		out = append(out, "dns:"+n)
	}
	for _, ip := range csr.IPAddresses {
		out = append(out, "ip:"+ip.String())
	}
	for _, u := range csr.URIs {
		out = append(out, "uri:"+u.String())
	}
	for _, e := range csr.EmailAddresses {
		out = append(out, "email:"+e)
	}
	sort.Strings(out)
	return out, nil
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-make" {
		if err := makeCSRs(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		return
	}
	status := 0
	for _, f := range os.Args[1:] {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			status = 2
			continue
		}
		fmt.Printf("== %s\n", f)
		list, err := names(data)
		if err != nil {
			fmt.Printf("error: %v\n", err)
			continue
		}
		for _, n := range list {
			fmt.Println(n)
		}
	}
	os.Exit(status)
}
