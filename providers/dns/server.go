package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/netpolicy"
)

// MaxMessage is the largest DNS message (RFC 1035 over TCP: 64 KiB).
const MaxMessage = 65535

// Server is a zone on an RFC 2136 primary, changed with TSIG-signed UPDATE
// messages. Every update carries prerequisites that the RRsets are still what
// was observed, so a concurrent edit makes it fail instead of being overwritten.
type Server struct {
	Origin    string // fully qualified
	Primary   string // host:port
	KeyName   string // TSIG key name, fully qualified
	Algorithm string // TSIG algorithm, e.g. mdns.HmacSHA256
	Secret    string // base64; never logged
	// Nameservers are the authoritative servers (host:port) checked for
	// propagation; empty means the zone's NS names, resolved, on port 53.
	Nameservers   []string
	RequireDNSSEC bool
	// MinValidity is how long an RRSIG must still be valid to count, where
	// longer than the RRset's TTL (dnssec_min_validity); 0: the TTL.
	MinValidity time.Duration
	Timeout     time.Duration // per exchange; default 2s
	// Chain is the chain of trust checked before anything is published
	// (nil: none).
	Chain *Chain
	// Resolver (host:port) answers for names above the zone (CAA up the
	// tree); default the system's.
	Resolver string

	mu       sync.Mutex
	observed map[string][]mdns.RR // key (owner, type) -> RRset as last seen at the primary
	answers  map[string]*mdns.Msg // key -> the primary's last answer, reused by Propagation and Signed
	apexKey  askedOnce[bool]      // whether the apex DNSKEY is signed
	mx       askedOnce[[]string]  // the apex MX targets
	chain    askedOnce[error]     // ChainValid's verdict
	// The run's zone transfer (transfer.go).
	xfr           sync.Mutex
	transferTried bool
	snap          *snapshot
	transferErr   error
	serials       map[string]*uint32 // nameserver -> its SOA serial, nil when it did not answer
	serialAsk     sync.Mutex         // held while a serial is asked
	expected      []question         // RRsets the configuration manages (Expect)
	prefetchDone  bool
	pre           map[string]*mdns.Msg // "server key" -> its answer, asked together (prefetch)
	txt           txtEditor            // dns-01 challenge values (challenge.go)
}

var _ Zone = (*Server)(nil)

func (s *Server) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 2 * time.Second
}

// query asks addr for owner/qtype with EDNS DO, over UDP with TCP fallback
// on truncation.
func (s *Server) query(ctx context.Context, addr, owner string, qtype uint16) (*mdns.Msg, error) {
	return ask(ctx, addr, owner, qtype, s.timeout())
}

// ask sends one query (with EDNS0 and the DO bit, over TCP when the answer
// is truncated); NXDOMAIN is an answer, other failures are errors.
func ask(ctx context.Context, addr, owner string, qtype uint16, timeout time.Duration) (*mdns.Msg, error) {
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(owner), qtype)
	m.SetEdns0(4096, true)
	c := &mdns.Client{Net: "udp", Timeout: timeout, UDPSize: 4096, Dialer: netpolicy.Dialer(&net.Dialer{Timeout: timeout})}
	r, _, err := c.ExchangeContext(ctx, m, addr)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.ExchangeContext(ctx, m, addr)
	}
	if err != nil {
		slog.Debug("dns: question", "owner", owner, "type", mdns.TypeToString[qtype], "server", addr, "error", err)
		return nil, fmt.Errorf("query %s %s at %s: %w", owner, mdns.TypeToString[qtype], addr, err)
	}
	slog.Debug("dns: question", "owner", owner, "type", mdns.TypeToString[qtype], "server", addr, "rcode", mdns.RcodeToString[r.Rcode], "answers", len(r.Answer))
	if r.Rcode != mdns.RcodeSuccess && r.Rcode != mdns.RcodeNameError {
		return nil, fmt.Errorf("query %s at %s: %s", owner, addr, mdns.RcodeToString[r.Rcode])
	}
	return r, nil
}

