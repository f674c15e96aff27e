// Package dnstest starts real BIND9 servers for tests: a primary that signs
// its zone inline (dnssec-policy default) and accepts RFC 2136 updates signed
// with a TSIG key, and a secondary fed by NOTIFY and zone transfer. Each lab
// has its own temp directory and loopback ports; nothing of the system's
// BIND configuration is touched.
package dnstest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/labutil"
)

// KeyName is the TSIG key the lab's primary grants updates to.
const KeyName = "trustform-key"

// Lab is a primary and a secondary serving one zone.
type Lab struct {
	Zone      string // fully qualified
	Secret    string // base64 TSIG secret of KeyName (hmac-sha256)
	Primary   *Named
	Secondary *Named
	// ZoneFile and ReloadCommand: for StartFileZone, the primary's zone
	// file and the command that makes it load the file again.
	ZoneFile, ReloadCommand string
}

// Named is one running named.
type Named struct {
	Addr   string // 127.0.0.1:port
	Dir    string
	Signed bool // the zone is DNSSEC-signed (Start, not StartFileZone)
	cmd    *exec.Cmd
	proc   *labutil.Proc
}

// Start runs a primary and a secondary for zone (e.g. "example.test.") with
// an SOA, an NS and the given extra records, and waits until both serve the
// signed zone.
func Start(t testing.TB, zone string, extra ...string) *Lab {
	t.Helper()
	return start(t, zone, true, true, extra)
}

// StartUnsigned is Start with a zone the primary does not sign: RFC 2136
// updates, no DNSSEC.
func StartUnsigned(t testing.TB, zone string, extra ...string) *Lab {
	t.Helper()
	return start(t, zone, true, false, extra)
}

// StartFileZone runs a primary that loads the zone from ZoneFile (no
// dynamic updates, no signing: what trustform's zone_file zones write) and
// reloads it with ReloadCommand, and a secondary that follows by NOTIFY and
// transfer.
func StartFileZone(t testing.TB, zone string, extra ...string) *Lab {
	t.Helper()
	return start(t, zone, false, false, extra)
}

