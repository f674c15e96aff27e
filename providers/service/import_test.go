package service

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trustform/trustform/providers"
)

// TestImportMailServers: Postfix's and Dovecot's own files as an import
// reads them: the endpoints they listen on, tied to the certificate block
// whose files they read; a server whose files no block declares is left
// out with the reason.
func TestImportMailServers(t *testing.T) {
	dir := t.TempDir()
	certs := []providers.HeldCert{{Addr: "certificate.mail", CertFile: "/etc/ssl/mail.pem", KeyFile: "/etc/ssl/mail.key"}}
	postfix := filepath.Join(dir, "postfix")
	os.MkdirAll(postfix, 0o755)
	os.WriteFile(filepath.Join(postfix, "main.cf"), []byte("inet_interfaces = 192.0.2.25\nsmtpd_tls_cert_file = /etc/ssl/mail.pem\nsmtpd_tls_key_file =\n    /etc/ssl/mail.key\n"), 0o644)
	os.WriteFile(filepath.Join(postfix, "master.cf"), []byte("smtp      inet  n       -       y       -       -       smtpd\nsubmission inet n       -       y       -       -       smtpd\n  -o smtpd_tls_security_level=encrypt\n127.0.0.1:10465 inet n - n - - smtpd\n  -o smtpd_tls_wrappermode=yes\npickup    unix  n       -       y       60      1       pickup\n"), 0o644)
	got, err := PostfixImporter().Read(context.Background(), providers.ImportInput{Paths: []string{postfix}, Certs: certs})
	if err != nil || len(got.Blocks) != 1 {
		t.Fatalf("postfix: %+v %v", got, err)
	}
	want := []string{"smtp://192.0.2.25:25", "submission://192.0.2.25:587", "smtps://127.0.0.1:10465"}
	if eps := endpointsOf(got.Blocks[0]); !slices.Equal(eps, want) || got.Blocks[0].Attrs[0].Ref != "certificate.mail" {
		t.Errorf("postfix endpoints %v, want %v (%+v)", eps, want, got.Blocks[0].Attrs[0])
	}

	conf := filepath.Join(dir, "dovecot.conf")
	os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755)
	os.WriteFile(conf, []byte("protocols = imap pop3\nlisten = 192.0.2.25\n!include conf.d/*.conf\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "conf.d", "10-ssl.conf"), []byte("ssl = required\nssl_cert = </etc/ssl/mail.pem\nssl_key = </etc/ssl/mail.key\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "conf.d", "10-master.conf"), []byte("service imap-login {\n  inet_listener imap {\n    port = 143\n  }\n  inet_listener imaps {\n    port = 993\n    ssl = yes\n  }\n}\n"), 0o644)
	got, err = DovecotImporter().Read(context.Background(), providers.ImportInput{Paths: []string{conf}, Certs: certs})
	if err != nil || len(got.Blocks) != 1 {
		t.Fatalf("dovecot: %+v %v", got, err)
	}
	if eps := endpointsOf(got.Blocks[0]); !slices.Equal(eps, []string{"imap://192.0.2.25:143", "imaps://192.0.2.25:993"}) {
		t.Errorf("dovecot endpoints %v", eps)
	}

	got, _ = DovecotImporter().Read(context.Background(), providers.ImportInput{Paths: []string{conf}})
	if len(got.Blocks) != 0 || len(got.Notes) != 1 || !strings.Contains(got.Notes[0], "which no certificate block declares") {
		t.Errorf("dovecot without its certificate: %+v", got)
	}
}

func endpointsOf(f providers.Found) []string {
	for _, a := range f.Attrs {
		if a.Name == "endpoints" {
			var out []string
			for _, v := range a.Value.AsValueSlice() {
				out = append(out, v.AsString())
			}
			return out
		}
	}
	return nil
}
