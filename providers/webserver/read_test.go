package webserver

import (
	"slices"
	"testing"
)

// TestReadHandWritten: the sites of hand-written files as an import reads
// them, and what of a block's site such a file does not say.
func TestReadHandWritten(t *testing.T) {
	nginx := `# written by hand
server {
    listen 80;
    listen [::]:80;
    server_name www.example.test example.test;
    location ^~ /.well-known/acme-challenge/ { root /var/www/acme; }
    location / { return 301 https://$host$request_uri; }
}
server {
    listen 127.0.0.1:8443 ssl http2;
    server_name "www.example.test";
    ssl_certificate     /etc/letsencrypt/live/www/fullchain.pem;
    ssl_certificate_key /etc/letsencrypt/live/www/privkey.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    add_header Strict-Transport-Security 'max-age=63072000' always;
    root /var/www/html;
    location /api { proxy_pass http://127.0.0.1:9000; }
}
`
	apache := `<VirtualHost *:443>
    ServerName www.example.test
    ServerAlias example.test
    SSLEngine on
    SSLCertificateFile /etc/ssl/www.pem
    SSLCertificateKeyFile /etc/ssl/www.key
    SSLProtocol -all +TLSv1.3
    Header always set Strict-Transport-Security "max-age=300"
    DocumentRoot "/srv/www"
</VirtualHost>
`
	n := Nginx{}.Read(nginx)
	if len(n) != 2 {
		t.Fatalf("nginx: %d sites, want 2: %+v", len(n), n)
	}
	http, tls := n[0], n[1]
	if http.Listen != "80" || !http.RedirectHTTPS || http.ACMEWebroot != "/var/www/acme" || http.TLS() || !slices.Equal(http.Names, []string{"www.example.test", "example.test"}) {
		t.Errorf("nginx HTTP site: %+v", http)
	}
	if tls.Listen != "127.0.0.1:8443" || tls.CertFile != "/etc/letsencrypt/live/www/fullchain.pem" || tls.KeyFile != "/etc/letsencrypt/live/www/privkey.pem" ||
		tls.HSTS != "max-age=63072000" || tls.Root != "/var/www/html" || !slices.Equal(tls.Protocols, []string{"TLSv1.2", "TLSv1.3"}) {
		t.Errorf("nginx TLS site: %+v", tls)
	}
	a := Apache{}.Read(apache)
	if len(a) != 1 || a[0].Listen != "*:443" || a[0].CertFile != "/etc/ssl/www.pem" || a[0].Root != "/srv/www" || a[0].HSTS != "max-age=300" ||
		!slices.Equal(a[0].Protocols, []string{"TLSv1.3"}) || !slices.Equal(a[0].Names, []string{"www.example.test", "example.test"}) {
		t.Errorf("apache site: %+v", a)
	}
	for _, tc := range []struct {
		name string
		edit func(*Site)
		want []string
	}{
		{"as written", func(*Site) {}, nil},
		{"another port", func(s *Site) { s.Listen = "8080" }, []string{"listen"}},
		{"a name more", func(s *Site) { s.Names = append(s.Names, "api.example.test") }, []string{"server_names"}},
		{"names in another order", func(s *Site) { s.Names = []string{"example.test", "www.example.test"} }, nil},
		{"HSTS on", func(s *Site) { s.HSTS = "max-age=31536000" }, []string{"hsts"}},
		{"no redirect", func(s *Site) { s.RedirectHTTPS = false }, []string{"redirect_https"}},
		{"another webroot", func(s *Site) { s.ACMEWebroot = "/srv/acme" }, []string{"acme_webroot"}},
	} {
		want := http
		want.Names = slices.Clone(http.Names)
		tc.edit(&want)
		if got := want.differs(http); !slices.Equal(got, tc.want) {
			t.Errorf("%s: differs %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := (Site{Listen: "*:80", Names: []string{"x"}}).differs(Site{Listen: "80", Names: []string{"x"}}); len(got) > 0 {
		t.Errorf("*:80 and 80 differ: %v", got)
	}
}
