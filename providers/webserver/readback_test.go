package webserver_test

import (
	"testing"

	"github.com/trustform/trustform/providers/webserver"
)

// Hand edits read back as the server reads them: what an administrator
// writes with other quoting or in another block is still seen, so drift
// is not hidden by a regexp that wanted trustform's own spelling.
func TestReadBackHandEdits(t *testing.T) {
	for _, tc := range []struct {
		name, content           string
		r                       webserver.Renderer
		hsts, redirect, webroot string
	}{
		{name: "nginx single quotes", r: webserver.Nginx{},
			content: "server {\n  add_header 'Strict-Transport-Security' 'max-age=600' always;\n}\n", hsts: "max-age=600"},
		{name: "nginx bare value", r: webserver.Nginx{},
			content: "server { add_header Strict-Transport-Security max-age=60; }", hsts: "max-age=60"},
		{name: "nginx header in a location, commented one ignored", r: webserver.Nginx{},
			content: "server {\n # add_header Strict-Transport-Security \"max-age=1\";\n location / { add_header Strict-Transport-Security \"max-age=2; includeSubDomains\" always; }\n}", hsts: "max-age=2; includeSubDomains"},
		{name: "nginx 302 redirect", r: webserver.Nginx{},
			content: "server { location / { return 302 https://$host$request_uri; } }", redirect: "https://$host$request_uri"},
		{name: "nginx 200 is no redirect", r: webserver.Nginx{},
			content: "server { location / { return 200 'ok'; } }"},
		{name: "nginx alias location", r: webserver.Nginx{},
			content: "server {\n location /.well-known/acme-challenge/ {\n  alias /srv/acme/.well-known/acme-challenge/;\n }\n}", webroot: "/srv/acme"},
		{name: "nginx quoted root", r: webserver.Nginx{},
			content: "server { location ^~ /.well-known/acme-challenge { root \"/srv/my acme\"; } }", webroot: "/srv/my acme"},
		{name: "nginx root outside the challenge location", r: webserver.Nginx{},
			content: "server { root /var/www/site; location /.well-known/acme-challenge/ { try_files $uri =404; } }"},
		{name: "apache single quotes, onsuccess", r: webserver.Apache{},
			content: "<VirtualHost *:443>\n  Header onsuccess set Strict-Transport-Security 'max-age=600'\n</VirtualHost>\n", hsts: "max-age=600"},
		{name: "apache merge", r: webserver.Apache{},
			content: "Header always merge Strict-Transport-Security max-age=60\n", hsts: "max-age=60"},
		{name: "apache unset is no header", r: webserver.Apache{},
			content: "Header always unset Strict-Transport-Security\n"},
		{name: "apache Redirect permanent", r: webserver.Apache{},
			content: "<VirtualHost *:80>\n Redirect permanent / https://example.test/\n</VirtualHost>", redirect: "https://example.test/"},
		{name: "apache Redirect of one path is not the site", r: webserver.Apache{},
			content: "Redirect 301 /old https://example.test/new\n"},
		{name: "apache RewriteRule R=302", r: webserver.Apache{},
			content: "RewriteEngine on\nRewriteRule ^/?(.*) \"https://%{SERVER_NAME}/$1\" [R=302,L]\n", redirect: "https://%{SERVER_NAME}/$1"},
		{name: "apache quoted alias", r: webserver.Apache{},
			content: "Alias \"/.well-known/acme-challenge/\" \"/srv/acme/.well-known/acme-challenge/\"\n", webroot: "/srv/acme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.r.Summarize(tc.content)
			if got := v["hsts"].Str; got != tc.hsts {
				t.Errorf("hsts = %q, want %q", got, tc.hsts)
			}
			if got := v["redirect"].Str; got != tc.redirect {
				t.Errorf("redirect = %q, want %q", got, tc.redirect)
			}
			if got := v["acme_webroot"].Str; got != tc.webroot {
				t.Errorf("acme_webroot = %q, want %q", got, tc.webroot)
			}
		})
	}
}
