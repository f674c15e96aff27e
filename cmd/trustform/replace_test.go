package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A key compromise re-keys by pattern: every certificate, every instance
// of one block; a pattern that matches nothing is an error, not a no-op.
func TestReplacePatterns(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(`local_ca "ca" {}
certificate "www" {
  domains   = ["www.example.test"]
  issuer    = local_ca.ca
  cert_file = "certs/www.pem"
  key_file  = "certs/www.key"
}
certificate "mail" {
  for_each  = toset(["mx1", "mx2"])
  domains   = ["${each.key}.example.test"]
  issuer    = local_ca.ca
  cert_file = "certs/${each.key}.pem"
  key_file  = "certs/${each.key}.key"
}
`), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	for pattern, want := range map[string][]string{
		"certificate.*":           {`certificate.www will be replaced`, `certificate.mail["mx1"] will be replaced`, `certificate.mail["mx2"] will be replaced`, "3 to replace"},
		"certificate.mail[*]":     {`certificate.mail["mx1"] will be replaced`, `certificate.mail["mx2"] will be replaced`, "2 to replace"},
		`certificate.mail["mx2"]`: {`certificate.mail["mx2"] will be replaced`, "1 to replace"},
	} {
		r := tf(t, dir, "plan", "-replace="+pattern)
		mustCode(t, r, 0, "plan -replace="+pattern)
		for _, w := range want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("plan -replace=%s lacks %q:\n%s", pattern, w, r.stdout)
			}
		}
	}
	for _, bad := range []string{"certificate.nope", "certificate.www[*]", "local_ca.*", `certificate.mail["mx9"]`} {
		r := tf(t, dir, "plan", "-replace="+bad)
		mustCode(t, r, 1, "plan -replace="+bad)
		if !strings.Contains(r.stderr, "names no certificate") {
			t.Errorf("-replace=%s: %s", bad, r.stderr)
		}
	}
	before := map[string][]byte{}
	for _, k := range []string{"www", "mx1", "mx2"} {
		before[k], _ = os.ReadFile(filepath.Join(dir, "certs", k+".key"))
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-replace=certificate.*"), 0, "apply -replace=certificate.*")
	for k, old := range before {
		if now, _ := os.ReadFile(filepath.Join(dir, "certs", k+".key")); len(old) == 0 || string(now) == string(old) {
			t.Errorf("%s kept its key", k)
		}
	}
	noOldKeys(t, dir, before)
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the re-key")
}

// noOldKeys fails for every file under dir that holds one of the old keys.
func noOldKeys(t *testing.T, dir string, old map[string][]byte) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		b, _ := os.ReadFile(p)
		for k, key := range old {
			if err == nil && !d.IsDir() && len(key) > 0 && strings.Contains(string(b), strings.TrimSpace(string(key))) {
				t.Errorf("%s still holds the old key of %s", p, k)
			}
		}
		return nil
	})
}
