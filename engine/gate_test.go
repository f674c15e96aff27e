package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/engine"
)

// TestGateAcrossRuns: a key rollover's time gate survives between runs,
// without any server (a zone file, the local CA). The first apply
// publishes the new key's record and stops at the gate, saying when it
// opens; a run before then applies nothing more; a run after it deploys
// the new key and prunes the old record, and the next plan is empty.
func TestGateAcrossRuns(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "zone"), []byte(zoneFile), 0o644)
	writeConfig(t, dir, strings.Replace(base, "KEYTYPE", "ec256", 1))
	start := time.Now()
	apply := func(at time.Time) *engine.Outcome {
		t.Helper()
		p, run, diags := planIn(t, dir, engine.Options{Now: func() time.Time { return at }})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		out, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	apply(start)
	before, _ := os.ReadFile(filepath.Join(dir, "www.pem"))

	writeConfig(t, dir, strings.Replace(base, "KEYTYPE", "ec384", 1))
	out := apply(start)
	if len(out.Held) == 0 || out.OpensAt.Before(start.Add(59*time.Minute)) || out.OpensAt.After(start.Add(61*time.Minute)) {
		t.Fatalf("the rollover did not stop at a gate an hour out: held %d, opens %s", len(out.Held), out.OpensAt)
	}
	if zone, _ := os.ReadFile(filepath.Join(dir, "zone")); strings.Count(string(zone), "TLSA") != 2 {
		t.Fatalf("the new record is not published beside the old one:\n%s", zone)
	}
	if out := apply(start.Add(30 * time.Minute)); out.Applied != 0 || len(out.Held) == 0 {
		t.Errorf("half an hour later: %d applied, %d held", out.Applied, len(out.Held))
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "www.pem")); string(now) != string(before) {
		t.Fatal("the new key was deployed before its gate opened")
	}
	if out := apply(start.Add(61 * time.Minute)); len(out.Held) != 0 || out.Applied == 0 {
		t.Errorf("after the gate: %d applied, %d held", out.Applied, len(out.Held))
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "www.pem")); string(now) == string(before) {
		t.Error("the new key was not deployed once the gate opened")
	}
	if zone, _ := os.ReadFile(filepath.Join(dir, "zone")); strings.Count(string(zone), "TLSA") != 1 {
		t.Errorf("the old record was not pruned:\n%s", zone)
	}
	if p, _, _ := planIn(t, dir, engine.Options{Now: func() time.Time { return start.Add(62 * time.Minute) }}); p.HasChanges() {
		t.Errorf("plan after the rollover: %+v", p.Changes)
	}
}
