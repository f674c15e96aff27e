package acme

import (
	"context"
	"fmt"
	"strings"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/caa"
	"github.com/trustform/trustform/providers/certificate"
)

// NameZone is a managed zone as an order's guard sees it: the CAA RRset a
// CA's resolver finds at a name (in the zone, or above it), and the
// zone's chain of trust.
type NameZone interface {
	Apex() string
	CAA(ctx context.Context, name string) ([]*mdns.CAA, error)
	ChainValid(ctx context.Context) (checked bool, err error)
}

var _ certificate.OrderGuard = (*Issuer)(nil)

// GuardOrder checks, before anything reaches the CA, what would make it
// refuse an order for domains: the DNSSEC chain of trust of the managed
// zones that hold them (rule dnssec-chain-valid; since March 2026 a CA
// validates CAA lookups), and the CAA records a CA's resolver finds for
// each name (rule caa-before-order), evaluated for this CA's identities,
// this account and this challenge. Without a managed zone no name is
// looked up; without the CA's identity (its directory publishes no
// caaIdentities, and caa_identity is not set) CAA is not evaluated.
func (i *Issuer) GuardOrder(ctx context.Context, domains []string) (chainErr, caaErr error) {
	for _, d := range domains {
		if z := i.zoneOf(d); z != nil {
			if _, err := z.ChainValid(ctx); err != nil {
				chainErr = fmt.Errorf("%s is in zone %s: %w", d, z.Apex(), err)
				break
			}
		}
	}
	ids := i.Account.CAAIdentities()
	if len(ids) == 0 || len(i.Zones) == 0 {
		return chainErr, nil
	}
	iss := caa.Issuer{Identities: ids, AccountURI: i.Account.registration(), Method: i.challenge()}
	for _, d := range domains {
		owner, rrs, err := caa.Relevant(ctx, i.lookupCAA, d)
		if err != nil {
			return chainErr, fmt.Errorf("the CAA records of %s cannot be read (%v): a CA refuses to issue then", d, err)
		}
		if ok, why := caa.Permits(rrs, strings.HasPrefix(d, "*."), iss); !ok {
			return chainErr, fmt.Errorf("%s: the CAA RRset at %s, the first up the tree, forbids the order: %s. A record that lets this account issue: %s at %s (a caa block keeps it)", d, owner, why, caa.Record(iss, ids[0]), owner)
		}
	}
	return chainErr, nil
}

// lookupCAA asks the zone that holds name (the deepest), or else one below
// it (which asks its resolver), for the CAA RRset at name.
func (i *Issuer) lookupCAA(ctx context.Context, name string) ([]*mdns.CAA, error) {
	z := i.zoneOf(name)
	if z == nil {
		for _, c := range i.Zones {
			if mdns.IsSubDomain(name, fqdn(c.Apex())) {
				z = c
				break
			}
		}
	}
	if z == nil {
		z = i.Zones[0]
	}
	return z.CAA(ctx, name)
}

// zoneOf is the deepest managed zone holding name, or nil.
func (i *Issuer) zoneOf(name string) NameZone {
	name = fqdn(strings.TrimPrefix(name, "*."))
	var best NameZone
	for _, z := range i.Zones {
		if apex := fqdn(z.Apex()); mdns.IsSubDomain(apex, name) && (best == nil || len(apex) > len(fqdn(best.Apex()))) {
			best = z
		}
	}
	return best
}

// challenge is the order's validation method, as CAA's validationmethods
// names it.
func (i *Issuer) challenge() string {
	if i.Challenge == "" {
		return "http-01"
	}
	return i.Challenge
}

// CAAIdentities are the domains the CA recognises as its own in CAA
// records: caa_identity, or its directory's meta.caaIdentities.
func (a *Account) CAAIdentities() []string {
	if a.CAAIdentity != "" {
		return []string{a.CAAIdentity}
	}
	dir, _ := a.directory()
	if dir == nil { // the CA cannot be reached: what it said when the account was registered
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.savedCAA
	}
	return dir.Meta.CaaIdentities
}

// URI is the account's URL at the CA, "" until it is registered.
func (a *Account) URI() string { return a.registration() }
