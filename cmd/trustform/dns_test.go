package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"
	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/dns/cftest"
	"github.com/trustform/trustform/providers/dns/desectest"
	"github.com/trustform/trustform/providers/dns/dnstest"
	"github.com/trustform/trustform/providers/dns/knottest"
	"github.com/trustform/trustform/providers/dns/pdnstest"
)

// daneBind copies examples/dane-bind, points it at a fresh BIND lab and
// writes the lab's TSIG secret (0600).
func daneBind(t *testing.T) (string, *dnstest.Lab) {
	lab := dnstest.Start(t, "example.test", "www IN A 127.0.0.1", "mail IN A 127.0.0.1")
	dir := testutil.CopyDir(t, filepath.Join("..", "..", "examples", "dane-bind"))
	cfgPath := filepath.Join(dir, "main.hcl")
	cfg, _ := os.ReadFile(cfgPath)
	cfg = bytes.ReplaceAll(cfg, []byte("127.0.0.1:5353"), []byte(lab.Primary.Addr))
	cfg = bytes.ReplaceAll(cfg, []byte("127.0.0.1:5354"), []byte(lab.Secondary.Addr))
	os.WriteFile(cfgPath, cfg, 0o644)
	if err := os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte(lab.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, lab
}

// served returns the TLSA records at owner on n, failing unless each RRset
// comes with an RRSIG where the zone is signed.
func served(t *testing.T, n *dnstest.Named, owner string) []string {
	t.Helper()
	return bindAuthorities(n)[0].tlsa(t, owner)
}

func waitServed(t *testing.T, n *dnstest.Named, owner string, want []string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := served(t, n, owner)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s serves %v at %s, want %v", n.Addr, got, owner, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestDANEOnBIND(t *testing.T) {
	dir, lab := daneBind(t)
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 2, "first plan")
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	www := "_443._tcp.www.example.test."
	rec := served(t, lab.Primary, www)
	if len(rec) != 1 {
		t.Fatalf("primary serves %v at %s", rec, www)
	}
	waitServed(t, lab.Secondary, www, rec)
	if len(served(t, lab.Secondary, "_25._tcp.mail.example.test.")) != 1 {
		t.Error("the secondary does not serve the mail TLSA record")
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "second plan")
	stateBytes, _ := os.ReadFile(filepath.Join(dir, ".trustform", "state.json"))
	if bytes.Contains(stateBytes, []byte(lab.Secret)) {
		t.Fatal("the TSIG secret is in state.json")
	}

	// A rollover while the secondary lags: the new record goes out in one
	// UPDATE beside the old one, and the gate does not start until the
	// secondary serves it.
	cfgPath := filepath.Join(dir, "main.hcl")
	cfg, _ := os.ReadFile(cfgPath)
	cfg = bytes.Replace(cfg, []byte(`domains   = ["www.example.test"]`), []byte(`domains   = ["www.example.test"]
  key_type  = "ec384"`), 1)
	cfg = bytes.ReplaceAll(cfg, []byte(`rollover_wait = "2m"`), []byte(`rollover_wait = "2s"`))
	os.WriteFile(cfgPath, cfg, 0o644)
	updates := lab.Primary.UpdateMessages(t)
	lab.Secondary.Pause()
	r := tf(t, dir, "apply", "-auto-approve", "-propagation-wait=1s")
	mustCode(t, r, 0, "apply with the secondary paused")
	if !strings.Contains(r.stdout, "wait until every authoritative server serves the new TLSA records") || !strings.Contains(r.stdout, lab.Secondary.Addr) {
		t.Errorf("apply does not name the lagging secondary:\n%s\n%s", r.stdout, r.stderr)
	}
	if got := lab.Primary.UpdateMessages(t) - updates; got != 1 {
		t.Errorf("publishing took %d UPDATE messages, want 1", got)
	}
	both := served(t, lab.Primary, www)
	if len(both) != 2 || !slices.Contains(both, rec[0]) {
		t.Fatalf("the primary serves %v; want the old record and the new one", both)
	}
	st, _ := state.Load(filepath.Join(dir, ".trustform", "state.json"))
	for _, r := range both {
		if _, ok := st.Get("tlsa.www_https").VisibleAt[r]; ok && r != rec[0] {
			t.Fatal("visible_at was set while the secondary did not serve the record")
		}
	}
	r = tf(t, dir, "plan")
	if !strings.Contains(r.stderr, "not every authoritative server serves") || !strings.Contains(r.stderr, lab.Secondary.Addr) {
		t.Errorf("plan does not warn about the lagging secondary:\n%s", r.stderr)
	}

	lab.Secondary.Resume()
	waitServed(t, lab.Secondary, www, both)
	updates = lab.Primary.UpdateMessages(t)
	r = tf(t, dir, "apply", "-auto-approve", "-wait")
	mustCode(t, r, 0, "apply -wait after the secondary caught up")
	st, _ = state.Load(filepath.Join(dir, ".trustform", "state.json"))
	newRec := served(t, lab.Primary, www)
	if len(newRec) != 1 || newRec[0] == rec[0] {
		t.Fatalf("after the rollover the primary serves %v", newRec)
	}
	if _, ok := st.Get("tlsa.www_https").VisibleAt[newRec[0]]; !ok {
		t.Error("visible_at of the new record was not recorded once the secondary served it")
	}
	if got := lab.Primary.UpdateMessages(t) - updates; got != 1 {
		t.Errorf("removing the old record took %d UPDATE messages, want 1", got)
	}
	if !regexp.MustCompile(`step \d+/\d+: ± certificate.www deploy-next`).MatchString(r.stderr) {
		t.Errorf("the certificate was not deployed:\n%s", r.stderr)
	}
	waitServed(t, lab.Secondary, www, newRec)
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the rollover")
}

