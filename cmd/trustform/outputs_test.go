package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputs: output blocks, as Terraform's: unknown before the first
// apply, printed after it and by trustform output (text, -json, -raw),
// an instance of a for_each block by key; a sensitive output is never
// printed, and one that derives from a secret must say it is sensitive; a
// reference to an undeclared block is found by validate.
func TestOutputs(t *testing.T) {
	const secret = "s3cr3t-t0ken-4711"
	dir := t.TempDir()
	cfg := fixture("variables.hcl.tmpl") + `
output "spki" {
  value = certificate.site["a"].spki_sha256
}
output "names" {
  value = certificate.site["a"].domains
}
output "token" {
  value     = var.token
  sensitive = true
}
`
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	environ := map[string]string{}
	t.Setenv("TRUSTFORM_VAR_token", secret)
	in := func(want int, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runIn(false, environ, append([]string{"-chdir=" + dir}, args...)...)
		if code != want {
			t.Fatalf("%s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		if strings.Contains(out+errOut, secret) {
			t.Fatalf("%s prints the secret:\n%s%s", strings.Join(args, " "), out, errOut)
		}
		return out, errOut
	}
	if out, _ := in(0, "output"); !strings.Contains(out, "spki = (known after apply)") || !strings.Contains(out, "token = (sensitive value)") {
		t.Errorf("outputs before apply:\n%s", out)
	}
	out, _ := in(0, "apply", "-auto-approve")
	if !strings.Contains(out, "Outputs:\n\nnames = [\"a.example.test\"]\n") {
		t.Errorf("apply does not print the outputs:\n%s", out)
	}
	spki, _ := in(0, "output", "-raw", "spki")
	if len(spki) != 64 {
		t.Errorf("output -raw spki: %q", spki)
	}
	if _, errOut := in(1, "output", "-raw", "token"); !strings.Contains(errOut, "is sensitive") {
		t.Errorf("output -raw of a sensitive output:\n%s", errOut)
	}
	out, _ = in(0, "output", "-json")
	var got map[string]struct {
		Sensitive bool
		Value     any
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got["spki"].Value != spki || !got["token"].Sensitive || got["token"].Value != nil {
		t.Errorf("output -json: %v\n%s", err, out)
	}
	out, _ = in(0, "apply", "-auto-approve", "-json")
	if !strings.Contains(out, `"type":"outputs","outputs":{"names":{"sensitive":false,"type":["list","string"],"value":["a.example.test"]}`) {
		t.Errorf("apply -json's outputs message:\n%s", out)
	}

	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(strings.Replace(cfg, "value     = var.token\n  sensitive = true", "value = var.token", 1)), 0o644)
	if _, errOut := in(1, "output"); !strings.Contains(errOut, "Output refers to sensitive values") {
		t.Errorf("an output of a secret not declared sensitive:\n%s", errOut)
	}
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(strings.Replace(cfg, `certificate.site["a"].domains`, "certificate.typo.domains", 1)), 0o644)
	if _, errOut := in(1, "validate"); !strings.Contains(errOut, "Reference to undeclared certificate") || !strings.Contains(errOut, "main.hcl line 28") {
		t.Errorf("validate of an output referring to an undeclared block:\n%s", errOut)
	}
}
