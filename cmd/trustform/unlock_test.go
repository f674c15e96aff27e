package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trustform/trustform/engine/state"
)

// TestForceUnlockCommand: a plan that waits in vain for the lock names its
// lock ID; force-unlock asks first (no answer: nothing unlocked), refuses
// a wrong ID, and with the right one and -force breaks the lock, after
// which plan runs.
func TestForceUnlockCommand(t *testing.T) {
	dir := quickstart(t)
	hung, err := state.Acquire(filepath.Join(dir, ".trustform"), "apply", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Release()
	code, _, errOut := runIn(false, nil, "-chdir="+dir, "plan", "-lock-timeout=100ms")
	m := regexp.MustCompile(`trustform force-unlock ([0-9a-f-]+)\)`).FindStringSubmatch(errOut)
	if code != 1 || m == nil {
		t.Fatalf("plan beside a held lock: exit %d\n%s", code, errOut)
	}
	if code, out, _ := runIn(false, nil, "-chdir="+dir, "force-unlock", m[1]); code != 1 || !strings.Contains(out, "Force-unlock cancelled.") {
		t.Errorf("force-unlock without an answer: exit %d\n%s", code, out)
	}
	if code, _, errOut := runIn(false, nil, "-chdir="+dir, "force-unlock", "-force", "1234"); code != 1 || !strings.Contains(errOut, "not under lock ID \"1234\"") {
		t.Errorf("force-unlock with a wrong ID: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := runIn(false, nil, "-chdir="+dir, "force-unlock", "-force", m[1]); code != 0 || !strings.Contains(out, "successfully unlocked") {
		t.Fatalf("force-unlock: exit %d\n%s%s", code, out, errOut)
	}
	if err := hung.Held(); err == nil {
		t.Error("the hung run still believes it holds the lock")
	}
	if code, _, errOut := runIn(false, nil, "-chdir="+dir, "plan", "-lock-timeout=1s"); code != 0 {
		t.Errorf("plan after force-unlock: exit %d\n%s", code, errOut)
	}
}
