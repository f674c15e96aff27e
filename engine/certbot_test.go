package engine_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/engine"
)

// TestCertbotStillRenews: while a certbot renewal configuration on the
// certificate's host still renews a certificate with the same names, or
// writes the files trustform manages, the plan warns, naming the
// configuration and how to stop it; one with autorenew = False does not
// count.
func TestCertbotStillRenews(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	renewal := filepath.Join(root, "etc/letsencrypt/renewal")
	os.MkdirAll(renewal, 0o755)
	conf := func(name, extra string) {
		live := "/etc/letsencrypt/live/" + name
		os.WriteFile(filepath.Join(renewal, name+".conf"), []byte("# renew_before_expiry = 30 days\nversion = 2.1.0\narchive_dir = /etc/letsencrypt/archive/"+name+
			"\ncert = "+live+"/cert.pem\nprivkey = "+live+"/privkey.pem\nchain = "+live+"/chain.pem\nfullchain = "+live+"/fullchain.pem\n\n[renewalparams]\nauthenticator = webroot\n"+extra), 0o644)
		os.MkdirAll(filepath.Join(root, live), 0o755)
		os.WriteFile(filepath.Join(root, live, "cert.pem"), certFor(t, name), 0o644)
	}
	conf("www.example.test", "")
	conf("api.example.test", "autorenew = False\n")
	conf("other.example.test", "")
	writeConfig(t, dir, `
host "web" {
  root = "root"
}
local_ca "ca" {}
certificate "www" {
  domains   = ["www.example.test"]
  issuer    = local_ca.ca
  cert_file = "/etc/ssl/www.pem"
  key_file  = "/etc/ssl/www.key"
  host      = host.web
}
certificate "adopted" {
  domains   = ["x.example.test"]
  issuer    = local_ca.ca
  cert_file = "/etc/letsencrypt/live/other.example.test/fullchain.pem"
  key_file  = "/etc/ssl/x.key"
  host      = host.web
}
certificate "api" {
  domains   = ["api.example.test"]
  issuer    = local_ca.ca
  cert_file = "/etc/ssl/api.pem"
  key_file  = "/etc/ssl/api.key"
  host      = host.web
}
`)
	_, _, diags := planIn(t, dir, engine.Options{Now: time.Now})
	var all []string
	for _, d := range diags {
		all = append(all, d.Summary+": "+d.Detail)
	}
	got := strings.Join(all, "\n")
	for _, want := range []string{"certbot renews it too", `certbot still renews its certificate "www.example.test" (/etc/letsencrypt/renewal/www.example.test.conf), which holds www.example.test`, "autorenew = False",
		`certbot still renews its certificate "other.example.test" (/etc/letsencrypt/renewal/other.example.test.conf), which writes ` + filepath.Join(root, "/etc/letsencrypt/live/other.example.test/fullchain.pem")} {
		if !strings.Contains(got, want) {
			t.Errorf("the plan does not warn %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, `"api.example.test"`) {
		t.Errorf("a renewal certbot does not do, or of other names, is a warning:\n%s", got)
	}
}

// certFor is a self-signed certificate for name, as PEM.
func certFor(t *testing.T, name string) []byte {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
