package mtasts

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/localca"
	"github.com/trustform/trustform/providers/webserver"
	"github.com/trustform/trustform/schema"
)

// The id is published only once the policy is fetched back the way a
// sender fetches it: a redirect, another content type, a missing file or
// other bytes keep the old id in the zone, and the error says why.
func TestPublishIDFetchesBack(t *testing.T) {
	want := Policy{Mode: "enforce", MX: []string{"mail.example.test"}, MaxAge: 7 * 24 * time.Hour}
	var serve func(w http.ResponseWriter)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "mta-sts.example.test" || r.URL.Path != "/.well-known/mta-sts.txt" {
			http.NotFound(w, r)
			return
		}
		serve(w)
	})
	srv := httptest.NewUnstartedServer(handler)
	cert, leaf := selfSigned(t, "mta-sts.example.test")
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()
	other := httptest.NewTLSServer(handler) // its certificate is for example.com
	defer other.Close()
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	roots.AddCert(other.Certificate())
	dir := t.TempDir()
	zonePath := filepath.Join(dir, "zone")
	old := `"v=STSv1; id=0ld"`
	os.WriteFile(zonePath, []byte("$ORIGIN example.test.\n@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 3600\n@ IN NS ns1\n_mta-sts IN TXT "+old+"\n"), 0o644)
	for _, tc := range []struct {
		name  string
		serve func(w http.ResponseWriter)
		err   string
		addr  string
	}{
		{"a certificate for another name", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, want.Text())
		}, "certificate is valid for example.com", other.Listener.Addr().String()},
		{"a redirect", func(w http.ResponseWriter) {
			w.Header().Set("Location", "https://elsewhere.example.test/")
			w.WriteHeader(http.StatusMovedPermanently)
		}, "answered 301 Moved Permanently (senders follow no redirect", ""},
		{"another type", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, want.Text())
		}, `served as "text/html", not text/plain`, ""},
		{"the old policy", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, strings.Replace(want.Text(), "enforce", "testing", 1))
		}, "serves \"version: STSv1\\r\\nmode: testing", ""},
		{"the policy", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprint(w, want.Text())
		}, "", ""},
	} {
		serve = tc.serve
		addr := srv.Listener.Addr().String()
		if tc.addr != "" {
			addr = tc.addr
		}
		zone := &dns.ZoneFile{Host: host.Local{}, Origin: "example.test.", Path: zonePath, Now: time.Now}
		m := &MTASTS{Domain: "example.test", Zone: zone, ZoneName: "example", Mode: want.Mode, MX: want.MX, MaxAge: want.MaxAge,
			Host: host.Local{}, PolicyPath: filepath.Join(dir, "policy.txt"), FetchAddr: addr, Roots: func() *x509.CertPool { return roots }}
		if _, err := m.Observe(context.Background()); err != nil {
			t.Fatal(err)
		}
		err := m.Apply(context.Background(), &providers.Change{}, PhasePublishID)
		rrs, _ := (&dns.ZoneFile{Host: host.Local{}, Origin: "example.test.", Path: zonePath, Now: time.Now}).RRset(context.Background(), "_mta-sts.example.test.", mdns.TypeTXT)
		got := dns.Presentation(rrs)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "mta-sts-policy-before-id")):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		case tc.err != "" && (len(got) != 1 || got[0] != old):
			t.Errorf("%s: the zone holds %q, want the old id", tc.name, got)
		case tc.err == "" && (err != nil || len(got) != 1 || got[0] != `"v=STSv1; id=`+want.ID()+`"`):
			t.Errorf("%s: %v; the zone holds %q, want the new id %s", tc.name, err, got, want.ID())
		}
	}
}

// The policy's lines and id: the id changes exactly when the policy does.
func TestPolicy(t *testing.T) {
	p := Policy{Mode: "testing", MX: []string{"mail.example.test", "*.example.net"}, MaxAge: 86400 * time.Second}
	if got := p.Text(); got != "version: STSv1\r\nmode: testing\r\nmx: mail.example.test\r\nmx: *.example.net\r\nmax_age: 86400\r\n" {
		t.Errorf("policy %q", got)
	}
	q := p
	q.Mode = "enforce"
	if p.ID() == q.ID() || p.ID() != (Policy{Mode: "testing", MX: []string{"mail.example.test", "*.example.net"}, MaxAge: 86400 * time.Second}).ID() || len(p.ID()) != 20 {
		t.Errorf("ids %s %s", p.ID(), q.ID())
	}
	if txtID(`"v=STSv1; id=abc123"`) != "abc123" || txtID(`"v=spf1 -all"`) != "" {
		t.Error("txtID")
	}
}

// selfSigned is a certificate for name, and its leaf as the root to trust.
func selfSigned(t *testing.T, name string) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}

