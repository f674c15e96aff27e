package dns

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

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
// updates the zone, questions are asked again. The transfer also answers
// what else a plan asks of the primary: the apex DNSKEY and its signature,
// the apex MX, the owners of addresses.

// snapshot is the zone as one transfer showed it.
type snapshot struct {
	serial uint32
	sets   map[string][]mdns.RR // by key (owner and type): the records and their RRSIGs
	hosts  []string             // owners of A and AAAA records
}

// answer is the snapshot's answer for owner and type t, as a query would
// give it.
func (z *snapshot) answer(owner string, t uint16) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(owner), t)
	m.Response, m.Authoritative = true, true
	m.Answer = z.sets[key(owner, t)]
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

// managed are the types whose RRsets trustform manages: a transfer keeps
// those (and their signatures), and leaves the rest of the zone.
func managed(t uint16) bool {
	return t == mdns.TypeTLSA || t == mdns.TypeTXT || t == mdns.TypeCAA
}

// atApex are the types a transfer keeps at the apex: what a plan asks of
// the zone besides the RRsets it manages.
func atApex(t uint16) bool { return t == mdns.TypeDNSKEY || t == mdns.TypeMX }

// transfer reads the zone from the primary by AXFR.
func (s *Server) transfer(ctx context.Context) (*snapshot, error) {
	rrs, err := s.axfr(ctx)
	if err != nil {
		return nil, err
	}
	z := &snapshot{sets: map[string][]mdns.RR{}}
	soa := false
	for _, rr := range rrs {
		t := rr.Header().Rrtype
		switch r := rr.(type) {
		case *mdns.SOA:
			z.serial, soa = r.Serial, true
		case *mdns.RRSIG:
			t = r.TypeCovered
		}
		if managed(t) || (atApex(t) && strings.EqualFold(rr.Header().Name, s.Origin)) {
			k := key(rr.Header().Name, t)
			z.sets[k] = append(z.sets[k], rr)
		}
	}
	if !soa {
		return nil, fmt.Errorf("zone %s: transfer from %s had no SOA", s.Origin, s.Primary)
	}
	z.hosts = addressOwners(rrs)
	return z, nil
}

// atSerial reports whether ns serves the zone at serial or later, asking
// its SOA once per run (the first of the parallel observers asks); a
// server that does not answer is not.
func (s *Server) atSerial(ctx context.Context, ns string, serial uint32) bool {
	s.serialAsk.Lock()
	defer s.serialAsk.Unlock()
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

// forgetTransfer drops the snapshot: the zone is changing. It waits for
// a transfer under way, which would otherwise store the zone as it was
// before the change after this has run.
func (s *Server) forgetTransfer() {
	s.xfr.Lock()
	defer s.xfr.Unlock()
	s.mu.Lock()
	s.transferTried, s.snap, s.serials = true, nil, nil
	s.prefetchDone, s.pre = true, nil
	s.mu.Unlock()
}

// Without a transfer, the questions of a run are asked together: every
// RRset the configuration expects in the zone (Expect), of every server,
// with up to Window of them in flight, apart from -parallelism, which
// bounds the resources observed at once. DNS questions are small and a
// server answers thousands a second; the round trip is the cost.

// Window is how many DNS questions a zone has in flight at once.
const Window = 256

// Expect names an RRset the configuration manages in the zone, so that the
// first observation fetches it with the others.
func (s *Server) Expect(owner string, t uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expected = append(s.expected, question{strings.ToLower(mdns.Fqdn(owner)), t})
}

// question is an RRset asked for: owner and type.
type question struct {
	owner string
	t     uint16
}

// prefetched takes the answer of ns for owner and type t fetched with the
// others, if any: each is used once, later observations (after an update)
// ask again.
func (s *Server) prefetched(ctx context.Context, ns, owner string, t uint16) *mdns.Msg {
	s.prefetch(ctx)
	k := ns + " " + key(owner, t)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.pre[k]
	delete(s.pre, k)
	return r
}

// prefetch asks every expected question of every server, once per run
// and only when the zone was not transferred.
func (s *Server) prefetch(ctx context.Context) {
	s.xfr.Lock()
	defer s.xfr.Unlock()
	s.mu.Lock()
	skip := s.prefetchDone || !s.transferTried || s.snap != nil || len(s.expected) < 2
	questions := s.expected
	if !skip {
		s.prefetchDone = true
	}
	s.mu.Unlock()
	if skip {
		return
	}
	servers, err := s.nameservers(ctx)
	if err != nil {
		return // the questions are asked one by one, and fail there
	}
	servers = append([]string{s.Primary}, servers...)
	pre := map[string]*mdns.Msg{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	window := make(chan struct{}, Window)
	for _, ns := range slices.Compact(servers) {
		for _, q := range questions {
			window <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-window; wg.Done() }()
				if r, err := s.query(ctx, ns, q.owner, q.t); err == nil {
					mu.Lock()
					pre[ns+" "+key(q.owner, q.t)] = r
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	s.mu.Lock()
	s.pre = pre
	s.mu.Unlock()
}