func TestWrongTSIGSecret(t *testing.T) {
	dir, lab := daneBind(t)
	os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte("d3JvbmcgYnV0IHdlbGwtZm9ybWVkIGJhc2U2NCBzZWNyZXQ=\n"), 0o600)
	r := tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 1, "apply with a wrong TSIG secret")
	for _, want := range []string{"trustform-key", "example.test", "nothing was changed", "tlsa."} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, r.stderr)
		}
	}
	if got := served(t, lab.Primary, "_443._tcp.www.example.test."); len(got) != 0 {
		t.Errorf("the zone changed: %v", got)
	}
}

// A record changed behind trustform's back between plan and apply: the
// saved plan is refused as stale; a fresh apply's prerequisite would catch
// the same race inside the apply.
func TestRecordChangedBetweenPlanAndApply(t *testing.T) {
	dir, lab := daneBind(t)
	planFile := filepath.Join(dir, "p.json")
	mustCode(t, tf(t, dir, "plan", "-out="+planFile), 0, "plan")
	m := new(mdns.Msg)
	m.SetUpdate("example.test.")
	rr, _ := mdns.NewRR("_443._tcp.www.example.test. 60 IN TLSA 3 1 1 00ff")
	m.Insert([]mdns.RR{rr})
	m.SetTsig(dnstest.KeyName+".", mdns.HmacSHA256, 300, time.Now().Unix())
	c := &mdns.Client{Net: "tcp", TsigSecret: map[string]string{dnstest.KeyName + ".": lab.Secret}}
	if resp, _, err := c.Exchange(m, lab.Primary.Addr); err != nil || resp.Rcode != mdns.RcodeSuccess {
		t.Fatalf("the concurrent edit failed: %v %v", resp, err)
	}
	waitServed(t, lab.Primary, "_443._tcp.www.example.test.", []string{"3 1 1 00ff"})
	r := tf(t, dir, "apply", planFile)
	mustCode(t, r, 1, "apply of the stale plan")
	if !strings.Contains(r.stderr, "plan is stale: the live world changed") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if got := served(t, lab.Primary, "_443._tcp.www.example.test."); !slices.Equal(got, []string{"3 1 1 00ff"}) {
		t.Errorf("the other edit was overwritten: %v", got)
	}
}

