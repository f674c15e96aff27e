package rules_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// TestChallengeRoundTrip: before an http-01 order, a token written into
// acme_webroot must come back from a real nginx the way a CA fetches it.
// A challenge path redirected to an HTTPS answer of 400, or a webroot that
// is not the one served (404), stop the order naming the answers; a
// same-host redirect to HTTPS that serves the token, and the plain
// webroot, pass.
func TestChallengeRoundTrip(t *testing.T) {
	lab := nginxtest.Start(t)
	webroot := filepath.Join(lab.Prefix, "acme")
	os.MkdirAll(filepath.Join(webroot, ".well-known", "acme-challenge"), 0o755)
	cert, key := selfSigned(t, lab.Prefix)
	https := func(extra string) string {
		return fmt.Sprintf("server {\n  listen %s ssl;\n  server_name www.example.test;\n  ssl_certificate %s;\n  ssl_certificate_key %s;\n%s\n}\n", lab.HTTPS, cert, key, extra)
	}
	http := func(challenge string) string {
		return fmt.Sprintf("server {\n  listen %s;\n  server_name www.example.test;\n  location ^~ /.well-known/acme-challenge/ {\n    %s\n  }\n  location / { return 301 https://$host$request_uri; }\n}\n", lab.HTTP, challenge)
	}
	check := rules.ACMEChallengeNotRedirected.PreCheck(host.Local{}, webroot, func(string) map[string]string {
		return map[string]string{"http": lab.HTTP, "https": lab.HTTPS}
	})
	for _, tc := range []struct {
		name, http, https string
		want              []string // in the error; none: it passes
	}{
		{"webroot served", "root " + webroot + ";", "", nil},
		{"redirected to a 400", "return 301 https://$host/renewals-go-here;", "  location = /renewals-go-here { return 400; }", []string{"www.example.test", "301 https://www.example.test/renewals-go-here → 400", "nothing was ordered"}},
		{"another webroot", "root " + lab.Prefix + ";", "", []string{"404"}},
		{"same-host HTTPS serving it", "return 301 https://$host$request_uri;", "  location ^~ /.well-known/acme-challenge/ { root " + webroot + "; }", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(filepath.Join(lab.Sites, "http.conf"), []byte(http(tc.http)), 0o644)
			os.WriteFile(filepath.Join(lab.Sites, "https.conf"), []byte(https(tc.https)), 0o644)
			reload(t, lab)
			err := check(context.Background(), []string{"www.example.test"})
			if tc.want == nil {
				if err != nil {
					t.Fatalf("the round trip fails: %v", err)
				}
			} else if err == nil {
				t.Fatal("the round trip passes")
			} else {
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("the error lacks %q: %v", w, err)
					}
				}
			}
			if left, _ := filepath.Glob(filepath.Join(webroot, ".well-known", "acme-challenge", "*")); len(left) > 0 {
				t.Errorf("the test token was left behind: %v", left)
			}
		})
	}
}

func reload(t *testing.T, lab *nginxtest.Lab) {
	t.Helper()
	if out, err := (host.Local{}).Run(context.Background(), lab.TestCommand+" && "+lab.ReloadCommand); err != nil {
		t.Fatalf("nginx: %v\n%s", err, out)
	}
	time.Sleep(300 * time.Millisecond) // the new workers take over
}

func selfSigned(t *testing.T, dir string) (cert, key string) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "www.example.test"}, DNSNames: []string{"www.example.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	cert, key = filepath.Join(dir, "self.pem"), filepath.Join(dir, "self.key")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}
