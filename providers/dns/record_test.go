package dns_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/providers/dns"
)

// chain makes a leaf signed by an intermediate, leaf first.
func chain(t *testing.T) []*x509.Certificate {
	t.Helper()
	sign := func(tmpl, parent *x509.Certificate, pub, signer *ecdsa.PrivateKey) *x509.Certificate {
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &pub.PublicKey, signer)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "R1"}, NotBefore: now, NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	ca := sign(caTmpl, caTmpl, caKey, caKey)
	leaf := sign(&x509.Certificate{SerialNumber: big.NewInt(2), DNSNames: []string{"www.example.test"}, NotBefore: now, NotAfter: now.Add(time.Hour)}, ca, leafKey, caKey)
	return []*x509.Certificate{leaf, ca}
}

// TestMatching: end-entity records match the leaf, trust-anchor records a
// CA certificate the server sends; hex case does not matter.
func TestMatching(t *testing.T) {
	served, other := chain(t), chain(t)
	rec := func(params [3]uint8, c *x509.Certificate) string {
		r, err := dns.Record(params, c)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		name    string
		records []string
		want    int
	}{
		{"3 1 1 of the leaf", []string{rec([3]uint8{3, 1, 1}, served[0])}, 1},
		{"3 1 1 upper-case hex", []string{strings.ToUpper(rec([3]uint8{3, 1, 1}, served[0]))}, 1},
		{"3 0 2 of the leaf", []string{rec([3]uint8{3, 0, 2}, served[0])}, 1},
		{"2 1 1 of the issuing CA", []string{rec([3]uint8{2, 1, 1}, served[1])}, 1},
		{"2 0 1 of the issuing CA", []string{rec([3]uint8{2, 0, 1}, served[1])}, 1},
		{"2 1 1 of the leaf is no trust anchor", []string{rec([3]uint8{2, 1, 1}, served[0])}, 0},
		{"3 1 1 of the CA is no end-entity", []string{rec([3]uint8{3, 1, 1}, served[1])}, 0},
		{"another CA", []string{rec([3]uint8{2, 1, 1}, other[1])}, 0},
		{"old and new key: one matches", []string{rec([3]uint8{3, 1, 1}, other[0]), rec([3]uint8{3, 1, 1}, served[0])}, 1},
		{"malformed", []string{"3 1 1 zz"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := dns.Matching(tc.records, served); len(got) != tc.want || (tc.want > 0 && !slices.Contains(tc.records, got[0])) {
				t.Errorf("Matching(%q) = %q", tc.records, got)
			}
		})
	}
}
