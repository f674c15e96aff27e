package localca_test

import (
	"context"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"

	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/localca"
)

// TestRevoke: each revocation signs the CRL again, keeping what it listed;
// openssl, checking against it, refuses the revoked certificate with its
// reason and accepts the other.
func TestRevoke(t *testing.T) {
	openssl := labutil.Binary(t, "openssl")
	dir := t.TempDir()
	ca := &localca.CA{Dir: dir, CommonName: "test CA", Now: time.Now}
	ctx := context.Background()
	if err := ca.Create(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Observe(ctx); err != nil {
		t.Fatal(err)
	}
	issue := func(name string) (*x509.Certificate, string) {
		key, _ := certificate.NewKey("ec256")
		chain, err := ca.Issue(ctx, certificate.Request{Domains: []string{name}, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".pem")
		os.WriteFile(path, chain, 0o644)
		leaf, _ := certcrypto.ParsePEMCertificate(chain)
		return leaf, path
	}
	leaked, leakedFile := issue("leaked.example.test")
	old, oldFile := issue("old.example.test")
	kept, keptFile := issue("kept.example.test")
	crl := filepath.Join(dir, "crl.pem")
	verify := func(file string) string {
		out, _ := exec.Command(openssl, "verify", "-crl_check", "-CAfile", filepath.Join(dir, "ca.pem"), "-CRLfile", crl, file).CombinedOutput()
		return string(out)
	}

	for _, rv := range []struct {
		cert   *x509.Certificate
		reason string
	}{{leaked, "keyCompromise"}, {old, "superseded"}, {leaked, "keyCompromise"}} {
		if err := ca.Revoke(ctx, rv.cert, nil, providers.RevocationReasons()[rv.reason]); err != nil {
			t.Fatalf("revoking %s: %v", rv.cert.Subject.CommonName, err)
		}
	}
	text, err := exec.Command(openssl, "crl", "-in", crl, "-noout", "-text").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl crl: %v\n%s", err, text)
	}
	for _, want := range []string{"X509v3 CRL Number: \n                2", "Key Compromise", "Superseded", strings.ToUpper(leaked.SerialNumber.Text(16))} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the CRL lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(string(text), "Serial Number:"); n != 2 {
		t.Errorf("the CRL lists %d certificates, want 2 (a second revocation of one is not a second entry):\n%s", n, text)
	}
	for _, f := range []string{leakedFile, oldFile} {
		if got := verify(f); !strings.Contains(got, "certificate revoked") {
			t.Errorf("openssl accepts the revoked %s:\n%s", filepath.Base(f), got)
		}
	}
	if got := verify(keptFile); !strings.Contains(got, ": OK") {
		t.Errorf("openssl refuses %s, which was not revoked:\n%s", filepath.Base(keptFile), got)
	}

	// A CRL that another CA signed is not extended (nor trusted): it would
	// drop this CA's revocations, or carry someone else's.
	other := &localca.CA{Dir: t.TempDir(), CommonName: "other CA", Now: time.Now}
	other.Create(ctx)
	other.Observe(ctx)
	key, _ := certificate.NewKey("ec256")
	chain, _ := other.Issue(ctx, certificate.Request{Domains: []string{"x.example.test"}, Key: key})
	foreign, _ := certcrypto.ParsePEMCertificate(chain)
	if err := other.Revoke(ctx, foreign, nil, 1); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(other.Dir, "crl.pem"))
	os.WriteFile(crl, b, 0o644)
	if err := ca.Revoke(ctx, kept, nil, 1); err == nil || !strings.Contains(err.Error(), "not signed by this CA") {
		t.Errorf("a CRL of another CA was extended: %v", err)
	}
	if err := ca.Revoke(ctx, foreign, nil, 1); err == nil || !strings.Contains(err.Error(), "not issued by this CA") {
		t.Errorf("a certificate of another CA was revoked: %v", err)
	}
}
