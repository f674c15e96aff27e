package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/providers/acme/pebbletest"
	"github.com/trustform/trustform/providers/dns/dnstest"
	"github.com/trustform/trustform/providers/service/mailtest"
	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// mtastsLab is a mail domain's MTA-STS on real servers: BIND for the zone
// (its MX, the TXT records), nginx serving mta-sts.example.test with a
// certificate Pebble issued by dns-01 (trusted through ca_roots).
type mtastsLab struct {
	dir    string
	dns    *dnstest.Lab
	web    *nginxtest.Lab
	pebble *pebbletest.Lab // nil: the vhost's certificate is the local CA's
	// mail, when set, is Postfix answering for the MX host with a
	// certificate for mail.example.test from the same issuer, under DANE
	// (3 1 1 on its SMTP port).
	mail      *mailtest.Postfix
	mailFiles string // the directory of its certificate and key
}

// startMTASTSLab starts the lab; with pebble, the policy's vhost has a
// certificate from Pebble, without, from the local CA (whose roots the
// fetch trusts as the issuer's).
func startMTASTSLab(t *testing.T, mode string, pebble, mail bool) *mtastsLab {
	l := &mtastsLab{dir: t.TempDir()}
	l.dns = dnstest.Start(t, "example.test", "mail IN A 127.0.0.1", "@ IN MX 10 mail", "mta-sts IN A 127.0.0.1")
	if pebble {
		l.pebble = pebbletest.Start(t, pebbletest.Options{HTTPPort: 1, DNSServer: l.dns.Primary.Addr})
	}
	l.web = nginxtest.Start(t)
	if mail {
		l.mailFiles = filepathJoin(t)
		l.mail = mailtest.StartPostfix(t, filepath.Join(l.mailFiles, "mail.pem"), filepath.Join(l.mailFiles, "mail.key"))
	}
	os.WriteFile(filepath.Join(l.dir, "tsig.secret"), []byte(l.dns.Secret), 0o600)
	l.write(t, mode)
	return l
}

// write configures the policy: mode, and mx patterns (none: the domain's
// MX hosts).
func (l *mtastsLab) write(t *testing.T, mode string, mx ...string) {
	t.Helper()
	mxLine := ""
	if len(mx) > 0 {
		mxLine = fmt.Sprintf("\n  mx    = [%q]", strings.Join(mx, `", "`))
		mxLine = strings.ReplaceAll(mxLine, `\"`, `"`)
	}
	issuer := "local_ca \"ca\" {}\n"
	certIssuer := "issuer    = local_ca.ca"
	if l.pebble != nil {
		issuer, certIssuer = acmeAccount(l.pebble), "issuer    = acme_account.pebble\n  challenge = \"dns-01\""
	}
	cfg := issuer + fmt.Sprintf(`
dns_zone "example" {
  name        = "example.test"
  server      = %[1]q
  nameservers = [%[1]q]
  tsig {
    name        = "trustform-key"
    secret_file = "tsig.secret"
  }
}

certificate "mta_sts" {
  domains   = ["mta-sts.example.test"]
  %[8]s
  cert_file = "certs/mta-sts.pem"
  key_file  = "certs/mta-sts.key"
}

vhost "mta_sts" {
  server         = "nginx"
  config_file    = "%[2]s/mta-sts.conf"
  listen         = %[3]q
  server_names   = ["mta-sts.example.test"]
  certificate    = certificate.mta_sts
  root           = "www"
  test_command   = %[4]q
  reload_command = %[5]q
}

mta_sts "example" {
  zone  = dns_zone.example
  mode  = %[6]q%[7]s
  vhost = vhost.mta_sts
  tls_rpt {
    rua = ["mailto:tlsrpt@example.test"]
  }
}
`, l.dns.Primary.Addr, l.web.Sites, l.web.HTTPS, l.web.TestCommand, l.web.ReloadCommand, mode, mxLine, certIssuer)
	if l.mail != nil {
		cfg += fmt.Sprintf(`
certificate "mail" {
  domains   = ["mail.example.test"]
  %[1]s
  key_type  = "ec256"
  reuse_key = false
  cert_file = %[2]q
  key_file  = %[3]q
}

tlsa "mail" {
  zone          = dns_zone.example
  port          = %[4]s
  hostname      = "mail.example.test"
  certificate   = certificate.mail
  ttl           = 30
  rollover_wait = "1s"
}

service "mx" {
  certificate    = certificate.mail
  endpoints      = ["smtp://%[5]s"]
  test_command   = %[6]q
  reload_command = %[7]q
}
`, certIssuer, filepath.Join(l.mailFiles, "mail.pem"), filepath.Join(l.mailFiles, "mail.key"), port(l.mail.SMTP), l.mail.SMTP, l.mail.TestCommand, l.mail.ReloadCommand)
	}
	os.WriteFile(filepath.Join(l.dir, "main.hcl"), []byte(cfg), 0o644)
}

