package caa

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/acme"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/schema"
)

// CAA is the CAA RRset at one name (one caa block): an issue record per
// ACME account that binds the account's URI and the challenges its
// certificates under the name use (RFC 8657), one per plain CA domain,
// issuewild records that follow the certificates that hold wildcards
// (";" when none does), and iodef.
type CAA struct {
	Addr     schema.Address
	Zone     dns.Zone
	ZoneName string
	Owner    string // fully qualified, lower case
	TTL      uint32
	Issue    []Issuer // issuers, in order
	Domains  []string // issuers' CA domains
	// Wild are the issuewild issuers when the block lists them; nil:
	// the accounts of Issue whose certificates hold wildcards.
	Wild        []Issuer
	WildDomains []string
	WildListed  bool
	IODEF       string
	// Certificates are the certificates the records govern: those with a
	// name at or below Owner.
	Certificates []schema.Address

	observed         providers.Value
	visible, lagging []string
	chainErr         error
	wrote            *[]string // what the last write set, until Observe has seen it
}

// Issuer is one ACME account's part of the RRset.
type Issuer struct {
	Account *acme.Account
	Addr    schema.Address
	// Methods are the challenges of the account's certificates under the
	// name (sorted), Wildcard whether one of them holds a wildcard name.
	Methods  []string
	Wildcard bool
}

var (
	_ providers.Batched      = (*CAA)(nil)
	_ providers.Propagating  = (*CAA)(nil)
	_ providers.Deleter      = (*CAA)(nil)
	_ providers.Described    = (*CAA)(nil)
	_ providers.ChainGuarded = (*CAA)(nil)
	_ providers.CAAPublisher = (*CAA)(nil)
	_ dns.Writer             = (*CAA)(nil)
)

func bind(b providers.Binding, block schema.Block) (any, hcl.Diagnostics) {
	blk := block.(*Block)
	zone, ok := b.Bound(blk.Zone.Address).(dns.Zone)
	if !ok {
		return nil, nil // the zone already has a diagnostic
	}
	addr, _ := schema.ParseAddress(Type + "." + blk.Name)
	c := &CAA{Addr: addr, Zone: zone, ZoneName: blk.Zone.Address.Name, Owner: blk.Owner, TTL: blk.TTLSeconds,
		Domains: blk.Issuers.Domains, IODEF: blk.IODEF}
	if s, ok := zone.(*dns.Server); ok {
		s.Expect(c.Owner, mdns.TypeCAA)
	}
	certs := map[schema.Address]*certificate.Block{}
	for _, a := range certificatesUnder(b)[strings.ToLower(dns.Fqdn(c.Owner))] {
		if _, seen := certs[a]; !seen {
			certs[a] = b.Config().Block(a).(*certificate.Block)
			c.Certificates = append(c.Certificates, a)
		}
	}
	issuers := func(is Issuers) []Issuer {
		var out []Issuer
		for _, r := range is.Accounts {
			if !r.Set() {
				continue
			}
			acct, _ := b.Bound(r.Address).(*acme.Account)
			iss := Issuer{Account: acct, Addr: r.Address}
			for _, cb := range certs {
				if cb.Issuer.Address != r.Address && !slices.ContainsFunc(cb.Fallbacks, func(f schema.Ref) bool { return f.Address == r.Address }) {
					continue
				}
				m := cb.Challenge
				if m == "" {
					m = "http-01"
				}
				if !slices.Contains(iss.Methods, m) {
					iss.Methods = append(iss.Methods, m)
				}
				iss.Wildcard = iss.Wildcard || slices.ContainsFunc(cb.Domains, func(d string) bool { return strings.HasPrefix(d, "*.") && c.under(d) })
			}
			slices.Sort(iss.Methods)
			out = append(out, iss)
		}
		return out
	}
	c.Issue = issuers(blk.Issuers)
	if blk.IssueWild != nil {
		c.Wild, c.WildDomains, c.WildListed = issuers(*blk.IssueWild), blk.IssueWild.Domains, true
	}
	return c, nil
}

// under reports whether name is at or below the RRset's owner.
// certificatesUnder indexes the certificates by every name at or above one
// of their domains (read once per binding: a fleet has a CAA RRset per
// host and thousands of certificates), in the order of the blocks.
func certificatesUnder(b providers.Binding) map[string][]schema.Address {
	return b.Once("caa: certificates under each name", func() any {
		index := map[string][]schema.Address{}
		b.Config().Each(func(a schema.Address, _ hcl.Range, blk schema.Block) {
			cb, ok := blk.(*certificate.Block)
			if !ok {
				return
			}
			for _, d := range cb.Domains {
				name := strings.ToLower(dns.Fqdn(strings.TrimPrefix(d, "*.")))
				for {
					index[name] = append(index[name], a)
					_, parent, ok := strings.Cut(name, ".")
					if !ok || parent == "" {
						break
					}
					name = parent
				}
			}
		})
		return index
	}).(map[string][]schema.Address)
}

