package mtasts

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/internal/probe"
)

// The live check of each managed MX speaks STARTTLS to its endpoint as a
// sender does and verifies the chain for the MX host's name: a
// certificate for another name, one the roots do not know, and an MX
// that does not answer are each named; an MX the configuration does not
// manage is not dialled.
func TestMXTLS(t *testing.T) {
	good, goodLeaf := selfSigned(t, "mail.example.test")
	other, otherLeaf := selfSigned(t, "smtp.example.test")
	roots := x509.NewCertPool()
	roots.AddCert(goodLeaf)
	roots.AddCert(otherLeaf)
	// A port nothing listens on: reserved for this test (no other
	// listener of the suite takes it), never bound.
	closed := fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t))
	for _, tc := range []struct {
		name  string
		addr  string
		roots *x509.CertPool
		want  string
	}{
		{"valid for the MX", fakeSMTP(t, good), roots, "yes"},
		{"another name", fakeSMTP(t, other), roots, "no: mail.example.test (smtp://"},
		{"unknown roots", fakeSMTP(t, good), x509.NewCertPool(), "certificate signed by unknown authority"},
		{"no answer", closed, roots, "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := tc.roots
			m := &MTASTS{Mode: "enforce", mx: []string{"mail.example.test", "mx2.example.net"}, services: []mxService{{
				Host: "127.0.0.1", Names: []string{"mail.example.test"},
				Endpoint: probe.Endpoint{URL: "smtp://" + tc.addr, Addr: tc.addr, StartTLS: "smtp"},
				Roots:    func() *x509.CertPool { return pool },
			}}}
			if got := m.mxTLS(context.Background()); !strings.Contains(got, tc.want) || (tc.want != "yes" && !strings.HasPrefix(got, "no: mail.example.test")) {
				t.Errorf("mxTLS = %q, want it to say %q", got, tc.want)
			}
		})
	}
}

// fakeSMTP answers one SMTP session at a time that upgrades to TLS with
// cert, as smtpd does with STARTTLS.
func fakeSMTP(t *testing.T, cert tls.Certificate) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				var conn net.Conn = c
				defer func() { conn.Close() }()
				r := bufio.NewReader(conn)
				conn.Write([]byte("220 fake ESMTP\r\n"))
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
					case strings.HasPrefix(cmd, "EHLO"):
						conn.Write([]byte("250-fake\r\n250 STARTTLS\r\n"))
					case cmd == "STARTTLS":
						conn.Write([]byte("220 go ahead\r\n"))
						conn = tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
						r = bufio.NewReader(conn)
					case cmd == "QUIT":
						conn.Write([]byte("221 bye\r\n"))
						return
					default:
						conn.Write([]byte("250 ok\r\n"))
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// The TLS-RPT record as observed: a valid one is itself; another is
// named invalid with why, so that a refresh-only plan says what is wrong.
func TestCheckRPT(t *testing.T) {
	for _, tc := range []struct {
		records []string
		want    string
	}{
		{[]string{`"v=TLSRPTv1; rua=mailto:r@example.test"`}, `"v=TLSRPTv1; rua=mailto:r@example.test"`},
		{[]string{`"v=TLSRPTv1;" " rua=mailto:r@example.test,https://r.example.test/v1"`}, `"v=TLSRPTv1;" " rua=mailto:r@example.test,https://r.example.test/v1"`},
		{[]string{`"v=TLSRPTv1; rua=r@example.test"`}, `invalid ("r@example.test" is neither mailto: nor https:)`},
		{[]string{`"v=TLSRPTv2; rua=mailto:r@example.test"`}, "invalid (it does not begin with v=TLSRPTv1)"},
		{[]string{`"v=TLSRPTv1;"`}, "invalid (no rua=)"},
		{[]string{`"v=TLSRPTv1; rua=mailto:a@example.test"`, `"v=TLSRPTv1; rua=mailto:b@example.test"`}, "invalid (2 records; senders ignore all of them)"},
	} {
		if got := checkRPT(tc.records); !strings.HasPrefix(got, tc.want) {
			t.Errorf("checkRPT(%q) = %q, want %q…", tc.records, got, tc.want)
		}
	}
}
