package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// TestAdoptHandWrittenVhost: a hand-written nginx file (mode 0640, owned
// by another user) at the path a vhost block manages is not replaced
// silently: the plan says "adopt and replace", the pull-request comment
// lists it under "Review these steps with care", and the apply keeps the
// old file beside it with its content, mode and owner before real nginx
// tests and reloads the new one.
func TestAdoptHandWrittenVhost(t *testing.T) {
	web := nginxtest.Start(t)
	dir := t.TempDir()
	conf := filepath.Join(web.Sites, "www.conf")
	hand := fmt.Sprintf("# written by hand, years ago\nserver {\n    listen %s;\n    server_name www.example.test;\n    return 204;\n}\n", web.HTTP)
	os.WriteFile(conf, []byte(hand), 0o640)
	os.Chown(conf, 65534, 65534)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(fmt.Sprintf(`
vhost "www" {
  server         = "nginx"
  config_file    = %q
  listen         = %q
  server_names   = ["www.example.test"]
  root           = "www"
  test_command   = %q
  reload_command = %q
}
`, conf, web.HTTP, web.TestCommand, web.ReloadCommand)), 0o644)
	r := tf(t, dir, "plan")
	mustCode(t, r, 0, "plan")
	if !strings.Contains(r.stdout, "adopt and replace "+conf) || !strings.Contains(r.stdout, "is a file trustform did not write") {
		t.Errorf("the plan does not say it adopts and replaces the hand-written file:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "written by hand") {
		t.Errorf("the plan shows the content of a file trustform did not write:\n%s", r.stdout)
	}
	md := tf(t, dir, "plan", "-markdown")
	if !strings.Contains(md.stdout, "**Review these steps with care:**") || !strings.Contains(md.stdout, "**adopts and replaces**") {
		t.Errorf("the comment does not flag the adoption for review:\n%s", md.stdout)
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	backup := conf + ".trustform-backup"
	b, err := os.ReadFile(backup)
	st, _ := os.Stat(backup)
	switch {
	case err != nil || string(b) != hand:
		t.Fatalf("the backup holds %q (%v), want the hand-written file", b, err)
	case st.Mode().Perm() != 0o640:
		t.Errorf("the backup has mode %v, want 0640", st.Mode().Perm())
	case st.Sys().(*syscall.Stat_t).Uid != 65534:
		t.Errorf("the backup belongs to uid %d, want 65534", st.Sys().(*syscall.Stat_t).Uid)
	}
	if now, _ := os.ReadFile(conf); !strings.Contains(string(now), "trustform") || strings.Contains(string(now), "written by hand") {
		t.Errorf("the managed file was not written:\n%s", now)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the adoption")
}
