// Package pebbletest runs Pebble, Let's Encrypt's ACME test server, for
// tests: on loopback ports, with PEBBLE_VA_NOSLEEP=1, its HTTPS served with a
// certificate from a CA made here (RootsFile, for acme_account.ca_roots), its
// http-01 validation sent to the port of the test's HTTP vhost, and its DNS
// questions to the test's DNS server, or to pebble-challtestsrv, which
// answers 127.0.0.1 for every name.
package pebbletest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"go/build"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustform/trustform/internal/labutil"
)

// Options point Pebble at the test's servers and set it up as a
// production CA may be.
type Options struct {
	HTTPPort    int    // where http-01 is validated (the HTTP vhost's port)
	DNSServer   string // host:port for A and TXT lookups; empty starts pebble-challtestsrv
	NonceReject int    // percentage of good nonces rejected (PEBBLE_WFE_NONCEREJECT)
	// EAB, when set, makes external account binding required: key ids to
	// their base64url HMAC keys.
	EAB map[string]string
	// Profiles are the ACME profiles offered (default: Pebble's own).
	Profiles map[string]Profile
	// AlternateRoots is the number of alternate chains, each to its own
	// root (PEBBLE_ALTERNATE_ROOTS).
	AlternateRoots int
}

// Profile is an ACME profile as Pebble offers it.
type Profile struct {
	Description    string `json:"description"`
	ValidityPeriod uint64 `json:"validityPeriod"` // seconds
}

// Lab is one running Pebble.
type Lab struct {
	Directory  string // the ACME directory URL
	Management string // https://…: roots, intermediates
	// RootsFile (for acme_account.ca_roots) holds the CA of Pebble's own
	// HTTPS certificate and the roots of the chains it issues, those of
	// every start (Pebble makes new roots each time).
	RootsFile  string
	dir        string
	opts       Options
	cmd        *exec.Cmd
	proc       *labutil.Proc
	addr, mgmt string
	front      *front // what Directory reaches: Pebble's ACME port, or nothing while Down
}

// Start runs Pebble (and pebble-challtestsrv when no DNS server is given).
func Start(t testing.TB, opts Options) *Lab {
	t.Helper()
	labutil.Binary(t, "pebble", filepath.Join(build.Default.GOPATH, "bin", "pebble"))
	l := &Lab{dir: t.TempDir(), opts: opts,
		addr: fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t)), mgmt: fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t))}
	l.RootsFile = filepath.Join(l.dir, "roots.pem")
	writeTLS(t, l.dir)
	l.front = newFront(t, fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t)), l.addr, l.dir)
	l.Up(t)
	t.Cleanup(l.front.down)
	l.Directory, l.Management = "https://"+l.front.addr+"/dir", "https://"+l.mgmt
	if opts.DNSServer == "" {
		bin := labutil.Binary(t, "pebble-challtestsrv", filepath.Join(build.Default.GOPATH, "bin", "pebble-challtestsrv"))
		l.opts.DNSServer = fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t))
		c := exec.Command(bin, "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dnsserver", l.opts.DNSServer,
			"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "", "-management", fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t)))
		labutil.Start(t, c)
	}
	pc := map[string]any{
		"listenAddress": l.addr, "managementListenAddress": l.mgmt,
		"certificate": filepath.Join(l.dir, "cert.pem"), "privateKey": filepath.Join(l.dir, "key.pem"),
		"httpPort": opts.HTTPPort, "tlsPort": labutil.FreePort(t), "ocspResponderURL": "",
		"externalAccountBindingRequired": len(opts.EAB) > 0, "externalAccountMACKeys": opts.EAB,
		"retryAfter": map[string]int{"authz": 1, "order": 1},
	}
	if opts.Profiles != nil {
		pc["profiles"] = opts.Profiles
	}
	conf, _ := json.Marshal(map[string]any{"pebble": pc})
	os.WriteFile(filepath.Join(l.dir, "pebble.json"), conf, 0o644)
	l.Restart(t)
	return l
}