// roots is the file of the roots the vhost's certificate builds to.
func (l *mtastsLab) roots() string {
	if l.pebble != nil {
		return l.pebble.RootsFile
	}
	return filepath.Join(l.dir, ".trustform", "local_ca", "ca", "ca.pem")
}

// curlPolicy fetches the policy as a sender would, with curl trusting
// the issuer's roots: HTTPS to mta-sts.example.test, no redirect followed.
func (l *mtastsLab) curlPolicy(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("curl", "-sS", "--fail", "--max-redirs", "0", "--cacert", l.roots(),
		"--connect-to", "mta-sts.example.test:443:"+l.web.HTTPS, "https://mta-sts.example.test/.well-known/mta-sts.txt").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	return string(out)
}

// digTXT is the TXT RRset at name on the primary, as dig shows it.
func (l *mtastsLab) digTXT(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("dig", "+short", "+norecurse", "-p", port(l.dns.Primary.Addr), "@127.0.0.1", name, "TXT").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// policyID is the id a policy's bytes make (the first 20 hexadecimal
// digits of their SHA-256), computed here.
func policyID(policy string) string {
	sum := sha256.Sum256([]byte(policy))
	return hex.EncodeToString(sum[:])[:20]
}

// TestMTASTS: a first deployment in testing mode serves the policy (curl,
// through the Web PKI of Pebble's roots) with the domain's MX host, and
// publishes its id and the TLS-RPT record (dig); the switch to enforce is
// one apply in which nginx serves the new policy to trustform's fetch
// (its access log) before BIND takes the new id (its update log).
func TestMTASTS(t *testing.T) {
	l := startMTASTSLab(t, "testing", true, false)
	mustCode(t, tf(t, l.dir, "apply", "-auto-approve", "-wait"), 0, "first apply")
	policy := l.curlPolicy(t)
	want := "version: STSv1\r\nmode: testing\r\nmx: mail.example.test\r\nmax_age: 604800\r\n"
	if policy != want {
		t.Fatalf("curl fetches %q, want %q", policy, want)
	}
	if got := l.digTXT(t, "_mta-sts.example.test"); got != `"v=STSv1; id=`+policyID(policy)+`"` {
		t.Errorf("dig _mta-sts TXT shows %s, want the served policy's id %s", got, policyID(policy))
	}
	if got := l.digTXT(t, "_smtp._tls.example.test"); got != `"v=TLSRPTv1; rua=mailto:tlsrpt@example.test"` {
		t.Errorf("dig _smtp._tls TXT shows %s", got)
	}
	mustCode(t, tf(t, l.dir, "plan", "-detailed-exitcode"), 0, "plan after apply")

	l.write(t, "enforce", "mail.example.test", "*.mail.example.test")
	r := tf(t, l.dir, "plan")
	mustCode(t, r, 0, "plan of enforce")
	if !strings.Contains(r.stdout, "mta-sts-policy-before-id") || !strings.Contains(r.stdout, `"mode: enforce"`) {
		t.Errorf("the plan does not show the policy's change and its rule:\n%s", r.stdout)
	}
	start := time.Now()
	mustCode(t, tf(t, l.dir, "apply", "-auto-approve"), 0, "apply of enforce")
	policy = l.curlPolicy(t)
	if !strings.Contains(policy, "mode: enforce") || !strings.Contains(policy, "mx: *.mail.example.test") {
		t.Fatalf("curl fetches %q after the switch", policy)
	}
	id := policyID(policy)
	if got := l.digTXT(t, "_mta-sts.example.test"); got != `"v=STSv1; id=`+id+`"` {
		t.Errorf("dig _mta-sts TXT shows %s, want %s", got, id)
	}
	if fetchTime(t, l.web.AccessLog, len(policy), start).IsZero() || updateTime(t, l.dns, "id="+id).IsZero() {
		t.Errorf("nginx's access log shows no fetch of the new policy by the apply, or BIND's update log no new id")
	}

	// Retirement, with a max_age of 3 s so that the test need not wait a
	// week: the block removed, the policy goes to mode none under a new
	// id, stays served for max_age from when that id is served, and only
	// then the file and the records go.
	cfgPath := filepath.Join(l.dir, "main.hcl")
	cfg, _ := os.ReadFile(cfgPath)
	short := strings.Replace(string(cfg), `mode  = "enforce"`, "mode  = \"testing\"\n  max_age = \"3s\"", 1)
	os.WriteFile(cfgPath, []byte(short), 0o644)
	mustCode(t, tf(t, l.dir, "apply", "-auto-approve"), 0, "apply of a 3 s max_age")
	os.WriteFile(cfgPath, []byte(short[:strings.Index(short, `mta_sts "example"`)]), 0o644)
	r = tf(t, l.dir, "plan")
	mustCode(t, r, 0, "plan of the retirement")
	if !strings.Contains(r.stdout, "mode: none") || !strings.Contains(r.stdout, "not before") {
		t.Errorf("the retirement's plan does not show the retiring policy and the date it ends:\n%s", r.stdout)
	}
	mustCode(t, tf(t, l.dir, "apply", "-auto-approve", "-wait"), 0, "apply of the retirement")
	if out, err := exec.Command("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", l.roots(),
		"--connect-to", "mta-sts.example.test:443:"+l.web.HTTPS, "https://mta-sts.example.test/.well-known/mta-sts.txt").Output(); err != nil || string(out) != "404" {
		t.Errorf("after the retirement curl gets %s (%v), want 404", out, err)
	}
	if got := l.digTXT(t, "_mta-sts.example.test"); got != "" {
		t.Errorf("after the retirement dig _mta-sts TXT shows %s", got)
	}
	retiredAt, removedAt := retirementTimes(t, l.dns)
	if retiredAt.IsZero() || removedAt.Sub(retiredAt) < 3*time.Second {
		t.Errorf("BIND took the retiring id at %s and the removal at %s: max_age (3 s) was not waited out", retiredAt, removedAt)
	}
}

// TestMTASTSWithDANE: under enforce, the MX (real Postfix, STARTTLS)
// serves a certificate from Pebble that satisfies both of RFC 8461 §2's
// checks: OpenSSL verifies it for mail.example.test through Pebble's
// roots (a sender that enforces MTA-STS) and with its DANE verifier
// against the TLSA records BIND serves (a sender that validates DNSSEC).
// Through a key rollover of the same endpoint both hold at every check,
// and refresh-only finds the policy, its id and the MX all live.
func TestMTASTSWithDANE(t *testing.T) {
	l := startMTASTSLab(t, "enforce", true, true)
	mustCode(t, tf(t, l.dir, "apply", "-auto-approve", "-wait"), 0, "first apply")
	if err := l.both(t); err != nil {
		t.Fatalf("after the first apply: %v", err)
	}
	mustCode(t, tf(t, l.dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "refresh-only plan")
	before := smtpLeaf(t, l.mail.SMTP)
	stop := watch(150*time.Millisecond, func() (int, []string) {
		if err := l.both(t); err != nil {
			return 1, []string{time.Now().Format("05.000") + " " + err.Error()}
		}
		return 1, nil
	})
	mustCode(t, tf(t, l.dir, "apply", "-auto-approve", "-wait", "-replace=certificate.mail"), 0, "the key rollover")
	checks, violations := stop()
	t.Logf("%d checks during the rollover, %d violations", checks, len(violations))
	if len(violations) > 0 {
		t.Errorf("a sender could not verify the MX during the rollover:\n%s", strings.Join(violations, "\n"))
	}
	if smtpLeaf(t, l.mail.SMTP) == before {
		t.Error("Postfix serves the same certificate after the rollover")
	}
	if err := l.both(t); err != nil {
		t.Errorf("after the rollover: %v", err)
	}
	mustCode(t, tf(t, l.dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "refresh-only plan after the rollover")

	// Behind trustform's back, Postfix is given a self-signed certificate
	// for the same name: refresh-only names the MX senders now refuse.
	key, cert := filepath.Join(l.mailFiles, "mail.key"), filepath.Join(l.mailFiles, "mail.pem")
	if out, err := exec.Command("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
		"-subj", "/CN=mail.example.test", "-addext", "subjectAltName=DNS:mail.example.test", "-keyout", key, "-out", cert).CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	if out, err := exec.Command("sh", "-c", l.mail.ReloadCommand).CombinedOutput(); err != nil {
		t.Fatalf("reloading Postfix: %v\n%s", err, out)
	}
	r := tf(t, l.dir, "plan", "-refresh-only", "-detailed-exitcode")
	mustCode(t, r, 2, "refresh-only plan with a self-signed certificate on the MX")
	if !strings.Contains(r.stdout, "mx_tls") || !strings.Contains(r.stdout, "no: mail.example.test (smtp://"+l.mail.SMTP+")") {
		t.Errorf("refresh-only does not name the MX senders refuse:\n%s", r.stdout)
	}
}

// both checks the MX as the two kinds of sender do, with OpenSSL: the
// Web PKI (Pebble's roots, the MX host's name) and DANE (BIND's records).
func (l *mtastsLab) both(t *testing.T) error {
	cmd := exec.Command("openssl", "s_client", "-connect", l.mail.SMTP, "-starttls", "smtp", "-servername", "mail.example.test",
		"-verify_hostname", "mail.example.test", "-CAfile", l.roots(), "-verify_return_error", "-brief")
	cmd.Stdin = strings.NewReader("")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Verification: OK") {
		return fmt.Errorf("the Web PKI check fails: %v: %s", err, lastLines(string(out), 3))
	}
	var recs []string
	for _, rr := range l.dns.Primary.Query(t, "_"+port(l.mail.SMTP)+"._tcp.mail.example.test.", mdns.TypeTLSA).Answer {
		if r, ok := rr.(*mdns.TLSA); ok {
			recs = append(recs, fmt.Sprintf("%d %d %d %s", r.Usage, r.Selector, r.MatchingType, r.Certificate))
		}
	}
	if err := opensslDANE(l.mail.SMTP, "smtp", recs); err != nil {
		return fmt.Errorf("the DANE check against %v fails: %w", recs, err)
	}
	return nil
}

// smtpLeaf is the SHA-256 of the certificate an SMTP endpoint serves.
func smtpLeaf(t *testing.T, addr string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", "openssl s_client -connect "+addr+" -starttls smtp </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reading what %s serves: %v", addr, err)
	}
	return strings.TrimSpace(string(out))
}

// retirementTimes are when BIND's update log shows the retiring policy's
// id (the last id published) and the _mta-sts record's removal.
func retirementTimes(t *testing.T, l *dnstest.Lab) (published, removed time.Time) {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(l.Primary.Dir, "update.log"))
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.Contains(line, "_mta-sts.example.test") {
			continue
		}
		at, err := time.ParseInLocation("02-Jan-2006 15:04:05.000", f[0]+" "+f[1], time.Local)
		if err != nil {
			continue
		}
		switch {
		case strings.Contains(line, "adding an RR"):
			published = at
		case strings.Contains(line, "deleting rrset") && !published.IsZero() && at.After(published):
			removed = at
		}
	}
	return published, removed
}

