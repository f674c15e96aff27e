package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/kinds"
)

// TestRefusals loads each file of testdata/invalid on its own: schema
// accepts it, a rule refuses it, and the printed diagnostics (file:line:column
// and snippet) match testdata/refusals/NAME.golden.
func TestRefusals(t *testing.T) {
	names, err := filepath.Glob("testdata/invalid/*.hcl")
	if err != nil || len(names) == 0 {
		t.Fatal("no test cases", err)
	}
	for _, path := range names {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg, diags := kinds.Parse("/config", map[string][]byte{name: src})
			if diags.HasErrors() {
				t.Fatalf("schema refuses %s: %v", name, diags)
			}
			diags = rules.Refuse(cfg)
			if !diags.HasErrors() {
				t.Fatalf("no rule refuses %s", name)
			}
			testutil.Golden(t, "refusals/"+strings.TrimSuffix(name, ".hcl"), testutil.Diagnostics(cfg.Files, diags))
		})
	}
}

// Every rule has a distinct name, the one plans and diagnostics carry.
func TestNames(t *testing.T) {
	want := []string{"cipher-consistency", "hsts-on-http-vhost", "acme-challenge-not-redirected", "tlsa-before-cert", "apt-key-before-source", "revoke-after-served", "dnssec-chain-valid", "caa-before-order", "fallback-ca-pinned", "mta-sts-policy-before-id", "mta-sts-mx-covered"}
	all := rules.All()
	if len(all) != len(want) {
		t.Fatalf("%d rules, want %d", len(all), len(want))
	}
	for i, r := range all {
		if r.Name() != want[i] {
			t.Errorf("rule %d is %q, want %q", i, r.Name(), want[i])
		}
	}
}
