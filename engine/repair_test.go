package engine_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/providers"
)

// TestStateRepair: a state entry that disagrees with a world needing no
// change (here a TLSA record the zone no longer holds, as an apply stopped
// between its write and its record leaves it) is drift to a scheduled
// check. Plan lists it as a state repair, apply rewrites the entry from
// what is live without writing the zone, and the drift check is quiet.
func TestStateRepair(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "zone"), []byte(zoneFile), 0o644)
	writeConfig(t, dir, strings.ReplaceAll(base, "KEYTYPE", "ec256"))
	p, run, _ := planIn(t, dir, engine.Options{})
	if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
		t.Fatal(err)
	}

	path := state.Path(filepath.Join(dir, ".trustform"))
	st, err := state.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sr := st.Get("tlsa.www")
	published := sr.Value["records"].List
	stale := "3 1 1 " + strings.Repeat("ab", 32)
	sr.Value["records"] = providers.List(append([]string{stale}, published...)...)
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	zone, _ := os.ReadFile(filepath.Join(dir, "zone"))
	zoneInfo, _ := os.Stat(filepath.Join(dir, "zone"))

	if p, _, _ := planIn(t, dir, engine.Options{RefreshOnly: true}); len(p.Changes) != 1 {
		t.Fatalf("the drift check does not see the disagreement: %+v", p.Changes)
	}
	p, run, diags := planIn(t, dir, engine.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(p.Steps) != 0 || len(p.StateRepairs) != 1 || p.StateRepairs[0].Address != "tlsa.www" || !p.HasChanges() {
		t.Fatalf("want no step and the repair of tlsa.www; got steps %+v, repairs %+v", p.Steps, p.StateRepairs)
	}
	var text bytes.Buffer
	plan.WriteText(&text, p, plan.TextOptions{})
	testutil.Golden(t, "repair/text", testutil.Normalize(text.String(), dir))

	// A saved plan approves its repairs like its steps.
	var saved bytes.Buffer
	plan.WriteJSON(&saved, p)
	back, err := plan.ReadJSON(&saved)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, why := run.Approve(back); why != "" {
		t.Fatalf("the saved plan is refused: %s", why)
	}
	back.StateRepairs = nil
	if _, _, why := run.Approve(back); !strings.Contains(why, "repair") {
		t.Errorf("a plan file without the repair is approved (%q)", why)
	}

	var notes []string
	out, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir), Progress: func(e engine.Event) { notes = append(notes, e.Text) }})
	if err != nil {
		t.Fatal(err)
	}
	if out.Applied != 0 || out.Repaired != 1 {
		t.Errorf("applied %d, repaired %d; want 0 and 1", out.Applied, out.Repaired)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "tlsa.www: state repaired") || !strings.Contains(notes[0], "nothing was changed") {
		t.Errorf("apply does not say what it repaired: %q", notes)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "zone"))
	afterInfo, _ := os.Stat(filepath.Join(dir, "zone"))
	if !bytes.Equal(zone, after) || !afterInfo.ModTime().Equal(zoneInfo.ModTime()) {
		t.Errorf("the repair wrote the zone file")
	}
	st, _ = state.Load(path)
	if got := st.Get("tlsa.www").Value["records"].List; !slices.Equal(got, published) {
		t.Errorf("state records %q, the zone %q", got, published)
	}
	if p, _, _ := planIn(t, dir, engine.Options{RefreshOnly: true}); len(p.Changes) != 0 {
		t.Errorf("drift after the repair: %+v", p.Changes)
	}
	if p, _, _ := planIn(t, dir, engine.Options{}); p.HasChanges() {
		t.Errorf("changes after the repair: steps %+v, repairs %+v", p.Steps, p.StateRepairs)
	}
}
