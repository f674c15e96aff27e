package webserver_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/providers/webserver"
	"github.com/trustform/trustform/providers/webserver/apachetest"
	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// TestRenderedValuesStayData: values at the edge of what the schema allows
// (every character of its path alphabet, a wildcard name) render into files
// that the real nginx and Apache accept, and each value comes back whole
// from the file: none ended its directive and started another.
func TestRenderedValuesStayData(t *testing.T) {
	dir := t.TempDir()
	webroot := filepath.Join(dir, "a-b_c.d+e@f,g=h~i:j", "ü")
	if err := os.MkdirAll(webroot, 0o755); err != nil {
		t.Fatal(err)
	}
	site := webserver.Site{Address: "vhost.edge", Names: []string{"edge-1.example.test", "*.edge-1.example.test"},
		ACMEWebroot: webroot, RedirectHTTPS: true, HSTS: "max-age=1"}
	for _, tc := range []struct {
		name   string
		r      webserver.Renderer
		start  func(testing.TB) (sites, listen, test string)
		verify []string
	}{
		{"nginx", webserver.Nginx{}, func(t testing.TB) (string, string, string) {
			l := nginxtest.Start(t)
			return l.Sites, l.HTTP, l.TestCommand
		}, []string{"root " + webroot + ";"}},
		{"apache", webserver.Apache{}, func(t testing.TB) (string, string, string) {
			l := apachetest.Start(t)
			return l.Sites, l.HTTP, l.TestCommand
		}, []string{"Alias /.well-known/acme-challenge/ " + webroot + "/.well-known/acme-challenge/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sites, listen, test := tc.start(t)
			s := site
			s.Listen = listen
			out := tc.r.Render(s)
			if err := os.WriteFile(filepath.Join(sites, "edge.conf"), []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			if b, err := exec.Command("sh", "-c", test).CombinedOutput(); err != nil {
				t.Fatalf("%s refuses the rendered file: %v\n%s\n%s", tc.name, err, b, out)
			}
			for _, want := range tc.verify {
				if !strings.Contains(out, "    "+want+"\n") && !strings.Contains(out, "        "+want+"\n") {
					t.Errorf("the value is not one whole directive argument: want line %q in\n%s", want, out)
				}
			}
			if got := tc.r.Summarize(out)["acme_webroot"].Str; got != webroot && got != webroot+"/.well-known/acme-challenge/" {
				t.Errorf("read back acme_webroot %q, want %q", got, webroot)
			}
		})
	}
}
