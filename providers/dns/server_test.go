package dns

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/providers/dns/dnstest"
)

func labServer(lab *dnstest.Lab) *Server {
	return &Server{
		Origin: lab.Zone, Primary: lab.Primary.Addr, KeyName: dnstest.KeyName + ".", Algorithm: mdns.HmacSHA256,
		Secret: lab.Secret, Nameservers: []string{lab.Primary.Addr, lab.Secondary.Addr}, RequireDNSSEC: true,
	}
}

const rec1 = "3 1 1 0000000000000000000000000000000000000000000000000000000000000001"
const rec2 = "3 1 1 0000000000000000000000000000000000000000000000000000000000000002"

// waitVisible polls until every server serves want at owner.
func waitVisible(t *testing.T, s *Server, owner string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		sv, err := s.Propagation(context.Background(), owner, mdns.TypeTLSA)
		visible, lagging := sv.Visible, sv.Lagging
		if err != nil {
			t.Fatal(err)
		}
		if len(lagging) == 0 && strings.Join(visible, ",") == strings.Join(want, ",") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: visible %v, lagging %v; want %v everywhere", owner, visible, lagging, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestServerUpdateReachesSecondarySigned(t *testing.T) {
	lab := dnstest.Start(t, "example.test")
	s := labServer(lab)
	ctx := context.Background()
	owner := "_443._tcp.www.example.test."
	if got, err := s.RRset(ctx, owner, mdns.TypeTLSA); err != nil || len(got) != 0 {
		t.Fatalf("before: %v %v", got, err)
	}
	if err := s.Update(ctx, []RRset{{Owner: owner, Type: mdns.TypeTLSA, TTL: 300, Records: []string{rec1}}}); err != nil {
		t.Fatal(err)
	}
	waitVisible(t, s, owner, rec1)
	for _, n := range []*dnstest.Named{lab.Primary, lab.Secondary} {
		r := n.Query(t, owner, mdns.TypeTLSA)
		if !hasRRSIG(r, mdns.TypeTLSA, 0) {
			t.Errorf("%s serves the TLSA RRset without an RRSIG:\n%v", n.Addr, r)
		}
	}
	if signed, err := s.Signed(ctx, owner, mdns.TypeTLSA); err != nil || !signed {
		t.Errorf("Signed = %v, %v", signed, err)
	}
}

func TestServerWrongSecretChangesNothing(t *testing.T) {
	lab := dnstest.Start(t, "example.test")
	s := labServer(lab)
	s.Secret = "c2VjcmV0IHRoYXQgaXMgbm90IHRoZSBzZXJ2ZXInczE="
	ctx := context.Background()
	owner := "_25._tcp.mail.example.test."
	s.RRset(ctx, owner, mdns.TypeTLSA)
	err := s.Update(ctx, []RRset{{Owner: owner, Type: mdns.TypeTLSA, TTL: 300, Records: []string{rec1}}})
	if err == nil {
		t.Fatal("an update signed with the wrong secret succeeded")
	}
	for _, want := range []string{"example.test.", "trustform-key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), s.Secret) || strings.Contains(err.Error(), lab.Secret) {
		t.Error("the error shows a secret")
	}
	t.Log(err)
	if r := lab.Primary.Query(t, owner, mdns.TypeTLSA); len(recordsOf(r, owner, mdns.TypeTLSA)) != 0 {
		t.Error("the server changed after a refused update")
	}
}

// A record changed behind trustform's back between observation and update
// makes the prerequisite fail; the other edit stays.
func TestServerPrerequisiteProtectsConcurrentEdit(t *testing.T) {
	lab := dnstest.Start(t, "example.test")
	ctx := context.Background()
	owner := "_443._tcp.www.example.test."
	ours, theirs := labServer(lab), labServer(lab)
	ours.RRset(ctx, owner, mdns.TypeTLSA)
	theirs.RRset(ctx, owner, mdns.TypeTLSA)
	if err := theirs.Update(ctx, []RRset{{Owner: owner, Type: mdns.TypeTLSA, TTL: 300, Records: []string{rec2}}}); err != nil {
		t.Fatal(err)
	}
	err := ours.Update(ctx, []RRset{{Owner: owner, Type: mdns.TypeTLSA, TTL: 300, Records: []string{rec1}}})
	if err == nil || !strings.Contains(err.Error(), "prerequisite failed") || !strings.Contains(err.Error(), "run plan again") {
		t.Fatalf("concurrent edit not detected: %v", err)
	}
	waitVisible(t, ours, owner, rec2)
}

