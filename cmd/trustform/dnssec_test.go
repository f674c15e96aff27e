package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trustform/trustform/providers/dns/dnstest"
)

// TestDNSSECChainGuard: a zone whose chain of trust runs from its parent's
// key (trust_anchor) through the DS at the parent (a real BIND serving a
// parent zone signed in the test) to the zone's keys on real BIND. While
// the chain validates, apply publishes; once the parent's DS matches no
// key of the zone (BIND's delv confirms the chain is broken),
// plan -refresh-only reports it as drift, and a key rollover's plan stops
// at rule dnssec-chain-valid, naming the parent, the zone and the key tags,
// and publishes nothing. With the DS right again the rollover goes through.
func TestDNSSECChainGuard(t *testing.T) {
	lab := dnstest.Start(t, "example.test", "www IN A 127.0.0.1")
	parent := dnstest.StartParent(t, lab, dnstest.ParentOptions{})
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte(lab.Secret), 0o600)
	cfg := fmt.Sprintf(`dns_zone "example" {
  name           = "example.test"
  server         = %q
  nameservers    = [%q]
  require_dnssec = true
  trust_anchor   = %q
  resolver       = %q
  tsig {
    name        = "trustform-key"
    secret_file = "tsig.secret"
  }
}

local_ca "ca" {}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = local_ca.ca
  key_type  = "ec256"
  cert_file = "www.pem"
  key_file  = "www.key"
}

tlsa "www" {
  zone          = dns_zone.example
  name          = "_443._tcp.www"
  certificate   = certificate.www
  ttl           = 30
  rollover_wait = "1s"
}
`, lab.Primary.Addr, lab.Primary.Addr, parent.Anchor, parent.Addr)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	delvSays := func() string {
		host, port := parent.Addr[:strings.LastIndex(parent.Addr, ":")], parent.Addr[strings.LastIndex(parent.Addr, ":")+1:]
		out, _ := exec.Command("delv", "@"+host, "-p", port, "-a", parent.AnchorFile(t), "+root="+parent.Zone, "example.test.", "DNSKEY").CombinedOutput()
		return string(out)
	}
	if out := delvSays(); !strings.Contains(out, "; fully validated") {
		t.Fatalf("delv does not validate the chain:\n%s", out)
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply while the chain validates")
	owner := "_443._tcp.www.example.test."
	published := served(t, lab.Primary, owner)
	if len(published) != 1 {
		t.Fatalf("BIND serves %v", published)
	}

	parent.Resign(t, dnstest.ParentOptions{WrongDS: true})
	if out := delvSays(); !strings.Contains(out, "resolution failed") {
		t.Fatalf("delv still validates the chain with the wrong DS:\n%s", out)
	}
	r := tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode")
	mustCode(t, r, 2, "plan -refresh-only with the chain broken")
	if !strings.Contains(r.stdout, "dnssec_chain") || !strings.Contains(r.stdout, "matches the DS RRset at test.") {
		t.Errorf("the drift does not say the chain broke:\n%s", r.stdout)
	}
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(strings.Replace(cfg, `"ec256"`, `"ec384"`, 1)), 0o644)
	r = tf(t, dir, "plan")
	mustCode(t, r, 1, "plan of a rollover with the chain broken")
	for _, want := range []string{"dnssec-chain-valid", "tlsa.www", "from test. to example.test.", "key tags"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the diagnostic does not name %q:\n%s", want, r.stderr)
		}
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 1, "apply of a rollover with the chain broken")
	if got := served(t, lab.Primary, owner); !slices.Equal(got, published) {
		t.Errorf("BIND serves %v after the refused apply, want %v", got, published)
	}

	parent.Resign(t, dnstest.ParentOptions{})
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait"), 0, "the rollover once the chain validates again")
	if got := served(t, lab.Primary, owner); len(got) != 1 || slices.Equal(got, published) {
		t.Errorf("after the rollover BIND serves %v, want the new key's record alone", got)
	}
}
