package certificate_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/localca"
	"github.com/trustform/trustform/schema"
)

// flaky is a CA that may be failing (since when) or rate-limiting the
// names (until when).
type flaky struct {
	*localca.CA
	since, until time.Time
}

func (f *flaky) Outage() (time.Time, string) {
	if f.since.IsZero() {
		return time.Time{}, ""
	}
	return f.since, "connection refused"
}

func (f *flaky) WaitUntil([]string) (time.Time, string) { return f.until, "too many certificates" }

func (f *flaky) Issue(ctx context.Context, req certificate.Request) ([]byte, error) {
	if !f.since.IsZero() {
		return nil, errors.New("dial tcp: connection refused")
	}
	return f.CA.Issue(ctx, req)
}

func newCA(t *testing.T, name string) *localca.CA {
	t.Helper()
	ca := &localca.CA{Dir: filepath.Join(t.TempDir(), name), CommonName: "test CA " + name, Now: time.Now}
	if err := ca.Create(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Observe(context.Background()); err != nil {
		t.Fatal(err)
	}
	return ca
}

// TestFailover: where a renewal orders from, as the primary fails for
// longer, rate-limits, or the certificate nears its expiry; and that a
// certificate a fallback issued is kept until its own renewal, which goes
// to the primary again.
func TestFailover(t *testing.T) {
	primary, fallback := &flaky{CA: newCA(t, "primary")}, newCA(t, "fallback")
	c := newCert(t, false)
	c.Issuer, c.IssuerAddr = primary, schema.Address{Type: "acme_account", Name: "primary"}
	step(t, c, certificate.PhaseIssue) // issued by the primary, valid for the local CA's lifetime
	c.Fallbacks = []certificate.Fallback{{Addr: schema.Address{Type: "acme_account", Name: "fallback"}, Issuer: fallback}}
	leaf := c.Chain[0]
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	due := leaf.NotAfter.Add(-24 * time.Hour) // renew_before: a day
	plan := func(now time.Time) (providers.Value, *providers.Change) {
		c.Now = func() time.Time { return now }
		if _, err := c.Observe(context.Background()); err != nil {
			t.Fatal(err)
		}
		return c.Plan(nil, providers.PlanOptions{})
	}
	reasons := func(ch *providers.Change) string {
		if ch == nil {
			return ""
		}
		return strings.Join(ch.Reasons, "\n")
	}
	for _, tc := range []struct {
		name         string
		since, until time.Time
		before       time.Duration
		now          time.Time
		issuer, says string
	}{
		{"healthy", time.Time{}, time.Time{}, 0, due, "acme_account.primary", ""},
		{"failing for a moment", due.Add(-time.Minute), time.Time{}, time.Hour, due, "acme_account.primary", "the fallback acme_account.fallback is used from"},
		{"failing past failover_after", leaf.NotBefore.Add(life / 10), time.Time{}, time.Hour, due.Add(time.Minute), "acme_account.fallback", "failing since"},
		{"failing within failover_before", due.Add(-time.Minute), time.Time{}, 48 * time.Hour, due, "acme_account.fallback", "issuing from the fallback acme_account.fallback"},
		{"rate limited past the failover point", time.Time{}, leaf.NotAfter, time.Hour, due, "acme_account.fallback", "rate limited until"},
		{"rate limited briefly", time.Time{}, due.Add(time.Minute), time.Hour, due, "acme_account.primary", "waiting for the CA"},
	} {
		primary.since, primary.until = tc.since, tc.until
		c.FailoverBefore = tc.before
		v, ch := plan(tc.now)
		if got := v["issuer"].Str; got != tc.issuer || !strings.Contains(reasons(ch), tc.says) {
			t.Errorf("%s: orders from %s, want %s; reasons:\n%s", tc.name, got, tc.issuer, reasons(ch))
		}
	}

	// The failover carried out: the fallback's certificate is deployed and
	// kept while the primary is back, until its own renewal.
	primary.since, primary.until, c.FailoverBefore = due.Add(-time.Minute), time.Time{}, 48*time.Hour
	_, ch := plan(due)
	if err := c.Apply(context.Background(), ch, certificate.PhaseIssue); err != nil {
		t.Fatalf("the failover: %v", err)
	}
	primary.since = time.Time{}
	if v, ch := plan(time.Now()); ch != nil || v["issuer"].Str != "acme_account.fallback" {
		t.Errorf("the fallback's certificate is not kept: %s %v", v["issuer"].Str, reasons(ch))
	}
	renewal := c.Chain[0].NotAfter.Add(-time.Hour)
	if v, _ := plan(renewal); v["issuer"].Str != "acme_account.primary" {
		t.Errorf("the next renewal orders from %s, not the primary", v["issuer"].Str)
	}

	// No fallback: an outage within failover_before names the expiry.
	c.Fallbacks, primary.since = nil, due.Add(-time.Minute)
	_, ch = plan(renewal)
	if r := reasons(ch); !strings.Contains(r, "no fallback_issuers to order from") || !strings.Contains(r, c.Chain[0].NotAfter.UTC().Format(time.RFC3339)) {
		t.Errorf("an outage near the expiry without a fallback:\n%s", r)
	}
	if err := c.Apply(context.Background(), ch, certificate.PhaseIssue); err == nil || !strings.Contains(err.Error(), "expires "+c.Chain[0].NotAfter.UTC().Format(time.RFC3339)) {
		t.Errorf("the failed renewal does not name the expiry: %v", err)
	}
}
