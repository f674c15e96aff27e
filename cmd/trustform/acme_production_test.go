package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/providers/acme/pebbletest"
	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// The ACME settings production CAs ask for, on Pebble set up as they are:
// external account binding, profiles, alternate chains, renewal orders
// that name what they replace, rate limits, slow orders.

// pebbleAPI starts Pebble with opts and writes a configuration of one
// certificate "api" issued through lego's own http-01 server; account and
// cert are extra lines for the two blocks.
func pebbleAPI(t *testing.T, opts pebbletest.Options, account, cert string) (dir string, pebble *pebbletest.Lab) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t))
	fmt.Sscan(addr[strings.LastIndex(addr, ":")+1:], &opts.HTTPPort)
	pebble = pebbletest.Start(t, opts)
	dir = t.TempDir()
	writeAPI(t, dir, pebble, addr, account, cert)
	return dir, pebble
}

func writeAPI(t *testing.T, dir string, pebble *pebbletest.Lab, addr, account, cert string) {
	t.Helper()
	cfg := fmt.Sprintf(`acme_account "pebble" {
  directory = %q
  email     = "hostmaster@example.test"
  ca_roots  = [%q]
%s}

certificate "api" {
  domains      = ["api.example.test"]
  issuer       = acme_account.pebble
  http_address = %q
  cert_file    = "certs/api.pem"
  key_file     = "certs/api.key"
%s}
`, pebble.Directory, pebble.RootsFile, account, addr, cert)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewrite changes the configuration in dir.
func rewrite(t *testing.T, dir string, edit func(string) string) {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(dir, "main.hcl"))
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(edit(string(b))), 0o644)
}

// A CA that requires external account binding: without eab the plan
// names it; with it registration works; the HMAC key is nowhere.
func TestACMEExternalAccountBinding(t *testing.T) {
	hmac := base64.RawURLEncoding.EncodeToString([]byte("an HMAC key only the CA and this test know, 32+ bytes"))
	dir, pebble := pebbleAPI(t, pebbletest.Options{EAB: map[string]string{"kid-7": hmac}}, "", "")

	r := tf(t, dir, "plan")
	mustCode(t, r, 1, "plan without eab nor terms")
	for _, want := range []string{"acme_account.pebble: the CA requires external account binding", "eab {",
		"acme_account.pebble: the CA's terms of service are not agreed to", "data:text/plain,Do%20what%20thou%20wilt", "on main.hcl line 1"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the plan's diagnostics lack %q:\n%s", want, r.stderr)
		}
	}

	os.WriteFile(filepath.Join(dir, "eab.key"), []byte(hmac+"\n"), 0o644)
	rewrite(t, dir, func(s string) string {
		return strings.Replace(s, "  ca_roots", "  terms_of_service_agreed = true\n  eab {\n    key_id        = \"kid-7\"\n    hmac_key_file = \"eab.key\"\n  }\n  ca_roots", 1)
	})
	r = tf(t, dir, "plan")
	mustCode(t, r, 1, "plan with a world-readable HMAC key")
	if !strings.Contains(r.stderr, "Cannot read the EAB HMAC key") || !strings.Contains(r.stderr, "chmod 600") {
		t.Errorf("a 0644 HMAC key file is not refused:\n%s", r.stderr)
	}
	os.Chmod(filepath.Join(dir, "eab.key"), 0o600)

	r = tf(t, dir, "plan", "-out=tf.plan")
	mustCode(t, r, 0, "plan with eab")
	if !strings.Contains(r.stdout, "agreeing to the terms of service at data:text/plain") || !strings.Contains(r.stdout, "bound to the CA's external account kid-7") {
		t.Errorf("the plan does not show the terms and the binding:\n%s", r.stdout)
	}
	outputs := []string{r.stdout, r.stderr}
	for _, args := range [][]string{{"apply", "tf.plan"}, {"show", "-json", "tf.plan"}, {"plan", "-json"}, {"show"}} {
		r := tf(t, dir, args...)
		mustCode(t, r, 0, strings.Join(args, " "))
		outputs = append(outputs, r.stdout, r.stderr)
	}
	verifyChain(t, filepath.Join(dir, "certs/api.pem"), pebble.IssuingRoot(t), "api.example.test")

	// The key in another form (standard base64, as some CAs print it) is
	// the same secret.
	std := base64.StdEncoding.EncodeToString([]byte("an HMAC key only the CA and this test know, 32+ bytes"))
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && path != filepath.Join(dir, "eab.key") {
			b, _ := os.ReadFile(path)
			outputs = append(outputs, string(b))
		}
		return nil
	})
	for i, o := range outputs {
		if strings.Contains(o, hmac) || strings.Contains(o, std) {
			t.Errorf("output or file %d shows the HMAC key:\n%s", i, o)
		}
	}

	// Through the environment instead of a file, on a new registration.
	os.RemoveAll(filepath.Join(dir, ".trustform", "acme"))
	rewrite(t, dir, func(s string) string { return strings.Replace(s, "    hmac_key_file = \"eab.key\"\n", "", 1) })
	r = tf(t, dir, "plan")
	mustCode(t, r, 1, "plan without the HMAC key")
	if !strings.Contains(r.stderr, "TRUSTFORM_EAB_HMAC_PEBBLE") {
		t.Errorf("the diagnostic does not name the variable:\n%s", r.stderr)
	}
	r = tfEnv(t, dir, []string{"TRUSTFORM_EAB_HMAC_PEBBLE=" + hmac}, "apply", "-auto-approve", "-replace=certificate.api")
	mustCode(t, r, 0, "apply with the key in the environment")
}