// The block's values are checked against RFC 8461 and RFC 8460, and its
// vhost must serve mta-sts.<domain> over TLS from a root.
func TestBlock(t *testing.T) {
	for _, tc := range []struct{ name, attrs, vhost, want string }{
		{"testing", `mode = "testing"`, "", ""},
		{"a mode", `mode = "strict"`, "", "Invalid MTA-STS mode"},
		{"an address in mx", "mode = \"enforce\"\n  mx = [\"192.0.2.25\"]", "", "An IP address in mx"},
		{"a wildcard in mx", "mode = \"enforce\"\n  mx = [\"*.example.test\"]", "", ""},
		{"max_age over a year", "mode = \"testing\"\n  max_age = \"400d\"", "", "max_age too long"},
		{"a TLS-RPT address", "mode = \"testing\"\n  tls_rpt {\n    rua = [\"tlsrpt@example.test\"]\n  }", "", "Invalid TLS-RPT address"},
		{"a vhost for another name", `mode = "testing"`, `server_names = ["www.example.test"]`, "does not serve mta-sts.example.test"},
	} {
		names := `server_names = ["mta-sts.example.test"]`
		if tc.vhost != "" {
			names = tc.vhost
		}
		src := `dns_zone "example" {
  name      = "example.test"
  zone_file = "zone"
}
local_ca "ca" {}
certificate "c" {
  domains   = ["mta-sts.example.test"]
  issuer    = local_ca.ca
  cert_file = "c.pem"
  key_file  = "c.key"
}
vhost "v" {
  server      = "nginx"
  config_file = "v.conf"
  listen      = "443"
  ` + names + `
  certificate = certificate.c
  root        = "www"
}
mta_sts "m" {
  zone  = dns_zone.example
  vhost = vhost.v
  ` + tc.attrs + `
}
`
		_, diags := schema.Parse("/config", map[string][]byte{"main.hcl": []byte(src)}, kindsOf())
		switch {
		case tc.want == "" && diags.HasErrors():
			t.Errorf("%s: refused: %v", tc.name, diags)
		case tc.want != "" && !strings.Contains(diags.Error(), tc.want):
			t.Errorf("%s: %v, want %q", tc.name, diags, tc.want)
		}
	}
}

func kindsOf() []schema.Kind {
	return []schema.Kind{dns.ZoneKind().Kind, localca.Kind().Kind, certificate.Kind().Kind, webserver.PolicyKind().Kind, webserver.VhostKind().Kind, Kind().Kind}
}

// Under enforce, an MX no pattern matches and a managed MX whose
// certificate senders refuse are rule mta-sts-mx-covered's findings;
// under testing there are none.
func TestMXProblems(t *testing.T) {
	if !covers("*.example.test", "mx1.example.test") || covers("*.example.test", "a.b.example.test") || covers("*.example.test", "example.test") || !covers("Mail.Example.Test.", "mail.example.test") {
		t.Error("covers does not match as RFC 8461 §4.1 says")
	}
	m := &MTASTS{Mode: "enforce", MX: []string{"mail.example.test"}, mx: []string{"mail.example.test", "mx2.example.test"},
		services: []mxService{
			{Host: "mail.example.test", Service: schema.Address{Type: "service", Name: "mx"}, Cert: schema.Address{Type: "certificate", Name: "mail"}, Names: []string{"mail.example.test"}, LocalCA: true},
			{Host: "mx2.example.test", Service: schema.Address{Type: "service", Name: "mx2"}, Cert: schema.Address{Type: "certificate", Name: "other"}, Names: []string{"smtp.example.test"}},
			{Host: "relay.example.net", Service: schema.Address{Type: "service", Name: "relay"}, Names: []string{"x"}, LocalCA: true},
			{Host: "127.0.0.1", Service: schema.Address{Type: "service", Name: "byaddress"}, Cert: schema.Address{Type: "certificate", Name: "mail2"}, Names: []string{"mail.example.test"}, LocalCA: true},
		}}
	got := strings.Join(m.MXProblems(), "\n")
	for _, want := range []string{
		"the MX host mx2.example.test matches none of the policy's mx patterns (mail.example.test)",
		"service.mx answers SMTP for the MX host mail.example.test with certificate.mail, issued by a local CA",
		"service.mx2 answers SMTP for the MX host mx2.example.test with certificate.other, which names smtp.example.test, not mx2.example.test",
		"service.byaddress answers SMTP for the MX host mail.example.test with certificate.mail2, issued by a local CA",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the findings do not say %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "relay") {
		t.Errorf("a service that is not an MX host is a finding:\n%s", got)
	}
	if m.covered() != "no: mx2.example.test" {
		t.Errorf("covered = %q", m.covered())
	}
	m.Mode = "testing"
	if p := m.MXProblems(); len(p) != 0 {
		t.Errorf("findings under testing: %v", p)
	}
}
