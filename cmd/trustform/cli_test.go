package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/engine"
)

// runIn runs a command in-process with a fake terminal setting.
func runIn(tty bool, environ map[string]string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return environ[k] }, tty: tty, errTTY: tty}
	code := run(args, e)
	return code, out.String(), errb.String()
}

func TestColorOnlyOnATerminal(t *testing.T) {
	dir := quickstart(t)
	for _, tc := range []struct {
		name  string
		tty   bool
		env   map[string]string
		flags []string
		color bool
	}{
		{"terminal", true, nil, nil, true},
		{"pipe", false, nil, nil, false},
		{"NO_COLOR", true, map[string]string{"NO_COLOR": "1"}, nil, false},
		{"-no-color", true, nil, []string{"-no-color"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, _ := runIn(tc.tty, tc.env, append([]string{"-chdir=" + dir, "plan"}, tc.flags...)...)
			if code != 0 {
				t.Fatalf("plan exit %d", code)
			}
			if got := strings.Contains(out, "\x1b["); got != tc.color {
				t.Errorf("colour in output: %v, want %v", got, tc.color)
			}
		})
	}
}

func TestValidateReportsFileLineColumn(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("apt_key \"x\" {\n  fingerprint = \"8B48AD6246925553\"\n  url = \"k.asc\"\n}\n"), 0o644)
	code, _, errOut := runIn(false, nil, "validate", "-chdir="+dir)
	if code != 1 {
		t.Fatalf("validate exit %d, want 1", code)
	}
	for _, want := range []string{"Short key ID instead of a fingerprint", "on main.hcl line 2", `fingerprint = "8B48AD6246925553"`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("diagnostic lacks %q:\n%s", want, errOut)
		}
	}
	code, out, _ := runIn(false, nil, "-chdir="+filepath.Join("..", "..", "examples", "quickstart"), "validate")
	if code != 0 || !strings.Contains(out, "The configuration is valid.") {
		t.Errorf("validate of the quickstart: exit %d, %s", code, out)
	}
}

func TestFmt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "main.hcl")
	os.WriteFile(path, []byte("local_ca \"ca\" {\ncommon_name=\"x\"\n}\n"), 0o644)
	code, out, _ := runIn(false, nil, "fmt", "-check", "-diff", dir)
	if code != 3 || !strings.Contains(out, "main.hcl") || !strings.Contains(out, `+  common_name = "x"`) {
		t.Fatalf("fmt -check -diff: exit %d\n%s", code, out)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "common_name=") {
		t.Fatal("fmt -check rewrote the file")
	}
	if code, _, _ := runIn(false, nil, "fmt", dir); code != 0 {
		t.Fatalf("fmt exit %d", code)
	}
	if b, _ := os.ReadFile(path); string(b) != "local_ca \"ca\" {\n  common_name = \"x\"\n}\n" {
		t.Errorf("fmt wrote:\n%s", b)
	}
	if code, out, _ := runIn(false, nil, "fmt", "-check", dir); code != 0 || out != "" {
		t.Errorf("fmt -check on a formatted file: exit %d %q", code, out)
	}
	if code, out, _ := runIn(false, nil, "fmt", "-check", filepath.Join("..", "..", "examples", "quickstart")); code != 0 {
		t.Errorf("the quickstart is not formatted:\n%s", out)
	}
}

func TestShowSavedPlanAndVersion(t *testing.T) {
	dir := quickstart(t)
	planFile := filepath.Join(dir, "p.json")
	if code, _, errOut := runIn(false, nil, "-chdir="+dir, "plan", "-out="+planFile); code != 0 {
		t.Fatal(errOut)
	}
	code, out, _ := runIn(false, nil, "show", planFile)
	if code != 0 || !strings.Contains(out, "Plan: 9 to create") {
		t.Errorf("show PLANFILE: exit %d\n%s", code, out)
	}
	code, out, _ = runIn(false, nil, "show", "-json", planFile)
	if code != 0 || !strings.Contains(out, `"format_version": "1.0"`) {
		t.Errorf("show -json PLANFILE: exit %d\n%s", code, out)
	}
	if code, out, _ := runIn(false, nil, "version"); code != 0 || !strings.HasPrefix(out, "trustform v") {
		t.Errorf("version: %d %q", code, out)
	}
}

// TestColorPerStream: colour is decided for each stream on its own:
// `validate >/dev/tty 2>err.txt` writes no escape codes into err.txt.
func TestColorPerStream(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("apt_key \"x\" {\n  fingerprint = \"8B48AD6246925553\"\n  url = \"k.asc\"\n}\n"), 0o644)
	var out, errb strings.Builder
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, tty: true, errTTY: false}
	if code := run([]string{"-chdir=" + dir, "validate"}, e); code != 1 {
		t.Fatalf("validate exit %d", code)
	}
	if strings.Contains(errb.String(), "\x1b[") || !strings.Contains(errb.String(), "Short key ID") {
		t.Errorf("stderr, not a terminal, got colour or no diagnostic:\n%q", errb.String())
	}
}

// TestShippedBinaryHasNoTestHooks: built without the tag trustformtest (as
// every build but the tests' is), TRUSTFORM_TEST_NOW does not move the
// clock and TRUSTFORM_TEST_KILL_AFTER_STEPS and _INSIDE kill nothing.
func TestShippedBinaryHasNoTestHooks(t *testing.T) {
	e := env{getenv: func(k string) string {
		return map[string]string{"TRUSTFORM_TEST_NOW": "2001-01-01T00:00:00Z", "TRUSTFORM_TEST_KILL_AFTER_STEPS": "1", "TRUSTFORM_TEST_KILL_INSIDE": "killed"}[k]
	}}
	if now := e.clock()(); now.Year() == 2001 {
		t.Error("TRUSTFORM_TEST_NOW froze the clock")
	}
	var o engine.ApplyOptions
	if faultHooks(e, &o); o.AfterStep != nil || o.AfterWrite != nil {
		t.Error("TRUSTFORM_TEST_KILL_* installed a hook")
	}
}
