package webserver_test

import (
	"strings"
	"testing"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/webserver"
)

// The challenge location comes before the redirect, and the redirect carries
// the HSTS header; what Render writes, Summarize reads back.
func TestHTTPVhost(t *testing.T) {
	site := webserver.Site{Address: "vhost.http", Listen: "192.0.2.10:80", Names: []string{"example.test"},
		RedirectHTTPS: true, ACMEWebroot: "/var/www/acme", HSTS: "max-age=31536000"}
	out := webserver.Nginx{}.Render(site)
	challenge := strings.Index(out, "location ^~ /.well-known/acme-challenge/")
	redirect := strings.Index(out, "return 301 https://$host$request_uri;")
	if challenge < 0 || redirect < 0 || challenge > redirect {
		t.Fatalf("the challenge location must precede the redirect:\n%s", out)
	}
	got := webserver.Nginx{}.Summarize(out)
	want := providers.Value{"hsts": providers.String("max-age=31536000"), "redirect": providers.String("https://$host$request_uri"), "acme_webroot": providers.String("/var/www/acme")}
	if d := providers.Differs(want, got); d != nil {
		t.Errorf("Summarize differs in %v: %v", d, got)
	}
}
