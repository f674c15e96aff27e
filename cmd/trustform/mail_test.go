package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/providers/service/mailtest"
)

// mailLab is a mail server as DANE for SMTP (RFC 7672) deploys it: real
// Postfix (smtpd with STARTTLS) and Dovecot (IMAP with STARTTLS, IMAPS)
// reading one certificate from the local CA, pinned at the SMTP port by a
// 3 0 1 and a 3 1 1 RRset (two tlsa blocks, one owner) and at the IMAPS
// port by 3 1 1, in a signed zone on one of the DNS backends (a real BIND
// primary and secondary, Knot or PowerDNS).
type mailLab struct {
	dir, cert, key string
	zone           zoneLab
	postfix        *mailtest.Postfix
	dovecot        *mailtest.Dovecot
	smtpOwner      string
	imapsOwner     string
}

func startMailLab(t *testing.T, backend string) *mailLab {
	files := filepathJoin(t)
	l := &mailLab{dir: t.TempDir(), cert: filepath.Join(files, "mail.pem"), key: filepath.Join(files, "mail.key")}
	l.zone = startZone(t, backend, "mail A 127.0.0.1", "@ MX 10 mail.example.test.")
	l.postfix = mailtest.StartPostfix(t, l.cert, l.key)
	l.dovecot = mailtest.StartDovecot(t, l.cert, l.key)
	smtpPort, imapsPort := port(l.postfix.SMTP), port(l.dovecot.IMAPS)
	l.smtpOwner = "_" + smtpPort + "._tcp.mail.example.test."
	l.imapsOwner = "_" + imapsPort + "._tcp.mail.example.test."
	l.zone.writeSecrets(t, l.dir)
	cfg := fmt.Sprintf(fixture("mail_lab.hcl.tmpl"), l.zone.block, l.cert, l.key, smtpPort, imapsPort,
		l.postfix.SMTP, l.postfix.TestCommand, l.postfix.ReloadCommand,
		l.dovecot.IMAPS, l.dovecot.IMAP, l.dovecot.TestCommand, l.dovecot.ReloadCommand)
	os.WriteFile(filepath.Join(l.dir, "main.hcl"), []byte(cfg), 0o644)
	return l
}

func filepathJoin(t *testing.T) string {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	return dir
}

func port(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

func (l *mailLab) edit(t *testing.T, old, new string) {
	t.Helper()
	p := filepath.Join(l.dir, "main.hcl")
	cfg, _ := os.ReadFile(p)
	if !bytes.Contains(cfg, []byte(old)) {
		t.Fatalf("main.hcl has no %q", old)
	}
	os.WriteFile(p, bytes.Replace(cfg, []byte(old), []byte(new), 1), 0o644)
}

// opensslDANE verifies what the endpoint serves against records with
// OpenSSL's own DANE code (s_client -dane_tlsa_rrdata), independently of
// trustform; starttls is s_client's -starttls protocol, "" for TLS at once.
func opensslDANE(addr, starttls string, records []string) error {
	args := []string{"s_client", "-connect", addr, "-servername", "mail.example.test",
		"-dane_tlsa_domain", "mail.example.test", "-verify_return_error", "-brief"}
	if starttls != "" {
		args = append(args, "-starttls", starttls)
	}
	for _, r := range records {
		args = append(args, "-dane_tlsa_rrdata", r)
	}
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, lastLines(string(out), 3))
	}
	if !strings.Contains(string(out), "Verified peername") && !strings.Contains(string(out), "Verification: OK") {
		return fmt.Errorf("not verified: %s", lastLines(string(out), 3))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}

