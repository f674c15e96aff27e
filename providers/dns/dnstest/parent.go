package dnstest

import (
	"crypto"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/labutil"
)

// Parent is the zone above a lab's zone (for example.test., test.) on its
// own BIND server, signed here with signatures the test chooses, holding
// the delegation and the DS of the child's key; the same server keeps a
// secondary copy of the child, so that it answers the whole chain from
// its anchor down, as a resolver would (and delv can ask it).
type Parent struct {
	*Named
	Zone   string // fully qualified
	Anchor string // the parent's key as a trust anchor: a DNSKEY record in presentation form
	child  *Lab
	key    *mdns.DNSKEY
	priv   crypto.Signer
	serial uint32
}

// ParentOptions break the chain on purpose.
type ParentOptions struct {
	WrongDS   bool // the DS at the parent names a key the child does not have
	ExpiredDS bool // the signature over the DS RRset expired a day ago
}

// StartParent serves the parent of child's zone, signed as o says.
func StartParent(t testing.TB, child *Lab, o ParentOptions) *Parent {
	t.Helper()
	named := labutil.Binary(t, "named", "/usr/sbin/named")
	zone := child.Zone[strings.Index(child.Zone, ".")+1:]
	key := &mdns.DNSKEY{Hdr: mdns.RR_Header{Name: zone, Rrtype: mdns.TypeDNSKEY, Class: mdns.ClassINET, Ttl: 300},
		Flags: 257, Protocol: 3, Algorithm: mdns.ECDSAP256SHA256}
	priv, err := key.Generate(256)
	must(t, err)
	p := &Parent{Named: &Named{Addr: fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t)), Dir: t.TempDir(), Signed: true},
		Zone: zone, Anchor: key.String(), child: child, key: key, priv: priv.(crypto.Signer), serial: 1}
	must(t, os.WriteFile(filepath.Join(p.Dir, "parent.db"), []byte(p.zoneText(t, o)), 0o644))
	_, port, _ := net.SplitHostPort(p.Addr)
	_, childPort, _ := net.SplitHostPort(child.Primary.Addr)
	conf := fmt.Sprintf(`options {
  directory %q;
  pid-file %q;
  listen-on port %s { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  minimal-responses yes;
};
controls { };
logging {
  channel main { file %q; severity info; print-time yes; print-category yes; };
  category default { main; };
};
zone %q {
  type primary;
  file "parent.db";
};
zone %q {
  type secondary;
  file "child.db";
  primaries { 127.0.0.1 port %s; };
};
`, p.Dir, filepath.Join(p.Dir, "named.pid"), port, filepath.Join(p.Dir, "named.log"), zone, child.Zone, childPort)
	p.start(t, named, conf)
	p.waitSigned(t, zone, true)
	p.waitSigned(t, child.Zone, true)
	return p
}

