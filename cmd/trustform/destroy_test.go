package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDestroy: destroy (apply -destroy) deletes everything the quickstart
// manages, what refers to a resource first, and forgets the local CA
// (its key stays); a saved -destroy plan is applied only as a -destroy
// plan; afterwards state is empty and plan creates everything again.
func TestDestroy(t *testing.T) {
	dir := quickstart(t)
	in := func(want int, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runIn(false, nil, append([]string{"-chdir=" + dir}, args...)...)
		if code != want {
			t.Fatalf("%s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out, errOut
	}
	in(0, "apply", "-auto-approve")
	out, errOut := in(2, "plan", "-destroy", "-detailed-exitcode", "-out=d.plan")
	for _, want := range []string{"8 to delete. 1 to forget.", "# certificate.www will be destroyed", "because -destroy deletes everything"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan -destroy lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "local_ca.example is forgotten, not deleted") || strings.Contains(errOut, "is no longer in the configuration") {
		t.Errorf("plan -destroy's warnings:\n%s", errOut)
	}
	if _, errOut := in(1, "apply", "d.plan"); !strings.Contains(errOut, "the plan was made with -destroy and this apply runs without it") {
		t.Errorf("an unsigned -destroy plan applied as a normal one:\n%s", errOut)
	}
	in(0, "destroy", "-auto-approve")
	files, _ := filepath.Glob(filepath.Join(dir, "out/etc/*/*/*"))
	if len(files) > 0 {
		t.Errorf("destroy left %v", files)
	}
	zone, _ := os.ReadFile(filepath.Join(dir, "example.test.zone"))
	if strings.Contains(string(zone), "TLSA") {
		t.Errorf("destroy left TLSA records:\n%s", zone)
	}
	if _, err := os.Stat(filepath.Join(dir, ".trustform/local_ca/example/ca.key")); err != nil {
		t.Errorf("destroy removed the CA key: %v", err)
	}
	if out, _ := in(0, "state", "list"); out != "" {
		t.Errorf("state after destroy:\n%s", out)
	}
	in(0, "plan", "-destroy", "-detailed-exitcode")
	in(2, "plan", "-detailed-exitcode")
}
