package dns

import (
	"context"
	"crypto/x509"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/probe"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// TLSA phases. Outside a rollover a TLSA step is named after its action.
const (
	PhasePublish = providers.PhasePublish
	PhasePrune   = providers.PhasePrune
)

// TLSA is the records of one usage, selector and matching type at an owner
// name: one tlsa resource. Several resources may share an owner (3 1 1 and
// 2 1 1 at _25._tcp.mail, say); each manages its own combination and keeps
// the others' records when it writes the RRset. Its records follow the plan
// of its certificate.
type TLSA struct {
	Zone          Zone
	ZoneName      string // the dns_zone block's name, for plans and batching
	Owner         string // fully qualified, lower case
	TTL           uint32
	Params        [3]uint8
	RequireDNSSEC bool
	PublishNext   bool          // keep the next key's record published too (RFC 7671 §8.1)
	RolloverWait  time.Duration // how long new records are visible before they are relied on
	Certificate   providers.KeyDeployer
	CertAddr      schema.Address
	// Endpoints are the TLS services trustform probes (vhosts, mail
	// services); the one on the owner's port and host is checked against
	// the records (served_match). MXZones are every managed zone, whose
	// apex MX RRsets an SMTP owner's host should be a target of (RFC 7672
	// §2.2.2). Link sets both from the configuration's other objects.
	Endpoints []Endpoint
	MXZones   []Zone
	// endpointAt indexes Endpoints by "PORT NAME" (a wildcard name as
	// written), the first endpoint for each (Link; nil: servedBy scans).
	endpointAt map[string]int

	// Filled by Observe: this resource's records every authoritative server
	// serves (what the tlsa-before-cert gate counts from), the servers that
	// lag, the primary's records at Owner with other parameters, and the
	// observed value.
	visible, lagging, others []string
	// shortSigned says why the signatures do not outlive a rollover that
	// starts now (rollover_wait plus the TTL), or is empty.
	shortSigned string
	chainErr    error // dnssec-chain-valid's verdict on the zone, as observed
	// servers is each authoritative server's answer, and servedChain what
	// the endpoint (servedURL) served: what Measure reports.
	servers     []ServerAnswer
	servedChain []*x509.Certificate
	servedURL   string
	observed    providers.Value
	// notMX names the MX targets of MXZones when an SMTP owner's host is
	// not one of them (a few, and how many: a fleet's zone names
	// thousands), or is empty.
	notMX string
	// wrote is what this resource's last write set, until Observe has seen
	// the primary serve it: a step records what it made true, or fails.
	wrote *[]string
}

// Endpoint is a TLS service that can be probed (a vhost, a mail service's
// endpoint): where and how, and for which names.
type Endpoint struct {
	probe.Endpoint
	Names []string
}

// Link finds the TLS endpoints and the zones of the configuration, found
// once for every RRset of the binding.
func (t *TLSA) Link(b providers.Binding) {
	ctx := b.Once("dns.tlsaContext", func() any {
		c := tlsaContext{endpoints: []Endpoint{}, at: map[string]int{}}
		for _, o := range b.All() {
			if e, ok := o.(providers.TLSEndpointer); ok {
				for _, ep := range e.TLSEndpoints() {
					c.endpoints = append(c.endpoints, Endpoint{probe.Endpoint{URL: ep.URL, Addr: ep.Addr, StartTLS: ep.StartTLS}, ep.Names})
				}
			}
			if z, ok := o.(Zone); ok {
				c.zones = append(c.zones, z)
			}
		}
		for i, e := range c.endpoints {
			_, port, err := net.SplitHostPort(e.Addr)
			if err != nil {
				continue
			}
			for _, n := range e.Names {
				if _, ok := c.at[port+" "+strings.ToLower(n)]; !ok {
					c.at[port+" "+strings.ToLower(n)] = i
				}
			}
		}
		return c
	}).(tlsaContext)
	t.Endpoints, t.MXZones, t.endpointAt = ctx.endpoints, ctx.zones, ctx.at
}

// tlsaContext is what every TLSA RRset is checked against: the TLS
// endpoints of the configuration (served_match) and its zones (MX targets).
type tlsaContext struct {
	endpoints []Endpoint
	zones     []Zone
	at        map[string]int // TLSA.endpointAt
}

// Describe is the RRset's owner and parameters, for the inventory.
func (t *TLSA) Describe() string {
	return fmt.Sprintf("%s TLSA %d %d %d", t.Owner, t.Params[0], t.Params[1], t.Params[2])
}

var (
	_ providers.Described    = (*TLSA)(nil)
	_ providers.Linker       = (*TLSA)(nil)
	_ providers.Batched      = (*TLSA)(nil)
	_ providers.Propagating  = (*TLSA)(nil)
	_ providers.Warner       = (*TLSA)(nil)
	_ providers.Pin          = (*TLSA)(nil)
	_ providers.Deleter      = (*TLSA)(nil)
	_ providers.ChainGuarded = (*TLSA)(nil)
	_ providers.Measured     = (*TLSA)(nil)
)

// owns reports whether a record (as Presentation writes it) has t's parameters.
func (t *TLSA) owns(record string) bool {
	return strings.HasPrefix(record, fmt.Sprintf("%d %d %d ", t.Params[0], t.Params[1], t.Params[2]))
}

// split divides records into t's and the others.
func (t *TLSA) split(records []string) (own, others []string) {
	for _, r := range records {
		if t.owns(r) {
			own = append(own, r)
		} else {
			others = append(others, r)
		}
	}
	return own, others
}

// Observe returns the RRset as the primary serves it, or nil when there is
// none, and checks what the service on the owner's port serves against what
// every server publishes (served_match).
func (t *TLSA) Observe(ctx context.Context) (providers.Value, error) {
	t.observed = nil
	rrs, err := t.Zone.RRset(ctx, t.Owner, mdns.TypeTLSA)
	if err != nil {
		return nil, err
	}
	if t.RequireDNSSEC {
		// Nothing is published into a zone that is not signed: DANE there
		// would be ignored by every validating client.
		signed, err := t.Zone.KeysSigned(ctx)
		if err != nil {
			return nil, err
		}
		if !signed {
			return nil, fmt.Errorf("dns_zone.%s has require_dnssec = true, but its primary serves no signed DNSKEY at the apex: the zone is not signed, and nothing is published into it until it is (sign it, or set require_dnssec = false)", t.ZoneName)
		}
	}
	chained, chainErr := t.Zone.ChainValid(ctx)
	t.chainErr = chainErr
	served, err := t.Zone.Propagation(ctx, t.Owner, mdns.TypeTLSA)
	if err != nil {
		return nil, err
	}
	t.lagging, t.servers, t.servedChain, t.servedURL = served.Lagging, served.Servers, nil, ""
	t.visible, _ = t.split(served.Visible)
	t.shortSigned = t.signaturesShort(served.SignedUntil, time.Now())
	if t.notMX, err = t.notAnMX(ctx); err != nil {
		return nil, err
	}
	own, others := t.split(Presentation(rrs))
	t.others = others
	if wrote := t.wrote; wrote != nil {
		t.wrote = nil
		if !slices.Equal(own, *wrote) {
			return nil, fmt.Errorf("right after trustform set %q at %s, the primary serves %q: the change was lost, or another writer changed the RRset since", *wrote, t.Owner, own)
		}
	}
	if len(own) == 0 {
		return nil, nil
	}
	v := t.Value(rrs[0].Header().Ttl, own)
	if t.RequireDNSSEC {
		signed, err := t.Zone.Signed(ctx, t.Owner, mdns.TypeTLSA)
		if err != nil {
			return nil, err
		}
		v["signed"] = providers.String(strconv.FormatBool(signed)) // drift when it turns false
		if chained {                                               // drift when the chain breaks
			v["dnssec_chain"] = providers.String("valid")
			if chainErr != nil {
				v["dnssec_chain"] = providers.String(chainErr.Error())
			}
		}
	}
	if ep, host, ok := t.servedBy(); ok {
		v["served_match"] = providers.String(t.servedMatch(ctx, ep, host))
	}
	t.observed = v
	return v, nil
}

// smtpHost is the host of an SMTP owner (_25._tcp.HOST.), or "".
func (t *TLSA) smtpHost() string {
	h, _ := strings.CutPrefix(t.Owner, "_25._tcp.")
	if h == t.Owner {
		return ""
	}
	return h
}

// notAnMX names the MX targets of every managed zone when the host of an
// SMTP owner is none of them (and they are some), or is "".
func (t *TLSA) notAnMX(ctx context.Context) (string, error) {
	h := t.smtpHost()
	if h == "" {
		return "", nil
	}
	var names []string
	total := 0
	for _, z := range t.MXZones {
		mx, err := z.MX(ctx)
		if err != nil {
			return "", err
		}
		if slices.Contains(mx, h) {
			return "", nil
		}
		total += len(mx)
		names = append(names, mx[:min(len(mx), 5-len(names))]...)
	}
	if total == 0 {
		return "", nil
	}
	if total > len(names) {
		return strings.Join(names, ", ") + fmt.Sprintf(" and %d more", total-len(names)), nil
	}
	return strings.Join(names, ", "), nil
}

// servedBy finds the endpoint that answers the RRset's service: the port
// and host of its owner name (_443._tcp.www.example.org.).
func (t *TLSA) servedBy() (ep probe.Endpoint, host string, ok bool) {
	labels := strings.SplitN(strings.TrimSuffix(t.Owner, "."), ".", 3)
	if len(labels) < 3 || !strings.HasPrefix(labels[0], "_") {
		return probe.Endpoint{}, "", false
	}
	port, host := strings.TrimPrefix(labels[0], "_"), labels[2]
	if t.endpointAt != nil { // the first endpoint that serves host exactly or by a wildcard
		exact, ok1 := t.endpointAt[port+" "+strings.ToLower(host)]
		wild, ok2 := -1, false
		if _, parent, found := strings.Cut(strings.ToLower(host), "."); found {
			wild, ok2 = t.endpointAt[port+" *."+parent]
		}
		switch {
		case ok1 && (!ok2 || exact < wild):
			return t.Endpoints[exact].Endpoint, host, true
		case ok2:
			return t.Endpoints[wild].Endpoint, host, true
		}
		return probe.Endpoint{}, "", false
	}
	for _, e := range t.Endpoints {
		if !serves(e.Names, host) {
			continue
		}
		if _, p, err := net.SplitHostPort(e.Addr); err == nil && p == port {
			return e.Endpoint, host, true
		}
	}
	return probe.Endpoint{}, "", false
}

// servedMatch is the built-in DANE check: the chain served at addr for host
// must match a record every authoritative server publishes. It says "yes",
// or the served record and the published ones, so a mismatch is drift that
// names the record and digest.
func (t *TLSA) servedMatch(ctx context.Context, ep probe.Endpoint, host string) string {
	chain, err := ep.Chain(ctx, host, 0)
	t.servedURL = ep.URL
	if err != nil {
		return "unreachable: " + err.Error()
	}
	t.servedChain = chain
	addr := ep.URL
	if len(Matching(t.visible, chain)) > 0 {
		return "yes"
	}
	return fmt.Sprintf("no: %s for %s serves %q, published everywhere: %q", addr, host, t.servedRecord(), t.visible)
}

// servedRecord is the record of t's parameters that the chain the endpoint
// served makes, or what stands in for it.
func (t *TLSA) servedRecord() string {
	if t.servedChain == nil {
		return "nothing (the endpoint does not answer)"
	}
	if c := Pinned(t.Params[0], t.servedChain); c != nil {
		rec, _ := Record(t.Params, c)
		return rec
	}
	return "no CA certificate"
}

// serves reports whether names covers name (with one-label wildcards).
func serves(names []string, name string) bool {
	name = strings.ToLower(name)
	for _, n := range names {
		n = strings.ToLower(n)
		if n == name {
			return true
		}
		if rest, ok := strings.CutPrefix(n, "*."); ok {
			if _, parent, found := strings.Cut(name, "."); found && parent == rest {
				return true
			}
		}
	}
	return false
}

// Value is the resource value of an RRset with these records.
func (t *TLSA) Value(ttl uint32, records []string) providers.Value {
	return providers.Value{
		"name":    providers.String(t.Owner),
		"ttl":     providers.String(strconv.FormatUint(uint64(ttl), 10)),
		"records": providers.List(records...),
	}
}

// Plan asks for the records the certificate's plan serves (unknown while
// a key or certificate is still to come), checked live where an endpoint
// serves the owner's port.
func (t *TLSA) Plan(observed providers.Value, _ providers.PlanOptions) (providers.Value, *providers.Change) {
	recs := t.records()
	var v providers.Value
	if why := recs.unknownWhy(); why != "" {
		v = t.Value(t.TTL, nil)
		v["records"] = providers.Unknown(why)
	} else {
		v = t.Value(t.TTL, recs.steady())
	}
	if _, _, ok := t.servedBy(); ok {
		v["served_match"] = providers.String("yes")
	}
	ch := providers.Diff(v, observed)
	if ch != nil {
		ch.Phases = []providers.Phase{{Name: string(ch.Action), Description: "set the RRset in zone " + t.ZoneName}}
		ch.After = []providers.Dep{{Addr: t.CertAddr}}
	}
	return v, ch
}

// Delete removes the records of this resource's usage, selector and
// matching type; the other parameters' records at the owner stay.
func (t *TLSA) Delete(observed providers.Value) *providers.Change {
	return &providers.Change{Action: providers.Delete,
		Reasons: []string{fmt.Sprintf("its block is gone: the %s records %s no longer pin anything trustform manages, and the next rollover would leave them stale", t.params(), observed["records"])},
		Phases:  []providers.Phase{{Name: providers.PhaseDelete, Description: fmt.Sprintf("remove its %s records from %s in zone %s; records of other parameters stay", t.params(), t.Owner, t.ZoneName)}}}
}

func (t *TLSA) params() string { return fmt.Sprintf("%d %d %d", t.Params[0], t.Params[1], t.Params[2]) }

// Apply carries out one step on its own.
func (t *TLSA) Apply(ctx context.Context, ch *providers.Change, phase string) error {
	_, err := t.ApplyBatch(ctx, []providers.BatchItem{{Resource: t, Change: ch, Phase: phase}})
	return err
}

// BatchKey: the RRsets of one zone change in one transaction.
func (t *TLSA) BatchKey() string { return "dns_zone." + t.ZoneName }

// OverlapKey: RRsets at one owner name see each other's records.
func (t *TLSA) OverlapKey() string { return t.BatchKey() + " " + t.Owner }

// ApplyBatch writes the batch's steps in one change set of the zone
// (WriteBatch).
func (t *TLSA) ApplyBatch(ctx context.Context, items []providers.BatchItem) ([]providers.Resource, error) {
	return WriteBatch(ctx, t.Zone, t.ZoneName, items)
}

// signaturesShort says why signatures valid until until, seen at now, do
// not cover a rollover that would start now: a validating resolver may
// cache the new records for the TTL after rollover_wait, and must not hold
// an expired signature meanwhile. Empty when they do, or the zone is not
// required to be signed.
func (t *TLSA) signaturesShort(until, now time.Time) string {
	need := t.RolloverWait + time.Duration(t.TTL)*time.Second
	if !t.RequireDNSSEC || len(t.visible) == 0 || until.IsZero() || !until.Before(now.Add(need)) {
		return ""
	}
	return fmt.Sprintf("its signatures expire at %s, before rollover_wait and the TTL (%s) would pass: the signer must refresh them first", until.UTC().Format(time.RFC3339), need)
}

// ChainBroken is why the zone's chain of trust does not validate, or nil.
func (t *TLSA) ChainBroken() error { return t.chainErr }

// Visible lists the records every authoritative server serves, with
// signatures that outlive a rollover (none while they do not: a gate's
// wait counts only from when they do).
func (t *TLSA) Visible() []string {
	if t.shortSigned != "" {
		return nil
	}
	return t.visible
}

// Lagging names the authoritative servers behind the primary, and
// signatures that would expire during a rollover.
func (t *TLSA) Lagging() []string {
	if t.shortSigned != "" {
		return append(slices.Clip(t.lagging), t.Owner+": "+t.shortSigned)
	}
	return t.lagging
}

// Everywhere reports whether every server serves what the primary does,
// signed for long enough.
func (t *TLSA) Everywhere() bool {
	return t.observed == nil || len(t.lagging) == 0 && t.shortSigned == "" && slices.Equal(t.visible, t.observed["records"].List)
}

// TrustAnchor: usage 0 or 2 pins the issuing CA.
func (t *TLSA) TrustAnchor() bool { return t.Params[0] == 0 || t.Params[0] == 2 }

// CertBound: a trust anchor, or selector 0 (the whole certificate, as in
// RFC 7671's "3 0 1" examples), changes with every certificate issued.
func (t *TLSA) CertBound() bool { return t.TrustAnchor() || t.Params[1] == 0 }

// Target is the record of what is to be served, or why it is not known yet.
func (t *TLSA) Target() (string, string) {
	recs := t.records()
	return recs.target, recs.unknown
}

// Published reports whether the primary serves record.
func (t *TLSA) Published(record string) bool {
	return t.observed != nil && slices.Contains(t.observed["records"].List, record)
}

// Settled reports whether the primary serves exactly the steady RRset.
func (t *TLSA) Settled() bool {
	recs := t.records()
	return t.observed != nil && recs.unknownWhy() == "" && slices.Equal(t.observed["records"].List, recs.steady())
}

// Wait is rollover_wait.
func (t *TLSA) Wait() time.Duration { return t.RolloverWait }

// Pinned is the certificate the records pin.
func (t *TLSA) Pinned() schema.Address { return t.CertAddr }

// KeepsNext is publish_next.
func (t *TLSA) KeepsNext() bool { return t.PublishNext }

// Warnings: servers that lag, signatures gone, and a trust-anchor RRset
// that does not cover the CA the certificate is served with (it happens
// when a CA switches intermediates between renewals).
func (t *TLSA) Warnings() []providers.Warning {
	var out []providers.Warning
	if len(t.lagging) > 0 {
		out = append(out, providers.Warning{Summary: "not every authoritative server serves the primary's RRset",
			Detail: "Lagging: " + strings.Join(t.lagging, ", ") + ". A key rollover's wait counts only from when every server serves the new records."})
	}
	if t.shortSigned != "" {
		out = append(out, providers.Warning{Summary: "signatures expire before a rollover could finish",
			Detail: fmt.Sprintf("At %s %s. A key rollover's wait counts only from when the signatures outlive it; lengthen the signer's signature lifetime or refresh, or shorten rollover_wait.", t.Owner, t.shortSigned)})
	}
	if h := t.smtpHost(); t.notMX != "" {
		out = append(out, providers.Warning{Summary: h + " is not an MX host",
			Detail: fmt.Sprintf("Sending MTAs look for TLSA records only at the hosts the MX records name (RFC 7672 §2.2.2), and the managed zones' MX records name %s: %s is never consulted. Point the RRset at an MX host, or the MX at this host.", t.notMX, t.Owner)})
	}
	if zf, ok := t.Zone.(*ZoneFile); ok && len(zf.Nameservers) == 0 && t.observed != nil && !t.Settled() { // a rollover under way
		out = append(out, providers.Warning{Summary: "the wait counts from the zone file's write",
			Detail: fmt.Sprintf("dns_zone.%s has no nameservers, so trustform cannot see when the servers serve the new records of %s: rollover_wait counts from the write of the zone file. List the zone's servers in nameservers so that the wait counts from when every one of them serves them.", t.ZoneName, t.Owner)})
	}
	if t.observed == nil {
		return out
	}
	if t.observed["signed"].Str == "false" {
		out = append(out, providers.Warning{Summary: "no valid RRSIG",
			Detail: fmt.Sprintf("The zone requires DNSSEC, but the primary serves %s without a signature that stays valid for its TTL (or dnssec_min_validity) more, or no signed DNSKEY at the apex: has the zone's signing stopped?", t.Owner)})
	}
	if !t.TrustAnchor() {
		return out
	}
	published := t.observed["records"].List
	detail := ""
	if m := t.observed["served_match"].Str; strings.HasPrefix(m, "no") {
		detail = "The built-in DANE check: " + m + "."
	} else if ca := Pinned(t.Params[0], t.Certificate.KeyPlan().Live); ca != nil {
		if rec := certRecord(t.Params, ca); !slices.Contains(published, rec) {
			detail = fmt.Sprintf("%s is deployed with a chain issued by %q, whose record %q is not in the published RRset %q.",
				t.CertAddr.String(), ca.Subject.String(), rec, published)
		}
	}
	if detail != "" {
		out = append(out, providers.Warning{Summary: "the issuing CA in the served chain is not covered",
			Detail: detail + " DANE-TA clients reject the service until the CA's record is published; apply publishes it."})
	}
	return out
}

// Combine turns the records each resource should hold into one RRset per
// owner: their records, and the records of other parameters at that owner
// that none of them manages, as last observed.
func Combine(changes map[*TLSA][]string) []RRset {
	byOwner := map[string][]*TLSA{}
	for t := range changes {
		byOwner[t.Owner] = append(byOwner[t.Owner], t)
	}
	var out []RRset
	for _, owner := range slices.Sorted(maps.Keys(byOwner)) {
		ts := byOwner[owner]
		var records []string
		for _, t := range ts {
			records = append(records, changes[t]...)
			for _, o := range t.others {
				if !slices.ContainsFunc(ts, func(u *TLSA) bool { return u.owns(o) }) {
					records = append(records, o)
				}
			}
		}
		slices.Sort(records)
		out = append(out, RRset{Owner: owner, Type: mdns.TypeTLSA, TTL: ts[0].TTL, Records: slices.Compact(records)})
	}
	return out
}
