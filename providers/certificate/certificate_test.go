package certificate_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/localca"
	"github.com/trustform/trustform/schema"
)

// newCert deploys a certificate from a fresh local CA in a temp dir.
func newCert(t *testing.T, keepNext bool) *certificate.Certificate {
	t.Helper()
	dir := t.TempDir()
	ca := &localca.CA{Dir: filepath.Join(dir, "ca"), CommonName: "test CA", Now: time.Now}
	if err := ca.Create(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Observe(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := &certificate.Certificate{Host: host.Local{}, Domains: []string{"www.example.test"}, KeyType: "ec256", ReuseKey: true, RenewBefore: 24 * time.Hour,
		CertPath: filepath.Join(dir, "www.pem"), KeyPath: filepath.Join(dir, "www.key"), Issuer: ca, IssuerAddr: schema.Address{Type: "local_ca", Name: "ca"}, Addr: "certificate.www", Now: time.Now, KeepNext: keepNext}
	step(t, c, certificate.PhaseIssue)
	return c
}

// step plans, applies a phase and observes again, as the engine does.
func step(t *testing.T, c *certificate.Certificate, phase string) {
	t.Helper()
	_, ch := c.Plan(nil, providers.PlanOptions{})
	if err := c.Apply(context.Background(), ch, phase); err != nil {
		t.Fatalf("%s: %v", phase, err)
	}
	if _, err := c.Observe(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func spki(c *certificate.Certificate) string { return certificate.SPKIHash(c.Chain[0].PublicKey) }

// TestPlanNextKey: what a staged next key means, with and without KeepNext
// (publish_next).
func TestPlanNextKey(t *testing.T) {
	for _, tc := range []struct {
		name               string
		keepNext, replace  bool
		stage              bool // a next key is staged before planning
		issue, newKey      bool
		stageNext, nextSet bool
	}{
		{name: "nothing to do", issue: false},
		{name: "staged key: a rollover under way", stage: true, issue: true, newKey: true},
		{name: "replace without a staged key", replace: true, issue: true, newKey: true},
		{name: "publish_next without a spare", keepNext: true, stageNext: true},
		{name: "publish_next with its spare", keepNext: true, stage: true, nextSet: true},
		{name: "publish_next replace: onto the spare, then a new one", keepNext: true, stage: true, replace: true, issue: true, newKey: true, stageNext: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCert(t, tc.keepNext)
			if tc.stage {
				step(t, c, certificate.PhaseStageKey)
			}
			_, ch := c.Plan(nil, providers.PlanOptions{Replace: tc.replace})
			in := c.KeyPlan()
			if in.Issue != tc.issue || in.NewKey != tc.newKey || in.StageNext != tc.stageNext || (in.Next != nil) != tc.nextSet {
				t.Errorf("issue %t, new key %t, stage next %t, next kept %t; change %+v", in.Issue, in.NewKey, in.StageNext, in.Next != nil, ch)
			}
			if tc.stage && tc.newKey && certificate.SPKIHash(in.Target) != certificate.SPKIHash(c.NextKey) {
				t.Errorf("the target is not the staged key")
			}
		})
	}
}

// TestStagedChain: stage-cert issues into CERT_FILE.next without touching
// the live pair; deploy-next deploys exactly that chain and cleans up.
func TestStagedChain(t *testing.T) {
	t.Run("same key", func(t *testing.T) {
		c := newCert(t, false)
		live, liveChain := spki(c), c.Chain[0].Raw
		step(t, c, certificate.PhaseStageCert)
		if len(c.StagedChain) == 0 || string(c.Chain[0].Raw) != string(liveChain) {
			t.Fatal("stage-cert did not stage a chain, or changed the live one")
		}
		staged := c.StagedChain[0].Raw
		c.Plan(nil, providers.PlanOptions{})
		if in := c.KeyPlan(); !in.Issue || in.NewKey {
			t.Errorf("a staged chain for the live key: issue %t, new key %t", in.Issue, in.NewKey)
		}
		step(t, c, certificate.PhaseDeployNext)
		if string(c.Chain[0].Raw) != string(staged) || spki(c) != live || c.StagedChain != nil {
			t.Errorf("deploy-next did not deploy the staged chain with the live key")
		}
	})
	t.Run("staged key", func(t *testing.T) {
		c := newCert(t, false)
		step(t, c, certificate.PhaseStageKey)
		next := certificate.SPKIHash(c.NextKey)
		step(t, c, certificate.PhaseStageCert)
		step(t, c, certificate.PhaseDeployNext)
		if spki(c) != next || c.NextKey != nil || c.StagedChain != nil {
			t.Errorf("deploy-next: serving %s, want the staged key %s; leftovers %v %v", spki(c), next, c.NextKey, c.StagedChain)
		}
		if fi, err := os.Stat(c.KeyPath); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("key file: %v %v", fi, err)
		}
	})
	t.Run("left over for other domains", func(t *testing.T) {
		c := newCert(t, false)
		step(t, c, certificate.PhaseStageCert)
		c.Domains = []string{"shop.example.test"}
		if c.StagedChainFor(c.LiveKey) {
			t.Error("a chain staged for other domains counts as ready")
		}
	})
}

// One vocabulary of key types: the configuration accepts exactly the types
// this package generates, and a generated key is named by its own type.
func TestKeyTypes(t *testing.T) {
	want := []string{"ec256", "ec384", "rsa2048", "rsa3072", "rsa4096", "rsa8192"}
	if got := certificate.KeyTypes(); !slices.Equal(got, want) {
		t.Fatalf("certificate generates %v, the configuration accepts %v", got, want)
	}
	for _, kt := range []string{"ec256", "ec384", "rsa2048"} { // larger RSA keys take seconds to generate
		k, err := certificate.NewKey(kt)
		if err != nil {
			t.Fatal(err)
		}
		if got := certificate.KeyTypeOf(k.Public()); got != kt {
			t.Errorf("a %s key is named %s", kt, got)
		}
	}
}