// TestZoneFileNameservers: a zone_file zone served by a real BIND primary
// (loading the file at reload_command) and a secondary listed in
// nameservers. While the secondary is held back, a key rollover's gate
// stays closed however long rollover_wait has passed, and apply names the
// secondary; once it serves the new records, the rollover completes.
func TestZoneFileNameservers(t *testing.T) {
	lab := dnstest.StartFileZone(t, "example.test", "www IN A 127.0.0.1")
	dir := t.TempDir()
	cfg := fmt.Sprintf(fixture("dns_zone_file_nameservers.hcl.tmpl"), lab.ZoneFile, lab.ReloadCommand, lab.Primary.Addr, lab.Secondary.Addr)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "first apply")
	owner := "_443._tcp.www.example.test."
	waitServed(t, lab.Secondary, owner, served(t, lab.Primary, owner))
	before, _ := os.ReadFile(filepath.Join(dir, "www.pem"))

	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(strings.Replace(cfg, `"ec256"`, `"ec384"`, 1)), 0o644)
	lab.Secondary.Pause()
	for run := 0; run < 2; run++ {
		r := tf(t, dir, "apply", "-auto-approve")
		mustCode(t, r, 0, "apply with the secondary held back")
		if !strings.Contains(r.stdout+r.stderr, lab.Secondary.Addr) {
			t.Errorf("apply does not name the lagging secondary %s:\n%s%s", lab.Secondary.Addr, r.stdout, r.stderr)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, "www.pem")); !bytes.Equal(got, before) {
			t.Fatal("the certificate was deployed while the secondary did not serve its record")
		}
		if recs := served(t, lab.Primary, owner); len(recs) != 2 {
			t.Fatalf("the primary serves %v; want the old and the new record", recs)
		}
		time.Sleep(1500 * time.Millisecond) // past rollover_wait: only the secondary holds the gate
	}
	lab.Secondary.Resume()
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait"), 0, "apply -wait once the secondary is back")
	if got, _ := os.ReadFile(filepath.Join(dir, "www.pem")); bytes.Equal(got, before) {
		t.Fatal("the certificate was not deployed")
	}
	waitServed(t, lab.Secondary, owner, served(t, lab.Primary, owner))
	if recs := served(t, lab.Secondary, owner); len(recs) != 1 {
		t.Errorf("after the rollover the secondary serves %v; want one record", recs)
	}
}

// TestPowerDNSRollover: a zone behind PowerDNS's API (real PowerDNS,
// DNSSEC-signed). The first apply publishes the 3 1 1 record and deploys;
// a key change rolls over (apply -wait through tlsa-before-cert's gates)
// and PowerDNS then serves, signed, only the new key's record; the plan
// after is empty, and the API key is in no output, state or plan file.
func TestPowerDNSRollover(t *testing.T) {
	lab := pdnstest.Start(t, "example.test", "www A 127.0.0.1")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pdns.key"), []byte(lab.Key+"\n"), 0o600)
	cfg := fmt.Sprintf(fixture("dns_powerdns.hcl.tmpl"), lab.DNS, lab.API)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	var outputs []string
	run := func(args ...string) result {
		r := tf(t, dir, args...)
		outputs = append(outputs, r.stdout, r.stderr)
		return r
	}
	mustCode(t, run("apply", "-auto-approve"), 0, "first apply")
	owner := "_443._tcp.www.example.test."
	leafRecord := func() string { return deployedRecord(t, filepath.Join(dir, "www.pem")) }
	if got := pdnsServed(t, lab, owner); !slices.Equal(got, []string{leafRecord()}) {
		t.Fatalf("PowerDNS serves %v; want the deployed key's record", got)
	}
	mustCode(t, run("plan", "-detailed-exitcode", "-out=p.plan"), 0, "plan after apply")

	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(strings.Replace(cfg, `"ec256"`, `"ec384"`, 1)), 0o644)
	r := run("apply", "-auto-approve", "-wait")
	mustCode(t, r, 0, "rollover")
	if got := pdnsServed(t, lab, owner); !slices.Equal(got, []string{leafRecord()}) {
		t.Errorf("after the rollover PowerDNS serves %v; want only the new key's record %s", got, leafRecord())
	}
	mustCode(t, run("plan", "-detailed-exitcode"), 0, "plan after the rollover")
	files := []string{filepath.Join(dir, ".trustform", "state.json"), filepath.Join(dir, "p.plan")}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		outputs = append(outputs, string(b))
	}
	for i, o := range outputs {
		if strings.Contains(o, lab.Key) {
			t.Errorf("the API key is in output or file %d:\n%s", i, o)
		}
	}
}