// watchMail is the independent checker of RFC 7672: every 0.2 s, for the
// SMTP endpoint (STARTTLS) and the IMAPS endpoint, the RRset of every
// authoritative server must verify what is served, with OpenSSL's DANE
// verifier; and the state file must parse. stop returns the checks made
// and the violations seen.
func (l *mailLab) watchMail(t *testing.T) (stop func() (int, []string)) {
	return watch(200*time.Millisecond, func() (checks int, violations []string) {
		for _, ep := range []struct{ owner, addr, starttls string }{
			{l.smtpOwner, l.postfix.SMTP, "smtp"},
			{l.imapsOwner, l.dovecot.IMAPS, ""},
		} {
			for _, n := range l.zone.servers {
				recs := n.tlsa(t, ep.owner)
				checks++
				if err := opensslDANE(ep.addr, ep.starttls, recs); err != nil {
					violations = append(violations, fmt.Sprintf("%s %s publishes %v at %s: %s does not verify: %v", time.Now().Format("05.000"), n.Addr, recs, ep.owner, ep.addr, err))
				}
			}
		}
		return checks, append(violations, stateParses(l.dir)...)
	})
}

// TestMailDANE: trustform manages a mail server's certificate under DANE
// for SMTP. The first apply replaces the placeholder, reloads Postfix and
// Dovecot and publishes the records; then a same-key renewal and a key
// change each roll over with the records side by side for rollover_wait
// and one record per combination at the end, while OpenSSL's DANE
// verifier, every 0.2 s, finds what Postfix (through STARTTLS) and Dovecot
// serve verified by the RRset of both authoritative servers.
func TestMailDANE(t *testing.T) {
	l := startMailLab(t, "bind")
	r := tf(t, l.dir, "apply", "-auto-approve", "-propagation-wait=10s")
	mustCode(t, r, 0, "first apply")
	for _, owner := range []string{l.smtpOwner, l.imapsOwner} {
		l.zone.waitAgree(t, owner)
	}
	if r := tf(t, l.dir, "plan", "-detailed-exitcode"); r.code != 0 {
		t.Fatalf("plan after the first apply: exit %d\n%s%s\npostfix:\n%s", r.code, r.stdout, r.stderr, l.postfix.Log())
	}
	// The built-in DANE check went through STARTTLS (SMTP) and TLS (IMAPS).
	st, _ := os.ReadFile(filepath.Join(l.dir, ".trustform", "state.json"))
	if n := strings.Count(string(st), `"served_match": "yes"`); n != 3 {
		t.Errorf("%d RRsets have served_match = yes in state, want all 3:\n%s", n, st)
	}
	// The checker's verifier tells a match from a mismatch.
	if err := opensslDANE(l.postfix.SMTP, "smtp", l.zone.servers[0].tlsa(t, l.smtpOwner)); err != nil {
		t.Fatalf("Postfix does not verify against the published records: %v", err)
	}
	if err := opensslDANE(l.postfix.SMTP, "smtp", []string{"3 0 1 " + strings.Repeat("ab", 32)}); err == nil {
		t.Fatal("OpenSSL verified Postfix against a record of another certificate")
	}
	stop := l.watchMail(t)
	smtpRecords := func() (full, spki int) {
		for _, rec := range l.zone.servers[0].tlsa(t, l.smtpOwner) {
			switch {
			case strings.HasPrefix(rec, "3 0 1 "):
				full++
			case strings.HasPrefix(rec, "3 1 1 "):
				spki++
			}
		}
		return full, spki
	}
	for _, change := range []struct{ name, old, new string }{
		{"same-key renewal", `domains   = ["mail.example.test"]`, `domains   = ["mail.example.test", "smtp.example.test"]`},
		{"key change", `key_type  = "ec256"`, `key_type  = "ec384"`},
	} {
		l.edit(t, change.old, change.new)
		mustCode(t, tf(t, l.dir, "apply", "-auto-approve", "-propagation-wait=10s"), 0, change.name+": apply up to the gate")
		if full, _ := smtpRecords(); full != 2 {
			t.Errorf("%s: at the gate the SMTP RRset holds %d 3 0 1 records, want the live certificate's and the staged one's", change.name, full)
		}
		mustCode(t, tf(t, l.dir, "apply", "-auto-approve", "-wait", "-propagation-wait=10s"), 0, change.name+": apply -wait")
		if full, spki := smtpRecords(); full != 1 || spki != 1 {
			t.Errorf("%s: after the rollover the SMTP RRset holds %d 3 0 1 and %d 3 1 1 records, want one of each", change.name, full, spki)
		}
		mustCode(t, tf(t, l.dir, "plan", "-detailed-exitcode"), 0, change.name+": plan after the rollover")
	}
	checks, violations := stop()
	t.Logf("%d checks by OpenSSL's DANE verifier, %d violations", checks, len(violations))
	if len(violations) > 0 {
		t.Errorf("%d moments where what is served does not verify:\n%s", len(violations), strings.Join(violations, "\n"))
	}
	if checks < 20 {
		t.Errorf("only %d checks", checks)
	}
}

