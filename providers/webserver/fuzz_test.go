package webserver_test

import (
	"testing"

	"github.com/trustform/trustform/providers/webserver"
)

// FuzzReadBack: a vhost file found on disk (hand-edited, or anything at
// config_file) is summarised without a panic by both servers' readers.
func FuzzReadBack(f *testing.F) {
	site := webserver.Site{Address: "vhost.x", Listen: "*:80", Names: []string{"example.test"}, RedirectHTTPS: true, ACMEWebroot: "/var/www/acme", HSTS: "max-age=1"}
	f.Add(webserver.Nginx{}.Render(site))
	f.Add(webserver.Apache{}.Render(site))
	f.Add("location ^~ /.well-known/acme-challenge/ { root ")
	f.Fuzz(func(t *testing.T, content string) {
		for _, r := range []webserver.Renderer{webserver.Nginx{}, webserver.Apache{}} {
			v := r.Summarize(content)
			if len(v) != 3 {
				t.Fatalf("summary has %d facts", len(v))
			}
		}
	})
}