// pdnsServed is the TLSA RRset PowerDNS serves at owner, signed.
func pdnsServed(t *testing.T, lab *pdnstest.Lab, owner string) []string {
	t.Helper()
	return signedTLSA(t, "PowerDNS", lab.Query(t, owner, mdns.TypeTLSA))
}

// signedTLSA is the TLSA records of an answer; a server that answers them
// without an RRSIG fails the test.
func signedTLSA(t *testing.T, server string, r *mdns.Msg) []string {
	t.Helper()
	var rrs []mdns.RR
	signed := false
	for _, rr := range r.Answer {
		switch rr.(type) {
		case *mdns.TLSA:
			rrs = append(rrs, rr)
		case *mdns.RRSIG:
			signed = true
		}
	}
	if len(rrs) > 0 && !signed {
		t.Errorf("%s serves %s without an RRSIG", server, r.Question[0].Name)
	}
	return dns.Presentation(rrs)
}

// deployedRecord is the 3 1 1 record of the certificate deployed at path.
func deployedRecord(t *testing.T, path string) string {
	t.Helper()
	b, _ := os.ReadFile(path)
	leaf, err := certcrypto.ParsePEMCertificate(b)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := dns.Record([3]uint8{3, 1, 1}, leaf)
	return rec
}

// TestKnotRollover: a second RFC 2136 server, Knot DNS (TSIG, automatic
// DNSSEC signing with two-day signatures refreshed daily, AXFR for
// observation). The first apply publishes the 3 1 1 record signed; a key
// change rolls over through tlsa-before-cert's gates; Knot then serves,
// signed, only the new key's record, and a refresh-only plan finds no
// drift: signatures valid for two days are a signing zone, not one whose
// signing stopped.
func TestKnotRollover(t *testing.T) {
	lab := knottest.Start(t, "example.test", knottest.Options{RRSIGLifetime: 48 * time.Hour, RRSIGRefresh: 24 * time.Hour}, "www A 127.0.0.1")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte(lab.Secret), 0o600)
	cfg := fmt.Sprintf(fixture("dns_knot.hcl.tmpl"), lab.Addr, lab.Addr)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait"), 0, "first apply")
	owner := "_443._tcp.www.example.test."
	leafRecord := func() string { return deployedRecord(t, filepath.Join(dir, "www.pem")) }
	knotServed := func() []string { return signedTLSA(t, "Knot", lab.Query(t, owner, mdns.TypeTLSA)) }
	if got := knotServed(); !slices.Equal(got, []string{leafRecord()}) {
		t.Fatalf("Knot serves %v; want the deployed key's record", got)
	}
	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "refresh-only plan after apply")

	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(strings.Replace(cfg, `"ec256"`, `"ec384"`, 1)), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait"), 0, "rollover")
	if got := knotServed(); !slices.Equal(got, []string{leafRecord()}) {
		t.Errorf("after the rollover Knot serves %v; want only the new key's record %s", got, leafRecord())
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the rollover")
}

