package webserver_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/webserver"
)

// A config test that fails leaves the previous file exactly as it was, and
// the error quotes the server's own message.
func TestServerConfigRestoresOnFailedTest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "site.conf")
	old := "# the working config\nserver { listen 80; }\n"
	os.WriteFile(path, []byte(old), 0o644)
	reloaded := filepath.Join(dir, "reloaded")
	sc := &webserver.ServerConfig{
		Host:          host.Local{},
		Renderer:      webserver.Nginx{},
		Site:          webserver.Site{Address: "vhost.x", Listen: "*:80", Names: []string{"x.test"}},
		Path:          path,
		TestCommand:   `echo 'nginx: [emerg] invalid value "FOO" in /etc/nginx/site.conf:3' >&2; exit 1`,
		ReloadCommand: "touch " + reloaded,
	}
	err := sc.Apply(context.Background(), nil, webserver.PhaseWrite)
	if err == nil || !strings.Contains(err.Error(), `nginx: [emerg] invalid value "FOO"`) {
		t.Fatalf("error does not quote the server: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != old {
		t.Errorf("config not restored byte for byte:\n%s", b)
	}
	if _, err := os.Stat(reloaded); err == nil {
		t.Error("the server was reloaded after a failed config test")
	}

	sc.TestCommand = "true"
	if err := sc.Apply(context.Background(), nil, webserver.PhaseWrite); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(reloaded); err != nil {
		t.Error("the server was not reloaded after a passing config test")
	}
	if v, _ := sc.Observe(context.Background()); providers.Differs(sc.Desired(), v) != nil {
		t.Errorf("after apply the file differs from the rendered config: %v", providers.Differs(sc.Desired(), v))
	}
}

// A new file whose config test fails is removed again.
func TestServerConfigRemovesNewFileOnFailedTest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.conf")
	sc := &webserver.ServerConfig{Host: host.Local{}, Renderer: webserver.Nginx{}, Site: webserver.Site{Listen: "*:80", Names: []string{"x.test"}}, Path: path, TestCommand: "false"}
	if err := sc.Apply(context.Background(), nil, webserver.PhaseWrite); err == nil {
		t.Fatal("failed config test not reported")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the new file was left behind: %v", err)
	}
}