func start(t testing.TB, zone string, dynamic, signed bool, extra []string) *Lab {
	t.Helper()
	named := labutil.Binary(t, "named", "/usr/sbin/named")
	secretBytes := make([]byte, 32)
	rand.Read(secretBytes)
	lab := &Lab{Zone: mdns.Fqdn(zone), Secret: base64.StdEncoding.EncodeToString(secretBytes)}
	pPort, sPort := labutil.FreePort(t), labutil.FreePort(t)
	lab.Primary = &Named{Addr: fmt.Sprintf("127.0.0.1:%d", pPort), Dir: t.TempDir()}
	lab.Secondary = &Named{Addr: fmt.Sprintf("127.0.0.1:%d", sPort), Dir: t.TempDir()}

	zoneText := fmt.Sprintf("$ORIGIN %s\n$TTL 300\n@ IN SOA ns1 hostmaster 1 60 30 600 30\n@ IN NS ns1\n@ IN NS ns2\nns1 IN A 127.0.0.1\nns2 IN A 127.0.0.1\n%s\n",
		lab.Zone, strings.Join(extra, "\n"))
	must(t, os.WriteFile(filepath.Join(lab.Primary.Dir, "zone.db"), []byte(zoneText), 0o644))
	must(t, os.MkdirAll(filepath.Join(lab.Primary.Dir, "keys"), 0o755))
	key := fmt.Sprintf("key %q { algorithm hmac-sha256; secret %q; };\n", KeyName, lab.Secret)
	logging := func(dir string) string {
		return fmt.Sprintf(`logging {
  channel main { file %q; severity info; print-time yes; print-category yes; };
  channel updates { file %q; severity info; print-time yes; print-category yes; };
  category default { main; };
  category update { updates; };
  category update-security { updates; };
};
`, filepath.Join(dir, "named.log"), filepath.Join(dir, "update.log"))
	}
	options := func(n *Named, extra string) string {
		_, port, _ := net.SplitHostPort(n.Addr)
		return fmt.Sprintf(`options {
  directory %q;
  pid-file %q;
  listen-on port %s { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  minimal-responses yes;
  %s
};
controls { };
`, n.Dir, filepath.Join(n.Dir, "named.pid"), port, extra)
	}
	zoneConf := fmt.Sprintf(`zone %q {
  type primary;
  file "zone.db";
  dnssec-policy default;
  inline-signing yes;
  update-policy { grant %s zonesub ANY; };
};
`, lab.Zone, KeyName)
	if dynamic && !signed {
		zoneConf = fmt.Sprintf("zone %q {\n  type primary;\n  file \"zone.db\";\n  update-policy { grant %s zonesub ANY; };\n};\n", lab.Zone, KeyName)
	}
	if !dynamic {
		zoneConf = fmt.Sprintf("zone %q {\n  type primary;\n  file \"zone.db\";\n};\n", lab.Zone)
		lab.ZoneFile = filepath.Join(lab.Primary.Dir, "zone.db")
		lab.ReloadCommand = "kill -HUP $(cat " + filepath.Join(lab.Primary.Dir, "named.pid") + ")"
	}
	primaryConf := options(lab.Primary, fmt.Sprintf(`notify explicit; notify-delay 0; also-notify { 127.0.0.1 port %d; }; allow-transfer { any; }; key-directory %q;`, sPort, filepath.Join(lab.Primary.Dir, "keys"))) +
		key + logging(lab.Primary.Dir) + zoneConf
	secondaryConf := options(lab.Secondary, "") + logging(lab.Secondary.Dir) + fmt.Sprintf(`zone %q {
  type secondary;
  file "zone.db";
  primaries { 127.0.0.1 port %d; };
};
`, lab.Zone, pPort)
	lab.Primary.start(t, named, primaryConf)
	lab.Secondary.start(t, named, secondaryConf)
	for _, n := range []*Named{lab.Primary, lab.Secondary} {
		n.Signed = signed
		n.waitSigned(t, lab.Zone, signed)
	}
	return lab
}

func (n *Named) start(t testing.TB, named, conf string) {
	t.Helper()
	path := filepath.Join(n.Dir, "named.conf")
	must(t, os.WriteFile(path, []byte(conf), 0o644))
	if checkconf, err := exec.LookPath("named-checkconf"); err == nil {
		if out, err := exec.Command(checkconf, path).CombinedOutput(); err != nil {
			t.Fatalf("named-checkconf: %v\n%s\n%s", err, out, conf)
		}
	}
	n.cmd = exec.Command(named, "-f", "-c", path, "-n", "1")
	n.cmd.Stdout, n.cmd.Stderr = nil, nil
	n.proc = labutil.Start(t, n.cmd)
}

// waitSigned waits until the server answers the zone's DNSKEY with an RRSIG:
// signed, loaded, transferred.
func (n *Named) waitSigned(t testing.TB, zone string, signed bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		m := new(mdns.Msg)
		qtype := mdns.TypeDNSKEY
		if !signed {
			qtype = mdns.TypeSOA
		}
		m.SetQuestion(zone, qtype)
		m.SetEdns0(4096, true)
		c := &mdns.Client{Net: "tcp", Timeout: time.Second}
		if r, _, err := c.Exchange(m, n.Addr); err == nil && r.Rcode == mdns.RcodeSuccess {
			if !signed && len(r.Answer) > 0 {
				return
			}
			for _, rr := range r.Answer {
				if _, ok := rr.(*mdns.RRSIG); ok {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(n.Dir, "named.log"))
	t.Fatalf("named on %s did not serve a signed %s within 30s; its log:\n%s", n.Addr, zone, log)
}

// Pause stops the server (SIGSTOP): it neither answers nor transfers, as a
// secondary that lags behind.
// It returns once every thread of the server is stopped: the signal is
// delivered after kill returns, and on a loaded machine a thread may
// still answer a question or two meanwhile.
func (n *Named) Pause() {
	n.cmd.Process.Signal(syscall.SIGSTOP)
	tasks := fmt.Sprintf("/proc/%d/task", n.cmd.Process.Pid)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		stopped := true
		entries, _ := os.ReadDir(tasks)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(tasks, e.Name(), "stat"))
			// "pid (comm) S …": the state follows the command's closing parenthesis.
			if i := strings.LastIndexByte(string(b), ')'); i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
				stopped = false
			}
		}
		if stopped {
			return
		}
	}
}

