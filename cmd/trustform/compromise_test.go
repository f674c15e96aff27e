package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"
)

// compromiseLab is the DANE lab with two certificates: www pinned 3 1 1
// with publish_next, mail pinned 3 0 1 on the submission port.
func compromiseLab(t *testing.T) *daneLab {
	return startDANELab(t, func(cfg string) string {
		cfg = strings.Replace(cfg, `rollover_wait = "10s"`, "rollover_wait = \"3s\"\n  publish_next  = true", 1)
		cfg = strings.Replace(cfg, `hostname      = "www.example.test"
  certificate   = certificate.www
  ttl           = 5
  rollover_wait = "10s"`, `hostname      = "mail.example.test"
  certificate   = certificate.mail
  selector      = 0
  ttl           = 5
  rollover_wait = "3s"`, 1)
		head, sub, _ := strings.Cut(cfg, `vhost "submission" {`)
		sub = strings.Replace(strings.Replace(sub, `["www.example.test"]`, `["mail.example.test"]`, 1), "certificate.www", "certificate.mail", 1)
		return head + `certificate "mail" {
  domains   = ["mail.example.test"]
  issuer    = acme_account.pebble
  challenge = "dns-01"
  cert_file = "out/mail.fullchain.pem"
  key_file  = "out/mail.key.pem"
}

vhost "submission" {` + sub
	})
}

