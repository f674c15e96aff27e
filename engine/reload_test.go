package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/engine/state"
)

// TestReloadOwedAfterKill: an apply killed right after a certificate is
// deployed, before the vhost that serves it reloads, leaves the reload
// owed in state; the next plan reloads even though nothing else differs
// (a server that reads its certificate at each process start may show a
// probe the new one while older processes serve the old), and after that
// apply nothing is owed.
func TestReloadOwedAfterKill(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "zone"), []byte(zoneFile), 0o644)
	cfg := strings.Replace(base, "KEYTYPE", "ec256", 1) + vhosts
	cfg = strings.Replace(cfg, `rollover_wait = "1h"`, `rollover_wait = "0s"`, 1)
	writeConfig(t, dir, cfg)
	apply := func(o engine.ApplyOptions) {
		t.Helper()
		p, run, diags := planIn(t, dir, engine.Options{Now: time.Now})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		o.Save, o.Wait = saver(dir), true
		if _, err := run.Apply(context.Background(), p, o); err != nil {
			t.Fatal(err)
		}
	}
	apply(engine.ApplyOptions{})
	writeConfig(t, dir, strings.Replace(cfg, `key_type  = "ec256"`, `key_type  = "ec384"`, 1))
	func() {
		defer func() {
			if r := recover(); r != (crashed{}) {
				panic(r)
			}
		}()
		apply(engine.ApplyOptions{AfterStep: func(s plan.Step) {
			if s.Address == "certificate.www" && s.Phase == "deploy-next" {
				panic(crashed{})
			}
		}})
		t.Fatal("the apply was not killed after the deployment")
	}()
	st, err := state.Load(state.Path(filepath.Join(dir, ".trustform")))
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending["vhost.https"] != "reload" {
		t.Fatalf("after the deployment the vhost's reload is not owed: pending %v", st.Pending)
	}
	p, _, _ := planIn(t, dir, engine.Options{})
	var reload bool
	for _, s := range p.Steps {
		reload = reload || (s.Address == "vhost.https" && s.Phase == "reload")
	}
	if !reload {
		t.Errorf("the next plan does not reload the vhost: %+v", p.Steps)
	}
	apply(engine.ApplyOptions{})
	if st, _ := state.Load(state.Path(filepath.Join(dir, ".trustform"))); len(st.Pending) != 0 {
		t.Errorf("still owed after the apply: %v", st.Pending)
	}
}
