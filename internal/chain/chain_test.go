package chain

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"
)

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func issue(t *testing.T, parent *ca, cn string, isCA bool, notAfter time.Time) *ca {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, BasicConstraintsValid: true, IsCA: isCA}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign
	} else {
		tmpl.DNSNames, tmpl.ExtKeyUsage = []string{cn}, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	signer, signKey := tmpl, key
	if parent != nil {
		signer, signKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, key.Public(), signKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &ca{c, key}
}

func TestVerify(t *testing.T) {
	later := time.Now().Add(24 * time.Hour)
	root := issue(t, nil, "Root", true, later)
	inter := issue(t, root, "Intermediate", true, later)
	leaf := issue(t, inter, "www.example.test", false, later)
	old := issue(t, inter, "old.example.test", false, time.Now().Add(-time.Minute))
	stranger := issue(t, issue(t, nil, "Other Root", true, later), "www.example.test", false, later)
	roots := x509.NewCertPool()
	roots.AddCert(root.cert)

	for _, tc := range []struct {
		name  string
		certs []*x509.Certificate
		host  string
		want  string // "" verifies; else a part of the error
	}{
		{"leaf and intermediate", []*x509.Certificate{leaf.cert, inter.cert}, "www.example.test", ""},
		{"with the root sent too", []*x509.Certificate{leaf.cert, inter.cert, root.cert}, "", ""},
		{"leaf alone", []*x509.Certificate{leaf.cert}, "www.example.test", "incomplete chain: the intermediate CA that issued it (Intermediate) is not sent"},
		{"out of order", []*x509.Certificate{leaf.cert, root.cert, inter.cert}, "", "chain out of order: certificate 2 (Root) did not issue certificate 1 (www.example.test)"},
		{"expired", []*x509.Certificate{old.cert, inter.cert}, "", "expired on "},
		{"another name", []*x509.Certificate{leaf.cert, inter.cert}, "mail.example.test", "name mismatch: the certificate is for www.example.test, not mail.example.test"},
		{"another CA", []*x509.Certificate{stranger.cert}, "", "incomplete chain"},
		{"nothing", nil, "", "no certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.certs, roots, tc.host, time.Now())
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want it to verify, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("want an error with %q, got %v", tc.want, err)
			}
		})
	}
}
