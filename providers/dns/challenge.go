package dns

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// What dns-01 asks of a zone (acme.TXTZone): its challenge values added to
// and taken from TXT RRsets through the zone's own Update, so that every
// backend that serves TLSA serves issuance too.

// challengeTTL is the TTL of a challenge's TXT RRset: short, it is gone
// within minutes.
const challengeTTL = 60

// txtEditor adds and removes challenge values one at a time: two orders
// for one name (a wildcard and its apex) share the RRset.
type txtEditor struct{ mu sync.Mutex }

func (e *txtEditor) edit(ctx context.Context, z Zone, fqdn, value string, add bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	rrs, err := z.RRset(ctx, fqdn, mdns.TypeTXT)
	if err != nil {
		return err
	}
	records, rec := Presentation(rrs), `"`+value+`"`
	switch has := slices.Contains(records, rec); {
	case add && has, !add && !has:
		return nil
	case add:
		records = append(records, rec)
	default:
		records = slices.DeleteFunc(records, func(r string) bool { return r == rec })
	}
	slices.Sort(records)
	return z.Update(ctx, []RRset{{Owner: strings.ToLower(mdns.Fqdn(fqdn)), Type: mdns.TypeTXT, TTL: challengeTTL, Records: records}})
}

// AddTXT publishes a dns-01 challenge value at fqdn.
func (s *Server) AddTXT(ctx context.Context, fqdn, value string) error {
	return s.txt.edit(ctx, s, fqdn, value, true)
}

// RemoveTXT takes a dns-01 challenge value out of fqdn's TXT RRset.
func (s *Server) RemoveTXT(ctx context.Context, fqdn, value string) error {
	return s.txt.edit(ctx, s, fqdn, value, false)
}

// AddTXT publishes a dns-01 challenge value at fqdn in the zone file (and
// runs its reload_command).
func (z *ZoneFile) AddTXT(ctx context.Context, fqdn, value string) error {
	return z.txt.edit(ctx, z, fqdn, value, true)
}

// RemoveTXT takes a dns-01 challenge value out of fqdn's TXT RRset.
func (z *ZoneFile) RemoveTXT(ctx context.Context, fqdn, value string) error {
	return z.txt.edit(ctx, z, fqdn, value, false)
}

// Apex is the zone's name, fully qualified.
func (z *ZoneFile) Apex() string { return z.Origin }

// TXTServed: with nameservers, those that do not serve value at fqdn yet;
// without, the file is what is served once reload_command has run.
func (z *ZoneFile) TXTServed(ctx context.Context, fqdn, value string) (lagging []string, err error) {
	for _, ns := range z.Nameservers {
		r, err := ask(ctx, ns, fqdn, mdns.TypeTXT, 2*time.Second)
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

// servesTXT reports whether an answer holds value in the TXT RRset at fqdn.
func servesTXT(r *mdns.Msg, fqdn, value string) bool {
	for _, rr := range recordsOf(r, fqdn, mdns.TypeTXT) {
		if strings.Join(rr.(*mdns.TXT).Txt, "") == value {
			return true
		}
	}
	return false
}
