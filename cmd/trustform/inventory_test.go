package main

import (
	"encoding/json"
	"io/fs"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trustform/trustform/internal/testutil"
)

// The inventory of the quickstart after apply: per certificate its key,
// serial, validity, where it is deployed, what serves and pins it; found
// by the digest openssl prints for its key, filtered by expiry and host.
func TestInventory(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	r := tf(t, dir, "show", "-json")
	mustCode(t, r, 0, "show -json")
	var inv struct {
		Certificates []struct {
			Address    string `json:"address"`
			SPKISHA256 string `json:"spki_sha256"`
			CertFile   string `json:"cert_file"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &inv); err != nil || len(inv.Certificates) == 0 {
		t.Fatalf("show -json: %v\n%s", err, r.stdout)
	}
	serial := regexp.MustCompile(`"serial": "[0-9A-F]+"`)
	testutil.Golden(t, "inventory/quickstart", serial.ReplaceAllString(testutil.Normalize(r.stdout, dir), `"serial": "<serial>"`))

	c := inv.Certificates[0]
	var certPath string // under the host's root, inside the quickstart
	filepath.WalkDir(dir, func(p string, _ fs.DirEntry, _ error) error {
		if strings.HasSuffix(p, c.CertFile) {
			certPath = p
		}
		return nil
	})
	out, err := exec.Command("bash", "-c", "set -o pipefail; openssl x509 -pubkey -noout -in '"+certPath+"' | openssl pkey -pubin -outform der | sha256sum").Output()
	if err != nil {
		t.Fatalf("openssl on %s: %v", certPath, err)
	}
	digest := strings.Fields(string(out))[0]
	if digest != c.SPKISHA256 {
		t.Errorf("the inventory says key %s, openssl %s", c.SPKISHA256, digest)
	}
	r = tf(t, dir, "show", "-key="+digest)
	mustCode(t, r, 0, "show -key")
	if !strings.Contains(r.stdout, "# "+c.Address+"\n") || strings.Count(r.stdout, "\n# ") != 0 {
		t.Errorf("show -key does not find exactly %s:\n%s", c.Address, r.stdout)
	}
	if r = tf(t, dir, "show", "-expires-within=1d"); !strings.Contains(r.stdout, "No certificate matches.") {
		t.Errorf("fresh certificates expire within a day:\n%s", r.stdout)
	}
	if r = tf(t, dir, "show", "-expires-within=400d"); strings.Count(r.stdout, "# certificate.") != len(inv.Certificates) {
		t.Errorf("-expires-within=400d misses certificates:\n%s", r.stdout)
	}
	if r = tf(t, dir, "show", "-host=nope"); !strings.Contains(r.stdout, "No certificate matches.") {
		t.Errorf("-host=nope:\n%s", r.stdout)
	}
	r = tf(t, dir, "show", "-markdown")
	testutil.Golden(t, "inventory/quickstart-markdown", regexp.MustCompile("`[0-9A-F]{20,40}`").ReplaceAllString(regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d UTC`).ReplaceAllString(testutil.Normalize(r.stdout, dir), "<time>"), "`<serial>`"))
}
