package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestStateCommands: Terraform's state subcommands as its users reach for
// them: list and rm take addresses and every instance of a for_each block,
// show prints one entry, mv follows a renamed block (the next plan has
// nothing to do), push refuses a missing file and reads stdin, -h is help,
// and a typo gets a suggestion.
func TestStateCommands(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(`local_ca "ca" {}

certificate "site" {
  for_each  = toset(["a", "b"])
  domains   = ["${each.key}.example.test"]
  issuer    = local_ca.ca
  cert_file = "out/${each.key}.pem"
  key_file  = "out/${each.key}.key"
}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = local_ca.ca
  cert_file = "out/www.pem"
  key_file  = "out/www.key"
}
`), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	r := tf(t, dir, "state", "list", "certificate.site")
	mustCode(t, r, 0, "state list certificate.site")
	if r.stdout != "certificate.site[\"a\"]\ncertificate.site[\"b\"]\n" {
		t.Errorf("state list certificate.site:\n%s", r.stdout)
	}
	r = tf(t, dir, "state", "show", "certificate.www")
	mustCode(t, r, 0, "state show")
	if !strings.Contains(r.stdout, "# certificate.www (certificate)") || !strings.Contains(r.stdout, `domains = ["www.example.test"]`) {
		t.Errorf("state show:\n%s", r.stdout)
	}
	if r = tf(t, dir, "state", "show", "certificate.ww"); r.code != 1 || !strings.Contains(r.stderr, `Did you mean "certificate.www"?`) {
		t.Errorf("state show of a typo: %d\n%s", r.code, r.stderr)
	}

	// A renamed block: state mv, and the plan has nothing to do.
	b, _ := os.ReadFile(filepath.Join(dir, "main.hcl"))
	os.WriteFile(filepath.Join(dir, "main.hcl"), bytes.Replace(b, []byte(`certificate "www"`), []byte(`certificate "web"`), 1), 0o644)
	mustCode(t, tf(t, dir, "state", "mv", "certificate.www", "certificate.web"), 0, "state mv")
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after state mv")
	if r = tf(t, dir, "state", "mv", "certificate.web", "local_ca.web"); r.code != 1 || !strings.Contains(r.stderr, "can only move to another certificate address") {
		t.Errorf("state mv to another type: %d\n%s", r.code, r.stderr)
	}

	pulled := tf(t, dir, "state", "pull")
	mustCode(t, pulled, 0, "state pull")
	r = tf(t, dir, "state", "rm", "certificate.site", "certificate.web")
	mustCode(t, r, 0, "state rm of a for_each block and another")
	if strings.Count(r.stdout, "Removed ") != 3 {
		t.Errorf("state rm:\n%s", r.stdout)
	}
	if r = tf(t, dir, "state", "rm", "certificate.site"); r.code != 1 || !strings.Contains(r.stderr, "names nothing in the state") {
		t.Errorf("state rm of what is gone: %d\n%s", r.code, r.stderr)
	}

	if r = tf(t, dir, "state", "push", "-force", "typo.json"); r.code != 1 || !strings.Contains(r.stderr, "no such file") {
		t.Errorf("state push of a missing file: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	cmd := exec.Command(binary, "-chdir="+dir, "state", "push", "-force", "-") // the serial went on since the pull
	cmd.Stdin = strings.NewReader(pulled.stdout)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Pushed -") {
		t.Errorf("state push - : %v\n%s", err, out)
	}
	if r = tf(t, dir, "state", "list"); strings.Count(r.stdout, "\n") != 4 {
		t.Errorf("state list after the push of stdin:\n%s", r.stdout)
	}

	if r = tf(t, dir, "state", "-h"); r.code != 0 || !strings.Contains(r.stdout, "mv SRC DST") {
		t.Errorf("state -h: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r = tf(t, dir, "state", "lsit"); r.code != 1 || !strings.Contains(r.stderr, `Did you mean "list"?`) {
		t.Errorf("state lsit: %d\n%s", r.code, r.stderr)
	}
	if r = tf(t, dir, "plna"); r.code != 1 || !strings.Contains(r.stderr, `Did you mean "plan"?`) {
		t.Errorf("plna: %d\n%s", r.code, r.stderr)
	}
}
