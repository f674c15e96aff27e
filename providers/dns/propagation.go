package dns

import (
	"context"
	"fmt"
	"net"
	"slices"
	"time"

	mdns "github.com/miekg/dns"
)

// Propagation asks every authoritative server for the RRset at owner: the
// records all of them serve (each with an RRSIG when the zone requires
// DNSSEC) and the servers that do not serve the primary's RRset. With
// inline signing the signed serial differs from the unsigned one, so
// RRsets are compared, not serials.
func (s *Server) Propagation(ctx context.Context, owner string, t uint16) (Served, error) {
	servers, err := s.nameservers(ctx)
	if err != nil {
		return Served{}, err
	}
	primary, err := s.primaryAnswer(ctx, owner, t)
	if err != nil {
		return Served{}, err
	}
	s.mu.Lock()
	z := s.snap
	s.mu.Unlock()
	c := served{want: Presentation(recordsOf(primary, owner, t)), owner: owner, t: t, signed: s.RequireDNSSEC, min: s.MinValidity}
	c.Visible = c.want
	for _, ns := range servers {
		r, err := primary, error(nil)
		// The primary's answer is already here, and a server at the
		// transferred serial serves the same (transfer.go).
		if ns != s.Primary && (z == nil || !s.atSerial(ctx, ns, z.serial)) {
			if r = s.prefetched(ctx, ns, owner, t); r == nil {
				r, err = s.query(ctx, ns, owner, t)
			}
		}
		c.add(ns, r, err)
	}
	return c.Served, nil
}

// served gathers the servers' answers for one RRset into a Served.
type served struct {
	Served
	want   []string // the records the primary or the API holds
	owner  string
	t      uint16
	signed bool          // the zone requires DNSSEC
	min    time.Duration // dnssec_min_validity
}

// add counts server ns's answer r (or its error).
func (c *served) add(ns string, r *mdns.Msg, err error) {
	if err != nil {
		c.Lagging = append(c.Lagging, ns+" (no answer)")
		c.Servers = append(c.Servers, ServerAnswer{Server: ns, Err: "no answer"})
		c.Visible = nil
		return
	}
	got := Presentation(recordsOf(r, c.owner, c.t))
	answer := ServerAnswer{Server: ns, Records: got}
	if c.signed && len(got) > 0 {
		if !hasRRSIG(r, c.t, c.min) {
			c.Lagging = append(c.Lagging, ns+" (no RRSIG)")
			c.Servers = append(c.Servers, ServerAnswer{Server: ns, Records: got, Err: "no RRSIG"})
			c.Visible = nil
			return
		}
		answer.SignedUntil = signedUntil(r, c.t)
		if c.SignedUntil.IsZero() || answer.SignedUntil.Before(c.SignedUntil) {
			c.SignedUntil = answer.SignedUntil
		}
	}
	c.Servers = append(c.Servers, answer)
	if !slices.Equal(got, c.want) {
		c.Lagging = append(c.Lagging, ns)
	}
	c.Visible = intersect(c.Visible, got)
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// nameservers is the configured list, or the zone's NS names resolved to
// every IPv4 and IPv6 address, on port 53.
func (s *Server) nameservers(ctx context.Context) ([]string, error) {
	if len(s.Nameservers) > 0 {
		return s.Nameservers, nil
	}
	r, err := s.query(ctx, s.Primary, s.Origin, mdns.TypeNS)
	if err != nil {
		return nil, err
	}
	return resolveNS(ctx, s.Origin, r.Answer)
}

// resolveNS resolves a zone's NS records (the runner's resolver) to every
// IPv4 and IPv6 address of each, on port 53.
func resolveNS(ctx context.Context, origin string, rrs []mdns.RR) ([]string, error) {
	var out []string
	for _, rr := range rrs {
		ns, ok := rr.(*mdns.NS)
		if !ok {
			continue
		}
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, ns.Ns)
		if err != nil {
			return nil, fmt.Errorf("zone %s: resolving its nameserver %s: %w (set nameservers to list them)", origin, ns.Ns, err)
		}
		for _, a := range addrs {
			out = append(out, net.JoinHostPort(a.IP.String(), "53"))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("zone %s: no nameservers are listed; set nameservers", origin)
	}
	return out, nil
}

// Propagation for a zone file: with Nameservers, the records every one of
// them serves of what the file holds (after reload_command, a server
// loads the file; secondaries follow by NOTIFY and transfer), and those
// that serve something else; without, what the file holds is taken as
// served (the plan says so: see TLSA.Warnings).
func (z *ZoneFile) Propagation(ctx context.Context, owner string, t uint16) (Served, error) {
	rrs, err := z.RRset(ctx, owner, t)
	if err != nil {
		return Served{}, err
	}
	c := served{want: Presentation(rrs), owner: owner, t: t}
	c.Visible = c.want
	for _, ns := range z.Nameservers {
		r, err := ask(ctx, ns, owner, t, 2*time.Second)
		c.add(ns, r, err)
	}
	return c.Served, nil
}

// Signed cannot be told from a zone file; the schema refuses require_dnssec
// for zone files.
func (z *ZoneFile) KeysSigned(ctx context.Context) (bool, error) { return z.Signed(ctx, "", 0) }

func (z *ZoneFile) Signed(context.Context, string, uint16) (bool, error) {
	return false, fmt.Errorf("zone %s: a zone file cannot be checked for DNSSEC signatures; require_dnssec needs a server", z.Origin)
}

// ChainValid: a zone file is not required to be signed (see Signed), so
// its chain is not checked.
func (z *ZoneFile) ChainValid(context.Context) (bool, error) { return false, nil }

// TXTServed asks every authoritative server for the TXT RRset at fqdn and
// returns those that do not serve value in it yet (an ACME dns-01
// challenge): what the CA may ask, it must find everywhere.
func (s *Server) TXTServed(ctx context.Context, fqdn, value string) (lagging []string, err error) {
	servers, err := s.nameservers(ctx)
	if err != nil {
		return nil, err
	}
	for _, ns := range servers {
		r, err := s.query(ctx, ns, fqdn, mdns.TypeTXT)
		if err != nil {
			lagging = append(lagging, ns+" (no answer)")
			continue
		}
		if !servesTXT(r, fqdn, value) {
			lagging = append(lagging, ns)
		}
	}
	return lagging, nil
}

// Apex is the zone's name, fully qualified.
func (s *Server) Apex() string { return s.Origin }