// TestKeyCompromise is a compromise handled as the issue asks, on real
// BIND (primary and secondary), Pebble and nginx: two certificates, www
// pinned 3 1 1 with publish_next and mail pinned 3 0 1 (the whole leaf,
// changing on every renewal), are re-keyed and revoked in one apply -wait
// while the independent checker watches both services. Pebble's own
// management interface then says each old certificate is revoked for
// keyCompromise; the RRsets hold only the new digests; no file holds an
// old key. Then a CA outage at the revoke step: the apply stops naming the
// certificate and the error, the new certificate is served, and the next
// apply, with the CA back, revokes.
func TestKeyCompromise(t *testing.T) {
	lab := compromiseLab(t)
	dir, web, mail := lab.dir, lab.services[lab.https], lab.services[lab.smtp]
	mailOwner := strings.Replace(lab.smtp, "www.", "mail.", 1)
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait", "-propagation-wait=10s"), 0, "first deployment")
	out := filepath.Join(dir, "out")
	type old struct {
		serial string
		key    []byte
	}
	held := func() map[string]old {
		m := map[string]old{}
		for _, c := range []string{"www", "mail"} {
			b, _ := os.ReadFile(filepath.Join(out, c+".fullchain.pem"))
			leaf, err := certcrypto.ParsePEMCertificate(b)
			if err != nil {
				t.Fatal(err)
			}
			key, _ := os.ReadFile(filepath.Join(out, c+".key.pem"))
			m[c] = old{serialHex(leaf), key}
		}
		return m
	}
	keysOf := func(m map[string]old) map[string][]byte {
		k := map[string][]byte{}
		for c, o := range m {
			k[c] = o.key
		}
		return k
	}
	revoked := func(serial string) bool {
		status, reason := lab.pebble.Status(t, serial)
		return status == "Revoked" && reason != nil && *reason == 1
	}
	before := held()

	stop := watchDANE(t, dir, bindAuthorities(lab.dns.Servers()...), map[string]string{lab.https: web, mailOwner: mail})
	r := tf(t, dir, "apply", "-auto-approve", "-wait", "-propagation-wait=10s", "-replace=certificate.*", "-revoke=keyCompromise")
	checks, violations := stop()
	mustCode(t, r, 0, "apply -replace='certificate.*' -revoke=keyCompromise -wait")
	for c, o := range before {
		if !revoked(o.serial) {
			status, reason := lab.pebble.Status(t, o.serial)
			t.Errorf("Pebble says the old %s certificate %s is %q (reason %v), not revoked for keyCompromise", c, o.serial, status, reason)
		}
	}
	servedKey := servedSPKI(t, web, "www.example.test")
	next := keyFileSPKI(t, filepath.Join(out, "www.key.pem.next"))
	leaf := servedLeaf(t, mail, "mail.example.test")
	if servedKey == keyFileSPKIBytes(t, before["www"].key) || serialHex(leaf) == before["mail"].serial {
		t.Errorf("an endpoint still serves an old certificate")
	}
	wantWeb := slices.Sorted(slices.Values([]string{"3 1 1 " + servedKey, "3 1 1 " + next}))
	sum := sha256.Sum256(leaf.Raw)
	for _, n := range lab.dns.Servers() {
		if got := served(t, n, lab.https); !slices.Equal(got, wantWeb) {
			t.Errorf("%s publishes %v at %s, want the served and the next key only %v", n.Addr, got, lab.https, wantWeb)
		}
		if got := served(t, n, mailOwner); !slices.Equal(got, []string{"3 0 1 " + hex.EncodeToString(sum[:])}) {
			t.Errorf("%s publishes %v at %s, want only the served leaf's 3 0 1", n.Addr, got, mailOwner)
		}
	}
	noOldKeys(t, dir, keysOf(before))
	t.Logf("%d invariant checks during the re-key and revocation, %d violations", checks, len(violations))
	if len(violations) > 0 {
		t.Errorf("moments without a published record for a served key:\n%s\n%s", strings.Join(violations, "\n"), r.stderr)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the compromise")

	// The CA is down when the revoke step comes.
	before = held()
	r = tf(t, dir, "apply", "-auto-approve", "-propagation-wait=10s", "-replace=certificate.mail", "-revoke=keyCompromise")
	mustCode(t, r, 0, "apply -replace=certificate.mail -revoke=keyCompromise")
	if !strings.Contains(r.stdout, "wait for a time gate") {
		t.Fatalf("the re-key did not stop at the gate:\n%s", r.stdout)
	}
	lab.pebble.Down()
	time.Sleep(4 * time.Second) // rollover_wait
	r = tf(t, dir, "apply", "-auto-approve", "-propagation-wait=10s")
	mustCode(t, r, 1, "apply with the CA down")
	for _, want := range []string{"certificate.mail revoke", "revoking the replaced certificate " + before["mail"].serial, "connection refused"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the failed apply does not say %q:\n%s", want, r.stderr)
		}
	}
	if got := servedLeaf(t, mail, "mail.example.test"); serialHex(got) == before["mail"].serial {
		t.Errorf("the old certificate is served after the failed revocation")
	}
	if rs := readState(t, dir).Retiring["certificate.mail"]; len(rs) != 1 || rs[0].Serial != before["mail"].serial || rs[0].Revoked {
		t.Errorf("state does not keep the revocation to retry: %+v", rs)
	}
	lab.pebble.Up(t)
	if revoked(before["mail"].serial) {
		t.Fatalf("revoked while the CA was down?")
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-propagation-wait=10s"), 0, "apply with the CA back")
	if !revoked(before["mail"].serial) {
		t.Errorf("the next apply did not revoke %s", before["mail"].serial)
	}
	noOldKeys(t, dir, map[string][]byte{"mail": before["mail"].key})
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the retried revocation")
}

// servedLeaf is the certificate addr presents to name.
func servedLeaf(t *testing.T, addr, name string) *x509.Certificate {
	t.Helper()
	c, err := tlsDial(addr, name)
	if err != nil {
		t.Fatalf("TLS handshake with %s as %s: %v", addr, name, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0]
}

// keyFileSPKIBytes is the SHA-256 of the public half of a PEM private key.
func keyFileSPKIBytes(t *testing.T, pemKey []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pem")
	os.WriteFile(path, pemKey, 0o600)
	return keyFileSPKI(t, path)
}

// serialHex is a serial as openssl x509 -serial prints it: upper-case
// hex, whole bytes (a leading 0 where the number has an odd digit count).
func serialHex(c *x509.Certificate) string {
	b := c.SerialNumber.Bytes()
	return strings.ToUpper(hex.EncodeToString(b))
}
