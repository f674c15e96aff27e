package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"

	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/providers/dns/dnstest"
)

// The tests of this file interrupt applies, and fail parts of them, as
// production does: each is named after what broke.

// TestApprovedRekeyForgottenAtGate: a key compromise of two certificates
// (www 3 1 1 with publish_next, mail 3 0 1), approved as a signed plan
// with -replace='certificate.*' -revoke=keyCompromise, is applied without
// -wait: it stops at every gate, and plain `apply -auto-approve`, run
// again until nothing waits, finishes it. Both keys change, Pebble says
// both old certificates are revoked for keyCompromise, every server
// publishes only the new records, and no copy of an old key is left.
func TestApprovedRekeyForgottenAtGate(t *testing.T) {
	lab := compromiseLab(t)
	dir := lab.dir
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait", "-propagation-wait=10s"), 0, "first deployment")
	out := filepath.Join(dir, "out")
	serials, keys := map[string]string{}, map[string][]byte{}
	for _, c := range []string{"www", "mail"} {
		b, _ := os.ReadFile(filepath.Join(out, c+".fullchain.pem"))
		leaf, err := certcrypto.ParsePEMCertificate(b)
		if err != nil {
			t.Fatal(err)
		}
		serials[c] = serialHex(leaf)
		keys[c], _ = os.ReadFile(filepath.Join(out, c+".key.pem"))
	}
	signed := []string{"TRUSTFORM_PLAN_KEY=" + strings.Repeat("9", 40)}
	mustCode(t, tfEnv(t, dir, signed, "plan", "-replace=certificate.*", "-revoke=keyCompromise", "-out=r.plan"), 0, "the reviewed plan")
	r := tfEnv(t, dir, signed, "apply", "-propagation-wait=10s", "r.plan")
	mustCode(t, r, 0, "apply r.plan")
	if !strings.Contains(r.stdout, "wait for a time gate") {
		t.Fatalf("the approved apply did not stop at a gate:\n%s", r.stdout)
	}
	revoked := func(serial string) bool {
		status, reason := lab.pebble.Status(t, serial)
		return status == "Revoked" && reason != nil && *reason == 1
	}
	for i := 0; ; i++ {
		if i == 10 {
			t.Fatalf("ten plain applies did not finish the approved re-key:\n%s\n%s", r.stdout, r.stderr)
		}
		time.Sleep(4 * time.Second) // rollover_wait is 3s
		r = tf(t, dir, "apply", "-auto-approve", "-propagation-wait=10s")
		mustCode(t, r, 0, "a plain apply after the gate")
		if !strings.Contains(r.stdout, "wait for") {
			break
		}
	}
	for _, c := range []string{"www", "mail"} {
		if !revoked(serials[c]) {
			status, reason := lab.pebble.Status(t, serials[c])
			t.Errorf("Pebble says the old %s certificate %s is %q (reason %v)", c, serials[c], status, reason)
		}
		if now, _ := os.ReadFile(filepath.Join(out, c+".key.pem")); string(now) == string(keys[c]) {
			t.Errorf("the %s key did not change", c)
		}
	}
	servedKey := servedSPKI(t, lab.services[lab.https], "www.example.test")
	if servedKey == keyFileSPKIBytes(t, keys["www"]) {
		t.Error("www still serves the compromised key")
	}
	oldWWW := "3 1 1 " + keyFileSPKIBytes(t, keys["www"])
	for _, n := range lab.dns.Servers() {
		for _, rec := range served(t, n, lab.https) {
			if rec == oldWWW {
				t.Errorf("%s still publishes the compromised key's record %s", n.Addr, rec)
			}
		}
	}
	noOldKeys(t, dir, keys)
	if st := readState(t, dir); len(st.Retiring) > 0 {
		t.Errorf("state still retires %+v", st.Retiring)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the compromise")
}

// TestFailedOrderReordersSibling: two certificates issued side by side,
// one of which fails (its directory is a link, which trustform does not
// write through): the one
// that succeeded is deployed and recorded as done, the next plan does not
// issue it again, and once the failure is mended only the failed one is
// issued: the good one keeps its serial.
func TestFailedOrderReordersSibling(t *testing.T) {
	dir := quickstart(t)
	rewrite(t, dir, func(s string) string {
		return strings.NewReplacer("/etc/ssl/example/mail.fullchain.pem", "/etc/ssl/mailx/mail.fullchain.pem",
			"/etc/ssl/example/mail.key.pem", "/etc/ssl/mailx/mail.key.pem").Replace(s)
	})
	certs := filepath.Join(dir, "out", "etc", "ssl", "example")
	blocked := filepath.Join(dir, "out", "etc", "ssl", "mailx")
	os.MkdirAll(filepath.Dir(blocked), 0o755)
	os.Symlink(t.TempDir(), blocked)
	r := tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 1, "apply with mail's file blocked")
	if !strings.Contains(r.stderr, "certificate.mail") {
		t.Errorf("the failure does not name certificate.mail:\n%s", r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(certs, "www.fullchain.pem"))
	if err != nil {
		t.Fatalf("www was not deployed beside the failure: %v", err)
	}
	leaf, _ := certcrypto.ParsePEMCertificate(b)
	if p := readState(t, dir).Pending; p["certificate.www"] != "" {
		t.Errorf("state says www's issue did not finish: %v", p)
	}
	plan := tf(t, dir, "plan")
	if strings.Contains(plan.stdout, "certificate.www will") || strings.Contains(plan.stdout, "certificate.www  issue") {
		t.Errorf("the next plan issues www again:\n%s", plan.stdout)
	}
	os.Remove(blocked)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply once mended")
	b, _ = os.ReadFile(filepath.Join(certs, "www.fullchain.pem"))
	if again, _ := certcrypto.ParsePEMCertificate(b); serialHex(again) != serialHex(leaf) {
		t.Errorf("www was issued again: serial %s, then %s", serialHex(leaf), serialHex(again))
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after")
}

// TestRequireDNSSECUnsignedZone: require_dnssec on a zone that real BIND
// does not sign stops the plan and the apply before anything is published,
// naming the zone; nothing is in DNS afterwards (dig).
func TestRequireDNSSECUnsignedZone(t *testing.T) {
	lab := dnstest.StartUnsigned(t, "example.test", "www IN A 127.0.0.1", "mail IN A 127.0.0.1")
	dir := testutil.CopyDir(t, filepath.Join("..", "..", "examples", "dane-bind"))
	rewrite(t, dir, func(s string) string {
		return strings.NewReplacer("127.0.0.1:5353", lab.Primary.Addr, "127.0.0.1:5354", lab.Secondary.Addr).Replace(s)
	})
	os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte(lab.Secret+"\n"), 0o600)
	for _, args := range [][]string{{"plan"}, {"apply", "-auto-approve"}} {
		r := tf(t, dir, args...)
		mustCode(t, r, 1, fmt.Sprint(args))
		if !strings.Contains(r.stderr, "dns_zone.example has require_dnssec = true") || !strings.Contains(r.stderr, "not signed") {
			t.Errorf("%v does not name the unsigned zone:\n%s", args, r.stderr)
		}
	}
	for _, n := range lab.Servers() {
		for _, owner := range []string{"_443._tcp.www.example.test.", "_25._tcp.mail.example.test."} {
			if got := served(t, n, owner); len(got) > 0 {
				t.Errorf("%s publishes %v at %s", n.Addr, got, owner)
			}
		}
	}
	rewrite(t, dir, func(s string) string { return strings.Replace(s, "require_dnssec = true", "require_dnssec = false", 1) })
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply without require_dnssec")
}

// TestRenewBeforeLongerThanLifetime: renew_before of 91 days for a CA that
// issues 90-day certificates is refused at plan, at the attribute, before
// a same-key renewal could loop; a fraction of the lifetime is not.
func TestRenewBeforeLongerThanLifetime(t *testing.T) {
	dir := quickstart(t)
	rewrite(t, dir, func(s string) string {
		return strings.Replace(s, `  key_file  = "/etc/ssl/example/mail.key.pem"`, "  key_file  = \"/etc/ssl/example/mail.key.pem\"\n  renew_before = \"91d\"", 1)
	})
	for _, args := range [][]string{{"plan"}, {"apply", "-auto-approve"}} {
		r := tf(t, dir, args...)
		mustCode(t, r, 1, fmt.Sprint(args))
		if !strings.Contains(r.stderr, "renew_before is not shorter than the certificate's lifetime") || !strings.Contains(r.stderr, "main.hcl line 33") {
			t.Errorf("%v does not point at renew_before:\n%s", args, r.stderr)
		}
	}
	rewrite(t, dir, func(s string) string { return strings.Replace(s, `renew_before = "91d"`, `renew_before = "1/3"`, 1) })
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply with a fraction")
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after")
}