// fetchTime is when the first request since since began that nginx
// answered with the policy file of size bytes.
func fetchTime(t *testing.T, log string, size int, since time.Time) time.Time {
	t.Helper()
	b, _ := os.ReadFile(log)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 7 || f[3] != "/.well-known/mta-sts.txt" || f[5] != "200" || f[6] != strconv.Itoa(size) {
			continue
		}
		end, _ := strconv.ParseFloat(f[0], 64)
		took, _ := strconv.ParseFloat(f[1], 64)
		if at := time.UnixMilli(int64((end - took) * 1000)); !at.Before(since.Truncate(time.Millisecond)) {
			return at
		}
	}
	return time.Time{}
}

// updateTime is when BIND's update log first shows text.
func updateTime(t *testing.T, l *dnstest.Lab, text string) time.Time {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(l.Primary.Dir, "update.log"))
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, text) {
			f := strings.Fields(line)
			at, err := time.ParseInLocation("02-Jan-2006 15:04:05.000", f[0]+" "+f[1], time.Local)
			if err == nil {
				return at
			}
		}
	}
	return time.Time{}
}

// TestMTASTSMXCovered: under enforce, the MX host in the zone (real BIND)
// answered by a managed service whose certificate comes from the local
// CA stops the plan at rule mta-sts-mx-covered, naming the MX, the
// service and the certificate; under testing the same plan goes through.
func TestMTASTSMXCovered(t *testing.T) {
	lab := dnstest.Start(t, "example.test", "mail IN A 127.0.0.1", "@ IN MX 10 mail")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte(lab.Secret), 0o600)
	cfg := func(mode string) string {
		return fmt.Sprintf(`dns_zone "example" {
  name        = "example.test"
  server      = %[1]q
  nameservers = [%[1]q]
  tsig {
    name        = "trustform-key"
    secret_file = "tsig.secret"
  }
}

local_ca "ca" {}

certificate "mta_sts" {
  domains   = ["mta-sts.example.test"]
  issuer    = local_ca.ca
  cert_file = "mta-sts.pem"
  key_file  = "mta-sts.key"
}

certificate "mail" {
  domains   = ["mail.example.test"]
  issuer    = local_ca.ca
  cert_file = "mail.pem"
  key_file  = "mail.key"
}

vhost "mta_sts" {
  server         = "nginx"
  config_file    = "sites/mta-sts.conf"
  listen         = "443"
  server_names   = ["mta-sts.example.test"]
  certificate    = certificate.mta_sts
  root           = "www"
  test_command   = ""
  reload_command = ""
}

service "mx" {
  certificate    = certificate.mail
  endpoints      = ["smtp://mail.example.test:25"]
  test_command   = ""
  reload_command = ""
}

mta_sts "example" {
  zone  = dns_zone.example
  mode  = %[2]q
  vhost = vhost.mta_sts
  tls_rpt {
    rua = ["mailto:tlsrpt@example.test"]
  }
}
`, lab.Primary.Addr, mode)
	}
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg("enforce")), 0o644)
	r := tf(t, dir, "plan")
	mustCode(t, r, 1, "plan of enforce with a local CA's certificate on the MX")
	if got := strings.Join(strings.Fields(r.stderr), " "); !strings.Contains(got, "mta-sts-mx-covered") ||
		!strings.Contains(got, "service.mx answers SMTP for the MX host mail.example.test with certificate.mail, issued by a local CA") {
		t.Errorf("the plan does not name the MX, the service and the certificate:\n%s", r.stderr)
	}
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg("testing")), 0o644)
	if r := tf(t, dir, "plan"); r.code != 0 || strings.Contains(r.stderr, "mta-sts-mx-covered") {
		t.Errorf("plan under testing: exit %d\n%s", r.code, r.stderr)
	}
}