// Resume lets a paused server go on.
func (n *Named) Resume() { n.cmd.Process.Signal(syscall.SIGCONT) }

// UpdateMessages counts the RFC 2136 UPDATE messages the server approved,
// from its update log.
func (n *Named) UpdateMessages(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(n.Dir, "update.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	// Each UPDATE arrives on its own TCP connection: count the distinct
	// client sockets of the "updating zone" lines.
	clients := map[string]bool{}
	for _, m := range updateClient.FindAllStringSubmatch(string(b), -1) {
		clients[m[1]] = true
	}
	return len(clients)
}

var updateClient = regexp.MustCompile(`client (@\S+ \S+)/key \S+: updating zone`)

// Query asks the server for name/type with DNSSEC records, over TCP.
func (n *Named) Query(t testing.TB, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	m.SetEdns0(4096, true)
	c := &mdns.Client{Net: "tcp", Timeout: 3 * time.Second}
	r, _, err := c.ExchangeContext(context.Background(), m, n.Addr)
	if err != nil {
		t.Fatalf("query %s %s at %s: %v", name, mdns.TypeToString[qtype], n.Addr, err)
	}
	return r
}

// DenyTransfer makes the primary refuse zone transfers to the TSIG key
// (the secondary, which asks without it, still gets them), as a primary
// whose allow-transfer does not name the update key.
func (l *Lab) DenyTransfer(t testing.TB) {
	t.Helper()
	path := filepath.Join(l.Primary.Dir, "named.conf")
	conf, err := os.ReadFile(path)
	must(t, err)
	must(t, os.WriteFile(path, []byte(strings.Replace(string(conf), "allow-transfer { any; };", fmt.Sprintf("allow-transfer { !key %s; any; };", KeyName), 1)), 0o644))
	l.Primary.cmd.Process.Signal(syscall.SIGHUP)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		m := new(mdns.Msg)
		m.SetAxfr(l.Zone)
		m.SetTsig(KeyName+".", mdns.HmacSHA256, 300, time.Now().Unix())
		tr := &mdns.Transfer{TsigSecret: map[string]string{KeyName + ".": l.Secret}}
		ch, err := tr.In(m, l.Primary.Addr)
		refused := err != nil
		for env := range ch {
			refused = refused || env.Error != nil
		}
		if refused {
			return
		}
	}
	t.Fatal("the primary still transfers the zone to the TSIG key after its reload")
}

// Servers are the primary and the secondary.
func (l *Lab) Servers() []*Named { return []*Named{l.Primary, l.Secondary} }

// Edit removes and adds records (in zone file syntax) on the primary with
// one TSIG-signed RFC 2136 UPDATE: a change made behind trustform's back.
func (l *Lab) Edit(t testing.TB, remove, add []string) {
	t.Helper()
	parse := func(records []string) []mdns.RR {
		var rrs []mdns.RR
		for _, rec := range records {
			rr, err := mdns.NewRR(rec)
			must(t, err)
			rrs = append(rrs, rr)
		}
		return rrs
	}
	m := new(mdns.Msg)
	m.SetUpdate(l.Zone)
	m.Remove(parse(remove))
	m.Insert(parse(add))
	m.SetTsig(KeyName+".", mdns.HmacSHA256, 300, time.Now().Unix())
	c := &mdns.Client{Net: "tcp", Timeout: 3 * time.Second, TsigSecret: map[string]string{KeyName + ".": l.Secret}}
	r, _, err := c.Exchange(m, l.Primary.Addr)
	must(t, err)
	if r.Rcode != mdns.RcodeSuccess {
		t.Fatalf("editing the zone (-%v +%v): %s", remove, add, mdns.RcodeToString[r.Rcode])
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
