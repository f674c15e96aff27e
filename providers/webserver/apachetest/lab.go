// Package apachetest runs a real Apache httpd for tests, on loopback high
// ports with its own ServerRoot (no system configuration touched), with
// mod_ssl, mod_headers, mod_rewrite, mod_alias and mod_http2. Managed vhost
// files go into Sites.
package apachetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/internal/labutil"
)

// Lab is one running Apache.
type Lab struct {
	Root          string
	Sites         string
	HTTP, HTTPS   string
	TestCommand   string
	ReloadCommand string
}

var modules = []string{"mpm_event", "authz_core", "alias", "mime", "dir", "socache_shmcb", "ssl", "headers", "rewrite", "http2"}

// Start runs apache2 in the foreground; it stops with the test.
func Start(t testing.TB) *Lab {
	t.Helper()
	bin := labutil.Binary(t, "apache2", "/usr/sbin/apache2")
	root := labutil.OpenDir(t, "apachelab")
	lab := &Lab{
		Root:  root,
		Sites: filepath.Join(root, "sites"),
		HTTP:  fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t)),
		HTTPS: fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t)),
	}
	os.MkdirAll(lab.Sites, 0o755)
	var conf strings.Builder
	for _, m := range modules {
		fmt.Fprintf(&conf, "LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n", m, m)
	}
	fmt.Fprintf(&conf, `ServerRoot %[1]s
ServerName localhost
PidFile %[1]s/httpd.pid
DefaultRuntimeDir %[1]s
Mutex file:%[1]s default
ErrorLog %[1]s/error.log
LogLevel warn
User www-data
Group www-data
Listen %[2]s
Listen %[3]s
SSLSessionCache shmcb:%[1]s/ssl_scache(512000)
TypesConfig /dev/null
IncludeOptional %[1]s/sites/*.conf
`, root, lab.HTTP, lab.HTTPS)
	path := filepath.Join(root, "httpd.conf")
	os.WriteFile(path, []byte(conf.String()), 0o644)
	args := fmt.Sprintf("-d %s -f %s", root, path)
	lab.TestCommand = bin + " -t " + args
	lab.ReloadCommand = bin + " -k graceful " + args
	cmd := exec.Command(bin, "-d", root, "-f", path, "-DFOREGROUND")
	labutil.Start(t, cmd)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", lab.HTTP); err == nil {
			c.Close()
			return lab
		}
	}
	b, _ := os.ReadFile(filepath.Join(root, "error.log"))
	t.Fatalf("apache2 does not listen on %s; its log:\n%s", lab.HTTP, b)
	return nil
}