// Restart starts Pebble (again, after Stop). Pebble keeps nothing between
// runs: accounts and orders are gone.
func (l *Lab) Restart(t testing.TB) {
	t.Helper()
	bin := labutil.Binary(t, "pebble", filepath.Join(build.Default.GOPATH, "bin", "pebble"))
	l.cmd = exec.Command(bin, "-config", filepath.Join(l.dir, "pebble.json"), "-dnsserver", l.opts.DNSServer)
	logFile, err := os.OpenFile(filepath.Join(l.dir, "pebble.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	l.cmd.Stdout, l.cmd.Stderr = logFile, logFile
	l.cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", fmt.Sprintf("PEBBLE_WFE_NONCEREJECT=%d", l.opts.NonceReject),
		fmt.Sprintf("PEBBLE_ALTERNATE_ROOTS=%d", l.opts.AlternateRoots))
	l.proc = labutil.Start(t, l.cmd)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", l.addr); err == nil {
			c.Close()
			l.addRoots(t)
			return
		}
	}
	t.Fatal("pebble did not start")
}

// addRoots appends this start's issuing roots to RootsFile.
func (l *Lab) addRoots(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(l.RootsFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 0; i <= l.opts.AlternateRoots; i++ {
		f.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.Root(t, i).Raw}))
	}
}

// Stop kills Pebble, as a CA outage.
func (l *Lab) Stop() {
	l.proc.Stop()
}

// Down makes the CA unreachable, as an outage: connections to Directory
// are refused. Pebble keeps running, with every account, order and
// certificate it knows.
func (l *Lab) Down() { l.front.down() }

// Up makes the CA reachable again after Down.
func (l *Lab) Up(t testing.TB) {
	t.Helper()
	if err := l.front.up(); err != nil {
		t.Fatal(err)
	}
}

// Log is what Pebble has logged so far (its "ARI: order … is a
// replacement of …" lines, for one).
func (l *Lab) Log(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(l.dir, "pebble.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Slow delays every answer of the CA by d (0: none), as a CA under load.
func (l *Lab) Slow(d time.Duration) { l.front.setSlow(d) }

// RateLimit makes the CA refuse new orders with a rateLimited problem and
// Retry-After: after (0: lift the limit), as Let's Encrypt does.
func (l *Lab) RateLimit(after time.Duration) { l.front.setLimit(after) }

// Status is what Pebble's management interface says of the certificate
// with serial (hex): "Valid" or "Revoked" and, revoked, the RFC 5280
// reason code; "" when Pebble does not know it.
func (l *Lab) Status(t testing.TB, serial string) (status string, reason *int) {
	t.Helper()
	resp, err := l.management().Get(l.Management + "/cert-status-by-serial/" + serial)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", nil
	}
	var st struct {
		Status string
		Reason *int
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("cert-status-by-serial/%s: %v", serial, err)
	}
	return st.Status, st.Reason
}

func (l *Lab) management() *http.Client {
	pool := x509.NewCertPool()
	b, _ := os.ReadFile(l.RootsFile)
	pool.AppendCertsFromPEM(b)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// IssuingRoot is the root Pebble signs this run's certificates under.
func (l *Lab) IssuingRoot(t testing.TB) *x509.Certificate { return l.Root(t, 0) }

// Root is the root of chain i: 0 the default chain, 1… the alternates.
func (l *Lab) Root(t testing.TB, i int) *x509.Certificate {
	t.Helper()
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) { // the management port may open last
		if resp, err = l.management().Get(fmt.Sprintf("https://%s/roots/%d", l.mgmt, i)); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	block, _ := pem.Decode(body)
	if block == nil {
		t.Fatalf("no root from %s/roots/%d: %s", l.Management, i, body)
	}
	root, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// writeTLS makes a CA and a 127.0.0.1/localhost certificate for Pebble's
// HTTPS listeners.
func writeTLS(t testing.TB, dir string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pebbletest CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(filepath.Join(dir, "roots.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
}