func (c *CAA) under(name string) bool {
	return mdns.IsSubDomain(c.Owner, dns.Fqdn(strings.TrimPrefix(name, "*.")))
}

// Describe is the RRset's owner, for the inventory.
func (c *CAA) Describe() string { return c.Owner + " CAA" }

// Governs reports whether the RRset governs cert's orders (rule
// caa-before-order): one of its names is at or below the owner.
func (c *CAA) Governs(cert schema.Address) bool { return slices.Contains(c.Certificates, cert) }

// Permits reports whether the records permit the account's orders.
func (c *CAA) Permits(account schema.Address) bool {
	return slices.ContainsFunc(c.Issue, func(is Issuer) bool { return is.Addr == account })
}

// records is the RRset the configuration asks for, sorted, or why it is
// not known yet (an account not registered, a CA's identity not read).
func (c *CAA) records() ([]string, string) {
	var out []string
	add := func(tag string, is Issuer, methods []string) string {
		ids := is.Account.CAAIdentities()
		if len(ids) == 0 {
			return fmt.Sprintf("the CAA identity of %s's CA, which its directory did not say (set caa_identity)", is.Addr)
		}
		uri := is.Account.URI()
		if uri == "" {
			return fmt.Sprintf("the URI of %s, known once it is registered", is.Addr)
		}
		v := ids[0] + "; accounturi=" + uri
		if len(methods) > 0 {
			v += "; validationmethods=" + strings.Join(methods, ",")
		}
		out = append(out, fmt.Sprintf("0 %s %q", tag, v))
		return ""
	}
	for _, is := range c.Issue {
		if why := add("issue", is, is.Methods); why != "" {
			return nil, why
		}
	}
	for _, d := range c.Domains {
		out = append(out, fmt.Sprintf("0 issue %q", d))
	}
	wild := 0
	for _, is := range c.wild() {
		if why := add("issuewild", is, []string{"dns-01"}); why != "" {
			return nil, why
		}
		wild++
	}
	for _, d := range c.WildDomains {
		out = append(out, fmt.Sprintf("0 issuewild %q", d))
		wild++
	}
	if wild == 0 {
		out = append(out, `0 issuewild ";"`)
	}
	if c.IODEF != "" {
		out = append(out, fmt.Sprintf("0 iodef %q", c.IODEF))
	}
	slices.Sort(out)
	return out, ""
}

// wild are the accounts that may issue wildcards: those listed, or else
// those of Issue whose certificates under the name hold one.
func (c *CAA) wild() []Issuer {
	if c.WildListed {
		return c.Wild
	}
	var out []Issuer
	for _, is := range c.Issue {
		if is.Wildcard {
			out = append(out, is)
		}
	}
	return out
}

// reason says who may issue under the records, for plans.
func (c *CAA) reason() string {
	var who []string
	for _, is := range c.Issue {
		by := ""
		if len(is.Methods) > 0 {
			by = ", by " + strings.Join(is.Methods, " or ")
		}
		who = append(who, "account "+orPending(is.Account.URI(), is.Addr)+by)
	}
	for _, d := range c.Domains {
		who = append(who, "any account of "+d)
	}
	wild := "no wildcard may be issued"
	if w := c.wild(); len(w) > 0 || len(c.WildDomains) > 0 {
		var names []string
		for _, is := range w {
			names = append(names, is.Addr.String())
		}
		wild = "wildcards by " + strings.Join(append(names, c.WildDomains...), ", ")
	}
	return fmt.Sprintf("only %s may issue for %s and below; %s", strings.Join(who, "; "), c.Owner, wild)
}

func orPending(uri string, addr schema.Address) string {
	if uri == "" {
		return addr.String() + " (its URI once registered)"
	}
	return uri
}

// Value is the RRset as state records it.
func (c *CAA) Value(ttl uint32, records []string) providers.Value {
	return providers.Value{"name": providers.String(c.Owner), "ttl": providers.String(fmt.Sprint(ttl)), "records": providers.List(records...)}
}

