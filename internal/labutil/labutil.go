// Package labutil holds what the server test labs share: finding a binary
// (skipping, or failing under CI=true, when it is missing), free loopback
// ports, and world-readable temp directories for servers whose workers drop
// privileges.
package labutil

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
)

// Binary finds name; without it the test is skipped, or fails when CI=true.
func Binary(t testing.TB, name string, paths ...string) string {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed; scripts/test.sh installs it", name)
	}
	t.Skipf("%s is not installed; run scripts/test.sh", name)
	return ""
}

// FreePort finds a loopback port free for both TCP and UDP.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free loopback port")
	return 0
}

// OpenDir is a temp directory that a server's unprivileged workers can read.
func OpenDir(t testing.TB, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