// TestDanePowerDNSExample: examples/dane-powerdns against a real PowerDNS
// (the lab's ports for the example's): apply publishes the record, served
// signed, and the plan after is empty.
func TestDanePowerDNSExample(t *testing.T) {
	lab := pdnstest.Start(t, "example.test", "www A 127.0.0.1")
	dir := testutil.CopyDir(t, filepath.Join("..", "..", "examples", "dane-powerdns"))
	cfgPath := filepath.Join(dir, "main.hcl")
	cfg, _ := os.ReadFile(cfgPath)
	cfg = bytes.ReplaceAll(cfg, []byte("127.0.0.1:5300"), []byte(lab.DNS))
	cfg = bytes.ReplaceAll(cfg, []byte("http://127.0.0.1:8081"), []byte(lab.API))
	os.WriteFile(cfgPath, cfg, 0o644)
	os.WriteFile(filepath.Join(dir, "pdns.key"), []byte(lab.Key), 0o600)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	if got := pdnsServed(t, lab, "_443._tcp.www.example.test."); len(got) != 1 {
		t.Errorf("PowerDNS serves %v; want one record", got)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after apply")
}

// TestDeSECZone: a zone at deSEC (an in-process server of its documented
// API: deSEC cannot be reached from a test machine). apply publishes the
// TLSA record through one bulk PATCH, deSEC's name server serves it, the
// plan after is empty, and the token is in no output or state.
func TestDeSECZone(t *testing.T) {
	srv := desectest.Start(t, "example.test", "desec-token-0123456789")
	dir := t.TempDir()
	t.Setenv("TRUSTFORM_DNS_TOKEN_EXAMPLE", srv.Token)
	cfg := fmt.Sprintf(`dns_zone "example" {
  name        = "example.test"
  nameservers = [%q]
  api {
    type = "desec"
    url  = %q
  }
}

local_ca "ca" {}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = local_ca.ca
  cert_file = "www.pem"
  key_file  = "www.key"
}

tlsa "www" {
  zone        = dns_zone.example
  name        = "_443._tcp.www"
  certificate = certificate.www
  ttl         = 3600
}
`, srv.DNS, srv.URL)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	first := tf(t, dir, "apply", "-auto-approve")
	mustCode(t, first, 0, "apply")
	if got := srv.Records("_443._tcp.www", "TLSA"); len(got) != 1 {
		t.Fatalf("deSEC holds %q", got)
	}
	second := tf(t, dir, "plan", "-detailed-exitcode")
	mustCode(t, second, 0, "plan after apply")
	st, _ := os.ReadFile(filepath.Join(dir, ".trustform", "state.json"))
	for _, o := range []string{first.stdout, first.stderr, second.stdout, second.stderr, string(st)} {
		if strings.Contains(o, srv.Token) {
			t.Errorf("the token is in output or state:\n%s", o)
		}
	}
}

// TestCloudflareRollover: a zone at Cloudflare (an in-process server of its
// documented API: Cloudflare cannot be reached from a test machine). apply
// publishes the record; a key change rolls over through the gates (the new
// record beside the old, the new key deployed, the old record pruned);
// Cloudflare's upper-case hex reads back as written, so the plans after
// are empty; the token is in no output or state.
func TestCloudflareRollover(t *testing.T) {
	srv := cftest.Start(t, "example.test", "cf-token-0123456789")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "cf.token"), []byte(srv.Token), 0o600)
	cfg := fmt.Sprintf(`dns_zone "example" {
  name        = "example.test"
  nameservers = [%q]
  api {
    type       = "cloudflare"
    url        = %q
    token_file = "cf.token"
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
  ttl           = 60
  rollover_wait = "1s"
}
`, srv.DNS, srv.URL)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	var outputs []string
	run := func(code int, what string, args ...string) {
		r := tf(t, dir, args...)
		outputs = append(outputs, r.stdout, r.stderr)
		mustCode(t, r, code, what)
	}
	run(0, "apply", "apply", "-auto-approve")
	run(0, "plan after apply", "plan", "-detailed-exitcode")
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(strings.Replace(cfg, `"ec256"`, `"ec384"`, 1)), 0o644)
	run(0, "rollover", "apply", "-auto-approve", "-wait")
	rec := deployedRecord(t, filepath.Join(dir, "www.pem"))
	if got := srv.Contents("_443._tcp.www.example.test", "TLSA"); len(got) != 1 || !strings.EqualFold(got[0], rec) {
		t.Errorf("after the rollover Cloudflare holds %q; want only %s", got, rec)
	}
	run(0, "plan after the rollover", "plan", "-detailed-exitcode")
	st, _ := os.ReadFile(filepath.Join(dir, ".trustform", "state.json"))
	for _, o := range append(outputs, string(st)) {
		if strings.Contains(o, srv.Token) {
			t.Errorf("the token is in output or state:\n%s", o)
		}
	}
}

