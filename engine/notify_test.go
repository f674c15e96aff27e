package engine_test

import (
	"context"
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

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/providers"
)

// receiver is a webhook endpoint that keeps what it was sent.
type receiver struct {
	mu     sync.Mutex
	bodies []providers.Notification
	auth   []string
	status int
}

func (rc *receiver) answer(status int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.status = status
}

func (rc *receiver) sent() ([]providers.Notification, []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]providers.Notification(nil), rc.bodies...), append([]string(nil), rc.auth...)
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var n providers.Notification
	json.Unmarshal(b, &n)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.bodies, rc.auth = append(rc.bodies, n), append(rc.auth, r.Header.Get("Authorization"))
	if rc.status != 0 {
		w.WriteHeader(rc.status)
	}
}

// TestNotify: a key change held at its gate is one held-at-gate finding,
// sent to the webhook with its headers file's token as a versioned JSON
// body; the same finding is not sent again within repeat_after and is
// after it; an event the block does not list is not sent; a target that
// fails is an error and nothing is recorded for it, so the next run
// sends again.
func TestNotify(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "zone"), []byte(zoneFile), 0o644)
	os.WriteFile(filepath.Join(dir, "headers"), []byte("Authorization: Bearer s3cret-token\n"), 0o600)
	notify := fmt.Sprintf("notify \"ops\" {\n  on = [\"held-at-gate\", \"apply-failed\"]\n  repeat_after = \"1h\"\n  webhook {\n    url = %q\n    headers_file = \"headers\"\n  }\n}\n", srv.URL)
	writeConfig(t, dir, strings.Replace(base, "KEYTYPE", "ec256", 1)+notify)
	start := time.Now()
	run := func(at time.Time) (*engine.Run, engine.Ended) {
		t.Helper()
		p, run, diags := planIn(t, dir, engine.Options{Now: func() time.Time { return at }})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		out, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)})
		return run, engine.Ended{Plan: p, Out: out, Err: err}
	}
	run(start)
	writeConfig(t, dir, strings.Replace(base, "KEYTYPE", "ec384", 1)+notify)
	r, ended := run(start)
	findings := r.Findings(ended)
	sent, errs := r.Notify(context.Background(), "apply", findings, state.Notified{})
	bodies, auth := rc.sent()
	if len(errs) > 0 || len(bodies) != 1 {
		t.Fatalf("sent %d notifications, errors %v", len(bodies), errs)
	}
	got := bodies[0]
	if got.Version != 1 || got.Notifier != "notify.ops" || got.Command != "apply" || len(got.Findings) != 2 ||
		got.Findings[0].Event != "held-at-gate" || got.Findings[0].Address != "certificate.www" || auth[0] != "Bearer s3cret-token" {
		t.Errorf("the webhook got %+v with Authorization %q", got, auth[0])
	}

	r, ended = run(start.Add(30 * time.Minute))
	again, _ := r.Notify(context.Background(), "apply", r.Findings(ended), sent)
	if bodies, _ := rc.sent(); len(bodies) != 1 {
		t.Errorf("the same finding was sent again within repeat_after: %+v", bodies[1:])
	}
	rc.answer(http.StatusServiceUnavailable)
	r, _ = run(start.Add(30 * time.Minute))
	_, errs = r.Notify(context.Background(), "apply", r.Findings(ended), state.Notified{})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "notify.ops") || !strings.Contains(errs[0].Error(), "503") {
		t.Errorf("a failing target: %v", errs)
	}
	rc.answer(0)
	r, ended = run(start.Add(61 * time.Minute)) // the gate opens: the step runs
	_, errs = r.Notify(context.Background(), "apply", append(r.Findings(ended), findings...), again)
	bodies, _ = rc.sent()
	if len(errs) > 0 || len(bodies) != 3 {
		t.Errorf("after repeat_after the finding is not sent again: %d bodies, %v", len(bodies), errs)
	}
	for _, b := range bodies {
		if j, _ := json.Marshal(b); strings.Contains(string(j), "s3cret") {
			t.Errorf("a notification carries the token: %s", j)
		}
		for _, f := range b.Findings {
			if f.Event == "gate-applied" || f.Event == "drift" {
				t.Errorf("an event the block does not list was sent: %+v", f)
			}
		}
	}
}
