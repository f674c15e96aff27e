package certificate

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/schema"
)

// CA failover. A certificate may name fallback_issuers, tried in order
// after issuer when it fails: once it has been failing (unreachable, a
// server error, a timeout, its account refused) for failover_after (by
// default a third of what was left of the certificate's life when it
// started failing), at once when the certificate would otherwise expire
// within failover_before (default 7 days), or at once when it rate-limits
// the names past that point. Each renewal tries the primary first again:
// a certificate issued by a fallback is not re-issued for that alone.

// DefaultFailoverBefore is failover_before's default.
const DefaultFailoverBefore = 7 * 24 * time.Hour

// Outager is an Issuer that remembers its CA failing: since when, and its
// last error, until an order succeeds (an ACME account keeps it beside
// its key). A zero since: it is not failing.
type Outager interface {
	Outage() (since time.Time, problem string)
}

// Fallback is one of fallback_issuers, bound.
type Fallback struct {
	Addr   schema.Address
	Issuer Issuer
}

// fallbackReferences are fallback_issuers' elements, each a reference.
func (b *Block) fallbackReferences() []schema.Reference {
	if b.FallbackExpr == nil || isNull(b.FallbackExpr) {
		return nil
	}
	if b.fallbackElems == nil {
		b.fallbackElems, _ = hcl.ExprList(b.FallbackExpr)
		b.Fallbacks = make([]schema.Ref, len(b.fallbackElems))
	}
	out := make([]schema.Reference, len(b.fallbackElems))
	for i, e := range b.fallbackElems {
		out[i] = schema.Reference{Attr: "fallback_issuers", Expr: e, To: &b.Fallbacks[i], Types: []string{"local_ca", "acme_account"}, Required: true}
	}
	return out
}

func isNull(expr hcl.Expression) bool {
	v, d := expr.Value(nil)
	return !d.HasErrors() && v.IsNull()
}

// validateFailover checks fallback_issuers (a list of references, none
// the issuer, none twice) and parses the two durations.
func (b *Block) validateFailover() hcl.Diagnostics {
	var diags hcl.Diagnostics
	if b.FallbackExpr != nil && !isNull(b.FallbackExpr) {
		if _, d := hcl.ExprList(b.FallbackExpr); d.HasErrors() {
			diags = append(diags, schema.ErrAt(b.FallbackExpr.Range(), "Invalid fallback_issuers", "fallback_issuers is a list of acme_account or local_ca references, such as [acme_account.zerossl]."))
		}
	}
	seen := []schema.Address{b.Issuer.Address}
	for i, f := range b.Fallbacks {
		if slices.Contains(seen, f.Address) {
			diags = append(diags, schema.ErrAt(b.fallbackElems[i].Range(), "Repeated issuer", fmt.Sprintf("%s is the issuer or another fallback already: each CA is tried once.", f.Address)))
		}
		seen = append(seen, f.Address)
	}
	b.FailoverAfterDuration, b.FailoverBeforeDuration = 0, DefaultFailoverBefore
	for _, d := range []struct {
		v   string
		rng hcl.Range
		to  *schema.Duration
	}{{b.FailoverAfter, b.AfterRange, &b.FailoverAfterDuration}, {b.FailoverBefore, b.BeforeRange, &b.FailoverBeforeDuration}} {
		if d.v == "" {
			continue
		}
		if len(b.Fallbacks) == 0 && d.to == &b.FailoverAfterDuration {
			diags = append(diags, schema.ErrAt(d.rng, "No fallback_issuers", "failover_after says when to order from fallback_issuers, and there are none."))
		}
		p, err := schema.ParseDuration(d.v)
		if err != nil {
			diags = append(diags, schema.ErrAt(d.rng, "Invalid duration", err.Error()))
			continue
		}
		*d.to = p
	}
	return diags
}

// choice is the issuer an order goes to: the primary (index 0) or a
// fallback (index i+1), and why.
type choice struct {
	Index int
	Addr  schema.Address
	why   []string
}

// issuers are the primary, then the fallbacks.
func (c *Certificate) issuers() []Fallback {
	return append([]Fallback{{Addr: c.IssuerAddr, Issuer: c.Issuer}}, c.Fallbacks...)
}

// outage is since when iss has been failing, and why; zero when it is not
// (or cannot say).
func outage(iss Issuer) (time.Time, string) {
	if o, ok := iss.(Outager); ok {
		return o.Outage()
	}
	return time.Time{}, ""
}

// rateLimited is until when iss holds back orders for the names.
func rateLimited(iss Issuer, domains []string) (time.Time, string) {
	if w, ok := iss.(Waiter); ok {
		return w.WaitUntil(domains)
	}
	return time.Time{}, ""
}

