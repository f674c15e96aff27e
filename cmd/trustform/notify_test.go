package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/service/mailtest"
)

// hook is the test's HTTP receiver of webhooks.
type hook struct {
	mu     sync.Mutex
	bodies []string
	status int
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.bodies = append(h.bodies, string(b))
	if h.status != 0 {
		w.WriteHeader(h.status)
	}
}

func (h *hook) answer(status int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status = status
}

func (h *hook) body(i int) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.bodies[i]
}

func (h *hook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

// TestNotifications: notify blocks reach a webhook (the test's receiver)
// and a mailbox through real Postfix (STARTTLS with the certificate
// trustform deployed to it, the message read back from its Maildir). A
// plan without -notify sends nothing, whatever the configuration says;
// -untrusted refuses -notify; with it, drift (a key file made readable
// behind trustform's back) is sent once to each, not again at the next
// run, and a target that fails is a warning that leaves the exit code.
func TestNotifications(t *testing.T) {
	h := &hook{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	dir := t.TempDir()
	files := filepathJoin(t)
	relayCert, relayKey := filepath.Join(files, "relay.pem"), filepath.Join(files, "relay.key")
	pf := mailtest.StartPostfix(t, relayCert, relayKey)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(fmt.Sprintf(`
local_ca "ca" {}

certificate "relay" {
  domains   = ["localhost"]
  issuer    = local_ca.ca
  key_type  = "ec256"
  cert_file = %[1]q
  key_file  = %[2]q
}

certificate "other" {
  domains   = ["other.example.test"]
  issuer    = local_ca.ca
  cert_file = "other.pem"
  key_file  = "other.key"
}

service "relay" {
  certificate    = certificate.relay
  endpoints      = ["smtp://%[3]s"]
  test_command   = %[4]q
  reload_command = %[5]q
}

notify "hook" {
  on = ["drift", "apply-failed"]
  webhook {
    url = %[6]q
  }
}

notify "mail" {
  on = ["drift"]
  email {
    smtp    = "localhost:%[7]s"
    from    = "trustform@example.test"
    to      = ["ops@example.test"]
    ca_file = ".trustform/local_ca/ca/ca.pem"
  }
}
`, relayCert, relayKey, pf.SMTP, pf.TestCommand, pf.ReloadCommand, srv.URL, port(pf.SMTP))), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-notify"), 0, "first apply")
	if h.count() != 0 || len(maildir(t, pf)) != 0 {
		t.Fatalf("an apply that found nothing notified: %d webhooks, %d mails", h.count(), len(maildir(t, pf)))
	}

	os.Chmod(filepath.Join(dir, "other.key"), 0o644) // behind trustform's back
	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"), 2, "drift check without -notify")
	r := tf(t, dir, "plan", "-refresh-only", "-notify", "-untrusted")
	mustCode(t, r, 1, "an untrusted plan with -notify")
	if !strings.Contains(r.stderr, "-notify and -untrusted do not go together") {
		t.Errorf("the refusal does not say why:\n%s", r.stderr)
	}
	time.Sleep(time.Second)
	if h.count() != 0 || len(maildir(t, pf)) != 0 {
		t.Fatalf("a plan without -notify sent something: %d webhooks, %d mails", h.count(), len(maildir(t, pf)))
	}

	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode", "-notify"), 2, "drift check with -notify")
	if h.count() != 1 {
		t.Fatalf("the webhook got %d requests, want 1", h.count())
	}
	var n providers.Notification
	if err := json.Unmarshal([]byte(h.body(0)), &n); err != nil || n.Version != 1 || n.Command != "plan" || len(n.Findings) != 1 ||
		n.Findings[0].Event != "drift" || n.Findings[0].Address != "certificate.other" || !strings.Contains(n.Findings[0].Summary, "key_mode") {
		t.Errorf("the webhook's body (%v):\n%s", err, h.body(0))
	}
	var mails []string
	for deadline := time.Now().Add(20 * time.Second); len(mails) == 0 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		mails = maildir(t, pf)
	}
	if len(mails) != 1 || !strings.Contains(mails[0], "Subject: trustform plan on") || !strings.Contains(mails[0], "drift  certificate.other: key_mode changed since the last apply") ||
		!strings.Contains(mails[0], "SMTPS id") { // Postfix writes ESMTPS (or UTF8SMTPS) for a session under TLS
		t.Fatalf("the Maildir holds %d messages:\n%s", len(mails), strings.Join(mails, "\n---\n"))
	}

	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-notify"), 0, "the next drift check")
	time.Sleep(time.Second)
	if h.count() != 1 || len(maildir(t, pf)) != 1 {
		t.Errorf("the same finding was sent again at the next run: %d webhooks, %d mails", h.count(), len(maildir(t, pf)))
	}

	h.answer(http.StatusInternalServerError)
	os.Remove(filepath.Join(dir, "other.pem")) // another finding: the certificate is gone
	r = tf(t, dir, "plan", "-refresh-only", "-notify")
	mustCode(t, r, 0, "a drift check whose webhook fails")
	if !strings.Contains(r.stderr, "Warning: -notify: notify.hook:") || !strings.Contains(r.stderr, "500") {
		t.Errorf("the failing webhook is not reported:\n%s", r.stderr)
	}
}

// maildir is every message Postfix delivered, with its headers.
func maildir(t *testing.T, pf *mailtest.Postfix) []string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(pf.Maildir, "new", "*"))
	var out []string
	for _, n := range names {
		b, _ := os.ReadFile(n)
		out = append(out, string(b))
	}
	return out
}
