package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCAAForbidsOrder: a CAA record at the zone's apex that names another
// CA (dig shows it on the real BIND primary) makes plan and apply stop at
// rule caa-before-order, naming the name, the owner, the record and the
// record that would permit the order, before any order reaches the CA
// (Pebble's log counts none). With a record that names Pebble's CAA
// identity and dns-01 the order goes through; once the record allows only
// http-01, plan -refresh-only reports that the next renewal would be
// refused.
func TestCAAForbidsOrder(t *testing.T) {
	dir, pebble, lab := dnsSetup(t, 0, "www")
	digicert := `example.test. 300 IN CAA 0 issue "digicert.com"`
	lab.Edit(t, nil, []string{digicert})
	out, err := exec.Command("dig", "+short", "-p", port(lab.Primary.Addr), "@127.0.0.1", "example.test.", "CAA").Output()
	if err != nil || !strings.Contains(string(out), `0 issue "digicert.com"`) {
		t.Fatalf("dig does not show the CAA record: %v %s", err, out)
	}
	orders := func() int { return strings.Count(pebble.Log(t), "Added order") }
	r := tf(t, dir, "plan")
	mustCode(t, r, 1, "plan with a CAA that names another CA")
	for _, want := range []string{"caa-before-order", "certificate.www", "www.example.test: the CAA RRset at example.test.", `0 issue "digicert.com" names digicert.com, not this CA (pebble.letsencrypt.org)`, `0 issue "pebble.letsencrypt.org; validationmethods=dns-01"`} {
		if !strings.Contains(strings.Join(strings.Fields(r.stderr), " "), want) {
			t.Errorf("the diagnostic does not name %q:\n%s", want, r.stderr)
		}
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 1, "apply with a CAA that names another CA")
	if n := orders(); n != 0 {
		t.Errorf("Pebble received %d orders while the CAA record forbids them", n)
	}

	pebbleDNS := `example.test. 300 IN CAA 0 issue "pebble.letsencrypt.org; validationmethods=dns-01"`
	lab.Edit(t, []string{digicert}, []string{pebbleDNS})
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply with a CAA that permits Pebble by dns-01")
	verifyChain(t, filepath.Join(dir, "certs/www.pem"), pebble.IssuingRoot(t), "www.example.test")
	if n := orders(); n != 1 {
		t.Errorf("Pebble received %d orders, want 1", n)
	}
	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "refresh-only plan after apply")

	lab.Edit(t, []string{pebbleDNS}, []string{`example.test. 300 IN CAA 0 issue "pebble.letsencrypt.org; validationmethods=http-01"`})
	r = tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode")
	mustCode(t, r, 2, "refresh-only plan once the CAA allows only http-01")
	if !strings.Contains(r.stdout, "caa") || !strings.Contains(strings.Join(strings.Fields(r.stdout), " "), "allows only http-01, not dns-01") {
		t.Errorf("the drift does not say the CAA record no longer permits the renewal:\n%s", r.stdout)
	}
}
