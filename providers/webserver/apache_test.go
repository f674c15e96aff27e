package webserver_test

import (
	"strings"
	"testing"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/webserver"
)

func TestVhosts(t *testing.T) {
	https := webserver.Apache{}.Render(webserver.Site{Address: "vhost.https", Listen: "*:443", Names: []string{"example.test", "www.example.test"},
		CertFile: "/c.pem", KeyFile: "/k.pem", Protocols: []string{"TLSv1.2", "TLSv1.3"}, Ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256", HSTS: "max-age=63072000"})
	for _, want := range []string{"<VirtualHost *:443>", "ServerAlias www.example.test", "Protocols h2 http/1.1", "SSLProtocol -all +TLSv1.2 +TLSv1.3",
		"SSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256", `Header always set Strict-Transport-Security "max-age=63072000"`} {
		if !strings.Contains(https, want) {
			t.Errorf("HTTPS vhost lacks %q:\n%s", want, https)
		}
	}
	http := webserver.Apache{}.Render(webserver.Site{Listen: "*:80", Names: []string{"example.test"}, RedirectHTTPS: true, ACMEWebroot: "/var/www/acme", HSTS: "max-age=1"})
	got := webserver.Apache{}.Summarize(http)
	want := providers.Value{"hsts": providers.String("max-age=1"), "redirect": providers.String("https://%{HTTP_HOST}%{REQUEST_URI}"), "acme_webroot": providers.String("/var/www/acme")}
	if d := providers.Differs(want, got); d != nil {
		t.Errorf("Summarize differs in %v: %v\n%s", d, got, http)
	}
	if !strings.Contains(http, "RewriteCond %{REQUEST_URI} !^/\\.well-known/acme-challenge/") {
		t.Errorf("the redirect does not spare the challenge path:\n%s", http)
	}
}
