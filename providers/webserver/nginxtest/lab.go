// Package nginxtest runs a real nginx for tests, on loopback high ports with
// its own prefix (no system configuration touched). Managed vhost files go
// into Sites; TestCommand and ReloadCommand are what a vhost's
// test_command and reload_command must be to manage it.
package nginxtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustform/trustform/internal/labutil"
)

// Lab is one running nginx.
type Lab struct {
	Prefix        string
	Sites         string // included as Sites/*.conf
	HTTP, HTTPS   string // 127.0.0.1:port for plain and TLS vhosts
	TestCommand   string
	ReloadCommand string
	// AccessLog has a line per request: when it ended (seconds since the
	// epoch, to the millisecond), how long it took, the request, the
	// status and the body's size.
	AccessLog string
}

// Start runs nginx; it stops with the test.
func Start(t testing.TB) *Lab {
	t.Helper()
	bin := labutil.Binary(t, "nginx", "/usr/sbin/nginx")
	prefix := labutil.OpenDir(t, "nginxlab")
	lab := &Lab{
		Prefix: prefix,
		Sites:  filepath.Join(prefix, "sites"),
		HTTP:   fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t)),
		HTTPS:  fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t)),
	}
	lab.AccessLog = filepath.Join(prefix, "logs", "access.log")
	for _, d := range []string{"sites", "tmp", "logs"} {
		os.MkdirAll(filepath.Join(prefix, d), 0o755)
	}
	conf := filepath.Join(prefix, "nginx.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`user root;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/logs/error.log;
events { worker_connections 1024; }
http {
  log_format timed '$msec $request_time "$request" $status $body_bytes_sent';
  access_log %[1]s/logs/access.log timed;
  default_type text/plain;
  client_body_temp_path %[1]s/tmp/body;
  proxy_temp_path %[1]s/tmp/proxy;
  fastcgi_temp_path %[1]s/tmp/fastcgi;
  uwsgi_temp_path %[1]s/tmp/uwsgi;
  scgi_temp_path %[1]s/tmp/scgi;
  server { listen %[2]s default_server; return 404; }
  include %[1]s/sites/*.conf;
}
`, prefix, lab.HTTP)), 0o644)
	args := fmt.Sprintf("-p %s -c %s", prefix, conf)
	lab.TestCommand = bin + " -t " + args
	lab.ReloadCommand = bin + " -s reload " + args
	cmd := exec.Command(bin, "-p", prefix, "-c", conf, "-g", "daemon off;")
	labutil.Start(t, cmd)
	waitListening(t, lab.HTTP, filepath.Join(prefix, "logs", "error.log"))
	return lab
}

func waitListening(t testing.TB, addr, log string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	b, _ := os.ReadFile(log)
	t.Fatalf("nginx does not listen on %s; its log:\n%s", addr, b)
}
