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

// txtEditor adds and removes challenge values, gathering the edits that
// orders issued side by side make at about the same time (a fleet's
// renewals in one apply) into one Update: one transaction, and one
// propagation for every order to wait for, instead of one each, in turn.
// Two orders for one name (a wildcard and its apex) share the RRset.
type txtEditor struct {
	mu      sync.Mutex
	pending []*txtEdit
	leading bool // an edit is gathering the others, or writing them
}

// txtEdit is one challenge value to add or remove, and its outcome.
type txtEdit struct {
	fqdn, value string
	add         bool
	done        chan error
}

// gatherQuiet is how long the first edit waits for another one before it
// writes; gatherMax bounds the whole gathering. Orders started together
// reach their challenge within a few CA round trips of each other.
const (
	gatherQuiet = 150 * time.Millisecond
	gatherMax   = time.Second
)

func (e *txtEditor) edit(ctx context.Context, z Zone, fqdn, value string, add bool) error {
	ed := &txtEdit{strings.ToLower(mdns.Fqdn(fqdn)), value, add, make(chan error, 1)}
	e.mu.Lock()
	e.pending = append(e.pending, ed)
	lead := !e.leading
	e.leading = true
	e.mu.Unlock()
	if lead {
		e.lead(ctx, z)
	}
	return <-ed.done
}

// lead gathers edits until none has come for gatherQuiet, and writes them
// in one Update. Edits that came meanwhile get a leader of their own, so
// that the order of this one goes on.
func (e *txtEditor) lead(ctx context.Context, z Zone) {
	start, seen := time.Now(), 0
	for {
		e.mu.Lock()
		n := len(e.pending)
		e.mu.Unlock()
		if n == seen && seen > 0 || time.Since(start) > gatherMax || ctx.Err() != nil {
			break
		}
		seen = n
		time.Sleep(gatherQuiet)
	}
	e.mu.Lock()
	batch := e.pending
	e.pending = nil
	e.mu.Unlock()
	err := writeTXT(ctx, z, batch)
	for _, ed := range batch {
		ed.done <- err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.pending) == 0 {
		e.leading = false
		return
	}
	go e.lead(ctx, z)
}

// writeTXT applies edits to the TXT RRsets they name, as the zone serves
// them now, in one Update.
func writeTXT(ctx context.Context, z Zone, edits []*txtEdit) error {
	records := map[string][]string{}
	var owners []string
	for _, ed := range edits {
		if _, ok := records[ed.fqdn]; ok {
			continue
		}
		rrs, err := z.RRset(ctx, ed.fqdn, mdns.TypeTXT)
		if err != nil {
			return err
		}
		records[ed.fqdn], owners = Presentation(rrs), append(owners, ed.fqdn)
	}
	changed := map[string]bool{}
	for _, ed := range edits {
		rec, have := `"`+ed.value+`"`, records[ed.fqdn]
		switch has := slices.Contains(have, rec); {
		case ed.add && !has:
			records[ed.fqdn], changed[ed.fqdn] = append(have, rec), true
		case !ed.add && has:
			records[ed.fqdn], changed[ed.fqdn] = slices.DeleteFunc(have, func(r string) bool { return r == rec }), true
		}
	}
	var sets []RRset
	for _, o := range owners {
		if changed[o] {
			slices.Sort(records[o])
			sets = append(sets, RRset{Owner: o, Type: mdns.TypeTXT, TTL: challengeTTL, Records: records[o]})
		}
	}
	if len(sets) == 0 {
		return nil
	}
	return z.Update(ctx, sets)
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
