package dns

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// Hosted is a zone behind a DNS host's HTTP API (PowerDNS, deSEC,
// Cloudflare): the zone read once and kept for the run, each change set one
// atomic change of the API after a read that stops as stale on someone
// else's edit. Visibility is never the API's word: Propagation and Signed
// ask the authoritative servers.
type Hosted struct {
	Origin        string // fully qualified
	API           HostAPI
	Nameservers   []string // host:port; none: the zone's NS RRset
	RequireDNSSEC bool
	MinValidity   time.Duration // see Server.MinValidity
	Timeout       time.Duration // per DNS question; default 10 s
	Chain         *Chain        // the chain of trust checked before anything is published (nil: none)
	Resolver      string        // answers for names above the zone (CAA up the tree); default the system's

	read     sync.Mutex // held by the one reading the zone: parallel observers wait for its read
	mu       sync.Mutex
	zone     map[string][]mdns.RR // by key, as the last read showed it; nil: not read
	observed map[string][]string  // by key: what the kinds read, compared before a change
	apexKey  askedOnce[bool]
	chain    askedOnce[error]
	txt      txtEditor
}

// HostAPI is one DNS host's API for one zone.
type HostAPI interface {
	// Read returns every RRset of the zone, by key (owner and type).
	Read(ctx context.Context) (map[string][]mdns.RR, error)
	// Write replaces the given RRsets (none of its Records: deletes it)
	// in one atomic change.
	Write(ctx context.Context, sets []RRset) error
	// String names the API in errors ("PowerDNS API http://…"), never its
	// credentials.
	String() string
}

var _ Zone = (*Hosted)(nil)

func (h *Hosted) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return 10 * time.Second
}

// zoneNow is the zone as read in this run, read on first use (once, by
// the first of the parallel observers).
func (h *Hosted) zoneNow(ctx context.Context) (map[string][]mdns.RR, error) {
	h.read.Lock()
	defer h.read.Unlock()
	h.mu.Lock()
	z := h.zone
	h.mu.Unlock()
	if z != nil {
		return z, nil
	}
	z, err := h.API.Read(ctx)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.zone = z
	h.mu.Unlock()
	return z, nil
}

// RRset returns the records of type t at owner, as the API holds them, and
// remembers them: Update refuses to change an RRset someone else changed
// since.
func (h *Hosted) RRset(ctx context.Context, owner string, t uint16) ([]mdns.RR, error) {
	z, err := h.zoneNow(ctx)
	if err != nil {
		return nil, err
	}
	rrs := z[key(owner, t)]
	h.mu.Lock()
	if h.observed == nil {
		h.observed = map[string][]string{}
	}
	h.observed[key(owner, t)] = Presentation(rrs)
	h.mu.Unlock()
	return rrs, nil
}

// Update replaces the RRsets in one change of the API, after checking that
// none changed since it was read.
func (h *Hosted) Update(ctx context.Context, sets []RRset) error {
	now, err := h.API.Read(ctx)
	if err != nil {
		return err
	}
	for _, set := range sets {
		k := key(set.Owner, set.Type)
		h.mu.Lock()
		seen, ok := h.observed[k]
		h.mu.Unlock()
		typ := mdns.TypeToString[set.Type]
		switch {
		case !ok:
			return fmt.Errorf("%s %s was not observed before the update; run plan again", set.Owner, typ)
		case !slices.Equal(seen, Presentation(now[k])):
			return fmt.Errorf("zone %s: %s %s changed at %s since it was read (%q, now %q): run plan again", h.Origin, set.Owner, typ, h.API, seen, Presentation(now[k]))
		}
		if _, err := set.toRRs(); err != nil {
			return err
		}
	}
	h.mu.Lock()
	h.zone = nil // what was read before this write is stale now
	h.mu.Unlock()
	return h.API.Write(ctx, sets)
}

// nameservers are the authoritative servers to ask: Nameservers, or the
// zone's NS RRset resolved by the runner's resolver.
func (h *Hosted) nameservers(ctx context.Context) ([]string, error) {
	if len(h.Nameservers) > 0 {
		return WithPort(h.Nameservers), nil
	}
	z, err := h.zoneNow(ctx)
	if err != nil {
		return nil, err
	}
	return resolveNS(ctx, h.Origin, z[key(h.Origin, mdns.TypeNS)])
}