// TestMTASTSKilledAtEveryStep: a policy change (testing to enforce) with
// trustform killed (SIGKILL) inside every step (after its write, before
// its record: the policy written, the id published), restarted each time
// as a timer would. An independent checker fetches the policy as a sender does and
// asks BIND for the id every 100 ms: no sender may ever see an id whose
// policy has not been served, and at the end the plan is empty.
func TestMTASTSKilledAtEveryStep(t *testing.T) {
	l := startMTASTSLab(t, "testing", false, false)
	mustCode(t, tf(t, l.dir, "apply", "-auto-approve", "-wait"), 0, "first apply")
	for i, how := range []string{"inside"} {
		hook := "TRUSTFORM_TEST_KILL_AFTER_STEPS=1"
		if how == "inside" {
			hook = "TRUSTFORM_TEST_KILL_INSIDE=" + filepath.Join(t.TempDir(), "killed")
		}
		l.write(t, []string{"enforce"}[i], "mail.example.test", "*.mail.example.test")
		stop := l.watchPolicy(t)
		kills := 0
		var runs []string
		for run := 0; run < 10; run++ {
			out, err := applyRun(l.dir, run, nil, hook, 0)
			runs = append(runs, out)
			if err == nil {
				break
			}
			if !strings.Contains(out, "fault hook: killed "+how+" step") {
				t.Fatalf("apply failed for another reason: %v\n%s", err, strings.Join(runs, "\n"))
			}
			kills++
		}
		checks, violations := stop()
		t.Logf("%d kills %s a step, %d checks, %d violations", kills, how, checks, len(violations))
		if kills < 2 {
			t.Errorf("only %d kills %s a step, want one at the policy's write and one at its id:\n%s", kills, how, strings.Join(runs, "\n"))
		}
		if len(violations) > 0 {
			t.Errorf("senders could see an id whose policy was never served:\n%s", strings.Join(violations, "\n"))
		}
		mustCode(t, tf(t, l.dir, "plan", "-detailed-exitcode"), 0, "plan after the change")
		mustCode(t, tf(t, l.dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "refresh-only plan after the change")
	}
}

// watchPolicy is the independent checker of RFC 8461's id: every 100 ms
// it fetches the policy as a sender does (HTTPS to mta-sts.example.test,
// the issuer's roots, no redirect) and then asks BIND for the _mta-sts id; an
// id that is not the id of a policy served so far is a violation.
func (l *mtastsLab) watchPolicy(t *testing.T) (stop func() (int, []string)) {
	roots := x509.NewCertPool()
	pem, _ := os.ReadFile(l.roots())
	roots.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 2 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "mta-sts.example.test"},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, l.web.HTTPS)
			}}}
	served := map[string]bool{}
	return watch(100*time.Millisecond, func() (int, []string) {
		if resp, err := client.Get("https://mta-sts.example.test/.well-known/mta-sts.txt"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				served[policyID(string(body))] = true
			}
		}
		id := ""
		for _, rr := range l.dns.Primary.Query(t, "_mta-sts.example.test.", mdns.TypeTXT).Answer {
			if txt, ok := rr.(*mdns.TXT); ok {
				id = strings.TrimPrefix(strings.Join(txt.Txt, ""), "v=STSv1; id=")
			}
		}
		if id != "" && !served[id] {
			return 1, []string{time.Now().Format("05.000") + " BIND publishes id " + id + ", whose policy was never served"}
		}
		return 1, nil
	})
}
