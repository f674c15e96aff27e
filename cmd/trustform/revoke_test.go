package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"

	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/internal/labutil"
)

// TestRevokeLocalCA: -revoke enters a run only as approved, and an
// approved revocation outlives the run: on the quickstart, the plan with
// -replace='certificate.*' -revoke=keyCompromise flags each revoke step
// irreversible; a saved plan edited to add -revoke is refused; the
// approved apply stops at the DANE gate with the serials recorded in
// state; the next apply, without -revoke, deploys, revokes (the local CA's
// CRL, checked by openssl) and leaves no copy of an old key.
func TestRevokeLocalCA(t *testing.T) {
	openssl := labutil.Binary(t, "openssl")
	dir := quickstart(t)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "first apply")
	certs := filepath.Join(dir, "out", "etc", "ssl", "example")
	oldKeys, oldCerts, serials := map[string][]byte{}, map[string]string{}, map[string]string{}
	for _, c := range []string{"www", "mail"} {
		oldKeys[c], _ = os.ReadFile(filepath.Join(certs, c+".key.pem"))
		b, _ := os.ReadFile(filepath.Join(certs, c+".fullchain.pem"))
		oldCerts[c] = filepath.Join(t.TempDir(), c+".pem")
		os.WriteFile(oldCerts[c], b, 0o644)
		leaf, err := certcrypto.ParsePEMCertificate(b)
		if err != nil {
			t.Fatal(err)
		}
		serials[c] = serialHex(leaf)
	}

	for _, bad := range [][]string{{"-revoke=keyCompromise"}, {"-replace=certificate.*", "-revoke=compromised"}} {
		r := tf(t, dir, append([]string{"plan"}, bad...)...)
		mustCode(t, r, 1, "plan "+strings.Join(bad, " "))
		if !strings.Contains(r.stderr, "Invalid -revoke") {
			t.Errorf("plan %v: %s", bad, r.stderr)
		}
	}
	// A plan reviewed without -revoke, edited to revoke, approves nothing:
	// its signature fails with the runner's plan key, and without a key its
	// options are not this apply's.
	signed := []string{"TRUSTFORM_PLAN_KEY=" + strings.Repeat("k", 32)}
	plain := filepath.Join(t.TempDir(), "plain.json")
	mustCode(t, tfEnv(t, dir, signed, "plan", "-replace=certificate.*", "-out="+plain), 0, "plan without -revoke")
	b, _ := os.ReadFile(plain)
	var doc map[string]any
	json.Unmarshal(b, &doc)
	doc["revoke"] = "keyCompromise"
	b, _ = json.Marshal(doc)
	os.WriteFile(plain, b, 0o644)
	if r := tf(t, dir, "apply", plain); r.code != 1 || !strings.Contains(r.stderr, "revoke") {
		t.Errorf("a plan edited to revoke was applied (exit %d):\n%s", r.code, r.stderr)
	}
	if r := tfEnv(t, dir, signed, "apply", plain); r.code != 1 || !strings.Contains(r.stderr, "signature does not verify") {
		t.Errorf("a signed plan edited to revoke was applied (exit %d):\n%s", r.code, r.stderr)
	}

	reviewed := filepath.Join(t.TempDir(), "reviewed.json")
	p := tfEnv(t, dir, signed, "plan", "-replace=certificate.*", "-revoke=keyCompromise", "-out="+reviewed)
	mustCode(t, p, 0, "plan -revoke")
	for _, c := range []string{"www", "mail"} {
		if !strings.Contains(p.stdout, "revoke the replaced certificate "+serials[c]+" (keyCompromise)") {
			t.Errorf("the plan does not revoke %s's %s:\n%s", c, serials[c], p.stdout)
		}
	}
	if n := strings.Count(p.stdout, "[revoke-after-served]  IRREVERSIBLE"); n != 2 {
		t.Errorf("%d revoke steps flagged irreversible, want 2:\n%s", n, p.stdout)
	}
	a := tfEnv(t, dir, signed, "apply", reviewed)
	mustCode(t, a, 0, "apply the reviewed plan")
	if !strings.Contains(a.stdout, "wait for a time gate") {
		t.Fatalf("the re-key did not wait at the DANE gate:\n%s", a.stdout)
	}
	st := readState(t, dir)
	for _, c := range []string{"www", "mail"} {
		if rs := st.Retiring["certificate."+c]; len(rs) != 1 || rs[0].Serial != serials[c] || rs[0].Reason != "keyCompromise" || rs[0].Revoked {
			t.Errorf("state does not record %s's revocation: %+v", c, rs)
		}
	}

	inv := tf(t, dir, "show", "-json")
	mustCode(t, inv, 0, "show -json")
	for _, c := range []string{"www", "mail"} {
		if !strings.Contains(inv.stdout, `"`+serials[c]+` (keyCompromise)"`) {
			t.Errorf("the inventory does not say %s is still to revoke:\n%s", serials[c], inv.stdout)
		}
	}

	// Later, without -revoke: the rollover completes, and revokes.
	later := time.Now().Add(3 * time.Hour)
	d := tfAt(t, dir, later, "plan", "-refresh-only")
	if !strings.Contains(d.stdout, "still to revoke (keyCompromise)") {
		t.Errorf("a drift check does not say what is still to revoke:\n%s", d.stdout)
	}
	mustCode(t, tfAt(t, dir, later, "apply", "-auto-approve"), 0, "apply after the gate")
	crl := filepath.Join(dir, ".trustform", "local_ca", "example", "crl.pem")
	text, err := exec.Command(openssl, "crl", "-in", crl, "-noout", "-text").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl crl: %v\n%s", err, text)
	}
	if n := strings.Count(string(text), "Key Compromise"); n != 2 {
		t.Errorf("the CRL lists %d key compromises, want 2:\n%s", n, text)
	}
	verify := func(file string) string {
		out, _ := exec.Command(openssl, "verify", "-crl_check", "-attime", strconv.FormatInt(later.Add(time.Minute).Unix(), 10),
			"-CAfile", filepath.Join(dir, ".trustform", "local_ca", "example", "ca.pem"), "-CRLfile", crl, file).CombinedOutput()
		return string(out)
	}
	for _, c := range []string{"www", "mail"} {
		if got := verify(oldCerts[c]); !strings.Contains(got, "certificate revoked") {
			t.Errorf("openssl accepts the old %s certificate:\n%s", c, got)
		}
		if got := verify(filepath.Join(certs, c+".fullchain.pem")); !strings.Contains(got, ": OK") {
			t.Errorf("openssl refuses the new %s certificate:\n%s", c, got)
		}
	}
	noOldKeys(t, dir, oldKeys)
	if st := readState(t, dir); len(st.Retiring) > 0 {
		t.Errorf("state still retires %+v", st.Retiring)
	}
	mustCode(t, tfAt(t, dir, later, "plan", "-detailed-exitcode"), 0, "plan after the revocation")
}

// readState loads the configuration's state.json.
func readState(t *testing.T, dir string) *state.State {
	t.Helper()
	st, err := state.Load(filepath.Join(dir, ".trustform", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}
