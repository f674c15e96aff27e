package dns

import (
	"context"
	"fmt"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// A plan reads every TLSA RRset of a zone: thousands of questions, each a
// round trip to the primary and to every other authoritative server. Where
// the primary allows the zone's TSIG key a transfer, one AXFR answers all
// of them, and each other server is asked its SOA serial once: a server at
// or past the transferred serial serves what the transfer showed (RFC 1982
// arithmetic; with inline signing, primary and secondaries share the
// signed serial). A refused transfer, or a server behind it, falls back to
// the question per RRset. The transfer is read once per run: once the run
// updates the zone, questions are asked again.

// snapshot is the zone as one transfer showed it.
type snapshot struct {
	serial uint32
	tlsa   map[string][]mdns.RR // lowercased owner: its TLSA records and their RRSIGs
}

// answer is the snapshot's answer for owner, as a query would give it.
func (z *snapshot) answer(owner string) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(owner), mdns.TypeTLSA)
	m.Response, m.Authoritative = true, true
	m.Answer = z.tlsa[strings.ToLower(mdns.Fqdn(owner))]
	return m
}

// transferred is the run's snapshot of the zone, transferring it on first
// use; nil when the primary refuses or the run has updated the zone.
func (s *Server) transferred(ctx context.Context) *snapshot {
	s.xfr.Lock() // the first caller transfers; parallel observers wait for it
	defer s.xfr.Unlock()
	s.mu.Lock()
	tried, z := s.transferTried, s.snap
	s.mu.Unlock()
	if tried {
		return z
	}
	z, err := s.transfer(ctx)
	s.mu.Lock()
	s.transferTried, s.snap, s.transferErr = true, z, err
	s.mu.Unlock()
	return z
}

// TransferError is why the zone was observed without a transfer (refused,
// failed), or nil.
func (s *Server) TransferError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transferErr
}

// transfer reads the zone from the primary by AXFR, signed with the TSIG key.
func (s *Server) transfer(ctx context.Context) (*snapshot, error) {
	m := new(mdns.Msg)
	m.SetAxfr(s.Origin)
	m.SetTsig(s.KeyName, s.Algorithm, 300, time.Now().Unix())
	tr := &mdns.Transfer{DialTimeout: s.timeout(), ReadTimeout: 4 * s.timeout(), TsigSecret: map[string]string{s.KeyName: s.Secret}}
	ch, err := tr.In(m, s.Primary)
	if err != nil {
		return nil, fmt.Errorf("zone %s: transfer from %s: %w", s.Origin, s.Primary, err)
	}
	z := &snapshot{tlsa: map[string][]mdns.RR{}}
	soa := false
	for env := range ch {
		if env.Error != nil {
			for range ch { // drain: the transfer goroutine ends
			}
			return nil, fmt.Errorf("zone %s: transfer from %s: %w", s.Origin, s.Primary, env.Error)
		}
		for _, rr := range env.RR {
			switch r := rr.(type) {
			case *mdns.SOA:
				z.serial, soa = r.Serial, true
			case *mdns.TLSA:
				owner := strings.ToLower(r.Hdr.Name)
				z.tlsa[owner] = append(z.tlsa[owner], r)
			case *mdns.RRSIG:
				if r.TypeCovered == mdns.TypeTLSA {
					owner := strings.ToLower(r.Hdr.Name)
					z.tlsa[owner] = append(z.tlsa[owner], r)
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !soa {
		return nil, fmt.Errorf("zone %s: transfer from %s had no SOA", s.Origin, s.Primary)
	}
	return z, nil
}

// atSerial reports whether ns serves the zone at serial or later, asking
// its SOA once per run; a server that does not answer is not.
func (s *Server) atSerial(ctx context.Context, ns string, serial uint32) bool {
	s.mu.Lock()
	got, asked := s.serials[ns]
	s.mu.Unlock()
	if !asked {
		got = nil
		if r, err := s.query(ctx, ns, s.Origin, mdns.TypeSOA); err == nil {
			for _, rr := range r.Answer {
				if soa, ok := rr.(*mdns.SOA); ok {
					v := soa.Serial
					got = &v
				}
			}
		}
		s.mu.Lock()
		if s.serials == nil {
			s.serials = map[string]*uint32{}
		}
		s.serials[ns] = got
		s.mu.Unlock()
	}
	return got != nil && int32(*got-serial) >= 0
}

// forgetTransfer drops the snapshot: the zone is changing.
func (s *Server) forgetTransfer() {
	s.mu.Lock()
	s.transferTried, s.snap, s.serials = true, nil, nil
	s.mu.Unlock()
}
