package main

import (
	"crypto"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"
)

// TestPublishNext: with publish_next = true (RFC 7671 §8.1, "current +
// next"), both RRsets always publish the served key and a staged next key,
// so an emergency -replace finishes in one apply without -wait, on real BIND
// (primary and secondary), Pebble and nginx, while the independent checker
// watches both services. A next key published only a moment ago is not
// trusted yet, and a next key's record removed behind trustform's back is
// drift that apply puts back.
func TestPublishNext(t *testing.T) {
	lab := startDANELab(t, func(cfg string) string {
		return strings.ReplaceAll(cfg, `rollover_wait = "10s"`, "rollover_wait = \"3s\"\n  publish_next  = true")
	})
	dir := lab.dir
	nextKey := filepath.Join(dir, "out", "www.key.pem.next")
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-propagation-wait=10s"), 0, "first deployment")
	if fi, err := os.Stat(nextKey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the next key: %v, %v", fi, err)
	}
	current, next := servedSPKI(t, lab.services[lab.https], "www.example.test"), keyFileSPKI(t, nextKey)
	want := slices.Sorted(slices.Values([]string{"3 1 1 " + current, "3 1 1 " + next}))
	for _, owner := range []string{lab.https, lab.smtp} {
		waitServed(t, lab.dns.Primary, owner, want)
		waitServed(t, lab.dns.Secondary, owner, want)
	}
	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "DANE check with the next key published")
	// The rest runs on a clock frozen a minute ahead: rollover_wait has
	// passed since the next key became visible, and no more time passes
	// between the replacement and the plans after it, however slow the machine.
	now := time.Now().Add(time.Minute)

	stop := lab.watch(t)
	start := time.Now()
	r := tfAt(t, dir, now, "apply", "-auto-approve", "-propagation-wait=10s", "-replace=certificate.www")
	took := time.Since(start)
	checks, violations := stop()
	mustCode(t, r, 0, "apply -replace, without -wait")
	if strings.Contains(r.stdout+r.stderr, "wait") || !strings.Contains(r.stdout, "Apply complete") {
		t.Errorf("the replacement did not complete in one apply:\n%s\n%s", r.stdout, r.stderr)
	}
	if got := servedSPKI(t, lab.services[lab.smtp], "www.example.test"); got != next {
		t.Errorf("after -replace the service presents %s, not the published next key %s", got[:8], next[:8])
	}
	newNext := keyFileSPKI(t, nextKey)
	if newNext == next || newNext == current {
		t.Errorf("no fresh next key staged: %s", newNext[:8])
	}
	want = slices.Sorted(slices.Values([]string{"3 1 1 " + next, "3 1 1 " + newNext}))
	for _, owner := range []string{lab.https, lab.smtp} {
		for _, n := range lab.dns.Servers() {
			if got := served(t, n, owner); !slices.Equal(got, want) {
				t.Errorf("%s publishes %v at %s, want the served and the new next key %v", n.Addr, got, owner, want)
			}
		}
	}
	t.Logf("-replace took %s in one apply; %d invariant checks during it, %d violations", took.Round(10*time.Millisecond), checks, len(violations))
	if len(violations) > 0 {
		t.Errorf("moments without a published record for a served key:\n%s\n%s", strings.Join(violations, "\n"), r.stderr)
	}
	mustCode(t, tfAt(t, dir, now, "plan", "-detailed-exitcode"), 0, "plan after the replacement")

	// The new next key was published a moment ago: another replacement
	// must wait rollover_wait for it.
	p := tfAt(t, dir, now, "plan", "-replace=certificate.www")
	if !strings.Contains(p.stdout, "deploy-next    not before") {
		t.Errorf("a next key published just now is deployed without its wait:\n%s", p.stdout)
	}

	// The next key's record removed behind trustform's back.
	lab.dns.Edit(t, []string{lab.smtp + " 5 IN TLSA 3 1 1 " + newNext}, nil)
	waitServed(t, lab.dns.Secondary, lab.smtp, []string{"3 1 1 " + next})
	d := tfAt(t, dir, now, "plan", "-refresh-only", "-detailed-exitcode")
	mustCode(t, d, 2, "refresh-only after the next key's record was removed")
	if !strings.Contains(d.stdout, newNext) {
		t.Errorf("the drift report does not name the missing record:\n%s", d.stdout)
	}
	mustCode(t, tfAt(t, dir, now, "apply", "-auto-approve", "-propagation-wait=10s"), 0, "repair")
	waitServed(t, lab.dns.Secondary, lab.smtp, want)
	mustCode(t, tfAt(t, dir, now, "plan", "-refresh-only", "-detailed-exitcode"), 0, "refresh-only after the repair")
}

// keyFileSPKI is the SHA-256 of the public half of a PEM private key file.
func keyFileSPKI(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := certcrypto.ParsePEMPrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(k.(crypto.Signer).Public())
	if err != nil {
		t.Fatal(err)
	}
	return spkiHex(der)
}
