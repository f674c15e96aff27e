package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-acme/lego/v4/certcrypto"
	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/providers/dns"
)

// TestSelectorZeroRollovers: with selector 0 (the "3 0 1" of RFC 7671's
// examples) every new certificate changes the record, even with the same
// key. On the quickstart's _25._tcp.mail RRset, a same-key renewal (a
// domain added) and then a key change (key_type) each issue into the
// staged chain, publish its record beside the old one, deploy only after
// rollover_wait, and prune: two records side by side at the gate, one at
// the end, matching what is deployed. (The key change used to wedge: no
// selector-0 record can be computed from a bare key.)
func TestSelectorZeroRollovers(t *testing.T) {
	dir := quickstart(t)
	cfgPath := filepath.Join(dir, "main.hcl")
	edit := func(old, new string) {
		t.Helper()
		cfg, _ := os.ReadFile(cfgPath)
		if !strings.Contains(string(cfg), old) {
			t.Fatalf("main.hcl has no %q", old)
		}
		os.WriteFile(cfgPath, []byte(strings.Replace(string(cfg), old, new, 1)), 0o644)
	}
	edit(`certificate = certificate.mail
  ttl         = 300`, `certificate = certificate.mail
  ttl         = 300
  selector    = 0
  rollover_wait = "2s"`)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "first apply")

	deployed := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "out/etc/ssl/example/mail.fullchain.pem"))
		chain, err := certcrypto.ParsePEMBundle(b)
		if err != nil {
			t.Fatal(err)
		}
		rec, _ := dns.Record([3]uint8{3, 0, 1}, chain[0])
		return rec
	}
	records := func() []string {
		zone, _ := os.ReadFile(filepath.Join(dir, "example.test.zone"))
		rrs, err := dns.ParseZone(zone, "example.test.", "zone")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, rr := range rrs {
			if r, ok := rr.(*mdns.TLSA); ok && r.Hdr.Name == "_25._tcp.mail.example.test." {
				out = append(out, strings.Join(strings.Fields(r.String())[4:], " "))
			}
		}
		return out
	}
	if recs := records(); len(recs) != 1 || recs[0] != deployed() {
		t.Fatalf("after the first apply the RRset is %v; want %s", recs, deployed())
	}

	for _, change := range []struct {
		name, old, new string
		steps          []string
	}{
		{"same-key renewal", `domains   = ["mail.example.test"]`, `domains   = ["mail.example.test", "smtp.example.test"]`, []string{
			"certificate.mail stage-cert [tlsa-before-cert]",
			"tlsa.mail_smtp publish [tlsa-before-cert]",
			"certificate.mail deploy-next [tlsa-before-cert] gated",
			"tlsa.mail_smtp prune [tlsa-before-cert]",
		}},
		{"key change", `issuer    = local_ca.example
  cert_file = "/etc/ssl/example/mail.fullchain.pem"`, `issuer    = local_ca.example
  key_type  = "ec384"
  cert_file = "/etc/ssl/example/mail.fullchain.pem"`, []string{
			"certificate.mail stage-key [tlsa-before-cert]",
			"certificate.mail stage-cert [tlsa-before-cert]",
			"tlsa.mail_smtp publish [tlsa-before-cert]",
			"certificate.mail deploy-next [tlsa-before-cert] gated",
			"tlsa.mail_smtp prune [tlsa-before-cert]",
		}},
	} {
		t.Run(change.name, func(t *testing.T) {
			edit(change.old, change.new)
			if got := planSteps(t, dir); strings.Join(got, "\n") != strings.Join(change.steps, "\n") {
				t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(change.steps, "\n"))
			}
			old := deployed()
			r := tf(t, dir, "apply", "-auto-approve")
			mustCode(t, r, 0, "apply up to the gate")
			if deployed() != old {
				t.Fatal("the certificate changed before its gate opened")
			}
			if recs := records(); len(recs) != 2 || !contains(recs, old) {
				t.Fatalf("at the gate the RRset is %v; want the live certificate's record and the staged one's", recs)
			}
			mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait"), 0, "apply -wait")
			if deployed() == old {
				t.Fatal("the certificate was not renewed")
			}
			if recs := records(); len(recs) != 1 || recs[0] != deployed() {
				t.Fatalf("after the rollover the RRset is %v; want only %s", recs, deployed())
			}
			mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the rollover")
		})
	}
}

// planSteps is the plan's steps as "ADDRESS PHASE [RULE]", " gated" when a
// time gate holds the step.
func planSteps(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	r := tfPlanJSON(t, dir, nil, args...)
	mustCode(t, r, 0, "plan")
	var p struct {
		Steps []struct {
			Address   string  `json:"address"`
			Phase     string  `json:"phase"`
			Rule      string  `json:"rule"`
			NotBefore *string `json:"not_before"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Steps {
		line := s.Address + " " + s.Phase + " [" + s.Rule + "]"
		if s.NotBefore != nil {
			line += " gated"
		}
		got = append(got, line)
	}
	return got
}