// All RRsets of one phase go into one UPDATE; past 64 KiB, into the fewest
// messages that fit. Counted from BIND's update log.
func TestServerUpdateMessageCount(t *testing.T) {
	for _, n := range []int{200, 2000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			lab := dnstest.Start(t, "example.test")
			s := labServer(lab)
			ctx := context.Background()
			var sets []RRset
			for i := range n {
				owner := fmt.Sprintf("_443._tcp.h%d.example.test.", i)
				if _, err := s.RRset(ctx, owner, mdns.TypeTLSA); err != nil {
					t.Fatal(err)
				}
				sets = append(sets, RRset{Owner: owner, Type: mdns.TypeTLSA, TTL: 300, Records: []string{rec1, rec2}})
			}
			msgs, err := s.messages(sets)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i+1 < len(msgs); i++ { // greedy packing: no two neighbours would fit in one
				merged := msgs[i].msg.Copy()
				merged.Answer = append(merged.Answer, msgs[i+1].msg.Answer...)
				merged.Ns = append(merged.Ns, msgs[i+1].msg.Ns...)
				if merged.Len() <= MaxMessage-128 {
					t.Errorf("messages %d and %d would fit in one", i, i+1)
				}
			}
			before := lab.Primary.UpdateMessages(t)
			if err := s.Update(ctx, sets); err != nil {
				t.Fatal(err)
			}
			got := lab.Primary.UpdateMessages(t) - before
			t.Logf("%d RRsets: %d UPDATE message(s) (%d bytes in the first)", n, got, msgs[0].msg.Len())
			if got != len(msgs) || (n == 200 && got != 1) {
				t.Errorf("%d RRsets took %d UPDATE messages (planned %d)", n, got, len(msgs))
			}
			waitVisible(t, s, sets[n-1].Owner, rec1, rec2)
		})
	}
}

// Hosts reads the zone's address records in one TSIG-signed transfer; a
// server that refuses the transfer is an error naming the zone and server.
func TestServerHosts(t *testing.T) {
	lab := dnstest.Start(t, "example.test", "www IN A 127.0.0.1", "mail IN AAAA ::1", "_25._tcp.mail IN TLSA 3 1 1 00")
	s := labServer(lab)
	got, err := s.Hosts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := "mail.example.test.,ns1.example.test.,ns2.example.test.,www.example.test."; strings.Join(got, ",") != want {
		t.Errorf("Hosts = %v, want %s", got, want)
	}
	s = labServer(lab)
	s.Primary = lab.Secondary.Addr // its allow-transfer is BIND's default
	if _, err := s.Hosts(context.Background()); err == nil || !strings.Contains(err.Error(), "zone example.test.: transfer from "+lab.Secondary.Addr) {
		t.Errorf("a refused transfer: %v", err)
	}
}

// One zone transfer and one SOA per server observe what a question per
// RRset and server does; a refused transfer, or a server that does not
// answer, falls back to the questions with the same result.
func TestServerObservesByTransfer(t *testing.T) {
	lab := dnstest.Start(t, "example.test")
	ctx := context.Background()
	owners := []string{"_443._tcp.a.example.test.", "_443._tcp.b.example.test.", "_25._tcp.mail.example.test.", "_443._tcp.absent.example.test."}
	w := labServer(lab)
	var sets []RRset
	for i, o := range owners[:3] {
		w.RRset(ctx, o, mdns.TypeTLSA)
		sets = append(sets, RRset{Owner: o, Type: mdns.TypeTLSA, TTL: 300, Records: [][]string{{rec1}, {rec1, rec2}, {rec2}}[i]})
	}
	if err := w.Update(ctx, sets); err != nil {
		t.Fatal(err)
	}
	for i, o := range owners[:3] {
		waitVisible(t, w, o, sets[i].Records...)
	}
	observe := func(s *Server) string {
		var out []string
		for _, o := range owners {
			rrs, err := s.RRset(ctx, o, mdns.TypeTLSA)
			if err != nil {
				t.Fatal(err)
			}
			sv, err := s.Propagation(ctx, o, mdns.TypeTLSA)
			visible, lagging := sv.Visible, sv.Lagging
			if err != nil {
				t.Fatal(err)
			}
			signed, err := s.Signed(ctx, o, mdns.TypeTLSA)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %v visible %v lagging %v signed %v", o, Presentation(rrs), visible, lagging, signed))
		}
		return strings.Join(out, "\n")
	}

	byTransfer := labServer(lab)
	got := observe(byTransfer)
	if err := byTransfer.TransferError(); err != nil || byTransfer.snap == nil {
		t.Fatalf("the zone was not transferred: %v", err)
	}
	lab.DenyTransfer(t)
	byQuestions := labServer(lab)
	if want := observe(byQuestions); got != want {
		t.Errorf("by transfer:\n%s\nby questions:\n%s", got, want)
	}
	if err := byQuestions.TransferError(); err == nil {
		t.Errorf("the refused transfer was not noticed")
	}
	if !strings.Contains(got, "signed true") || !strings.Contains(got, rec2) {
		t.Errorf("the observation misses records or signatures:\n%s", got)
	}

	lab.Secondary.Pause()
	defer lab.Secondary.Resume()
	paused := observe(labServer(lab))
	if strings.Count(paused, lab.Secondary.Addr+" (no answer)") != len(owners) {
		t.Errorf("with the secondary stopped, every RRset should lag there:\n%s", paused)
	}
}