// Two profiles of different validity: profile selects it; an unknown one
// is a plan diagnostic naming those offered; a six-day certificate renews
// after four days by default.
func TestACMEProfiles(t *testing.T) {
	profiles := map[string]pebbletest.Profile{
		"classic":    {Description: "90 days", ValidityPeriod: 90 * 24 * 3600},
		"shortlived": {Description: "six days", ValidityPeriod: 6 * 24 * 3600},
	}
	dir, _ := pebbleAPI(t, pebbletest.Options{Profiles: profiles}, "  terms_of_service_agreed = true\n", "  profile      = \"tlsserver\"\n")
	r := tf(t, dir, "plan")
	mustCode(t, r, 1, "plan with an unknown profile")
	for _, want := range []string{`certificate.api: the CA offers no profile "tlsserver"`, `"classic" (90 days), "shortlived" (six days)`, "on main.hcl line 14"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the diagnostic lacks %q:\n%s", want, r.stderr)
		}
	}

	rewrite(t, dir, func(s string) string { return strings.Replace(s, `"tlsserver"`, `"shortlived"`, 1) })
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply with profile shortlived")
	leaf := readChain(t, filepath.Join(dir, "certs/api.pem"))[0]
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life < 5*24*time.Hour || life > 7*24*time.Hour {
		t.Fatalf("profile shortlived issued a certificate valid %v, want six days", life)
	}
	// A third of six days: renewal is due two days before expiry at the
	// latest (the CA's ARI window may open earlier).
	mustCode(t, tfAt(t, dir, leaf.NotBefore.Add(2*24*time.Hour), "plan", "-detailed-exitcode"), 0, "plan two days in")
	mustCode(t, tfAt(t, dir, leaf.NotAfter.Add(-47*time.Hour), "plan", "-detailed-exitcode"), 2, "plan 47 h before expiry")

	rewrite(t, dir, func(s string) string { return strings.Replace(s, `"shortlived"`, `"classic"`, 1) })
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-replace=certificate.api"), 0, "apply with profile classic")
	leaf = readChain(t, filepath.Join(dir, "certs/api.pem"))[0]
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life < 89*24*time.Hour {
		t.Fatalf("profile classic issued a certificate valid %v, want 90 days", life)
	}
}