// RRset returns the RRset of type t at owner as the primary serves it, and
// remembers it as the prerequisite of the next update.
func (s *Server) RRset(ctx context.Context, owner string, t uint16) ([]mdns.RR, error) {
	var r *mdns.Msg
	if z := s.transferred(ctx); z != nil {
		r = z.answer(owner, t)
	} else if r = s.prefetched(ctx, s.Primary, owner, t); r == nil {
		var err error
		if r, err = s.query(ctx, s.Primary, owner, t); err != nil {
			return nil, err
		}
	}
	out := recordsOf(r, owner, t)
	rrs := make([]mdns.RR, len(out))
	for i, rr := range out {
		rrs[i] = mdns.Copy(rr)
	}
	s.mu.Lock()
	if s.observed == nil {
		s.observed, s.answers = map[string][]mdns.RR{}, map[string]*mdns.Msg{}
	}
	s.observed[key(owner, t)] = rrs
	s.answers[key(owner, t)] = r
	s.mu.Unlock()
	return out, nil
}

// MX lists the targets of the apex MX RRset as the primary serves it
// (asked once per run).
func (s *Server) MX(ctx context.Context) ([]string, error) {
	return s.mx.get(func() ([]string, error) {
		r, err := s.primaryApex(ctx, mdns.TypeMX)
		if err != nil {
			return nil, err
		}
		return mxTargets(r.Answer, s.Origin), nil
	})
}

// primaryApex is the primary's answer for the apex RRset of type t: from
// the run's transfer when there is one, else asked.
func (s *Server) primaryApex(ctx context.Context, t uint16) (*mdns.Msg, error) {
	if z := s.transferred(ctx); z != nil {
		return z.answer(s.Origin, t), nil
	}
	return s.query(ctx, s.Primary, s.Origin, t)
}

// Hosts lists the owners of A and AAAA records in a zone transfer (AXFR)
// from the primary, signed with the zone's TSIG key: the run's transfer
// when there is one.
func (s *Server) Hosts(ctx context.Context) ([]string, error) {
	if z := s.transferred(ctx); z != nil {
		return z.hosts, nil
	}
	if err := s.TransferError(); err != nil {
		return nil, err // refused once this run: not asked again
	}
	rrs, err := s.axfr(ctx)
	if err != nil {
		return nil, err
	}
	return addressOwners(rrs), nil
}

// Records transfers the zone from the primary.
func (s *Server) Records(ctx context.Context) ([]string, error) {
	rrs, err := s.axfr(ctx)
	return presentation(rrs), err
}

