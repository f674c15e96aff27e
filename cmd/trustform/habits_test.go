package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/internal/testutil"
)

// TestTerraformHabits: the command line behaves as a Terraform user's hands
// expect.
func TestTerraformHabits(t *testing.T) {
	dir := quickstart(t)
	run := func(cwd string, args ...string) result {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Dir = cwd
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{code, out.String(), errb.String()}
	}
	parent := filepath.Dir(dir)
	base := filepath.Base(dir)

	t.Run("-chdir changes the working directory", func(t *testing.T) {
		mustCode(t, run(parent, "-chdir="+base, "plan", "-out=p.tfplan"), 0, "plan -out with -chdir")
		if _, err := os.Stat(filepath.Join(dir, "p.tfplan")); err != nil {
			t.Fatalf("the plan is not in DIR: %v", err)
		}
		if _, err := os.Stat(filepath.Join(parent, "p.tfplan")); err == nil {
			t.Error("the plan was written to the directory trustform was started in")
		}
		mustCode(t, run(parent, "-chdir="+base, "show", "p.tfplan"), 0, "show with -chdir")
	})
	t.Run("apply -json without -auto-approve", func(t *testing.T) {
		r := run(dir, "apply", "-json")
		mustCode(t, r, 1, "apply -json")
		if r.stdout != "" || !strings.Contains(r.stderr, "-json needs -auto-approve") {
			t.Errorf("stdout %q, stderr %q", r.stdout, r.stderr)
		}
	})
	t.Run("-input=false never asks", func(t *testing.T) {
		r := run(dir, "apply", "-input=false")
		mustCode(t, r, 1, "apply -input=false")
		if strings.Contains(r.stdout, "Enter a value") || !strings.Contains(r.stderr, "-input=false") {
			t.Errorf("stdout %q, stderr %q", r.stdout, r.stderr)
		}
	})
	t.Run("validate -json", func(t *testing.T) {
		r := run(dir, "validate", "-json")
		mustCode(t, r, 0, "validate -json")
		var v struct {
			FormatVersion string `json:"format_version"`
			Valid         *bool  `json:"valid"`
			ErrorCount    *int   `json:"error_count"`
			WarningCount  *int   `json:"warning_count"`
			Diagnostics   []any  `json:"diagnostics"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.FormatVersion != "1.0" || v.Valid == nil || !*v.Valid || v.ErrorCount == nil || v.Diagnostics == nil {
			t.Errorf("validate -json: %v\n%s", err, r.stdout)
		}
	})
	t.Run("version", func(t *testing.T) {
		r := run(dir, "version", "-json")
		var v map[string]string
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || !strings.HasPrefix(v["trustform_version"], "v") || v["platform"] == "" {
			t.Errorf("version -json: %v\n%s", err, r.stdout)
		}
		if r := run(dir, "version"); !regexp.MustCompile(`^trustform v\d+\.\d+\.\d+`).MatchString(r.stdout) || strings.Contains(r.stdout, "0.1.0") {
			t.Errorf("version is not the build's: %q", r.stdout)
		}
	})
	t.Run("-h exits 0", func(t *testing.T) {
		for _, args := range [][]string{{"-h"}, {"plan", "-h"}, {"apply", "-h"}, {"version", "-h"}} {
			if r := run(dir, args...); r.code != 0 {
				t.Errorf("%v exits %d", args, r.code)
			}
		}
	})
	t.Run("-lock=false", func(t *testing.T) {
		held, err := state.Acquire(filepath.Join(dir, ".trustform"), "apply", 0)
		if err != nil {
			t.Fatal(err)
		}
		defer held.Release()
		mustCode(t, run(dir, "plan", "-lock-timeout=100ms"), 1, "plan while locked")
		mustCode(t, run(dir, "plan", "-lock=false"), 0, "plan -lock=false while locked")
	})
	t.Run("fmt exit codes", func(t *testing.T) {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, "a.hcl"), []byte("local_ca \"x\" {\ncommon_name=\"y\"\n}\n"), 0o644)
		mustCode(t, run(d, "fmt", "-check"), 3, "fmt -check on an unformatted file")
		os.WriteFile(filepath.Join(d, "a.hcl"), []byte("local_ca \"x\" {\n"), 0o644)
		mustCode(t, run(d, "fmt", "-check"), 2, "fmt -check on a syntax error")
	})
	t.Run("-compact-warnings", func(t *testing.T) {
		d := testutil.CopyDir(t, filepath.Join("..", "..", "examples", "quickstart"))
		mustCode(t, run(d, "apply", "-auto-approve"), 0, "apply")
		cfg := filepath.Join(d, "main.hcl")
		b, _ := os.ReadFile(cfg)
		i := strings.Index(string(b), `tlsa "mail_smtp"`)
		os.WriteFile(cfg, []byte(string(b[:i])+strings.SplitN(string(b[i:]), "}\n", 2)[1]), 0o644)
		full := run(d, "plan")
		compact := run(d, "plan", "-compact-warnings")
		if !strings.Contains(full.stderr, "Warning:") || strings.Count(compact.stderr, "\n") >= strings.Count(full.stderr, "\n") ||
			!strings.Contains(compact.stderr, "2 warning(s)") { // the deletion, and preload over the zone's mail and ns1 names
			t.Errorf("compact warnings are not shorter:\nfull:\n%s\ncompact:\n%s", full.stderr, compact.stderr)
		}
	})
}

// TestCIWorkflowSteps runs examples/ci/github-actions.yml's trustform
// commands in a shell, as the runner does, in a checkout with the
// configuration under trust/: plan writes the file the upload step names,
// and apply of the downloaded file finds and applies it.
func TestCIWorkflowSteps(t *testing.T) {
	yml, err := os.ReadFile(filepath.Join("..", "..", "examples", "ci", "github-actions.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var commands []string
	upload := ""
	for _, l := range strings.Split(string(yml), "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "run: "))
		switch {
		case strings.HasPrefix(l, "trustform "):
			commands = append(commands, l)
		case strings.HasPrefix(l, "path: "):
			upload = strings.TrimPrefix(l, "path: ")
		}
	}
	if len(commands) != 3 || upload == "" {
		t.Fatalf("the workflow changed shape: commands %q, upload %q", commands, upload)
	}
	checkout := t.TempDir()
	if err := os.Rename(quickstart(t), filepath.Join(checkout, "trust")); err != nil {
		t.Fatal(err)
	}
	sh := func(command string) {
		t.Helper()
		cmd := exec.Command("sh", "-c", command)
		cmd.Dir = checkout
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binary)+":"+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", command, err, out)
		}
	}
	sh(commands[0]) // plan -out
	sh(commands[1]) // show -json
	artifact, err := os.ReadFile(filepath.Join(checkout, upload))
	if err != nil {
		t.Fatalf("the upload step's path %s was not written: %v", upload, err)
	}
	// The apply job downloads the artefact into trust/ of a fresh checkout
	// (the state directory stays on the runner).
	os.Remove(filepath.Join(checkout, upload))
	os.WriteFile(filepath.Join(checkout, "trust", filepath.Base(upload)), artifact, 0o644)
	sh(commands[2])
	if r := tf(t, filepath.Join(checkout, "trust"), "plan", "-detailed-exitcode"); r.code != 0 {
		t.Errorf("after the workflow's apply the plan is not empty:\n%s", r.stdout)
	}
}