// Without a transfer, the expected RRsets are asked together and observe
// as the questions one by one do.
func TestServerPrefetchesWithoutTransfer(t *testing.T) {
	lab := dnstest.Start(t, "example.test")
	ctx := context.Background()
	w := labServer(lab)
	owners := []string{"_443._tcp.a.example.test.", "_443._tcp.b.example.test.", "_443._tcp.c.example.test."}
	for _, o := range owners {
		w.RRset(ctx, o, mdns.TypeTLSA)
	}
	if err := w.Update(ctx, []RRset{{Owner: owners[0], Type: mdns.TypeTLSA, TTL: 300, Records: []string{rec1}}, {Owner: owners[1], Type: mdns.TypeTLSA, TTL: 300, Records: []string{rec2}}}); err != nil {
		t.Fatal(err)
	}
	waitVisible(t, w, owners[0], rec1)
	waitVisible(t, w, owners[1], rec2)
	lab.DenyTransfer(t)
	observe := func(s *Server) string {
		var out []string
		for _, o := range owners {
			rrs, err := s.RRset(ctx, o, mdns.TypeTLSA)
			if err != nil {
				t.Fatal(err)
			}
			sv, err := s.Propagation(ctx, o, mdns.TypeTLSA)
			visible, lagging := sv.Visible, sv.Lagging
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %v visible %v lagging %v", o, Presentation(rrs), visible, lagging))
		}
		return strings.Join(out, "\n")
	}
	together := labServer(lab)
	for _, o := range owners {
		together.Expect(o, mdns.TypeTLSA)
	}
	got := observe(together)
	if len(together.pre) != 0 || !together.prefetchDone {
		t.Errorf("the prefetched answers were not all used: %d left", len(together.pre))
	}
	if want := observe(labServer(lab)); got != want {
		t.Errorf("asked together:\n%s\none by one:\n%s", got, want)
	}
}