// TestMailServiceDrift: Postfix serving a certificate other than the one
// trustform deployed (swapped by hand, then postfix reload) is drift that
// names the endpoint; apply puts the managed certificate back and reloads.
// A config test that fails after a deployment stops the apply at the
// service and puts the previous certificate files back, which Postfix
// keeps serving.
func TestMailServiceDrift(t *testing.T) {
	l := startMailLab(t, "bind")
	mustCode(t, tf(t, l.dir, "apply", "-auto-approve", "-propagation-wait=10s"), 0, "first apply")
	deployed, _ := os.ReadFile(l.cert)

	swapped := otherCert(t) // a self-signed certificate
	os.WriteFile(l.cert, []byte(swapped), 0o644)
	os.WriteFile(l.key, []byte(otherKey), 0o600)
	if out, err := exec.Command("sh", "-c", l.postfix.ReloadCommand).CombinedOutput(); err != nil {
		t.Fatalf("postfix reload: %v %s", err, out)
	}
	time.Sleep(time.Second) // smtpd processes of the old configuration finish
	r := tf(t, l.dir, "plan", "-refresh-only", "-detailed-exitcode")
	mustCode(t, r, 2, "plan -refresh-only after the swap")
	if !strings.Contains(r.stdout, "smtp://"+l.postfix.SMTP) {
		t.Errorf("the drift report does not name the SMTP endpoint:\n%s", r.stdout)
	}
	mustCode(t, tf(t, l.dir, "apply", "-auto-approve", "-wait", "-propagation-wait=10s"), 0, "apply after the swap")
	mustCode(t, tf(t, l.dir, "plan", "-detailed-exitcode"), 0, "plan after apply")

	// A failing config test: the renewal's files are put back.
	before, _ := os.ReadFile(l.cert)
	if bytes.Equal(before, deployed) || string(before) == swapped {
		t.Fatal("the repair did not deploy a new certificate from the CA")
	}
	l.edit(t, `test_command   = "`+l.postfix.TestCommand+`"`, `test_command   = "echo 'postfix/postfix-script: fatal: bad main.cf' >&2; exit 1"`)
	l.edit(t, `domains   = ["mail.example.test"]`, `domains   = ["mail.example.test", "smtp.example.test"]`)
	r = tf(t, l.dir, "apply", "-auto-approve", "-wait", "-propagation-wait=10s")
	mustCode(t, r, 1, "apply with a failing test_command")
	if !strings.Contains(r.stderr, "service.mx") || !strings.Contains(r.stderr, "bad main.cf") || !strings.Contains(r.stderr, "hold the previous certificate again") {
		t.Errorf("the failure does not name the service, its output and the restore:\n%s", r.stderr)
	}
	if after, _ := os.ReadFile(l.cert); !bytes.Equal(after, before) {
		t.Error("the certificate file was not put back after the failed test")
	}
	if err := opensslDANE(l.postfix.SMTP, "smtp", l.zone.servers[0].tlsa(t, l.smtpOwner)); err != nil {
		t.Errorf("after the failed test Postfix does not verify against the published records: %v", err)
	}
}
