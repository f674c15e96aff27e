// Package knottest runs a real Knot DNS server for tests: one zone,
// signed automatically by Knot's own policy, updated with RFC 2136 under a
// TSIG key and transferred with it, on a loopback port in a temp
// directory, stopped with the test.
package knottest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/labutil"
)

// KeyName is the TSIG key the server grants updates and transfers to.
const KeyName = "trustform-key."

// Lab is one Knot server holding one zone.
type Lab struct {
	Zone   string // fully qualified
	Addr   string // 127.0.0.1:port
	Secret string // the TSIG secret, base64
	Dir    string
	proc   *labutil.Proc
}

// Options shape the zone's signing policy.
type Options struct {
	// RRSIGLifetime and RRSIGRefresh are Knot's rrsig-lifetime and
	// rrsig-refresh (0: Knot's defaults, 14 days and what it derives).
	RRSIGLifetime, RRSIGRefresh time.Duration
}

// Start runs Knot with zone (e.g. "example.test") signed under o, with the
// extra records ("www A 127.0.0.1").
func Start(t testing.TB, zone string, o Options, extra ...string) *Lab {
	t.Helper()
	knotd := labutil.Binary(t, "knotd", "/usr/sbin/knotd")
	knotc := labutil.Binary(t, "knotc", "/usr/sbin/knotc")
	secret := make([]byte, 32)
	rand.Read(secret)
	lab := &Lab{Zone: mdns.Fqdn(zone), Secret: base64.StdEncoding.EncodeToString(secret), Dir: t.TempDir()}
	port := labutil.FreePort(t)
	lab.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	zoneText := fmt.Sprintf("$ORIGIN %s\n$TTL 300\n@ SOA ns1 hostmaster 1 60 30 600 30\n@ NS ns1\nns1 A 127.0.0.1\n%s\n", lab.Zone, strings.Join(extra, "\n"))
	must(t, os.WriteFile(filepath.Join(lab.Dir, "zone.db"), []byte(zoneText), 0o644))
	policy := "  - id: lab\n    algorithm: ecdsap256sha256\n"
	if o.RRSIGLifetime > 0 {
		policy += fmt.Sprintf("    rrsig-lifetime: %ds\n", int(o.RRSIGLifetime.Seconds()))
	}
	if o.RRSIGRefresh > 0 {
		policy += fmt.Sprintf("    rrsig-refresh: %ds\n", int(o.RRSIGRefresh.Seconds()))
	}
	conf := fmt.Sprintf(`server:
  rundir: %[1]q
  listen: 127.0.0.1@%[2]d
database:
  storage: %[1]q
log:
  - target: %[3]q
    any: info
key:
  - id: %[4]s
    algorithm: hmac-sha256
    secret: %[5]s
acl:
  - id: trustform
    key: %[4]s
    action: [update, transfer]
policy:
%[6]s
zone:
  - domain: %[7]s
    storage: %[1]q
    file: zone.db
    dnssec-signing: on
    dnssec-policy: lab
    acl: trustform
    zonefile-sync: -1
    journal-content: all
`, lab.Dir, port, filepath.Join(lab.Dir, "knot.log"), KeyName, lab.Secret, policy, lab.Zone)
	path := filepath.Join(lab.Dir, "knot.conf")
	must(t, os.WriteFile(path, []byte(conf), 0o600))
	if out, err := exec.Command(knotc, "-c", path, "conf-check").CombinedOutput(); err != nil {
		t.Fatalf("knotc conf-check: %v\n%s\n%s", err, out, conf)
	}
	cmd := exec.Command(knotd, "-c", path)
	lab.proc = labutil.Start(t, cmd)
	lab.waitSigned(t)
	return lab
}

// waitSigned waits until Knot serves the zone's DNSKEY with an RRSIG.
func (l *Lab) waitSigned(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r, err := l.query(l.Zone, mdns.TypeDNSKEY)
		if err == nil {
			for _, rr := range r.Answer {
				if _, ok := rr.(*mdns.RRSIG); ok {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(l.Dir, "knot.log"))
	t.Fatalf("Knot did not serve %s signed within 20s:\n%s", l.Zone, b)
}

func (l *Lab) query(name string, qtype uint16) (*mdns.Msg, error) {
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	m.SetEdns0(4096, true)
	return mdns.Exchange(m, l.Addr)
}

// Query asks the server for name/qtype with the DO bit.
func (l *Lab) Query(t testing.TB, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	r, err := l.query(name, qtype)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