// choose decides where the next order goes, for the live leaf (nil for a
// first issue): the primary unless it has been failing past the failover
// point, or is failing and the leaf expires within failover_before, or
// rate-limits the names past that point; then the first fallback that is
// not failing and not rate-limited. The reasons say what was decided.
func (c *Certificate) choose(leaf *x509.Certificate) choice {
	now := c.Now()
	all := c.issuers()
	primary := choice{Index: 0, Addr: c.IssuerAddr}
	if c.Issuer == nil {
		return primary
	}
	since, problem := outage(c.Issuer)
	until, limit := rateLimited(c.Issuer, c.Domains)
	if since.IsZero() && !now.Before(until) {
		return primary
	}
	start := since
	if start.IsZero() {
		start = now
	}
	after := c.FailoverAfter
	if after == 0 && leaf != nil {
		after = leaf.NotAfter.Sub(start) / 3
	}
	at := start.Add(after)
	expiring := leaf != nil && leaf.NotAfter.Sub(now) <= c.failoverBefore()
	state := fmt.Sprintf("%s: failing since %s (%s)", c.IssuerAddr, since.UTC().Format(time.RFC3339), problem)
	if since.IsZero() {
		state = fmt.Sprintf("%s: rate limited until %s (%s)", c.IssuerAddr, until.UTC().Format(time.RFC3339), limit)
	}
	failover := expiring || until.After(at) || (!since.IsZero() && !now.Before(at))
	if len(all) == 1 {
		if expiring && leaf != nil {
			primary.why = []string{fmt.Sprintf("%s, and %s expires %s: no fallback_issuers to order from", state, c.Addr, leaf.NotAfter.UTC().Format(time.RFC3339))}
		}
		return primary
	}
	if !failover {
		primary.why = []string{fmt.Sprintf("%s; the fallback %s is used from %s (failover_after), or at once within failover_before of the expiry", state, all[1].Addr, at.UTC().Format(time.RFC3339))}
		return primary
	}
	for i, f := range all[1:] {
		fs, fp := outage(f.Issuer)
		fu, _ := rateLimited(f.Issuer, c.Domains)
		if !fs.IsZero() || now.Before(fu) {
			state += fmt.Sprintf("; the fallback %s is failing too (%s)", f.Addr, fp)
			continue
		}
		return choice{Index: i + 1, Addr: f.Addr, why: []string{state + "; issuing from the fallback " + f.Addr.String() + " (the primary is tried first)"}}
	}
	primary.why = []string{state + ": every fallback is failing, the primary is tried"}
	return primary
}

func (c *Certificate) failoverBefore() time.Duration {
	if c.FailoverBefore > 0 {
		return c.FailoverBefore
	}
	return DefaultFailoverBefore
}

// issuedBy is which of the issuers issued chain (its index in issuers),
// or -1: the first whose roots it builds to.
func (c *Certificate) issuedBy(chain []*x509.Certificate) int {
	for i, f := range c.issuers() {
		if f.Issuer == nil || !f.Issuer.Issued(chain) {
			continue
		}
		if roots := f.Issuer.Roots(); roots == nil || len(c.Fallbacks) == 0 || chainProblemFor(chain, roots, c.Now()) == nil {
			return i
		}
	}
	return -1
}

// issuerNames names the issuers, for reasons: "acme_account.le" or
// "acme_account.le or a fallback (acme_account.b)".
func (c *Certificate) issuerNames() string {
	if len(c.Fallbacks) == 0 {
		return c.IssuerAddr.String()
	}
	var fb []string
	for _, f := range c.Fallbacks {
		fb = append(fb, f.Addr.String())
	}
	return c.IssuerAddr.String() + " or a fallback (" + strings.Join(fb, ", ") + ")"
}

// CAKeeper is an Issuer that remembers the CA it last issued under (an
// ACME account keeps it beside its key): a certificate with
// fallback_issuers keeps every issuer's CA pinned in its trust-anchor
// RRsets, so that a failover serves a CA the records already name.
type CAKeeper interface {
	IssuingCA() *x509.Certificate
}

// pinnedCAs are the CAs the trust-anchor RRsets of a certificate with
// fallback_issuers keep: each issuer's latest that is still valid.
func (c *Certificate) pinnedCAs() []*x509.Certificate {
	if len(c.Fallbacks) == 0 {
		return nil
	}
	var out []*x509.Certificate
	for _, f := range c.issuers() {
		if k, ok := f.Issuer.(CAKeeper); ok {
			if ca := k.IssuingCA(); ca != nil && c.Now().Before(ca.NotAfter) {
				out = append(out, ca)
			}
		}
	}
	return out
}
