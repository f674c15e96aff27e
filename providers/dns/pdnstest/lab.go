// Package pdnstest runs a real PowerDNS Authoritative server for tests: the
// zone in a SQLite database, DNSSEC-signed with pdnsutil secure-zone, DNS
// and the HTTP API on loopback ports of their own, in a temp directory,
// stopped with the test.
package pdnstest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/labutil"
)

// Lab is one PowerDNS server holding one zone.
type Lab struct {
	Zone     string // fully qualified
	DNS      string // 127.0.0.1:port
	API      string // http://127.0.0.1:port
	Key      string // the API key
	ServerID string // "localhost"
	Dir      string
	proc     *labutil.Proc
}

// schemaFiles are where Debian's pdns-backend-sqlite3 keeps the database
// schema.
var schemaFiles = []string{"/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql", "/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql"}

// Start runs PowerDNS with zone (e.g. "example.test"), whose apex has NS
// ns1 and the given extra records ("www A 127.0.0.1"), signed.
func Start(t testing.TB, zone string, extra ...string) *Lab {
	t.Helper()
	server := labutil.Binary(t, "pdns_server", "/usr/sbin/pdns_server")
	pdnsutil := labutil.Binary(t, "pdnsutil", "/usr/bin/pdnsutil")
	sqlite := labutil.Binary(t, "sqlite3", "/usr/bin/sqlite3")
	var schema string
	for _, f := range schemaFiles {
		if _, err := os.Stat(f); err == nil {
			schema = f
		}
	}
	if schema == "" {
		t.Fatalf("pdns-backend-sqlite3's schema is not at %v", schemaFiles)
	}
	key := make([]byte, 16)
	rand.Read(key)
	lab := &Lab{Zone: mdns.Fqdn(zone), Key: hex.EncodeToString(key), ServerID: "localhost", Dir: t.TempDir()}
	dnsPort, apiPort := labutil.FreePort(t), labutil.FreePort(t)
	lab.DNS, lab.API = fmt.Sprintf("127.0.0.1:%d", dnsPort), fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	db := filepath.Join(lab.Dir, "pdns.sqlite3")
	run(t, exec.Command(sqlite, db, ".read "+schema))
	conf := fmt.Sprintf(`launch=gsqlite3
gsqlite3-database=%s
gsqlite3-dnssec=yes
local-address=127.0.0.1
local-port=%d
api=yes
api-key=%s
webserver=yes
webserver-address=127.0.0.1
webserver-port=%d
webserver-allow-from=127.0.0.0/8
socket-dir=%s
guardian=no
daemon=no
disable-syslog=yes
loglevel=4
primary=yes
`, db, dnsPort, lab.Key, apiPort, lab.Dir)
	must(t, os.WriteFile(filepath.Join(lab.Dir, "pdns.conf"), []byte(conf), 0o600))
	util := func(args ...string) {
		run(t, exec.Command(pdnsutil, append([]string{"--config-dir=" + lab.Dir}, args...)...))
	}
	util("create-zone", strings.TrimSuffix(lab.Zone, "."), "ns1."+lab.Zone)
	util("add-record", strings.TrimSuffix(lab.Zone, "."), "ns1", "A", "127.0.0.1")
	for _, r := range extra {
		f := strings.Fields(r) // NAME TYPE CONTENT…
		util("add-record", strings.TrimSuffix(lab.Zone, "."), f[0], f[1], strings.Join(f[2:], " "))
	}
	util("secure-zone", strings.TrimSuffix(lab.Zone, "."))
	util("rectify-zone", strings.TrimSuffix(lab.Zone, "."))
	cmd := exec.Command(server, "--config-dir="+lab.Dir)
	log, err := os.Create(filepath.Join(lab.Dir, "pdns.log"))
	must(t, err)
	cmd.Stdout, cmd.Stderr = log, log
	lab.proc = labutil.Start(t, cmd)
	lab.wait(t)
	return lab
}

// wait waits until the server answers the zone's DNSKEY signed and the API
// answers.
func (l *Lab) wait(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		m := new(mdns.Msg)
		m.SetQuestion(l.Zone, mdns.TypeDNSKEY)
		m.SetEdns0(4096, true)
		r, err := mdns.Exchange(m, l.DNS)
		signed := false
		if err == nil {
			for _, rr := range r.Answer {
				if _, ok := rr.(*mdns.RRSIG); ok {
					signed = true
				}
			}
		}
		req, _ := http.NewRequest(http.MethodGet, l.API+"/api/v1/servers/localhost", nil)
		req.Header.Set("X-API-Key", l.Key)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if signed && resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(l.Dir, "pdns.log"))
	t.Fatalf("PowerDNS did not serve %s signed with its API up within 20s:\n%s", l.Zone, b)
}

// Query asks the server for name/qtype with the DO bit.
func (l *Lab) Query(t testing.TB, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	m.SetEdns0(4096, true)
	r, err := mdns.Exchange(m, l.DNS)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func run(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