// A CA with an alternate chain to another root: preferred_chain selects
// it, as openssl verify against only that root shows.
func TestACMEPreferredChain(t *testing.T) {
	dir, pebble := pebbleAPI(t, pebbletest.Options{AlternateRoots: 1}, "  terms_of_service_agreed = true\n", "")
	alt := pebble.Root(t, 1)
	rewrite(t, dir, func(s string) string {
		return strings.Replace(s, "  cert_file", fmt.Sprintf("  preferred_chain = %q\n  cert_file", alt.Subject.CommonName), 1)
	})
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	for i, want := range []bool{false, true} {
		root := filepath.Join(t.TempDir(), "root.pem")
		os.WriteFile(root, pemOf(pebble.Root(t, i)), 0o644)
		out, err := exec.Command("openssl", "verify", "-CAfile", root, "-untrusted", filepath.Join(dir, "certs/api.pem"), filepath.Join(dir, "certs/api.pem")).CombinedOutput()
		if (err == nil) != want {
			t.Errorf("openssl verify against root %d (%s): %v, want ok=%v\n%s", i, pebble.Root(t, i).Subject.CommonName, err, want, out)
		}
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after apply")
}

// A renewal names what it replaces (RFC 9773 §5), and the renewal time is a
// point of the ARI window that two plans agree on.
func TestACMERenewalReplaces(t *testing.T) {
	dir, pebble := pebbleAPI(t, pebbletest.Options{}, "  terms_of_service_agreed = true\n", "")
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	first := readChain(t, filepath.Join(dir, "certs/api.pem"))[0]

	renewFrom := func() string {
		mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan")
		r := tf(t, dir, "show", "-json")
		mustCode(t, r, 0, "show -json")
		m := regexp.MustCompile(`"renew_from":\s*"([^"]+)"`).FindStringSubmatch(r.stdout)
		if m == nil {
			t.Fatalf("the inventory has no renew_from:\n%s", r.stdout)
		}
		return m[1]
	}
	a, b := renewFrom(), renewFrom()
	if a != b {
		t.Errorf("two plans disagree on the renewal time: %s, %s", a, b)
	}
	at, _ := time.Parse(time.RFC3339, a)
	if !at.After(first.NotBefore) || !at.Before(first.NotAfter) {
		t.Errorf("renewal at %s is outside the certificate's life %s to %s", a, first.NotBefore, first.NotAfter)
	}

	r := tfAt(t, dir, at.Add(time.Minute), "apply", "-auto-approve")
	mustCode(t, r, 0, "apply at the renewal time")
	if !strings.Contains(r.stdout, "renewal information (ARI)") && !strings.Contains(r.stdout, "within renew_before") {
		t.Errorf("the renewal does not say why:\n%s", r.stdout)
	}
	if !strings.Contains(pebble.Log(t), "is a replacement of") {
		t.Errorf("Pebble logged no replacement order:\n%s", pebble.Log(t))
	}
	if second := readChain(t, filepath.Join(dir, "certs/api.pem"))[0]; second.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Errorf("the certificate was not renewed")
	}
}

// A rate limit stops the step naming the limit and the time to retry; the
// next plan waits for the CA instead of asking again; once the time has
// passed, the order goes through.
func TestACMERateLimited(t *testing.T) {
	dir, pebble := pebbleAPI(t, pebbletest.Options{}, "  terms_of_service_agreed = true\n", "")
	pebble.RateLimit(2 * time.Hour)
	r := tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 1, "apply while rate-limited")
	if !regexp.MustCompile(`certificate\.api issue\) failed: .*rate limited by the CA \(too many certificates \(5\) already issued .*\): retry after 20\d\d-`).MatchString(r.stderr) {
		t.Fatalf("the failure does not name the limit and the time:\n%s", r.stderr)
	}
	pebble.RateLimit(0)
	r = tf(t, dir, "plan")
	mustCode(t, r, 0, "plan while waiting")
	if !strings.Contains(r.stdout, "waiting for the CA until") {
		t.Errorf("the plan does not say it waits for the CA:\n%s", r.stdout)
	}
	r = tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 1, "apply before the time")
	if !strings.Contains(r.stderr, "no order before") {
		t.Errorf("apply asked the CA again before the time:\n%s", r.stderr)
	}
	mustCode(t, tfAt(t, dir, time.Now().Add(3*time.Hour), "apply", "-auto-approve"), 0, "apply after the time")
	if _, err := os.Stat(filepath.Join(dir, "certs/api.pem")); err != nil {
		t.Fatal(err)
	}
}

