package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trustform/trustform/providers/dns/dnstest"
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

// TestCAABinding: a caa block binds the zone's CAA RRset to the ACME
// account Pebble created. Its plan (Markdown) carries the records' reason
// and flags the step to review with care; apply registers the account,
// publishes the RRset through the zone (dig shows the account's URI, dns-01,
// no wildcard), and only then orders: in BIND's update log the CAA record
// comes before the order's _acme-challenge record. With the account key
// gone, a new account is registered and its URI published before its
// first order, again as BIND's log shows.
func TestCAABinding(t *testing.T) {
	dir, pebble, lab := dnsSetup(t, 0, "www")
	cfgPath := filepath.Join(dir, "main.hcl")
	cfg, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, append(cfg, []byte(`
caa "example" {
  zone    = dns_zone.example
  issuers = [acme_account.pebble]
  iodef   = "mailto:security@example.test"
}
`)...), 0o644)
	r := tf(t, dir, "plan", "-markdown")
	mustCode(t, r, 0, "plan -markdown")
	md := strings.Join(strings.Fields(r.stdout), " ")
	for _, want := range []string{"to review with care", "`caa.example` changes who may issue certificates:", "only account acme_account.pebble (its URI once registered), by dns-01 may issue for example.test. and below; no wildcard may be issued"} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown plan does not say %q:\n%s", want, r.stdout)
		}
	}
	r = tfPlanJSON(t, dir, nil)
	mustCode(t, r, 0, "plan")
	var p struct {
		Changes []struct {
			Address string
			Reasons []string
		}
		Steps []struct {
			Address string
			Review  bool
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("plan -json: %v\n%s", err, r.stdout)
	}
	for _, s := range p.Steps {
		if s.Address == "caa.example" && !s.Review {
			t.Errorf("the JSON plan does not flag the CAA step for review:\n%s", r.stdout)
		}
	}
	for _, c := range p.Changes {
		if c.Address == "caa.example" && !strings.Contains(strings.Join(c.Reasons, " "), "only account acme_account.pebble") {
			t.Errorf("the JSON plan's CAA change does not say who may issue: %q", c.Reasons)
		}
	}
	challenges := updates(lab)
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait"), 0, "apply")
	verifyChain(t, filepath.Join(dir, "certs/www.pem"), pebble.IssuingRoot(t), "www.example.test")
	uri := accountURI(t, dir)
	want := []string{`0 iodef "mailto:security@example.test"`, `0 issue "pebble.letsencrypt.org; accounturi=` + uri + `; validationmethods=dns-01"`, `0 issuewild ";"`}
	if got := digCAA(t, lab.Primary.Addr); !slices.Equal(got, want) {
		t.Fatalf("dig CAA shows %q, want %q", got, want)
	}
	caaBeforeChallenge(t, lab, uri, challenges)
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after apply")

	os.RemoveAll(filepath.Join(dir, ".trustform", "acme", "pebble"))
	challenges = updates(lab)
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait", "-replace=certificate.www"), 0, "apply with a new account")
	second := accountURI(t, dir)
	if second == uri {
		t.Fatalf("no new account was registered: %s", second)
	}
	if got := digCAA(t, lab.Primary.Addr); !slices.Contains(got, `0 issue "pebble.letsencrypt.org; accounturi=`+second+`; validationmethods=dns-01"`) {
		t.Errorf("dig CAA shows %q, want the new account's URI %s", got, second)
	}
	caaBeforeChallenge(t, lab, second, challenges)
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the new account's order")
}

// accountURI is the URI of acme_account.pebble as trustform stored it.
func accountURI(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ".trustform", "acme", "pebble", "account.json"))
	if err != nil {
		t.Fatal(err)
	}
	var a struct{ URI string }
	json.Unmarshal(b, &a)
	return a.URI
}

// digCAA is the CAA RRset at the apex, as dig shows it, sorted.
func digCAA(t *testing.T, addr string) []string {
	t.Helper()
	out, err := exec.Command("dig", "+short", "+norecurse", "-p", port(addr), "@127.0.0.1", "example.test.", "CAA").Output()
	if err != nil {
		t.Fatal(err)
	}
	recs := strings.Split(strings.TrimSpace(string(out)), "\n")
	slices.Sort(recs)
	return recs
}

// updates is how many _acme-challenge records BIND's update log shows.
func updates(lab *dnstest.Lab) int {
	b, _ := os.ReadFile(filepath.Join(lab.Primary.Dir, "update.log"))
	return strings.Count(string(b), "_acme-challenge")
}

// caaBeforeChallenge: in BIND's update log, the CAA record with uri is
// added before every _acme-challenge record after the first seen ones
// (the orders of this apply).
func caaBeforeChallenge(t *testing.T, lab *dnstest.Lab, uri string, seen int) {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(lab.Primary.Dir, "update.log"))
	log := string(b)
	caa := strings.Index(log, uri)
	if caa < 0 {
		t.Fatalf("BIND's update log has no CAA record with %s:\n%s", uri, log)
	}
	if n := strings.Count(log[:caa], "_acme-challenge"); n > seen {
		t.Errorf("%d _acme-challenge records of this apply's orders came before the CAA record with %s:\n%s", n-seen, uri, log)
	}
	if strings.Count(log[caa:], "_acme-challenge") == 0 {
		t.Errorf("BIND's update log has no _acme-challenge record after the CAA record with %s:\n%s", uri, log)
	}
}