// An RFC 2136 primary takes RRsets of any type the kinds ask for: a CAA
// RRset at the apex and a TXT RRset beside a TLSA one, in one UPDATE; dig
// finds them signed on both servers, and a zone transfer reads them back.
func TestServerAnyType(t *testing.T) {
	lab := dnstest.Start(t, "example.test")
	s := labServer(lab)
	ctx := context.Background()
	sets := []RRset{
		{Owner: "example.test.", Type: mdns.TypeCAA, TTL: 300, Records: []string{`0 issue "ca.example.net; accounturi=https://ca.example.net/acct/1"`}},
		{Owner: "_mta-sts.example.test.", Type: mdns.TypeTXT, TTL: 300, Records: []string{`"v=STSv1; id=20261207"`}},
		{Owner: "_443._tcp.www.example.test.", Type: mdns.TypeTLSA, TTL: 300, Records: []string{rec1}},
	}
	for _, set := range sets {
		if _, err := s.RRset(ctx, set.Owner, set.Type); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Update(ctx, sets); err != nil {
		t.Fatal(err)
	}
	for _, set := range sets {
		deadline := time.Now().Add(30 * time.Second)
		for {
			sv, err := s.Propagation(ctx, set.Owner, set.Type)
			visible, lagging := sv.Visible, sv.Lagging
			if err == nil && len(lagging) == 0 && slices.Equal(visible, set.Records) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %s: visible %q, lagging %v, %v", set.Owner, mdns.TypeToString[set.Type], visible, lagging, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		last := strings.Trim(set.Records[0][strings.LastIndex(set.Records[0], " ")+1:], `"`)
		for _, n := range lab.Servers() {
			host, port, _ := net.SplitHostPort(n.Addr)
			out, err := exec.Command("dig", "+dnssec", "+norec", "+short", "-p", port, "@"+host, set.Owner, mdns.TypeToString[set.Type]).CombinedOutput()
			// +short prints the records, then the RRSIG as "TYPE alg labels …"
			if err != nil || !strings.Contains(strings.ToLower(strings.ReplaceAll(string(out), " ", "")), strings.ToLower(last)) || !strings.Contains(string(out), mdns.TypeToString[set.Type]+" ") {
				t.Errorf("dig @%s %s %s: %v\n%s", n.Addr, set.Owner, mdns.TypeToString[set.Type], err, out)
			}
		}
	}
	fresh := labServer(lab)
	for _, set := range sets {
		rrs, err := fresh.RRset(ctx, set.Owner, set.Type)
		if got := Presentation(rrs); err != nil || !slices.Equal(got, set.Records) {
			t.Errorf("read back %s %s: %q, %v", set.Owner, mdns.TypeToString[set.Type], got, err)
		}
	}
	if fresh.TransferError() != nil {
		t.Errorf("read without a transfer: %v", fresh.TransferError())
	}
}

// A signature counts while it stays valid for the RRset's TTL, or for
// dnssec_min_validity where that is longer: Knot's two-day signatures are
// a signing zone; one that expires within the TTL is one whose signing
// stopped.
func TestHasRRSIG(t *testing.T) {
	now := time.Now()
	sig := func(left time.Duration, ttl uint32) *mdns.Msg {
		return &mdns.Msg{Answer: []mdns.RR{&mdns.RRSIG{Hdr: mdns.RR_Header{Rrtype: mdns.TypeRRSIG}, TypeCovered: mdns.TypeTLSA, OrigTtl: ttl,
			Inception: uint32(now.Add(-time.Hour).Unix()), Expiration: uint32(now.Add(left).Unix())}}}
	}
	for _, tc := range []struct {
		name string
		left time.Duration
		ttl  uint32
		min  time.Duration
		want bool
	}{
		{"two days left, TTL 5 minutes", 47 * time.Hour, 300, 0, true},
		{"an hour left, TTL 5 minutes", time.Hour, 300, 0, true},
		{"two minutes left, TTL 5 minutes", 2 * time.Minute, 300, 0, false},
		{"expired", -time.Minute, 300, 0, false},
		{"two days left, three asked", 47 * time.Hour, 300, 72 * time.Hour, false},
		{"four days left, three asked", 96 * time.Hour, 300, 72 * time.Hour, true},
	} {
		if got := hasRRSIG(sig(tc.left, tc.ttl), mdns.TypeTLSA, tc.min); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if hasRRSIG(sig(47*time.Hour, 300), mdns.TypeTXT, 0) {
		t.Error("a signature over TLSA counts for TXT")
	}
}

// An update returns once the primary serves what it wrote (inline signing
// catches up a moment later), and no later: a TXT value's case is part of
// the value, and a read right after sees it.
func TestServerUpdateReturnsOnceServed(t *testing.T) {
	lab := dnstest.Start(t, "example.test")
	s := labServer(lab)
	ctx := context.Background()
	owner := "_acme-challenge.www.example.test."
	if _, err := s.RRset(ctx, owner, mdns.TypeTXT); err != nil {
		t.Fatal(err)
	}
	set := RRset{Owner: owner, Type: mdns.TypeTXT, TTL: 60, Records: []string{`"MixedCase-Token_0123"`}}
	start := time.Now()
	if err := s.Update(ctx, []RRset{set}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the update took %s: it waited for what the primary already served", took)
	}
	rrs, err := s.RRset(ctx, owner, mdns.TypeTXT)
	if err != nil || !slices.Equal(Presentation(rrs), set.Records) {
		t.Errorf("right after the update the primary serves %q, %v", Presentation(rrs), err)
	}
}
