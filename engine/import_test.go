package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/apt"
	"github.com/trustform/trustform/schema"
)

// TestFakeKindImport: what exists is taken into state as observed, and
// the plan that follows starts from it; what does not exist, and what
// state holds already, is refused by name.
func TestFakeKindImport(t *testing.T) {
	w := newFakeWorld()
	dir := fakeDir(t, fakeConfig("x"))
	w.values["apt_key.a"] = providers.Value{"fingerprint": providers.String("734608F7CD36DD4E720A4C708BF26C0845ABC4F2"), "url": providers.String("a.asc")}
	cfg, diags := schema.Load(dir, schema.Inputs{}, []schema.Kind{apt.KeyKind().Kind, apt.SourceKind().Kind})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	st, _ := state.Load(state.Path(cfg.StateDir()))
	run, diags := engine.New(cfg, st, fakeKinds(w), engine.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if d := run.Observe(context.Background()); d.HasErrors() {
		t.Fatal(d)
	}
	done, diags := run.Import([]schema.Address{{Type: "apt_key", Name: "a"}, {Type: "apt_key", Name: "b"}, {Type: "apt_key", Name: "a"}})
	if len(done) != 1 || done[0] != "apt_key.a" {
		t.Errorf("imported %v, want [apt_key.a]", done)
	}
	var msgs []string
	for _, d := range diags {
		msgs = append(msgs, d.Summary+": "+d.Detail)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"Cannot import apt_key.b: apt_key.b: nothing of it exists to import.", "Cannot import apt_key.a: apt_key.a: state holds it already"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in:\n%s", want, all)
		}
	}
	if sr := st.Get("apt_key.a"); sr == nil || sr.Value["url"].Str != "a.asc" {
		t.Fatalf("state after the import: %+v", sr)
	}
	if err := st.Save(state.Path(cfg.StateDir())); err != nil {
		t.Fatal(err)
	}
	_, p := fakeRun(t, dir, w, engine.Options{})
	for _, c := range p.Changes {
		if c.Address == "apt_key.a" {
			t.Errorf("the plan after the import changes the imported key: %+v", c)
		}
	}
}

// TestFakeKindImportBlock: an import block's target that exists is listed
// in the plan and recorded by apply without a step; the plan after it has
// nothing to do; a target that does not exist, or has no block, is an
// error naming it.
func TestFakeKindImportBlock(t *testing.T) {
	w := newFakeWorld()
	w.values["apt_key.a"] = providers.Value{"fingerprint": providers.String("734608F7CD36DD4E720A4C708BF26C0845ABC4F2"), "url": providers.String("a.asc")}
	w.values["apt_key.b"] = providers.Value{"fingerprint": providers.String("734608F7CD36DD4E720A4C708BF26C0845ABC4F2"), "url": providers.String("b.asc")}
	dir := fakeDir(t, fakeConfig()+"import {\n  to = apt_key.a\n  id = \"a.asc\"\n}\n")
	run, p := fakeRun(t, dir, w, engine.Options{})
	if len(p.Imports) != 1 || p.Imports[0].Address != "apt_key.a" || p.Summary.Import != 1 || len(p.Steps) != 0 || !p.HasChanges() {
		t.Fatalf("the plan: imports %+v, steps %+v", p.Imports, p.Steps)
	}
	if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
		t.Fatal(err)
	}
	if len(w.writes) != 0 {
		t.Errorf("the import wrote %v", w.writes)
	}
	if _, p := fakeRun(t, dir, w, engine.Options{}); p.HasChanges() {
		t.Errorf("the plan after the import: %+v %+v", p.Imports, p.Steps)
	}

	delete(w.values, "apt_key.a")
	dir = fakeDir(t, fakeConfig()+"import {\n  to = apt_key.a\n  id = \"a.asc\"\n}\nimport {\n  to = apt_key.c\n  id = \"c.asc\"\n}\n")
	cfg, diags := schema.Load(dir, schema.Inputs{}, []schema.Kind{apt.KeyKind().Kind, apt.SourceKind().Kind})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	st, _ := state.Load(state.Path(cfg.StateDir()))
	if _, diags = engine.New(cfg, st, fakeKinds(w), engine.Options{}); !strings.Contains(diags.Error(), "Configuration for import target does not exist") || !strings.Contains(diags.Error(), "apt_key.c") {
		t.Errorf("an import without a block: %v", diags)
	}
	dir = fakeDir(t, fakeConfig()+"import {\n  to = apt_key.a\n  id = \"a.asc\"\n}\n")
	cfg, _ = schema.Load(dir, schema.Inputs{}, []schema.Kind{apt.KeyKind().Kind, apt.SourceKind().Kind})
	run, _ = engine.New(cfg, st, fakeKinds(w), engine.Options{})
	run.Observe(context.Background())
	if _, diags := run.Plan(); !strings.Contains(diags.Error(), "Nothing of apt_key.a exists to import") {
		t.Errorf("an import of what does not exist: %v", diags)
	}
}