// Resign writes the parent zone again, signed as o says, and waits until
// the server serves it.
func (p *Parent) Resign(t testing.TB, o ParentOptions) {
	t.Helper()
	p.serial++
	must(t, os.WriteFile(filepath.Join(p.Dir, "parent.db"), []byte(p.zoneText(t, o)), 0o644))
	must(t, p.cmd.Process.Signal(syscall.SIGHUP))
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, rr := range p.Query(t, p.Zone, mdns.TypeSOA).Answer {
			if soa, ok := rr.(*mdns.SOA); ok && soa.Serial == p.serial {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the parent zone %s was not reloaded at serial %d", p.Zone, p.serial)
}

// AnchorFile writes delv's trust-anchors file for the parent's key.
func (p *Parent) AnchorFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(p.Dir, "anchor.conf")
	must(t, os.WriteFile(path, []byte(fmt.Sprintf("trust-anchors {\n  %q static-key %d %d %d %q;\n};\n", p.Zone, p.key.Flags, p.key.Protocol, p.key.Algorithm, p.key.PublicKey)), 0o644))
	return path
}

// zoneText is the parent zone signed as o says: SOA, NS, the delegation
// of the child with its glue, and the DS of the child's key-signing key.
func (p *Parent) zoneText(t testing.TB, o ParentOptions) string {
	t.Helper()
	hdr := func(name string, rrtype uint16) mdns.RR_Header {
		return mdns.RR_Header{Name: name, Rrtype: rrtype, Class: mdns.ClassINET, Ttl: 300}
	}
	soa := &mdns.SOA{Hdr: hdr(p.Zone, mdns.TypeSOA), Ns: "ns." + p.Zone, Mbox: "hostmaster." + p.Zone, Serial: p.serial, Refresh: 60, Retry: 30, Expire: 600, Minttl: 30}
	ns := &mdns.NS{Hdr: hdr(p.Zone, mdns.TypeNS), Ns: "ns." + p.Zone}
	nsA := &mdns.A{Hdr: hdr("ns."+p.Zone, mdns.TypeA), A: net.ParseIP("127.0.0.1")}
	cut := &mdns.NS{Hdr: hdr(p.child.Zone, mdns.TypeNS), Ns: "ns1." + p.child.Zone}
	glue := &mdns.A{Hdr: hdr("ns1."+p.child.Zone, mdns.TypeA), A: net.ParseIP("127.0.0.1")}
	ksk := p.childKSK(t)
	if o.WrongDS {
		other := *ksk
		if _, err := other.Generate(256); err != nil {
			t.Fatal(err)
		}
		ksk = &other
	}
	ds := ksk.ToDS(mdns.SHA256)
	ds.Hdr.Ttl = 300
	inception, expiration := time.Now().Add(-time.Hour), time.Now().Add(30*24*time.Hour)
	// The NSEC chain (in canonical order: the apex, the child, ns): BIND
	// serves signatures only from a zone that has one.
	nsec := func(name, next string, types ...uint16) mdns.RR {
		types = append(types, mdns.TypeRRSIG, mdns.TypeNSEC)
		slices.Sort(types)
		return &mdns.NSEC{Hdr: hdr(name, mdns.TypeNSEC), NextDomain: next, TypeBitMap: types}
	}
	apexNSEC := nsec(p.Zone, p.child.Zone, mdns.TypeNS, mdns.TypeSOA, mdns.TypeDNSKEY)
	cutNSEC := nsec(p.child.Zone, "ns."+p.Zone, mdns.TypeNS, mdns.TypeDS)
	nsNSEC := nsec("ns."+p.Zone, p.Zone, mdns.TypeA)
	var out []string
	for _, set := range [][]mdns.RR{{soa}, {ns}, {nsA}, {p.key}, {ds}, {apexNSEC}, {cutNSEC}, {nsNSEC}} {
		sig := &mdns.RRSIG{Hdr: hdr(set[0].Header().Name, mdns.TypeRRSIG), KeyTag: p.key.KeyTag(), SignerName: p.Zone, Algorithm: p.key.Algorithm,
			Inception: uint32(inception.Unix()), Expiration: uint32(expiration.Unix())}
		if o.ExpiredDS && set[0] == ds {
			sig.Inception, sig.Expiration = uint32(time.Now().Add(-10*24*time.Hour).Unix()), uint32(time.Now().Add(-24*time.Hour).Unix())
		}
		must(t, sig.Sign(p.priv, set))
		for _, rr := range append(set, sig) {
			out = append(out, rr.String())
		}
	}
	out = append(out, cut.String(), glue.String())
	return strings.Join(out, "\n") + "\n"
}

// childKSK is the child zone's key-signing key as its primary serves it.
func (p *Parent) childKSK(t testing.TB) *mdns.DNSKEY {
	t.Helper()
	for _, rr := range p.child.Primary.Query(t, p.child.Zone, mdns.TypeDNSKEY).Answer {
		if k, ok := rr.(*mdns.DNSKEY); ok && k.Flags&mdns.SEP != 0 {
			return k
		}
	}
	t.Fatalf("%s serves no key-signing key", p.child.Zone)
	return nil
}