// axfr transfers the zone from the primary, signed with the TSIG key.
func (s *Server) axfr(ctx context.Context) ([]mdns.RR, error) {
	m := new(mdns.Msg)
	m.SetAxfr(s.Origin)
	m.SetTsig(s.KeyName, s.Algorithm, 300, time.Now().Unix())
	conn, err := netpolicy.Dialer(&net.Dialer{Timeout: s.timeout()}).DialContext(ctx, "tcp", s.Primary)
	if err != nil {
		return nil, fmt.Errorf("zone %s: transfer from %s: %w", s.Origin, s.Primary, err)
	}
	tr := &mdns.Transfer{Conn: &mdns.Conn{Conn: conn}, DialTimeout: s.timeout(), ReadTimeout: 4 * s.timeout(), TsigSecret: map[string]string{s.KeyName: s.Secret}}
	ch, err := tr.In(m, s.Primary)
	if err != nil {
		return nil, fmt.Errorf("zone %s: transfer from %s: %w", s.Origin, s.Primary, err)
	}
	var rrs []mdns.RR
	for env := range ch {
		if env.Error != nil {
			for range ch { // drain: the transfer's goroutine ends
			}
			return nil, fmt.Errorf("zone %s: transfer from %s: %w", s.Origin, s.Primary, env.Error)
		}
		rrs = append(rrs, env.RR...)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	slog.Debug("dns: zone transfer", "zone", s.Origin, "server", s.Primary, "records", len(rrs))
	return rrs, nil
}

// primaryAnswer is the primary's answer for owner and type t from the
// last RRset call, or a fresh one.
func (s *Server) primaryAnswer(ctx context.Context, owner string, t uint16) (*mdns.Msg, error) {
	s.mu.Lock()
	r := s.answers[key(owner, t)]
	s.mu.Unlock()
	if r != nil {
		return r, nil
	}
	return s.query(ctx, s.Primary, owner, t)
}

// Signed reports whether the primary serves a DNSKEY at the apex and an
// RRSIG over the RRset of type t at owner that stays valid long enough
// (hasRRSIG).
func (s *Server) Signed(ctx context.Context, owner string, t uint16) (bool, error) {
	r, err := s.primaryAnswer(ctx, owner, t)
	if err != nil {
		return false, err
	}
	if !hasRRSIG(r, t, s.MinValidity) {
		return false, nil
	}
	return s.KeysSigned(ctx)
}

// KeysSigned reports whether the primary serves the apex DNSKEY RRset
// with a valid RRSIG (asked once per run).
func (s *Server) KeysSigned(ctx context.Context) (bool, error) {
	return s.apexKey.get(func() (bool, error) {
		k, err := s.primaryApex(ctx, mdns.TypeDNSKEY)
		if err != nil {
			return false, err
		}
		return hasRRSIG(k, mdns.TypeDNSKEY, 0), nil
	})
}

// ChainValid checks the chain of trust down to the zone, once per run.
func (s *Server) ChainValid(ctx context.Context) (bool, error) {
	return chainValid(ctx, s.Chain, s.Origin, s.MinValidity, &s.chain)
}

// hasRRSIG reports a signature over covered that stays valid for min more,
// and at least for the RRset's TTL (its original TTL): a validating
// resolver that caches the RRset must not hold an expired signature. A
// signer re-signs on its own schedule (BIND two weeks ahead, Knot hours
// before expiry by default): only a signature about to expire within the
// TTL means its signing has stopped; dnssec_min_validity asks for more.
func hasRRSIG(r *mdns.Msg, covered uint16, min time.Duration) bool {
	for _, rr := range r.Answer {
		sig, ok := rr.(*mdns.RRSIG)
		if !ok || sig.TypeCovered != covered {
			continue
		}
		margin := max(min, time.Duration(sig.OrigTtl)*time.Second)
		if sig.ValidityPeriod(time.Now()) && sig.ValidityPeriod(time.Now().Add(margin)) {
			return true
		}
	}
	return false
}

// signedUntil is when the latest signature over covered that is valid now
// expires; zero when none is.
func signedUntil(r *mdns.Msg, covered uint16) time.Time {
	now := time.Now()
	var until time.Time
	for _, rr := range r.Answer {
		sig, ok := rr.(*mdns.RRSIG)
		if !ok || sig.TypeCovered != covered || !sig.ValidityPeriod(now) {
			continue
		}
		// RFC 4034 §3.1.5: serial arithmetic on the 32-bit time.
		left := time.Duration(int32(sig.Expiration-uint32(now.Unix()))) * time.Second
		if t := now.Add(left).Truncate(time.Second); t.After(until) {
			until = t
		}
	}
	return until
}

// Update sends the RRsets in as few UPDATE messages as fit in 64 KiB (one,
// unless there are thousands), each atomic on the server.
func (s *Server) Update(ctx context.Context, sets []RRset) error {
	msgs, err := s.messages(sets)
	if err != nil {
		return err
	}
	s.forgetTransfer()
	s.mu.Lock()
	for _, set := range sets { // what was read before this write is stale now
		delete(s.answers, key(set.Owner, set.Type))
	}
	s.mu.Unlock()
	for i, m := range msgs {
		if err := s.send(ctx, m.msg); err != nil {
			if len(msgs) > 1 {
				return fmt.Errorf("UPDATE %d of %d (the %d before it were applied): %w", i+1, len(msgs), i, err)
			}
			return err
		}
		// The primary serves what it accepted before the next message,
		// and before Update returns (a read after it sees the write).
		s.awaitServed(ctx, m.last)
	}
	return nil
}

// awaitServed waits (up to 10s) until the primary serves set. With inline
// signing (BIND) the signed zone follows an accepted UPDATE a moment
// later, the larger the change the later: a question asked at once gets
// the zone as it was. BIND 9.18 can also leave changes of back-to-back
// UPDATEs out of the signed zone; pacing the messages of a large change
// avoids that.
func (s *Server) awaitServed(ctx context.Context, set RRset) {
	// As Presentation gives them: TLSA hex in lower case, the other
	// types' data as written (a TXT record's case is its value).
	want, err := set.toRRs()
	if err != nil {
		return
	}
	wanted := Presentation(want)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if r, err := s.query(ctx, s.Primary, set.Owner, set.Type); err == nil && slices.Equal(Presentation(recordsOf(r, set.Owner, set.Type)), wanted) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// update is one UPDATE message and the last RRset it carries.
type update struct {
	msg  *mdns.Msg
	last RRset
}

// messages packs the changes into UPDATE messages: per RRset, a prerequisite
// that it is as observed, a delete of the RRset and the new records.
func (s *Server) messages(sets []RRset) ([]update, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var msgs []update
	m := s.newMsg()
	var last RRset
	for _, set := range sets {
		owner := strings.ToLower(mdns.Fqdn(set.Owner))
		seen, ok := s.observed[key(owner, set.Type)]
		if !ok {
			return nil, fmt.Errorf("%s %s was not observed before the update; run plan again", owner, mdns.TypeToString[set.Type])
		}
		records, err := set.toRRs()
		if err != nil {
			return nil, err
		}
		before := len(m.Answer)
		addSet(m, owner, set.Type, seen, records)
		if m.Len() > MaxMessage-128 && before > 0 { // leave room for the TSIG record
			m.Answer, m.Ns = m.Answer[:before], m.Ns[:len(m.Ns)-1-len(records)]
			msgs = append(msgs, update{m, last})
			m = s.newMsg()
			addSet(m, owner, set.Type, seen, records)
		}
		last = set
	}
	if len(m.Ns) > 0 || len(m.Answer) > 0 {
		msgs = append(msgs, update{m, last})
	}
	return msgs, nil
}

func (s *Server) newMsg() *mdns.Msg {
	m := new(mdns.Msg)
	m.SetUpdate(s.Origin)
	m.Compress = true
	return m
}

// addSet adds one RRset's prerequisite and update to m. The update section
// gets one "delete RRset" and then every record, so a set appends exactly
// 1+len(records) entries to m.Ns.
func addSet(m *mdns.Msg, owner string, t uint16, seen []mdns.RR, records []mdns.RR) {
	empty := []mdns.RR{&mdns.ANY{Hdr: mdns.RR_Header{Name: owner, Rrtype: t}}}
	if len(seen) == 0 {
		m.RRsetNotUsed(empty)
	} else {
		prereq := make([]mdns.RR, len(seen))
		for i, rr := range seen {
			prereq[i] = mdns.Copy(rr)
		}
		m.Used(prereq)
	}
	m.RemoveRRset(empty)
	m.Insert(records)
}

// send signs and sends one UPDATE over TCP and turns the answer into an error
// that names the zone and says what to do.
func (s *Server) send(ctx context.Context, m *mdns.Msg) error {
	m.SetTsig(s.KeyName, s.Algorithm, 300, time.Now().Unix())
	c := &mdns.Client{Net: "tcp", Timeout: s.timeout(), TsigSecret: map[string]string{s.KeyName: s.Secret}, Dialer: netpolicy.Dialer(&net.Dialer{Timeout: s.timeout()})}
	r, _, err := c.ExchangeContext(ctx, m, s.Primary)
	owners := updatedOwners(m)
	if err == nil {
		slog.Info("dns: update", "zone", s.Origin, "server", s.Primary, "owners", owners, "rcode", mdns.RcodeToString[r.Rcode])
	} else {
		slog.Info("dns: update", "zone", s.Origin, "server", s.Primary, "owners", owners, "error", err)
	}
	var netErr net.Error
	switch {
	case errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("zone %s: no answer from %s within %s to the UPDATE of %s; it may or may not have been applied: run plan again to see", s.Origin, s.Primary, s.timeout(), owners)
	case errors.Is(err, mdns.ErrSig) || errors.Is(err, mdns.ErrAuth) || errors.Is(err, mdns.ErrKeyAlg):
		// The server answers BADSIG/BADKEY unsigned, which the client sees as a failed verification.
		return fmt.Errorf("zone %s: %s rejected TSIG key %s (BADSIG or BADKEY: the secret, key name or algorithm does not match the server's); nothing was changed", s.Origin, s.Primary, s.KeyName)
	case err != nil:
		return fmt.Errorf("zone %s: UPDATE of %s at %s: %w", s.Origin, owners, s.Primary, err)
	}
	if t := r.IsTsig(); t != nil && t.Error != mdns.RcodeSuccess {
		return fmt.Errorf("zone %s: %s refused TSIG key %s: %s (%s); nothing was changed", s.Origin, s.Primary, s.KeyName,
			mdns.RcodeToString[int(t.Error)], tsigHint(int(t.Error)))
	}
	switch r.Rcode {
	case mdns.RcodeSuccess:
		return nil
	case mdns.RcodeYXRrset, mdns.RcodeNXRrset, mdns.RcodeYXDomain, mdns.RcodeNameError:
		return fmt.Errorf("zone %s: prerequisite failed (%s): the records at %s changed since trustform observed them, someone else edited the zone; nothing was written: run plan again",
			s.Origin, mdns.RcodeToString[r.Rcode], owners)
	case mdns.RcodeRefused:
		return fmt.Errorf("zone %s: %s REFUSED the UPDATE of %s; nothing was changed. What a server means by it: BIND, that its update-policy does not grant key %s these names; PowerDNS, that the TSIG signature did not verify (a wrong secret) or that the zone's TSIG-ALLOW-DNSUPDATE does not name the key, or dnsupdate is off; Knot, that its ACL does not allow the key to update. The server's log says which", s.Origin, s.Primary, owners, s.KeyName)
	case mdns.RcodeNotAuth:
		return fmt.Errorf("zone %s: %s answered NOTAUTH: it is not authoritative for the zone, or rejected key %s; nothing was changed", s.Origin, s.Primary, s.KeyName)
	case mdns.RcodeNotZone:
		return fmt.Errorf("zone %s: %s answered NOTZONE: %s is outside the zone", s.Origin, s.Primary, owners)
	}
	return fmt.Errorf("zone %s: %s answered %s to the UPDATE of %s; nothing was changed", s.Origin, s.Primary, mdns.RcodeToString[r.Rcode], owners)
}

func tsigHint(code int) string {
	switch code {
	case mdns.RcodeBadSig:
		return "the secret does not match the server's"
	case mdns.RcodeBadKey:
		return "the server does not know this key name or algorithm"
	case mdns.RcodeBadTime:
		return "this machine's clock and the server's differ by more than 5 minutes"
	}
	return "see the server's log"
}

func updatedOwners(m *mdns.Msg) string {
	var names []string
	for _, rr := range m.Ns {
		names = append(names, strings.TrimSuffix(rr.Header().Name, "."))
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) > 3 {
		return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
	}
	return strings.Join(names, ", ")
}