// TestPowerDNSRefusedToken: a token PowerDNS refuses stops plan and apply
// at the zone, naming it, the API and its answer; the token is in no
// output, and nothing is written.
func TestPowerDNSRefusedToken(t *testing.T) {
	lab := pdnstest.Start(t, "example.test", "www A 127.0.0.1")
	dir := t.TempDir()
	wrong := "refused-token-0123456789abcdef"
	os.WriteFile(filepath.Join(dir, "pdns.key"), []byte(wrong), 0o600)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(fmt.Sprintf(fixture("dns_powerdns.hcl.tmpl"), lab.DNS, lab.API)), 0o644)
	for _, args := range [][]string{{"plan"}, {"apply", "-auto-approve"}} {
		r := tf(t, dir, args...)
		mustCode(t, r, 1, strings.Join(args, " ")+" with a refused token")
		if !strings.Contains(r.stderr, "zone example.test.") || !strings.Contains(r.stderr, "401") || !strings.Contains(r.stderr, "PowerDNS API "+lab.API) {
			t.Errorf("%s: the error does not name the zone, the API and its answer:\n%s", args[0], r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, wrong) {
			t.Errorf("%s: the token is in the output:\n%s%s", args[0], r.stdout, r.stderr)
		}
	}
	if got := pdnsServed(t, lab, "_443._tcp.www.example.test."); len(got) != 0 {
		t.Errorf("PowerDNS serves %v after refused applies", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "www.pem")); err == nil {
		t.Error("the certificate was written although its zone could not be read")
	}
}

// TestPowerDNSFaultMidRollover: PowerDNS's API fails (500) when a key
// rollover publishes the new key's record. apply stops at that step,
// naming the RRset, the zone, the API and its answer; the old key stays
// deployed and published, and progress is saved. Once the API answers
// again, the next apply resumes and finishes the rollover.
func TestPowerDNSFaultMidRollover(t *testing.T) {
	lab := pdnstest.Start(t, "example.test", "www A 127.0.0.1")
	var failing atomic.Bool
	u, _ := url.Parse(lab.API)
	upstream := httputil.NewSingleHostReverseProxy(u)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() && r.Method == http.MethodPatch {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error": "Backend error: database is locked"}`)
			return
		}
		upstream.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pdns.key"), []byte(lab.Key), 0o600)
	cfg := fmt.Sprintf(fixture("dns_powerdns.hcl.tmpl"), lab.DNS, proxy.URL)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "first apply")
	owner := "_443._tcp.www.example.test."
	old := deployedRecord(t, filepath.Join(dir, "www.pem"))

	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(strings.Replace(cfg, `"ec256"`, `"ec384"`, 1)), 0o644)
	failing.Store(true)
	r := tf(t, dir, "apply", "-auto-approve", "-wait")
	mustCode(t, r, 1, "apply while the API fails")
	for _, want := range []string{"tlsa.www", "zone example.test.", "PowerDNS API " + proxy.URL, "500 Internal Server Error", "database is locked"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the error does not name %q:\n%s", want, r.stderr)
		}
	}
	if got := deployedRecord(t, filepath.Join(dir, "www.pem")); got != old {
		t.Errorf("the new key was deployed although its record could not be published")
	}
	if got := pdnsServed(t, lab, owner); !slices.Equal(got, []string{old}) {
		t.Errorf("PowerDNS serves %v after the failed step, want the old key's record", got)
	}
	failing.Store(false)
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait"), 0, "apply once the API answers")
	now := deployedRecord(t, filepath.Join(dir, "www.pem"))
	if now == old {
		t.Error("the rollover did not finish: the old key is still deployed")
	}
	if got := pdnsServed(t, lab, owner); !slices.Equal(got, []string{now}) {
		t.Errorf("after the rollover PowerDNS serves %v, want only %s", got, now)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the rollover")
}