// Ctrl-C during a slow order: trustform stops within a few seconds, the
// deployed certificate stays, and the next apply completes.
func TestACMEInterrupted(t *testing.T) {
	dir, pebble := pebbleAPI(t, pebbletest.Options{}, "  terms_of_service_agreed = true\n", "")
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	before, _ := os.ReadFile(filepath.Join(dir, "certs/api.pem"))

	pebble.Slow(20 * time.Second)
	cmd := exec.Command(binary, "-chdir="+dir, "apply", "-auto-approve", "-replace=certificate.api")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // in the order: the CA takes 20 s per answer
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("apply did not stop within 15 s of SIGINT:\n%s", out.String())
	}
	took := time.Since(start)
	t.Logf("stopped %v after SIGINT:\n%s", took.Round(100*time.Millisecond), out.String())
	if took > 6*time.Second {
		t.Errorf("apply took %v to stop after SIGINT, want a few seconds:\n%s", took, out.String())
	}
	if cmd.ProcessState.ExitCode() == 0 || !strings.Contains(out.String(), "interrupted") {
		t.Errorf("apply did not report the interruption (exit %d):\n%s", cmd.ProcessState.ExitCode(), out.String())
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "certs/api.pem")); !bytes.Equal(before, after) {
		t.Errorf("the deployed certificate changed")
	}
	pebble.Slow(0)
	r := tfPlanJSON(t, dir, nil, "-replace=certificate.api")
	mustCode(t, r, 0, "plan after the interruption")
	var p struct {
		Steps []struct{ Address, Phase string }
	}
	json.Unmarshal([]byte(r.stdout), &p)
	if len(p.Steps) != 1 || p.Steps[0].Phase != "issue-new-key" {
		t.Errorf("after the interruption the plan is %+v, want the one re-key step", p.Steps)
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-replace=certificate.api"), 0, "apply after the interruption")
}