// Propagation asks every authoritative server for the RRset: the API's
// records are what is wanted, never proof that they are served.
func (h *Hosted) Propagation(ctx context.Context, owner string, t uint16) (Served, error) {
	rrs, err := h.RRset(ctx, owner, t)
	if err != nil {
		return Served{}, err
	}
	servers, err := h.nameservers(ctx)
	if err != nil {
		return Served{}, err
	}
	c := served{want: Presentation(rrs), owner: owner, t: t, signed: h.RequireDNSSEC, min: h.MinValidity}
	c.Visible = c.want
	for _, ns := range servers {
		r, err := ask(ctx, ns, owner, t, h.timeout())
		c.add(ns, r, err)
	}
	return c.Served, nil
}

// Signed reports whether the first authoritative server serves the RRset
// with an RRSIG that stays valid long enough (hasRRSIG), and a signed
// DNSKEY.
func (h *Hosted) Signed(ctx context.Context, owner string, t uint16) (bool, error) {
	servers, err := h.nameservers(ctx)
	if err != nil {
		return false, err
	}
	r, err := ask(ctx, servers[0], owner, t, h.timeout())
	if err != nil || !hasRRSIG(r, t, h.MinValidity) {
		return false, err
	}
	return h.KeysSigned(ctx)
}

// KeysSigned reports whether the first authoritative server serves the
// apex DNSKEY RRset signed (asked once per run).
func (h *Hosted) KeysSigned(ctx context.Context) (bool, error) {
	return h.apexKey.get(func() (bool, error) {
		servers, err := h.nameservers(ctx)
		if err != nil {
			return false, err
		}
		r, err := ask(ctx, servers[0], h.Origin, mdns.TypeDNSKEY, h.timeout())
		if err != nil {
			return false, err
		}
		return hasRRSIG(r, mdns.TypeDNSKEY, 0), nil
	})
}

// ChainValid checks the chain of trust down to the zone, once per run.
func (h *Hosted) ChainValid(ctx context.Context) (bool, error) {
	return chainValid(ctx, h.Chain, h.Origin, h.MinValidity, &h.chain)
}

// MX lists the targets of the apex MX RRset.
func (h *Hosted) MX(ctx context.Context) ([]string, error) {
	z, err := h.zoneNow(ctx)
	if err != nil {
		return nil, err
	}
	return mxTargets(z[key(h.Origin, mdns.TypeMX)], h.Origin), nil
}

// Hosts lists the owners of A and AAAA records.
func (h *Hosted) Hosts(ctx context.Context) ([]string, error) {
	rrs, err := h.all(ctx)
	return addressOwners(rrs), err
}

// Records lists the zone through the API.
func (h *Hosted) Records(ctx context.Context) ([]string, error) {
	rrs, err := h.all(ctx)
	return presentation(rrs), err
}

// all is every record of the zone, as the API lists it now.
func (h *Hosted) all(ctx context.Context) ([]mdns.RR, error) {
	z, err := h.zoneNow(ctx)
	if err != nil {
		return nil, err
	}
	var rrs []mdns.RR
	for _, set := range z {
		rrs = append(rrs, set...)
	}
	return rrs, nil
}

// Apex is the zone's name, fully qualified.
func (h *Hosted) Apex() string { return h.Origin }

// AddTXT publishes a dns-01 challenge value at fqdn.
func (h *Hosted) AddTXT(ctx context.Context, fqdn, value string) error {
	return h.txt.edit(ctx, h, fqdn, value, true)
}

// RemoveTXT takes a dns-01 challenge value out of fqdn's TXT RRset.
func (h *Hosted) RemoveTXT(ctx context.Context, fqdn, value string) error {
	return h.txt.edit(ctx, h, fqdn, value, false)
}

// TXTServed lists the authoritative servers that do not serve value at
// fqdn yet.
func (h *Hosted) TXTServed(ctx context.Context, fqdn, value string) (lagging []string, err error) {
	servers, err := h.nameservers(ctx)
	if err != nil {
		return nil, err
	}
	for _, ns := range servers {
		r, err := ask(ctx, ns, fqdn, mdns.TypeTXT, h.timeout())
		switch {
		case err != nil:
			lagging = append(lagging, ns+" (no answer)")
		case !servesTXT(r, fqdn, value):
			lagging = append(lagging, ns)
		}
	}
	return lagging, nil
}