// Observe reads the RRset as the zone holds it and what every
// authoritative server serves of it.
func (c *CAA) Observe(ctx context.Context) (providers.Value, error) {
	c.observed = nil
	rrs, err := c.Zone.RRset(ctx, c.Owner, mdns.TypeCAA)
	if err != nil {
		return nil, err
	}
	served, err := c.Zone.Propagation(ctx, c.Owner, mdns.TypeCAA)
	if err != nil {
		return nil, err
	}
	c.visible, c.lagging = served.Visible, served.Lagging
	_, c.chainErr = c.Zone.ChainValid(ctx)
	got := dns.Presentation(rrs)
	if wrote := c.wrote; wrote != nil {
		c.wrote = nil
		if !slices.Equal(got, *wrote) {
			return nil, fmt.Errorf("right after trustform set %q at %s, the zone holds %q: the change was lost, or another writer changed the RRset since", *wrote, c.Owner, got)
		}
	}
	if len(rrs) == 0 {
		return nil, nil
	}
	c.observed = c.Value(rrs[0].Header().Ttl, got)
	return c.observed, nil
}

// Plan asks for the records the accounts and certificates make.
func (c *CAA) Plan(observed providers.Value, _ providers.PlanOptions) (providers.Value, *providers.Change) {
	recs, why := c.records()
	v := c.Value(c.TTL, recs)
	if why != "" {
		v["records"] = providers.Unknown(why)
	}
	ch := providers.Diff(v, observed)
	if ch == nil {
		return v, nil
	}
	ch.Phases = []providers.Phase{{Name: providers.PhaseWrite, Description: "set the CAA RRset at " + c.Owner + " in zone " + c.ZoneName}}
	ch.Reasons = append(ch.Reasons, c.reason())
	for _, is := range c.Issue {
		ch.After = append(ch.After, providers.Dep{Addr: is.Addr})
	}
	return v, ch
}

// Delete removes the RRset: with it, any CA may issue for the name again.
func (c *CAA) Delete(observed providers.Value) *providers.Change {
	return &providers.Change{Action: providers.Delete,
		Reasons: []string{fmt.Sprintf("its block is gone: without the CAA records %s, any CA may issue for %s", observed["records"], c.Owner)},
		Phases:  []providers.Phase{{Name: providers.PhaseDelete, Description: "remove the CAA RRset at " + c.Owner + " from zone " + c.ZoneName}}}
}

// Apply carries out one step on its own.
func (c *CAA) Apply(ctx context.Context, ch *providers.Change, phase string) error {
	_, err := c.ApplyBatch(ctx, []providers.BatchItem{{Resource: c, Change: ch, Phase: phase}})
	return err
}

// BatchKey: the RRsets of one zone change in one transaction, TLSA and
// CAA alike.
func (c *CAA) BatchKey() string { return "dns_zone." + c.ZoneName }

// ApplyBatch writes the batch's steps in one change set of the zone.
func (c *CAA) ApplyBatch(ctx context.Context, items []providers.BatchItem) ([]providers.Resource, error) {
	return dns.WriteBatch(ctx, c.Zone, c.ZoneName, items)
}

// Sets is the RRset the step writes: the records as they are known now
// (an account registered earlier in the run has its URI), or none.
func (c *CAA) Sets(it providers.BatchItem) ([]dns.RRset, error) {
	if it.Phase == providers.PhaseDelete {
		return []dns.RRset{{Owner: c.Owner, Type: mdns.TypeCAA, TTL: c.TTL}}, nil
	}
	recs, why := c.records()
	if why != "" {
		return nil, fmt.Errorf("%s: the CAA records are not known: %s", c.Addr, why)
	}
	if c.observed != nil && slices.Equal(recs, c.observed["records"].List) && c.observed["ttl"].Str == fmt.Sprint(c.TTL) {
		return nil, nil
	}
	return []dns.RRset{{Owner: c.Owner, Type: mdns.TypeCAA, TTL: c.TTL, Records: recs}}, nil
}

// Wrote remembers what the step set, for the next Observe to check.
func (c *CAA) Wrote(sets []dns.RRset) {
	recs := slices.Clone(sets[0].Records)
	slices.Sort(recs)
	c.wrote = &recs
}

// Visible lists the records every authoritative server serves.
func (c *CAA) Visible() []string { return c.visible }

// Lagging names the servers that do not serve what the zone holds.
func (c *CAA) Lagging() []string { return c.lagging }

// Everywhere reports whether every server serves what the zone holds.
func (c *CAA) Everywhere() bool {
	return c.observed == nil || len(c.lagging) == 0 && slices.Equal(c.visible, c.observed["records"].List)
}

// Target is the record that lets the first account issue (the record a
// caa-before-order gate waits for), or why it is not known yet.
func (c *CAA) Target() (string, string) {
	recs, why := c.records()
	if why != "" {
		return "", why
	}
	for _, r := range recs {
		if strings.HasPrefix(r, "0 issue ") {
			return r, ""
		}
	}
	return recs[0], ""
}

// ChainBroken is why the zone's chain of trust does not validate, or nil.
func (c *CAA) ChainBroken() error { return c.chainErr }