func pemOf(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// fullchain_file, chain_file and bundle_file are written with cert_file
// and key_file, kept in step with them, and removed with them.
func TestCertificateCopies(t *testing.T) {
	dir := quickstart(t)
	rewrite(t, dir, func(s string) string {
		return strings.Replace(s, `  key_file  = "/etc/ssl/example/mail.key.pem"`, `  key_file  = "/etc/ssl/example/mail.key.pem"
  fullchain_file = "/etc/ssl/example/mail.full.pem"
  chain_file     = "/etc/ssl/example/mail.chain.pem"
  bundle_file    = "/etc/haproxy/mail.pem"`, 1)
	})
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	root := filepath.Join(dir, "out")
	read := func(p string) []byte {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cert, key := read("etc/ssl/example/mail.fullchain.pem"), read("etc/ssl/example/mail.key.pem")
	if !bytes.Equal(read("etc/ssl/example/mail.full.pem"), cert) {
		t.Errorf("fullchain_file differs from cert_file")
	}
	if !bytes.Equal(read("etc/haproxy/mail.pem"), append(bytes.Clone(cert), key...)) {
		t.Errorf("bundle_file is not cert_file then key_file")
	}
	if st, _ := os.Stat(filepath.Join(root, "etc/haproxy/mail.pem")); st.Mode().Perm() != 0o600 {
		t.Errorf("bundle_file has mode %v, want 0600", st.Mode().Perm())
	}
	chain := readChain(t, filepath.Join(root, "etc/ssl/example/mail.chain.pem"))
	if len(chain) != 1 || !chain[0].IsCA {
		t.Errorf("chain_file holds %d certificates, want the CA alone", len(chain))
	}
	out, err := exec.Command("openssl", "verify", "-CAfile", filepath.Join(root, "etc/ssl/example/mail.chain.pem"), filepath.Join(root, "etc/ssl/example/mail.fullchain.pem")).CombinedOutput()
	if err != nil {
		t.Errorf("openssl verify -CAfile chain_file cert_file: %v\n%s", err, out)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after apply")

	os.WriteFile(filepath.Join(root, "etc/ssl/example/mail.chain.pem"), []byte("stale\n"), 0o644)
	os.Chmod(filepath.Join(root, "etc/haproxy/mail.pem"), 0o644)
	r := tf(t, dir, "plan", "-detailed-exitcode")
	mustCode(t, r, 2, "plan with a stale chain_file")
	if !strings.Contains(r.stdout, "chain_file /etc/ssl/example/mail.chain.pem, bundle_file /etc/haproxy/mail.pem does not hold what") || !strings.Contains(r.stdout, "write-copies") {
		t.Errorf("the plan does not rewrite the copies:\n%s", r.stdout)
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply the copies")
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after rewriting the copies")

	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-replace=certificate.mail"), 0, "re-key") // waits at the TLSA gate
	mustCode(t, tfAt(t, dir, time.Now().Add(3*time.Hour), "apply", "-auto-approve"), 0, "re-key past the gate")
	if cert2 := read("etc/ssl/example/mail.fullchain.pem"); bytes.Equal(cert2, cert) || !bytes.Equal(read("etc/haproxy/mail.pem"), append(cert2, read("etc/ssl/example/mail.key.pem")...)) {
		t.Errorf("the re-key did not rewrite bundle_file with the new pair")
	}
}

// A real nginx serving the leaf without its intermediate, the classic
// outage on Android and in mail: drift naming the vhost and the fault, in
// text, JSON and Markdown; apply reissues the chain and the drift is gone.
func TestServedChainIncomplete(t *testing.T) {
	lab := nginxtest.Start(t)
	_, port, _ := strings.Cut(lab.HTTP, ":")
	var httpPort int
	fmt.Sscan(port, &httpPort)
	pebble := pebbletest.Start(t, pebbletest.Options{HTTPPort: httpPort})
	dir := t.TempDir()
	cfg := acmeAccount(pebble) + strings.Replace(
		webConfig("nginx", lab.Sites, lab.HTTPS, lab.HTTP, lab.TestCommand, lab.ReloadCommand, filepath.Join(lab.Prefix, "acme"), `  profile = "mozilla-intermediate"`),
		"  issuer    = local_ca.ca", "  issuer    = acme_account.pebble\n  challenge = \"http-01\"", 1)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(strings.Replace(cfg, `local_ca "ca" {}`, "", 1)), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "drift check after apply")

	chain := readChain(t, filepath.Join(dir, "certs/www.pem"))
	os.WriteFile(filepath.Join(dir, "certs/www.pem"), pemOf(chain[0]), 0o644) // cert.pem where fullchain.pem belongs
	if out, err := exec.Command("sh", "-c", lab.ReloadCommand).CombinedOutput(); err != nil {
		t.Fatalf("reloading nginx: %v\n%s", err, out)
	}
	waitFor(t, func() bool { return len(servedChain(t, lab.HTTPS, "www.example.test")) == 1 })

	r := tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode")
	mustCode(t, r, 2, "drift check of the leaf served alone")
	for _, want := range []string{"vhost.https", "served_chain", "www.example.test incomplete chain: the intermediate CA that issued it (Pebble Intermediate CA"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the drift report lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, format := range []string{"-json", "-markdown"} {
		r := tf(t, dir, "plan", "-refresh-only", format)
		if format == "-json" {
			r = tfPlanJSON(t, dir, nil, "-refresh-only")
		}
		if !strings.Contains(r.stdout, "served_chain") || !strings.Contains(r.stdout, "incomplete chain") {
			t.Errorf("plan -refresh-only %s does not report the incomplete chain:\n%s", format, r.stdout)
		}
	}
	r = tf(t, dir, "plan")
	if !strings.Contains(r.stdout, "does not verify: incomplete chain") {
		t.Errorf("the plan does not say why the certificate is issued again:\n%s", r.stdout)
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "drift check after the repair")
	if n := len(servedChain(t, lab.HTTPS, "www.example.test")); n != 2 {
		t.Errorf("after the repair nginx serves %d certificates, want leaf and intermediate", n)
	}
}

// servedChain is what addr sends for name.
func servedChain(t *testing.T, addr, name string) []*x509.Certificate {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: name, InsecureSkipVerify: true})
	if err != nil {
		return nil
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates
}
